"""Builds the double-click app with PyInstaller and archives it for this platform.

    python packaging/build.py            (from the project's environment with the `build` extra:
                                          pip install -e ".[build]"; bash packaging/build.sh does
                                          all of it on Linux/macOS)

Produces dist/QwenDesktop/ (onedir; on macOS also dist/QwenDesktop.app) and an archive beside it:
QwenDesktop-VERSION-linux-ARCH.tar.gz, QwenDesktop-VERSION-windows-ARCH.zip or
QwenDesktop-VERSION-macos-ARCH.zip (the .app, zipped with ditto). On Linux it then checks that every
shared library in the bundle resolves. Prints the unpacked and archive sizes, the largest parts of
the bundle and how long the build took.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "packaging" / "qwen-desktop.spec"
DIST = REPO / "dist"
WORK = REPO / "build" / "pyinstaller"
APP = "QwenDesktop"
SIZE_TARGET_MB = 150  # unpacked, Linux (issue: "Ship it")


def version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def platform_tag() -> str:
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform.rstrip("0123456789"))
    machine = platform.machine().lower().replace("amd64", "x86_64")
    return f"{system}-{machine}"


def tree_size(path: Path) -> int:
    """Bytes of the files under path, symlinks counted as links (as an archive holds them)."""
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(tree_size(child) for child in path.iterdir())


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def largest_parts(bundle: Path, count: int = 12) -> list[tuple[int, str]]:
    internal = bundle / "_internal"
    parts: list[tuple[int, str]] = []
    for child in (internal.iterdir() if internal.is_dir() else []):
        if child.name == "PySide6":
            parts += [(tree_size(g), f"PySide6/{g.name}") for g in child.iterdir() if g.name != "Qt"]
            qt = child / "Qt"
            parts += [(tree_size(g), f"PySide6/Qt/{g.name}") for g in qt.iterdir()] if qt.is_dir() else []
        else:
            parts.append((tree_size(child), child.name))
    parts += [(tree_size(p), p.name) for p in bundle.iterdir() if p.name != "_internal"]
    return sorted(parts, reverse=True)[:count]


def unresolved_libraries(bundle: Path) -> list[str]:
    """Linux: shared objects in the bundle whose dependencies ldd cannot find."""
    problems = []
    for path in sorted(bundle.rglob("*")):
        if path.is_symlink() or not path.is_file() or not (path.suffix == ".so" or ".so." in path.name
                                                           or path.parent == bundle):
            continue
        if path.read_bytes()[:4] != b"\x7fELF":
            continue
        result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
        missing = re.findall(r"^\s*(\S+) => not found", result.stdout, re.MULTILINE)
        if missing:
            problems.append(f"{path.relative_to(bundle)}: {', '.join(missing)}")
    return problems


def run_pyinstaller() -> None:
    for stale in (DIST / APP, DIST / f"{APP}.app", WORK):
        if stale.is_symlink() or stale.is_file():
            stale.unlink()
        elif stale.exists():
            shutil.rmtree(stale)
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=REPO, check=True)


def archive(bundle: Path) -> Path:
    stem = f"{APP}-{version()}-{platform_tag()}"
    for old in DIST.glob(f"{APP}-*"):
        old.unlink()
    if sys.platform == "darwin":
        target = DIST / f"{stem}.zip"
        # ditto keeps the .app's symlinks, permissions and extended attributes; shutil would not.
        subprocess.run(["ditto", "-c", "-k", "--sequesterRsrc", "--keepParent",
                        str(DIST / f"{APP}.app"), str(target)], check=True)
    elif sys.platform == "win32":
        target = DIST / f"{stem}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive_file:
            for path in sorted(bundle.rglob("*")):
                archive_file.write(path, Path(APP) / path.relative_to(bundle))
    else:
        target = DIST / f"{stem}.tar.gz"
        with tarfile.open(target, "w:gz", compresslevel=6) as archive_file:
            archive_file.add(bundle, arcname=APP)  # keeps symlinks as symlinks
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the PyInstaller bundle and its archive.")
    parser.add_argument("--no-archive", action="store_true", help="skip the archive")
    args = parser.parse_args(argv)
    try:
        import PyInstaller
    except ImportError:
        print('error: PyInstaller is not installed here: pip install -e ".[build]"', file=sys.stderr)
        return 1
    started = time.perf_counter()
    print(f"Building Qwen Desktop {version()} for {platform_tag()} with PyInstaller "
          f"{PyInstaller.__version__}, Python {platform.python_version()}", flush=True)
    run_pyinstaller()
    built = time.perf_counter() - started
    bundle = DIST / APP
    if sys.platform.startswith("linux"):
        problems = unresolved_libraries(bundle)
        if problems:
            print("error: libraries the bundle needs but neither holds nor finds on this system:",
                  *problems, sep="\n  ", file=sys.stderr)
            return 1
    unpacked = tree_size(DIST / f"{APP}.app") if sys.platform == "darwin" else tree_size(bundle)
    print("\nLargest parts of the bundle:")
    for size, name in largest_parts(bundle):
        print(f"  {megabytes(size):>9}  {name}")
    archive_line = ""
    if not args.no_archive:
        target = archive(bundle)
        archive_line = f"archive:  {target.relative_to(REPO)}  {megabytes(target.stat().st_size)}\n"
    total = time.perf_counter() - started
    where = DIST / f"{APP}.app" if sys.platform == "darwin" else bundle
    note = ""
    if sys.platform.startswith("linux") and unpacked > SIZE_TARGET_MB * 1e6:
        note = f"  (over the {SIZE_TARGET_MB} MB target)"
    print(f"\nbundle:   {where.relative_to(REPO)}  {megabytes(unpacked)} unpacked{note}\n{archive_line}"
          f"time:     PyInstaller {built:.0f}s, total {total:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    os.chdir(REPO)
    sys.exit(main())
