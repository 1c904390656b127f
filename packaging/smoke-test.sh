#!/usr/bin/env bash
# Runs the frozen bundle for real (what it checks: packaging/smoke_test.py):
#
#   bash packaging/smoke-test.sh [--dist dist/QwenDesktop] [--runs 5]
#
# On Debian/Ubuntu as root (or with sudo) it first installs what the bundle expects of the system (the
# Qt runtime libraries, CA certificates) and what the test needs (D-Bus, gnome-keyring). Then, inside
# a private D-Bus session with an unlocked gnome-keyring, so that the frozen app's keyring finds a
# real Secret Service as it would on a desktop, it runs packaging/smoke_test.py. Exit status: 0 when
# every check passed.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=packaging/bootstrap.sh
source "$REPO/packaging/bootstrap.sh"

if [[ "${_QWEN_SMOKE_IN_SESSION:-}" != 1 ]]; then
    PYTHON_BIN=$(find_python)
    SMOKE_PACKAGES=(
        ca-certificates # the system trust store that the app's HTTPS verifies against
        dbus            # dbus-run-session: a private session bus
        gnome-keyring   # a real Secret Service for the keyring check
    )
    ensure_debian_packages "${QT_RUNTIME_PACKAGES[@]}" "${SMOKE_PACKAGES[@]}" ||
        echo "warning: continuing without some system packages; checks that need them will fail" >&2
    for tool in dbus-run-session gnome-keyring-daemon; do
        command -v "$tool" >/dev/null 2>&1 || { echo "error: $tool not found" >&2; exit 1; }
    done
    export _QWEN_SMOKE_IN_SESSION=1 _QWEN_SMOKE_PYTHON="$PYTHON_BIN"
    exec dbus-run-session -- bash "${BASH_SOURCE[0]}" "$@"
fi

# ---- Inside the private D-Bus session ----------------------------------------------------------
unset _QWEN_SMOKE_IN_SESSION
scratch=$(mktemp -d "${TMPDIR:-/tmp}/qwen-smoke-session.XXXXXX")
SECRET_SERVICE_PID=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    if [[ -n "$SECRET_SERVICE_PID" ]]; then kill "$SECRET_SERVICE_PID" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT
start_private_secret_service "$scratch" || true  # the self-test's keyring check then says why

cd "$REPO"
status=0
"$_QWEN_SMOKE_PYTHON" packaging/smoke_test.py "$@" || status=$?
exit "$status"
