"""Linux: a smaller ICU data library for the bundle, holding only what Qt can ask of it here.

    python packaging/icu_trim.py LIBICUDATA [OUTPUT]    (the spec runs trim_library() on the bundle)

PySide6's Qt links its own ICU, and libicudata.so (32 MB) is most of it: locale data for every
language, converter tables for every legacy code page, word-break dictionaries, transliterators.
Qt Core calls ICU only for collation (QCollator, file dialogs' sorting), locale-aware case mapping,
time-zone display names and code-page conversion (QStringConverter). The app speaks English and
Simplified Chinese, so this keeps ICU's structural data, the root locale, every English and Chinese
locale, and the Chinese legacy code pages, and leaves out the rest: other locales' resources, the
other converters, break-iterator dictionaries and transliteration. A locale left out falls back to
the root locale, as ICU does for any locale it lacks.

The library is ICU's "common data" package (a table of contents and the items) behind one symbol,
``icudtNN_dat``. This reads the package out of the library, writes a package with the kept items,
and links a shared library exporting it under the same symbol and soname (GNU as and ld, from
binutils). Anything unexpected leaves the original library in place.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

# Locales kept (and the locale-independent items): the app's two languages.
KEPT_LOCALE = re.compile(r"^(root|en|zh)(_[A-Za-z0-9]+)*$")
# A resource bundle named like a locale (ll, lll, ll_Script, ll_RR, ...); others (supplementalData,
# likelySubtags, zoneinfo64, metaZones, ...) are locale-independent and stay.
LOCALE_NAME = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]*)*$")
ALWAYS_KEPT = {"pool", "res_index", "root"}
# Code pages kept beside the algorithmic ones ICU has built in (UTF-*, Latin-1, ASCII).
KEPT_CONVERTERS = {"gb18030", "windows-936-2000", "windows-950-2000", "ibm-1383_P110-1999",
                   "ibm-5478_P100-1995"}
DROPPED_TREES = {"translit"}  # utrans_*: Qt never calls it


def keep_item(name: str) -> bool:
    """Whether an item of the package (``icudt73l/coll/zh.res``) stays."""
    parts = name.split("/")[1:] if "/" in name else [name]
    if not parts:
        return True
    tree, leaf = (parts[0] if len(parts) > 1 else ""), parts[-1]
    if tree in DROPPED_TREES:
        return False
    stem, _, suffix = leaf.rpartition(".")
    if suffix == "dict":  # break-iterator dictionaries (CJK, Thai, Khmer, ...): Qt breaks text itself
        return False
    if suffix == "cnv":
        return stem in KEPT_CONVERTERS
    if suffix == "res" and stem not in ALWAYS_KEPT and LOCALE_NAME.match(stem):
        return bool(KEPT_LOCALE.match(stem))
    return True


class NotAnIcuPackage(ValueError):
    pass


def read_package(blob: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """(header, [(name, item bytes)]) of an ICU common data package (little-endian, ASCII)."""
    if len(blob) < 32 or blob[2:4] != b"\xda\x27":
        raise NotAnIcuPackage("no ICU data header")
    header_size = struct.unpack_from("<H", blob, 0)[0]
    info_size, _reserved, big_endian, charset = struct.unpack_from("<HHBB", blob, 4)
    if big_endian or charset or blob[12:16] != b"CmnD":
        raise NotAnIcuPackage(f"not a little-endian ASCII common data package ({blob[12:16]!r})")
    toc = blob[header_size:]
    count = struct.unpack_from("<I", toc, 0)[0]
    if not 0 < count < 100_000 or 4 + 8 * count > len(toc):
        raise NotAnIcuPackage(f"implausible item count {count}")
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    ends = [offset for _name, offset in entries[1:]] + [len(toc)]
    items = []
    for (name_offset, data_offset), end in zip(entries, ends, strict=True):
        name = toc[name_offset:toc.index(b"\0", name_offset)].decode("ascii")
        items.append((name, toc[data_offset:end]))
    return blob[:header_size], items


def write_package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """An ICU common data package: the header, the table of contents, the names, then each item
    16-byte aligned. ICU looks names up by binary search: ``items`` must be in the order of the
    package they came from (sorted)."""
    names = b"".join(name.encode("ascii") + b"\0" for name, _data in items)
    toc_size = 4 + 8 * len(items)
    data_start = _align(toc_size + len(names))
    offsets, data, name_offset = [], bytearray(), toc_size
    for name, item in items:
        offsets.append((name_offset, data_start + len(data)))
        name_offset += len(name) + 1
        data += item
        data += b"\0" * (_align(len(data)) - len(data))
    toc = struct.pack("<I", len(items)) + b"".join(struct.pack("<II", *pair) for pair in offsets)
    body = toc + names
    return header + body + b"\0" * (data_start - len(body)) + bytes(data)


def _align(size: int, to: int = 16) -> int:
    return (size + to - 1) // to * to


def _data_symbol(library: Path) -> tuple[str, int, int]:
    """(name, file offset, size) of the icudtNN_dat symbol, from readelf."""
    symbols = subprocess.run(["readelf", "--dyn-syms", "-W", str(library)], capture_output=True,
                             text=True, check=True).stdout
    match = re.search(r"^\s*\d+:\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+OBJECT\s+GLOBAL\s+\S+\s+(\d+)\s+"
                      r"(icudt\d+_dat)$", symbols, re.MULTILINE)
    if not match:
        raise NotAnIcuPackage(f"{library.name} exports no icudtNN_dat object")
    address, size, section_index, name = int(match[1], 16), int(match[2], 0), int(match[3]), match[4]
    sections = subprocess.run(["readelf", "-S", "-W", str(library)], capture_output=True, text=True,
                              check=True).stdout
    for line in sections.splitlines():
        found = re.match(r"^\s*\[\s*(\d+)\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s", line)
        if found and int(found[1]) == section_index:
            return name, address - int(found[2], 16) + int(found[3], 16), size
    raise NotAnIcuPackage(f"section {section_index} of {library.name} not found")


def _soname(library: Path) -> str:
    dynamic = subprocess.run(["readelf", "-d", "-W", str(library)], capture_output=True, text=True,
                             check=True).stdout
    match = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dynamic)
    return match[1] if match else library.name


def trimmed_library(library: Path, output: Path) -> tuple[int, int]:
    """Write a trimmed copy of ``library`` (a libicudata.so) to ``output``; returns the item
    counts (before, after). Raises NotAnIcuPackage (or CalledProcessError) when it cannot."""
    symbol, offset, size = _data_symbol(library)
    with library.open("rb") as file:
        file.seek(offset)
        blob = file.read(size)
    header, items = read_package(blob)
    kept = [item for item in items if keep_item(item[0])]
    package = write_package(header, kept)
    if read_package(package)[1] != kept:
        raise NotAnIcuPackage("the trimmed package does not read back")
    with tempfile.TemporaryDirectory(prefix="icu-trim-") as scratch:
        data, source, obj = (Path(scratch) / name for name in ("data.dat", "data.s", "data.o"))
        data.write_bytes(package)
        source.write_text(
            f'\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n'
            f'{symbol}:\n\t.incbin "{data}"\n\t.size {symbol}, . - {symbol}\n'
            '\t.section .note.GNU-stack,"",@progbits\n', encoding="ascii")
        subprocess.run(["as", "-o", str(obj), str(source)], check=True)
        subprocess.run(["ld", "-shared", "-z", "noexecstack", "-soname", _soname(library), "-o",
                        str(output), str(obj)], check=True)
    return len(items), len(kept)


def trim_library(library: Path) -> None:
    """Replace ``library`` in place by its trimmed copy; keep it as it is when that fails."""
    output = library.with_name(library.name + ".trimmed")
    try:
        before, after = trimmed_library(library, output)
    except (NotAnIcuPackage, subprocess.CalledProcessError, OSError) as error:
        print(f"icu_trim: keeping {library.name} as it is: {error}", file=sys.stderr)
        output.unlink(missing_ok=True)
        return
    old_size = library.stat().st_size
    output.chmod(library.stat().st_mode)
    output.replace(library)
    print(f"icu_trim: {library.name}: {before} -> {after} items, "
          f"{old_size / 1e6:.1f} -> {library.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.splitlines()[2])
    source_library = Path(sys.argv[1])
    target = Path(sys.argv[2]) if len(sys.argv) == 3 else source_library.with_name("libicudata.trimmed.so")
    counts = trimmed_library(source_library, target)
    print(f"{target}: {counts[0]} -> {counts[1]} items, {target.stat().st_size / 1e6:.1f} MB")
