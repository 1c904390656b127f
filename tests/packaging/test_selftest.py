"""``qwen-desktop --self-test`` from source: every check passes, and the user's data is untouched.

The frozen build runs the same self-test in packaging/smoke-test.sh. Under tests/run.sh
(QWEN_TEST_REAL_KEYRING=1) a Secret Service runs, so the keyring check must pass too; elsewhere a
missing one is the only failure allowed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KEYRING_REQUIRED = os.environ.get("QWEN_TEST_REAL_KEYRING") == "1"


def test_self_test_passes_and_leaves_the_data_dir_alone(data_dir: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "desktop", "--self-test"], cwd=REPO, env=env,
                            capture_output=True, text=True, encoding="utf-8", timeout=120,
                            check=False)
    lines = result.stdout.splitlines()
    failed = [line for line in lines if line.startswith("FAIL")]
    if not KEYRING_REQUIRED:
        failed = [line for line in failed if not line.startswith("FAIL keyring:")]
    assert not failed, result.stdout + result.stderr
    names = {line[5:].split(":")[0] for line in lines if line[:4] in ("ok  ", "FAIL")}
    assert {"sqlite", "tls", "keyring", "translation", "event loop", "main window",
            "crash handling"} <= names, result.stdout
    if KEYRING_REQUIRED:
        assert result.returncode == 0 and lines[-1] == "self-test passed", result.stdout
    assert list(data_dir.iterdir()) == []  # the self-test works in a temporary directory


def test_on_windows_and_macos_the_self_test_wants_the_systems_own_keyring() -> None:
    """The frozen Windows build must hold the Credential Manager backend and use it (macOS: the
    Keychain); any other trusted backend there means the bundle lacks it."""
    import keyring.backends.macOS
    import keyring.backends.Windows

    from desktop.core.secrets import REAL_BACKENDS
    from desktop.selftest.checks import PLATFORM_KEYRING, CheckFailed, check_keyring

    for platform, cls in (("win32", keyring.backends.Windows.WinVaultKeyring),
                          ("darwin", keyring.backends.macOS.Keyring)):
        name = f"{cls.__module__}.{cls.__qualname__}"
        assert PLATFORM_KEYRING[platform] == name and name in REAL_BACKENDS
    # The tests' in-memory keyring counts as real (tests/conftest.py), so Linux accepts it...
    assert "MemoryKeyring" in check_keyring("linux")
    # ...but on Windows it is not the Credential Manager.
    try:
        check_keyring("win32")
    except CheckFailed as failure:
        assert "instead of this system's keyring.backends.Windows.WinVaultKeyring" in str(failure)
    else:
        raise AssertionError("check_keyring('win32') accepted a backend that is not WinVaultKeyring")
