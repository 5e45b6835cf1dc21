#!/usr/bin/env bash
# Builds the bundle and checks that it works on its own: the frozen `smartcopy`
# replays the worked example to the same report as the source tree does, and renders
# every main view (offscreen) to a non-empty PNG, with its database in a temporary
# user data directory, never beside the executable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
packaging/build.sh
exe=dist/smartcopy/smartcopy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scenario=resources/scenarios/worked-example.jsonl
"$exe" replay "$scenario" --db "$work/frozen.db" --json > "$work/frozen.json"
.venv/bin/smartcopy replay "$scenario" --db "$work/source.db" --json > "$work/source.json"
cmp "$work/frozen.json" "$work/source.json"
echo "bundle: the replay report matches the source tree's"
QT_QPA_PLATFORM=offscreen XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" \
  XDG_STATE_HOME="$work/state" "$exe" --screenshot "$work/shots" 2>/dev/null
for view in main-window trader-list trader-detail live-positions copies activity \
    wizard-1-mode wizard-2-amount wizard-3-confirm; do
  size=$(stat -c %s "$work/shots/$view.png" 2>/dev/null || echo 0)
  if [ "$size" -lt 10000 ]; then
    echo "bundle: $view.png is missing or empty ($size bytes)" >&2
    exit 1
  fi
done
if ls "$(dirname "$exe")"/*.db >/dev/null 2>&1; then
  echo "bundle: a database was written beside the executable" >&2
  exit 1
fi
echo "bundle: every main view rendered; size $(du -sh dist/smartcopy | cut -f1)"
