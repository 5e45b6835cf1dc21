#!/usr/bin/env bash
# Adds SmartCopy to your desktop's application menu (for you only): the .desktop file
# goes to ~/.local/share/applications, the icon to ~/.local/share/icons. The app itself
# stays in this folder; run this again if you move the folder.
# ./install.sh --uninstall takes both out again. Nothing here needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
apps=$data/applications
icons=$data/icons/hicolor
if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$apps/smartcopy.desktop" "$icons/scalable/apps/smartcopy.svg" \
    "$icons/256x256/apps/smartcopy.png"
  echo "SmartCopy is out of the application menu (its data stays in $data/SmartCopy)."
  exit 0
fi
mkdir -p "$apps" "$icons/scalable/apps" "$icons/256x256/apps"
cp "$here/smartcopy.svg" "$icons/scalable/apps/smartcopy.svg"
cp "$here/smartcopy-256.png" "$icons/256x256/apps/smartcopy.png"
# The menu entry runs this folder's executable (quoted: the path may hold spaces).
sed "s|^Exec=.*|Exec=\"$here/smartcopy\"|" "$here/smartcopy.desktop" > "$apps/smartcopy.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
echo "SmartCopy is in your application menu; or run $here/smartcopy"
