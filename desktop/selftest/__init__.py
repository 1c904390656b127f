"""``QwenDesktop --self-test``: does this build (frozen or not) have everything it needs?

Each check prints ``ok   <name>: <detail>`` or ``FAIL <name>: <detail>``; the exit status is 0 only
when every check passes. CI runs it on the frozen bundle (packaging/smoke-test.sh); a user can run it
to tell a broken install from a broken network.

Harmless to run anywhere:
- Qt runs offscreen unless ``QT_QPA_PLATFORM`` says otherwise, so no window appears.
- All data (settings, history, logs, window state) goes to a fresh temporary directory that is
  removed at the end; the user's data directory (``QWEN_DESKTOP_HOME``, portable ``data`` folder or
  the user data dir) is only reported, never opened. ``QWEN_DESKTOP_HOME`` is restored afterwards.
- The keyring is asked which backend it has, never for a password: a dummy ``DASHSCOPE_API_KEY``
  is set for the run so the window does not read the stored key either. No network is used.
"""

from desktop.selftest.run import run_self_test

__all__ = ["run_self_test"]
