#!/bin/sh
# Adds Qwen Desktop to the applications menu of the current user (no root needed).
# Shipped next to the QwenDesktop executable in the Linux bundle; run it from there:
#   ./install-desktop-entry.sh            (or with --uninstall)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
entry="$data/applications/qwen-desktop.desktop"
icons="$data/icons/hicolor"
if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$entry"
    for size in 16 32 48 64 128 256 512; do rm -f "$icons/${size}x${size}/apps/qwen-desktop.png"; done
    echo "Removed $entry"
    exit 0
fi
resources="$here/_internal/desktop/resources"
mkdir -p "$data/applications"
for size in 16 32 48 64 128 256 512; do
    mkdir -p "$icons/${size}x${size}/apps"
    cp "$resources/icons/qwen-desktop-$size.png" "$icons/${size}x${size}/apps/qwen-desktop.png"
done
# Exec must be an absolute path: the bundle is not on PATH.
sed "s|^Exec=.*|Exec=\"$here/QwenDesktop\"|" "$resources/qwen-desktop.desktop" >"$entry"
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database "$data/applications" || true
fi
echo "Installed $entry"
