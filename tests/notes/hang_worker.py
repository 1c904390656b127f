"""``notes index`` in a separate process, with every open of one file name hanging forever (as on a
stuck network share), for the Ctrl-C test. Prints ``stuck`` on stdout once the read hangs.

    python -m tests.notes.hang_worker NAME
"""

from __future__ import annotations

import builtins
import os
import sys
import threading
from typing import Any

from desktop.cli import run_cli


def main(name: str) -> int:
    real_os_open, real_open = os.open, builtins.open
    forever = threading.Event()

    def check(path: Any) -> None:
        if not isinstance(path, int) and os.path.basename(os.fsdecode(path)) == name:
            print("stuck", flush=True)
            forever.wait()

    def os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        check(path)
        return real_os_open(path, *args, **kwargs)

    def py_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        check(file)
        return real_open(file, *args, **kwargs)

    os.open = os_open  # type: ignore[assignment]
    builtins.open = py_open
    return run_cli(["notes", "index"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
