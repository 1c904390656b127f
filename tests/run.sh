#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs pytest.
#
#   bash tests/run.sh [pytest args...]
#
# From any directory. On Debian/Ubuntu as root (or with sudo) it installs the missing system packages
# (Qt's runtime libraries, CJK fonts, D-Bus and gnome-keyring); then it creates or reuses .venv in the
# checkout, installs the project with its `test` extra, and runs pytest offscreen inside a private
# D-Bus session with an unlocked gnome-keyring, so the real Secret Service test runs instead of
# skipping. Pytest runs from the checkout's root: give test paths relative to it. The exit status is
# pytest's.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ "${_QWEN_RUN_SH_IN_SESSION:-}" != 1 ]]; then
    # shellcheck source=packaging/bootstrap.sh
    source "$REPO/packaging/bootstrap.sh"

    t0=$SECONDS
    PYTHON_BIN=$(find_python)
    TEST_PACKAGES=(
        dbus          # dbus-run-session / dbus-daemon: a private session bus for the tests
        gnome-keyring # a real Secret Service for tests marked real_keyring
    )
    # shellcheck disable=SC2046
    ensure_debian_packages "${QT_RUNTIME_PACKAGES[@]}" "${QT_XCB_PACKAGES[@]}" "${FONT_PACKAGES[@]}" \
        "${TEST_PACKAGES[@]}" $(python_venv_packages "$PYTHON_BIN") ||
        echo "warning: continuing without some system packages; tests that need them will fail" >&2
    t1=$SECONDS
    VENV_PYTHON=$(ensure_venv "$REPO" "$PYTHON_BIN" ".[test]")
    echo "tests/run.sh: system packages $((t1 - t0))s, virtualenv $((SECONDS - t1))s" >&2

    for tool in dbus-run-session gnome-keyring-daemon; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "error: $tool not found (install the dbus and gnome-keyring packages)" >&2
            exit 1
        fi
    done
    # Run the second half of this script inside a fresh session bus that ends with it.
    export _QWEN_RUN_SH_IN_SESSION=1 _QWEN_VENV_PYTHON="$VENV_PYTHON"
    exec dbus-run-session -- bash "${BASH_SOURCE[0]}" "$@"
fi

# ---- Inside the private D-Bus session ----------------------------------------------------------
unset _QWEN_RUN_SH_IN_SESSION
scratch=$(mktemp -d "${TMPDIR:-/tmp}/qwen-tests.XXXXXX")
keyring_pid=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    if [[ -n "$keyring_pid" ]]; then
        kill "$keyring_pid" 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap cleanup EXIT

# A private runtime dir (Qt warns without one; the keyring daemon puts its control socket there) and
# a private keyring store, so a developer's own login keyring and daemon are never touched.
export XDG_RUNTIME_DIR="$scratch/runtime"
mkdir -m 700 "$XDG_RUNTIME_DIR" "$scratch/keyrings-data"
unset GNOME_KEYRING_CONTROL SSH_AUTH_SOCK

# --unlock reads the password of the login keyring from stdin and creates that keyring (which then is
# the default collection) when there is none.
daemon_env=$(printf 'test' | XDG_DATA_HOME="$scratch/keyrings-data" \
    gnome-keyring-daemon --unlock --components=secrets 2>"$scratch/gnome-keyring.log") || {
    echo "warning: gnome-keyring-daemon failed to start:" >&2
    cat "$scratch/gnome-keyring.log" >&2
}
while IFS='=' read -r name value; do
    if [[ "$name" =~ ^[A-Z_]+$ ]]; then export "$name=$value"; fi
done <<<"$daemon_env"

secrets_owner_pid() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null |
        awk '/uint32/ {print $2}' || true
}
for _ in $(seq 50); do
    keyring_pid=$(secrets_owner_pid)
    [[ -n "$keyring_pid" ]] && break
    sleep 0.1
done
if [[ -z "$keyring_pid" ]]; then
    echo "warning: no Secret Service on the session bus; the real-keyring test will fail" >&2
    cat "$scratch/gnome-keyring.log" >&2 || true
fi

export QT_QPA_PLATFORM=offscreen QWEN_TEST_REAL_KEYRING=1
cd "$REPO"
# Lint first (a second or so): a finding fails the run, as a failing test does.
"$_QWEN_VENV_PYTHON" -m ruff check desktop tests packaging
# mypy --strict on core (the layer every face builds on): a strict finding fails the run.
"$_QWEN_VENV_PYTHON" -m mypy --strict desktop/core
status=0
"$_QWEN_VENV_PYTHON" -m pytest "$@" || status=$?
exit "$status"
