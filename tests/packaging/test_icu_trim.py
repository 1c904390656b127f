"""packaging/icu_trim.py: the Linux bundle's smaller ICU data library still does what Qt asks of it.

The real check links a trimmed copy of this environment's PySide6 libicudata, then runs the
self-test's text-services check in a Python whose Qt loads that copy (LD_LIBRARY_PATH comes before
Qt's RUNPATH), so a data item Qt needs and the trimming dropped fails here, not on a user's desktop.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_icu_trim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("icu_trim", REPO / "packaging" / "icu_trim.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


icu_trim = load_icu_trim()


@pytest.mark.parametrize(("name", "kept"), [
    ("icudt73l/root.res", True),
    ("icudt73l/pool.res", True),
    ("icudt73l/res_index.res", True),
    ("icudt73l/zh_Hans_CN.res", True),
    ("icudt73l/coll/zh.res", True),
    ("icudt73l/coll/ucadata.icu", True),
    ("icudt73l/en_GB.res", True),
    ("icudt73l/supplementalData.res", True),  # locale-independent
    ("icudt73l/zone/tzdbNames.res", True),
    ("icudt73l/cnvalias.icu", True),
    ("icudt73l/gb18030.cnv", True),
    ("icudt73l/nfkc.nrm", True),
    ("icudt73l/de.res", False),
    ("icudt73l/coll/de__PHONEBOOK.res", False),
    ("icudt73l/coll/ja.res", False),
    ("icudt73l/curr/ars.res", False),
    ("icudt73l/brkitr/cjdict.dict", False),
    ("icudt73l/translit/root.res", False),
    ("icudt73l/ibm-943_P15A-2003.cnv", False),
])
def test_which_items_stay(name: str, kept: bool) -> None:
    assert icu_trim.keep_item(name) is kept


def test_a_written_package_reads_back() -> None:
    header = b"\x14\x00\xda\x27" + b"\x14\x00\x00\x00\x00\x00\x02\x00" + b"CmnD" + b"\x01\x00\x00\x00"
    items = [("icudt73l/a.res", b"x" * 5), ("icudt73l/b.icu", b"y" * 40), ("icudt73l/c.cnv", b"")]
    package = icu_trim.write_package(header, items)
    assert icu_trim.read_package(package) == (header, [
        # Each item is padded to 16 bytes, as ICU aligns them.
        ("icudt73l/a.res", b"x" * 5 + b"\0" * 11), ("icudt73l/b.icu", b"y" * 40 + b"\0" * 8),
        ("icudt73l/c.cnv", b"")])
    with pytest.raises(icu_trim.NotAnIcuPackage):
        icu_trim.read_package(b"\0" * 64)


def pyside_icu_data() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted((Path(list(spec.submodule_search_locations)[0]) / "Qt" / "lib").glob("libicudata.so.*"))
    return found[0] if found else None


@pytest.mark.skipif(not sys.platform.startswith("linux") or not (shutil.which("as") and shutil.which("ld")),
                    reason="the Linux bundle only; needs binutils")
def test_qt_collates_cases_and_converts_with_the_trimmed_library(tmp_path: Path) -> None:
    library = pyside_icu_data()
    if library is None:
        pytest.skip("this PySide6 has no libicudata of its own")
    trimmed = tmp_path / library.name
    before, after = icu_trim.trimmed_library(library, trimmed)
    assert after < before / 3
    assert trimmed.stat().st_size < library.stat().st_size / 3
    env = {**os.environ, "LD_LIBRARY_PATH": str(tmp_path), "QT_QPA_PLATFORM": "offscreen",
           "LD_DEBUG": "libs", "LD_DEBUG_OUTPUT": str(tmp_path / "ld")}
    code = ("from desktop.selftest.checks import check_text_services\n"
            "from PySide6.QtCore import QCoreApplication\n"
            "app = QCoreApplication([])\n"
            "print(check_text_services())\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            encoding="utf-8", timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pinyin collation" in result.stdout
    loaded = "".join(path.read_text(errors="replace") for path in tmp_path.glob("ld.*"))
    assert f"calling init: {trimmed}" in loaded  # the trimmed copy is the one Qt used
