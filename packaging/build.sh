#!/usr/bin/env bash
# The one build command on Linux and macOS: the double-click app and its archive.
#
#   bash packaging/build.sh [--no-archive]
#
# On Debian/Ubuntu as root (or with sudo) it installs what the build needs from the system (Qt's
# runtime libraries, which PyInstaller's Qt hooks load; binutils for readelf/strip/objdump). Then it
# creates or reuses .venv in the checkout, adds the `build` extra (PyInstaller) when missing, and runs
# packaging/build.py: dist/QwenDesktop/ plus dist/QwenDesktop-VERSION-PLATFORM.tar.gz (Linux) or the
# .app and a zip of it (macOS), printing the sizes and the build time. On Windows run
# `python packaging/build.py` from the project's environment instead (pip install -e ".[build]").
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=packaging/bootstrap.sh
source "$REPO/packaging/bootstrap.sh"

PYTHON_BIN=$(find_python)
if [[ "$(uname -s)" == Linux ]]; then
    # shellcheck disable=SC2046
    ensure_debian_packages "${QT_RUNTIME_PACKAGES[@]}" binutils $(python_venv_packages "$PYTHON_BIN") ||
        echo "warning: some system packages are missing; the build may fail (see above)" >&2
fi
VENV_PYTHON=$(ensure_venv "$REPO" "$PYTHON_BIN" ".")
if ! "$VENV_PYTHON" -c "import PyInstaller" >/dev/null 2>&1; then
    echo "Installing the build extra (PyInstaller) into .venv" >&2
    (cd "$REPO" && "$VENV_PYTHON" -m pip install -q --disable-pip-version-check -e ".[build]") \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) >&2
fi
exec "$VENV_PYTHON" "$REPO/packaging/build.py" "$@"
