"""Qt only: windows, table models, the wizard, charts. Qt is imported from ui/qt.py."""
