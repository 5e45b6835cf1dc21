#!/usr/bin/env bash
# Builds dist/smartcopy/ (a onedir PyInstaller bundle) from the project's .venv and
# packs it as dist/SmartCopy-<version>-linux-x86_64.tar.gz: one folder, SmartCopy-<version>/,
# holding the `smartcopy` executable, the .desktop file, the icon and install.sh.
# PYTHON=/path/to/python builds with that interpreter's environment instead of .venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${PYTHON:-}" ]; then
  scripts/setup
  PYTHON=$root/.venv/bin/python
fi
"$PYTHON" -m pip install --quiet "pyinstaller>=6.10,<7" >/dev/null
(cd packaging && "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath ../dist --workpath ../build smartcopy.spec)
bundle=dist/smartcopy
cp packaging/smartcopy.desktop packaging/install.sh "$bundle/"
cp resources/icons/smartcopy.svg resources/icons/smartcopy-256.png "$bundle/"
version=$(PYTHONPATH=$root "$PYTHON" -c "import smartcopy_gui; print(smartcopy_gui.__version__)")
tarball=dist/SmartCopy-$version-linux-x86_64.tar.gz
tar -C dist --transform "s,^smartcopy,SmartCopy-$version," --owner=0 --group=0 \
  -czf "$tarball" smartcopy
echo "built: $root/$bundle/smartcopy ($(du -sh "$bundle" | cut -f1)); $tarball ($(du -h "$tarball" | cut -f1))"
