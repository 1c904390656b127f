"""What we know about Qwen models: thinking capability, context size, defaults.

DashScope's ``/models`` lists ~165 ids with no metadata, so capabilities live in this table
(see the reference, section 2), matched by exact id and then by pattern.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Thinking(StrEnum):
    NONE = "none"  # sending enable_thinking may give 400
    HYBRID_OFF = "hybrid_off"  # supports the flag, default off
    HYBRID_ON = "hybrid_on"  # supports the flag, default on
    ONLY = "only"  # always thinks; sending false gives 400


DEFAULT_CHAT_MODELS: tuple[str, ...] = (
    "qwen-plus", "qwen-max", "qwen-flash", "qwen-turbo", "qwen3-max", "qwq-plus",
)
DEFAULT_MODEL = "qwen-plus"

# (pattern, thinking) checked in order; the first match wins.
_THINKING_RULES: tuple[tuple[re.Pattern[str], Thinking], ...] = tuple(
    (re.compile(p), t)
    for p, t in (
        (r"^qwq", Thinking.ONLY),
        (r"-thinking(-|$)", Thinking.ONLY),
        (r"-instruct(-|$)", Thinking.NONE),
        (r"^qwen-max", Thinking.NONE),
        (r"^qwen-(plus|flash|turbo)", Thinking.HYBRID_OFF),
        (r"^qwen3-max", Thinking.HYBRID_OFF),
        (r"^qwen3\.[5-9]-", Thinking.HYBRID_ON),
        (r"^qwen3-\d+(\.\d+)?b", Thinking.HYBRID_ON),
        (r"^qwen3-", Thinking.HYBRID_ON),
    )
)

# Context window in tokens (indicative; Alibaba changes them).
_CONTEXT: dict[str, int] = {
    "qwen-plus": 1_000_000, "qwen-flash": 1_000_000, "qwen-turbo": 128_000, "qwen-max": 32_000,
    "qwen3-max": 256_000, "qwq-plus": 128_000,
}
DEFAULT_CONTEXT = 32_000
# Longest reply in tokens (indicative).
_MAX_OUTPUT: dict[str, int] = {
    "qwen-plus": 32_768, "qwen-flash": 32_768, "qwen-turbo": 16_384, "qwen-max": 8_192,
    "qwen3-max": 65_536, "qwq-plus": 8_192,
}
DEFAULT_MAX_OUTPUT = 8_192
ANSWER_ROOM_CAP = 8_192  # room kept for the reply when filling the context

_NOT_CHAT = re.compile(
    r"(embedding|rerank|tts|asr|paraformer|sambert|cosyvoice|wanx|wan2|flux|stable-diffusion|"
    r"image|video|-vl-ocr|gte-|opennlu|farui-|realtime|livetranslate|mt-|audio|omni)",
    re.IGNORECASE,
)


def thinking_mode(model: str) -> Thinking:
    for pattern, mode in _THINKING_RULES:
        if pattern.search(model):
            return mode
    return Thinking.NONE


def thinking_flag(model: str, want_thinking: bool) -> bool | None:
    """The ``enable_thinking`` value to send, or None to send nothing.

    Only hybrid models get the flag; thinking-only and non-thinking models reject a wrong value.
    """
    mode = thinking_mode(model)
    if mode in (Thinking.HYBRID_OFF, Thinking.HYBRID_ON):
        return want_thinking
    return None


def _lookup(table: dict[str, int], model: str, default: int) -> int:
    for name, size in table.items():
        if model == name or model.startswith(name + "-"):
            return size
    return default


def context_window(model: str) -> int:
    return _lookup(_CONTEXT, model, DEFAULT_CONTEXT)


def max_output(model: str) -> int:
    return _lookup(_MAX_OUTPUT, model, DEFAULT_MAX_OUTPUT)


def answer_room(model: str) -> int:
    """Tokens of the context kept free for the reply."""
    return min(max_output(model), ANSWER_ROOM_CAP, context_window(model) // 4)


def is_chat_model(model_id: str) -> bool:
    """Whether an id from ``GET /models`` is a text chat model worth listing."""
    if _NOT_CHAT.search(model_id):
        return False
    return model_id.startswith(("qwen", "qwq", "deepseek", "kimi", "glm", "moonshot", "llama"))


# Models DashScope documents web search for (the Qwen text families). Third-party models it hosts,
# Qwen-Long, translation, vision and OCR models are not offered the switch; a model that turns out
# not to search (a 400 from the service) is remembered for the session and the switch goes off.
_SEARCH_FAMILIES = re.compile(r"^(qwen-(plus|max|turbo|flash)|qwen3-max|qwq-plus|qwen3(\.\d+)?-(plus|max|flash))")
_NO_SEARCH = re.compile(r"(-vl|-ocr|-mt|-long|-coder|-math|-audio|-omni)", re.IGNORECASE)


def offers_web_search(model: str) -> bool:
    """Whether the Web search switch is offered for ``model``."""
    return bool(_SEARCH_FAMILIES.search(model)) and not _NO_SEARCH.search(model)
