"""Text that is not worth embedding: one character repeated, or encoded data (base64, hex).

Sending such parts to the embedding service costs tokens and finds nothing: a search by meaning
never matches a base64 image or a line of dashes. They are left out of the index.
"""

from __future__ import annotations

import re
import zlib

MIN_CHARS = 200  # shorter parts cost little; judge only what is worth the check
REPETITIVE_RATIO = 0.05  # compressed / raw: prose ~0.4, tables and logs ~0.2-0.3, "ha" * 3000 ~0.01
ENCODED_SHARE = 0.6  # the part is mostly long runs of base64/hex alphabet

_ENCODED_RUN = re.compile(r"[A-Za-z0-9+/=_-]{100,}")


def is_degenerate(text: str) -> bool:
    """Whether ``text`` is one character (or a short pattern) repeated, or mostly encoded data."""
    stripped = "".join(text.split())
    if len(stripped) < MIN_CHARS:
        return False
    raw = stripped.encode("utf-8")
    if len(zlib.compress(raw, 1)) / len(raw) < REPETITIVE_RATIO:
        return True
    # Encoded data is wrapped at line ends (base64 every 76 characters) but has no spaces.
    unwrapped = text.replace("\r", "").replace("\n", "")
    encoded = sum(len(m.group(0)) for m in _ENCODED_RUN.finditer(unwrapped))
    return encoded / len(stripped) > ENCODED_SHARE
