"""What each part of a built bundle costs, largest first.

    python packaging/bundle_size.py [dist/QwenDesktop] [--top 20]

Groups the bundle's files into components (Qt's ICU, each Qt library, numpy and its OpenBLAS,
cryptography, Python itself, the app, ...) and prints their sizes, so that a change in what the
bundle holds shows as a change in one line. Symlinks count as links, as an archive holds them.
packaging/build.py prints the same table after each build. Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

# (component, pattern on the path relative to the bundle, "/"-separated); the first match wins.
COMPONENTS: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(pattern)) for name, pattern in [
    ("Qt: ICU (libicu*)", r"(^|/)(lib)?icu[a-z0-9]*\.(so|dll|dylib)"),
    ("Qt: plugins", r"PySide6/Qt/plugins/|PySide6/plugins/"),
    ("Qt: translations", r"PySide6/Qt/translations/|PySide6/translations/"),
    ("Qt: Gui (libQt6Gui + its binding)", r"(lib)?Qt6?Gui[^/]*$|QtGui\.framework"),
    ("Qt: Widgets (libQt6Widgets + its binding)", r"(lib)?Qt6?Widgets[^/]*$|QtWidgets\.framework"),
    ("Qt: Core (libQt6Core + its binding)", r"(lib)?Qt6?Core[^/]*$|QtCore\.framework"),
    ("Qt: Network (libQt6Network + its binding)", r"(lib)?Qt6?Network[^/]*$|QtNetwork\.framework"),
    ("Qt: other Qt libraries", r"PySide6/Qt/lib/|(^|/)(lib)?Qt6[A-Za-z]+[^/]*$|Qt[A-Za-z]+\.framework"),
    ("PySide6 + shiboken6 bindings", r"PySide6/|shiboken6/|(lib)?(pyside6|shiboken6)[^/]*$"),
    ("numpy: OpenBLAS + Fortran runtime", r"numpy\.libs/|scipy_openblas|libgfortran|libquadmath|numpy/\.dylibs/"),
    ("numpy", r"(^|/)numpy/"),
    ("cryptography (Secret Service)", r"(^|/)cryptography[/-]|_cffi_backend"),
    ("lxml (python-docx)", r"(^|/)lxml/"),
    ("pydantic_core (openai)", r"(^|/)pydantic_core/"),
    ("OpenSSL", r"(^|/)lib(ssl|crypto)[-.0-9_a-z]*\.(so|dll|dylib)"),
    ("Python: interpreter + stdlib", r"(^|/)(lib)?python3[0-9.]*[^/]*$|(^|/)python3\.[0-9]+/|base_library\.zip"
                                     r"|(^|/)lib-dynload/|(^|/)DLLs/|Python\.framework|(^|/)Python$"),
    ("the app (desktop/)", r"(^|/)desktop/"),
    ("system libraries that Python and its extensions link", r"(^|/)lib[^/]*\.so[.0-9]*$|\.dylib$|\.dll$"),
]]
EXECUTABLES = "executables (bootloader + the Python modules)"
OTHER = "other"


def component(relative: str) -> str:
    for name, pattern in COMPONENTS:
        if pattern.search(relative):
            return name
    return OTHER


def sizes(bundle: Path) -> Counter[str]:
    """Bytes per component of the files under ``bundle``."""
    totals: Counter[str] = Counter()
    for path in bundle.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue
        relative = path.relative_to(bundle).as_posix()
        if "/" not in relative and not path.is_symlink() and path.suffix in ("", ".exe"):
            name = EXECUTABLES
        else:
            name = component(relative.removeprefix("_internal/"))
        totals[name] += path.lstat().st_size
    return totals


def table(bundle: Path, top: int = 20) -> str:
    totals = sizes(bundle)
    everything = sum(totals.values())
    lines = [f"  {size / 1e6:8.1f} MB  {name}" for name, size in totals.most_common(top)]
    rest = sum(size for _name, size in totals.most_common()[top:])
    if rest:
        lines.append(f"  {rest / 1e6:8.1f} MB  (the rest)")
    lines.append(f"  {everything / 1e6:8.1f} MB  total")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, nargs="?",
                        default=Path(__file__).resolve().parent.parent / "dist" / "QwenDesktop")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        print(f"error: {args.bundle} is no bundle folder (build first: bash packaging/build.sh)",
              file=sys.stderr)
        return 1
    print(f"Size by component of {args.bundle}:")
    print(table(args.bundle, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
