"""Counting tokens before sending: an estimate, calibrated by what the service reports.

Qwen's tokenizer gives about 1.5 Chinese characters or 4 other characters per token. The
estimate decides what fits into a model's context; :class:`desktop.core.limits.ModelLimits`
scales it by the ratio the service's own counts (``usage.prompt_tokens``) showed for each model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff00-\uffef]")
MESSAGE_OVERHEAD = 4  # role markers and separators around each message


def estimate_tokens(text: str) -> int:
    """A rough token count of ``text`` (at least 1 for non-empty text)."""
    if not text:
        return 0
    cjk = len(_CJK.findall(text))
    return max(1, round(cjk / 1.5 + (len(text) - cjk) / 4))


def estimate_messages(messages: Iterable[Mapping[str, str]]) -> int:
    return sum(estimate_tokens(m.get("content", "")) + MESSAGE_OVERHEAD for m in messages)
