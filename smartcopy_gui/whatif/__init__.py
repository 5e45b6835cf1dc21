"""What-if: what a copy would have done over a trader's recorded history, run by the
same engine as a real copy (see runner.py), summarised in report.py."""
