#!/usr/bin/env bash
# Builds the bundle and checks that what a user downloads works on its own: the tarball
# unpacks to SmartCopy-<version>/, its `smartcopy` replays the worked example to the same
# report as the source tree does and renders every main view (offscreen) to a non-empty
# PNG, with its database in a temporary user data directory, never beside the
# executable; install.sh puts a menu entry that runs that executable.
# PYTHON=/path/to/python: as for build.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
packaging/build.sh
python=${PYTHON:-$root/.venv/bin/python}
version=$(PYTHONPATH=$root "$python" -c "import smartcopy_gui; print(smartcopy_gui.__version__)")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "dist/SmartCopy-$version-linux-x86_64.tar.gz"
app=$work/SmartCopy-$version
exe=$app/smartcopy
export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state"
scenario=resources/scenarios/worked-example.jsonl
"$exe" replay "$scenario" --db "$work/frozen.db" --json > "$work/frozen.json"
PYTHONPATH=$root "$python" -m smartcopy_gui replay "$scenario" --db "$work/source.db" --json \
  > "$work/source.json"
cmp "$work/frozen.json" "$work/source.json"
echo "bundle: the unpacked tarball's replay report matches the source tree's"
QT_QPA_PLATFORM=offscreen "$exe" --screenshot "$work/shots" 2>/dev/null
for view in main-window trader-list trader-detail live-positions copies activity \
    wizard-1-mode wizard-2-amount wizard-3-confirm; do
  size=$(stat -c %s "$work/shots/$view.png" 2>/dev/null || echo 0)
  if [ "$size" -lt 10000 ]; then
    echo "bundle: $view.png is missing or empty ($size bytes)" >&2
    exit 1
  fi
done
if ls "$app"/*.db >/dev/null 2>&1; then
  echo "bundle: a database was written beside the executable" >&2
  exit 1
fi
echo "bundle: every main view rendered"
"$app/install.sh" >/dev/null
entry=$XDG_DATA_HOME/applications/smartcopy.desktop
grep -qx "Exec=\"$exe\"" "$entry" || { echo "bundle: install.sh's Exec= is wrong" >&2; exit 1; }
[ -s "$XDG_DATA_HOME/icons/hicolor/256x256/apps/smartcopy.png" ] &&
  [ -s "$XDG_DATA_HOME/icons/hicolor/scalable/apps/smartcopy.svg" ] ||
  { echo "bundle: install.sh did not install the icon" >&2; exit 1; }
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$entry"; fi
"$app/install.sh" --uninstall >/dev/null
[ ! -e "$entry" ] || { echo "bundle: install.sh --uninstall left the menu entry" >&2; exit 1; }
echo "bundle: install.sh adds and removes the menu entry and icon"
echo "bundle: $(du -sh dist/smartcopy | cut -f1) unpacked," \
  "$(du -h "dist/SmartCopy-$version-linux-x86_64.tar.gz" | cut -f1) tarball"
