#!/usr/bin/env bash
# The one command that installs and starts Qwen Desktop from a checkout on a fresh machine:
#
#   bash packaging/run-app.sh [app args...]
#
# On Debian/Ubuntu as root (or with sudo) it installs the missing system libraries Qt needs for a
# window (xcb) and CJK fonts; elsewhere it says what to install. Then it creates or reuses .venv in
# the checkout, installs the app into it and starts it.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=packaging/bootstrap.sh
source "$REPO/packaging/bootstrap.sh"

PYTHON_BIN=$(find_python)
# shellcheck disable=SC2046
ensure_debian_packages "${QT_RUNTIME_PACKAGES[@]}" "${QT_XCB_PACKAGES[@]}" "${FONT_PACKAGES[@]}" \
    $(python_venv_packages "$PYTHON_BIN") ||
    echo "warning: some system packages are missing; the app may not start (see above)" >&2

ensure_venv "$REPO" "$PYTHON_BIN" "." >/dev/null
exec "$REPO/.venv/bin/qwen-desktop" "$@"
