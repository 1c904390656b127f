"""Builds the double-click app with PyInstaller and archives it for this platform.

    python packaging/build.py            (from the project's environment with the `build` extra:
                                          pip install -e ".[build]"; bash packaging/build.sh does
                                          all of it on Linux/macOS)

Produces dist/QwenDesktop/ (onedir; on macOS also dist/QwenDesktop.app) and an archive beside it:
QwenDesktop-VERSION-linux-ARCH.tar.gz, QwenDesktop-VERSION-windows-ARCH.zip or
QwenDesktop-VERSION-macos-ARCH.zip (the .app, zipped with ditto), and the installer: on Windows
QwenDesktop-VERSION-windows-ARCH-setup.exe (packaging/windows/QwenDesktop.iss, when Inno Setup 6 is
installed), on macOS QwenDesktop-VERSION-macos-ARCH.dmg. The Windows .zip is the portable copy (a
data folder inside keeps the data beside the app). On Linux it then checks that every shared
library in the bundle resolves. Prints the unpacked and archive sizes, the size of each component
of the bundle and how long the build took.
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

import bundle_size  # packaging/, beside this script

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


def archive(bundle: Path, system: str = "") -> Path:
    """The bundle's archive beside it, for ``system`` (a sys.platform value; this one by default)."""
    system = system or sys.platform
    dist = bundle.parent
    stem = f"{APP}-{version()}-{platform_tag()}"
    for old in dist.glob(f"{APP}-*"):
        old.unlink()
    if system == "darwin":
        target = dist / f"{stem}.zip"
        # ditto keeps the .app's symlinks, permissions and extended attributes; shutil would not.
        subprocess.run(["ditto", "-c", "-k", "--sequesterRsrc", "--keepParent",
                        str(dist / f"{APP}.app"), str(target)], check=True)
    elif system == "win32":
        target = dist / f"{stem}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive_file:
            for path in sorted(bundle.rglob("*")):
                archive_file.write(path, Path(APP) / path.relative_to(bundle))
            # Portable: with a data folder beside QwenDesktop.exe the app keeps everything there
            # (desktop/core/paths.py), so the unpacked folder runs from a USB stick as it is.
            archive_file.writestr(zipfile.ZipInfo(f"{APP}/data/"), b"")
    else:
        target = dist / f"{stem}.tar.gz"
        with tarfile.open(target, "w:gz", compresslevel=6) as archive_file:
            archive_file.add(bundle, arcname=APP)  # keeps symlinks as symlinks
    return target


ISS = REPO / "packaging" / "windows" / "QwenDesktop.iss"
DMG_VOLUME = "Qwen Desktop"


def inno_setup_compiler() -> Path | None:
    """Inno Setup 6's command-line compiler: on PATH, else where its installer puts it."""
    found = shutil.which("iscc") or shutil.which("ISCC")
    if found:
        return Path(found)
    for base in (os.environ.get("ProgramFiles(x86)"), os.environ.get("ProgramFiles"),
                 os.environ.get("LOCALAPPDATA") and str(Path(os.environ["LOCALAPPDATA"]) / "Programs")):
        if base and (candidate := Path(base) / "Inno Setup 6" / "ISCC.exe").is_file():
            return candidate
    return None


def installer_command(iscc: Path, bundle: Path, output_dir: Path) -> list[str]:
    """Compiles packaging/windows/QwenDesktop.iss for this version and bundle."""
    return [str(iscc), "/Q", f"/DAppVersion={version()}", f"/DBundleDir={bundle}",
            f"/DOutputDir={output_dir}", str(ISS)]


def installer_path(output_dir: Path) -> Path:
    """The setup.exe QwenDesktop.iss writes (its OutputBaseFilename)."""
    return output_dir / f"{APP}-{version()}-{platform_tag()}-setup.exe"


def dmg_commands(app: Path, staging: Path, target: Path) -> list[list[str]]:
    """macOS: a compressed disk image holding the .app and a link to /Applications to drag it to."""
    return [
        ["ditto", str(app), str(staging / app.name)],
        ["ln", "-s", "/Applications", str(staging / "Applications")],
        ["hdiutil", "create", "-volname", DMG_VOLUME, "-srcfolder", str(staging), "-fs", "HFS+",
         "-format", "UDZO", "-ov", str(target)],
    ]


def packages(bundle: Path, require_installer: bool) -> list[Path]:
    """The platform's installer beside the archive: Windows setup.exe (Inno Setup), macOS .dmg."""
    if sys.platform == "win32":
        iscc = inno_setup_compiler()
        if iscc is None:
            message = "Inno Setup 6 (ISCC.exe) not found: no installer built (choco install innosetup)"
            if require_installer:
                raise SystemExit(f"error: {message}")
            print(f"note: {message}", file=sys.stderr)
            return []
        subprocess.run(installer_command(iscc, bundle, DIST), check=True)
        return [installer_path(DIST)]
    if sys.platform == "darwin":
        target = DIST / f"{APP}-{version()}-{platform_tag()}.dmg"
        staging = WORK / "dmg"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for command in dmg_commands(DIST / f"{APP}.app", staging, target):
            subprocess.run(command, check=True)
        return [target]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the PyInstaller bundle and its archive.")
    parser.add_argument("--no-archive", action="store_true", help="skip the archive and the installer")
    parser.add_argument("--require-installer", action="store_true",
                        help="fail when the Windows installer cannot be built (CI)")
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
    print("\nSize by component (packaging/bundle_size.py):")
    print(bundle_size.table(bundle))
    archive_line = ""
    if not args.no_archive:
        target = archive(bundle)
        archive_line = f"archive:  {target.relative_to(REPO)}  {megabytes(target.stat().st_size)}\n"
        for package in packages(bundle, args.require_installer):
            archive_line += f"package:  {package.relative_to(REPO)}  {megabytes(package.stat().st_size)}\n"
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
