# shellcheck shell=bash
# shellcheck disable=SC2034  # the package lists are used by the scripts that source this file
# Shared setup for tests/run.sh and packaging/run-app.sh (sourced, not run): the system packages the
# app and its tests need on Debian/Ubuntu, a helper that installs the missing ones, and the project
# virtualenv at $REPO/.venv.
#
# The Qt lists were found by running `ldd` over PySide6-Essentials 6.12's Qt libraries and plugins in
# a minimal Debian 12 (debootstrap --variant=minbase) and then starting an offscreen and an xcb
# QApplication there. PySide6 bundles Qt itself; these are the OS libraries it links against.

# QtCore/QtGui/QtWidgets/QtNetwork and the offscreen platform plugin.
QT_RUNTIME_PACKAGES=(
    libglib2.0-0    # libglib-2.0, libgthread-2.0: QtCore's event loop
    libdbus-1-3     # QtGui/QtDBus
    libgl1          # libGL: QtGui/QtWidgets link it even offscreen
    libegl1         # libEGL
    libfontconfig1  # font discovery
    libfreetype6    # font rendering
    libxkbcommon0   # keyboard handling in QtGui
    libx11-6        # QtGui links libX11
    libbrotli1      # QtNetwork (HTTP content decoding)
    libssl3         # QtNetwork's TLS plugin dlopens libssl
)

# The xcb platform plugin: a real window on X11 (and XWayland). Qt 6 no longer needs libxcb-xinerama0.
QT_XCB_PACKAGES=(
    libx11-xcb1 libxkbcommon-x11-0 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0
    libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0
    libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxcb-glx0
)

# Chinese text must render; Noto CJK also covers Latin.
FONT_PACKAGES=(fonts-noto-cjk)

# Prints the packages among "$@" that dpkg does not list as installed.
missing_debian_packages() {
    local pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "installed" ]] || printf '%s\n' "$pkg"
    done
}

# ensure_debian_packages PKG...: installs the missing ones with apt-get when that is possible (root,
# or sudo). Returns 0 when all are installed, 1 when some are still missing (after saying which).
ensure_debian_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
        echo "note: not a Debian/Ubuntu system, not installing system packages. Make sure the" >&2
        echo "      equivalents of these are installed: $*" >&2
        return 1
    fi
    local -a missing
    mapfile -t missing < <(missing_debian_packages "$@")
    ((${#missing[@]} == 0)) && return 0

    local -a sudo=()
    if ((EUID != 0)); then
        if command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [[ -t 0 ]]; }; then
            sudo=(sudo)
        else
            echo "note: these system packages are missing and there is no root or sudo to install them:" >&2
            echo "      apt-get install --no-install-recommends ${missing[*]}" >&2
            return 1
        fi
    fi
    echo "Installing system packages: ${missing[*]}" >&2
    local log
    log=$(mktemp "${TMPDIR:-/tmp}/qwen-apt.XXXXXX")
    # Refresh the package lists first: on a fresh machine they may be missing or stale.
    if ! "${sudo[@]}" apt-get update -q >"$log" 2>&1; then
        echo "warning: apt-get update failed (trying the install anyway):" >&2
        tail -n 5 "$log" >&2
    fi
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        echo "error: apt-get install failed for: ${missing[*]}" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# find_python: prints a Python >= 3.11 interpreter ($PYTHON if set), or fails.
find_python() {
    local candidate
    for candidate in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

# python_venv_packages PYTHON: Debian splits venv/ensurepip out of python3; prints what to install.
python_venv_packages() {
    local python=$1
    "$python" -c 'import ensurepip, venv' 2>/dev/null && return 0
    local version
    version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    echo "python${version}-venv"
}

# ensure_venv REPO PYTHON SPEC: creates or reuses REPO/.venv and `pip install -e SPEC` into it (SPEC
# is "." or ".[test]"). Skips pip when pyproject.toml, SPEC and the checkout path are unchanged since
# the last successful install. Prints the venv's python.
ensure_venv() {
    local repo=$1 python=$2 spec=$3
    local venv="$repo/.venv"
    # A venv copied or moved from elsewhere has a broken interpreter link or stale script paths.
    if [[ -d "$venv" ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
        echo "Recreating broken virtualenv $venv" >&2
        rm -rf "$venv"
    fi
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "Creating virtualenv $venv" >&2
        "$python" -m venv "$venv" >&2
    fi
    # The stamp records what was installed, from which checkout and pyproject.toml. "." is covered by
    # an earlier ".[test]" install, so the app launcher does not undo or redo the test setup.
    local stamp_file="$venv/.qwen-install-stamp" base stored=""
    base="$repo $(cksum <"$repo/pyproject.toml")"
    [[ -f "$stamp_file" ]] && stored=$(cat "$stamp_file")
    if [[ "$stored" == "$spec $base" || ("$spec" == "." && "$stored" == ".[test] $base") ]] &&
        (cd / && "$venv/bin/python" -c 'import desktop' >/dev/null 2>&1); then
        echo "$venv/bin/python"
        return 0
    fi
    echo "Installing $spec into $venv" >&2
    rm -f "$stamp_file"
    # (The grep drops pip's notes about find-links/index folders that some machines configure but lack.)
    (cd "$repo" && "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$spec") \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) >&2
    echo "$spec $base" >"$stamp_file"
    echo "$venv/bin/python"
}

# start_private_secret_service DIR: run inside a D-Bus session (dbus-run-session). Points
# XDG_RUNTIME_DIR at DIR/runtime (Qt warns without one; the keyring daemon puts its control socket
# there) and starts an unlocked gnome-keyring whose keyrings live in DIR/keyrings, so a developer's own
# login keyring and daemon are never touched. Exports the daemon's variables and sets
# SECRET_SERVICE_PID (kill it when done); returns 1, after saying why, when no Secret Service came up.
# (tests/run.sh does the same inline.)
start_private_secret_service() {
    local dir=$1 daemon_env name value
    SECRET_SERVICE_PID=""
    export XDG_RUNTIME_DIR="$dir/runtime"
    mkdir -p "$XDG_RUNTIME_DIR" "$dir/keyrings"
    chmod 700 "$XDG_RUNTIME_DIR"
    unset GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
    # --unlock reads the login keyring's password from stdin and creates that keyring (then the
    # default collection) when there is none.
    daemon_env=$(printf 'test' | XDG_DATA_HOME="$dir/keyrings" \
        gnome-keyring-daemon --unlock --components=secrets 2>"$dir/gnome-keyring.log") || true
    while IFS='=' read -r name value; do
        if [[ "$name" =~ ^[A-Z_]+$ ]]; then export "$name=$value"; fi
    done <<<"$daemon_env"
    local _
    for _ in $(seq 50); do
        SECRET_SERVICE_PID=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus \
            /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID \
            string:org.freedesktop.secrets 2>/dev/null | awk '/uint32/ {print $2}' || true)
        [[ -n "$SECRET_SERVICE_PID" ]] && return 0
        sleep 0.1
    done
    echo "warning: no Secret Service on the session bus:" >&2
    cat "$dir/gnome-keyring.log" >&2 || true
    return 1
}
