"""What the app remembers between launches (theme, notifications, speed, where the
activity was last exported) and the Settings dialog that changes the first two."""

from __future__ import annotations

from pathlib import Path

from .qt import QSettings, QtWidgets
from .theme import SYSTEM, THEMES

SETTINGS_ORG = "SmartCopy"
SETTINGS_APP = "SmartCopy"


class AppSettings:
    """Typed access to the app's QSettings (what is stored, under which key)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings or QSettings(SETTINGS_ORG, SETTINGS_APP)

    def _get(self, key: str, default: object) -> object:
        return self.qsettings.value(key, default)

    def _set(self, key: str, value: object) -> None:
        self.qsettings.setValue(key, value)
        self.qsettings.sync()

    @property
    def theme(self) -> str:
        value = str(self._get("ui/theme", SYSTEM))
        return value if value in THEMES else SYSTEM

    @theme.setter
    def theme(self, value: str) -> None:
        self._set("ui/theme", value)

    @property
    def notifications(self) -> bool:
        return str(self._get("ui/notifications", "true")).lower() in ("true", "1")

    @notifications.setter
    def notifications(self, on: bool) -> None:
        self._set("ui/notifications", "true" if on else "false")

    def speed(self, allowed: tuple[int, ...], default: int) -> int:
        """The world's last speed, if it is one of ``allowed``."""
        try:
            value = int(str(self._get("world/speed", default)))
        except ValueError:
            return default
        return value if value in allowed else default

    def set_speed(self, speed: int) -> None:
        self._set("world/speed", speed)

    @property
    def export_dir(self) -> Path:
        """Where the activity was last exported (the home directory at first)."""
        path = Path(str(self._get("export/dir", Path.home())))
        return path if path.is_dir() else Path.home()

    @export_dir.setter
    def export_dir(self, path: Path) -> None:
        self._set("export/dir", str(path))


class SettingsDialog(QtWidgets.QDialog):
    """Theme (system, light, dark) and desktop notifications, applied on OK."""

    def __init__(self, theme: str, notifications: bool,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setWindowTitle("Settings")
        self.theme_box = QtWidgets.QComboBox(objectName="settings_theme")
        for code, name in THEMES.items():
            self.theme_box.addItem(name, code)
        self.theme_box.setCurrentIndex(max(0, self.theme_box.findData(theme)))
        self.notify_box = QtWidgets.QCheckBox(
            "Tell me when a copy is liquidated, stopped by its stop-loss, or a trader's "
            "close is skipped for it", objectName="settings_notifications")
        self.notify_box.setChecked(notifications)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Theme", self.theme_box)
        form.addRow("Notifications", self.notify_box)
        form.addRow(buttons)

    @property
    def theme(self) -> str:
        return str(self.theme_box.currentData())

    @property
    def notifications(self) -> bool:
        return self.notify_box.isChecked()
