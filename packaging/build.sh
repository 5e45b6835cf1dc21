#!/usr/bin/env bash
# Builds dist/smartcopy/ (a onedir PyInstaller bundle) from the project's .venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup
.venv/bin/python -m pip install --quiet "pyinstaller>=6.10,<7" >/dev/null
cd packaging
../.venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath ../dist --workpath ../build smartcopy.spec
echo "built: $root/dist/smartcopy/smartcopy"
