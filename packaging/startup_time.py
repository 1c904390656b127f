"""Cold start to the window shown: the median of N launches, from source or frozen.

    python packaging/startup_time.py [--runs 5]                 (from source: python -m desktop)
    python packaging/startup_time.py --frozen [--dist DIR]      (the built bundle)
    python packaging/startup_time.py --importtime               (the slowest imports of a start)
    python packaging/startup_time.py --checkout DIR             (another checkout's source, to compare)

Each run starts the app offscreen with QWEN_DESKTOP_EXIT_AFTER_SHOWN=1 in a fresh temporary data
dir, and times from launch until it prints that its window is shown (the same measurement as the
smoke test's). Prints each run and the median; nothing is asserted (targets: < 1 s from source,
< 0.8 s frozen).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smoke_test import REPO, clean_env, executables, launch_until_shown  # noqa: E402


def importtime(env: dict[str, str], top: int) -> None:
    """Starts from source once with -X importtime and prints the slowest top-level imports."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "desktop"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match[3]) <= 1:  # top-level imports only (their time includes their own)
            rows.append((int(match[2]), match[4]))
    total = sum(cumulative for cumulative, _name in rows)
    print(f"imports of one start (the window until shown, then what it loads until it quits): "
          f"{total / 1e6:.2f}s in all; the slowest:")
    for cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"  {cumulative / 1e6:6.3f}s  {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--frozen", action="store_true", help="time the bundle instead of the source")
    parser.add_argument("--dist", type=Path, default=REPO / "dist" / "QwenDesktop")
    parser.add_argument("--importtime", action="store_true", help="list the slowest imports instead")
    parser.add_argument("--checkout", type=Path, default=REPO,
                        help="the source tree to start (default: this one), e.g. an older commit's")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qwen-startup-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        env = clean_env(QWEN_DESKTOP_HOME=str(home), QWEN_DESKTOP_EXIT_AFTER_SHOWN="1")
        if args.importtime:
            importtime(env, 15)
            return 0
        if args.frozen:
            command = [str(executables(args.dist.resolve())[0])]
        else:
            command = [sys.executable, "-m", "desktop"]
            env["PYTHONPATH"] = str(args.checkout.resolve())
        times = []
        for _ in range(args.runs):
            seconds, _output = launch_until_shown(command, env, Path(scratch) / "stderr.txt")
            times.append(seconds)
    what = "frozen" if args.frozen else "from source"
    print(f"start-up {what}, launch to window shown, median of {args.runs}: {statistics.median(times):.2f}s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
