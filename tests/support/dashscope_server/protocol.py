"""DashScope protocol facts (regions, models, error codes, limits) and pure helpers shared by the
routes: token estimates, error bodies, message text, the thinking rules."""

from __future__ import annotations

import math
import re
import uuid
from typing import Any


TEST_KEY = "sk-test-0000000000000000"
HOST = "127.0.0.1"
REGIONS = ("beijing", "singapore", "us", "hongkong")
DEFAULT_REGION = "beijing"
COMPAT_PREFIX = "/compatible-mode/v1"

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024
SPLIT_WRITE_PAUSE = 0.002  # seconds between the pieces of a split SSE event
LINGER_SECONDS = 2.0  # how long to swallow an unread request body before closing

DEFAULT_CHAT_MODELS: tuple[str, ...] = (
    "qwen-plus",
    "qwen-plus-latest",
    "qwen-plus-2025-07-28",
    "qwen-max",
    "qwen-max-latest",
    "qwen-flash",
    "qwen-turbo",
    "qwen-turbo-latest",
    "qwen3-max",
    "qwen3.5-plus",
    "qwen3-32b",
    "qwen3-235b-a22b",
    "qwen3-235b-a22b-instruct-2507",
    "qwen3-235b-a22b-thinking-2507",
    "qwq-plus",
    "qwq-32b",
)
EMBEDDING_MODELS: dict[str, tuple[tuple[int, ...], int, int, int]] = {
    # model: (allowed dimensions, default dimensions, max inputs per request, max tokens per input)
    "text-embedding-v4": ((2048, 1536, 1024, 768, 512, 256, 128, 64), 1024, 10, 8192),
    "text-embedding-v3": ((1024, 768, 512), 1024, 10, 8192),
    "text-embedding-v2": ((1536,), 1536, 25, 2048),
    "text-embedding-v1": ((1536,), 1536, 25, 2048),
}
OTHER_MODELS: tuple[str, ...] = (
    "qwen-vl-max",
    "qwen-vl-plus",
    "qwen-audio-turbo",
    "cosyvoice-v2",
    "paraformer-realtime-v2",
    "wanx2.1-t2i-turbo",
    "deepseek-r1",
    "deepseek-v3",
    "moonshot-kimi-k2-instruct",
)

# code -> (type, default message); types follow what DashScope sends for each code.
ERROR_DEFAULTS: dict[str, tuple[str, str]] = {
    "invalid_parameter_error": ("invalid_request_error", "Invalid parameter."),
    "InvalidParameter": ("InvalidParameter", "<400> InternalError.Algo.InvalidParameter: Invalid parameter."),
    "data_inspection_failed": ("data_inspection_failed", "Input data may contain inappropriate content."),
    "Arrearage": ("Arrearage", "Access denied, please make sure your account is in good standing."),
    "invalid_api_key": ("invalid_request_error", "Incorrect API key provided. "),
    "AccessDenied": ("AccessDenied", "Access denied."),
    "AccessDenied.Unpurchased": (
        "AccessDenied.Unpurchased",
        "Access to model denied. Please make sure you are eligible for using the model.",
    ),
    "insufficient_quota": (
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    "model_not_found": ("invalid_request_error", "The model does not exist or you do not have access to it."),
    "limit_requests": ("limit_requests", "Requests rate limit exceeded, please try again later."),
    "limit_burst_rate": (
        "limit_burst_rate",
        "Request rate increased too quickly. To ensure system stability, please adjust your client "
        "logic to scale requests more smoothly over time.",
    ),
    "internal_error": (
        "internal_error",
        "An internal error has occured, please try again later or contact service support.",
    ),
    "ModelUnavailable": ("ModelUnavailable", "Model is unavailable, please try again later."),
    "ModelServingError": (
        "ModelServingError",
        "Too many requests. Your requests are being throttled due to system capacity limits.",
    ),
    "not_found": ("invalid_request_error", "Not found."),
    "method_not_allowed": ("invalid_request_error", "Method not allowed."),
    "request_too_large": ("invalid_request_error", "Request Entity Too Large"),
}
DEFAULT_CODE_FOR_STATUS: dict[int, str] = {
    400: "invalid_parameter_error",
    401: "invalid_api_key",
    403: "AccessDenied",
    404: "model_not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    429: "limit_requests",
    500: "internal_error",
    503: "ModelUnavailable",
}


BATCH_STEPS = ("validating", "in_progress", "finalizing", "completed")
NATIVE_STEPS = ("PENDING", "RUNNING", "SUCCEEDED")
NATIVE_EMBEDDING_MODELS: dict[str, tuple[str, int, int]] = {
    # model: (the live model whose vectors it shares, dimensions, max tokens per line)
    "text-embedding-async-v2": ("text-embedding-v2", 1536, 2048),
    "text-embedding-async-v1": ("text-embedding-v1", 1536, 2048),
}
NATIVE_MAX_LINES = 100_000


def approx_tokens(text: str) -> int:
    """A crude token estimate: two characters per token, at least one."""
    return max(1, math.ceil(len(text) / 2))


def split_tokens(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def new_request_id() -> str:
    return str(uuid.uuid4())


def error_body(
    code: str,
    message: str | None = None,
    error_type: str | None = None,
    request_id: str | None = None,
    param: str | None = None,
) -> dict[str, Any]:
    default_type, default_message = ERROR_DEFAULTS.get(code, ("invalid_request_error", code))
    return {
        "error": {
            "message": message if message is not None else default_message,
            "type": error_type or default_type,
            "param": param,
            "code": code,
        },
        "id": f"chatcmpl-{uuid.uuid4()}",
        "request_id": request_id or new_request_id(),
    }


def message_text(content: Any) -> str:
    """Text of a message `content`: a string or a list of OpenAI content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message.get("content"))
    return ""


def thinking_mode(model: str) -> str:
    """'none', 'hybrid_off', 'hybrid_on' or 'only' (see the reference's capability list)."""
    if model.startswith("qwq") or "-thinking" in model:
        return "only"
    if model.startswith("qwen-max") or "-instruct" in model:
        return "none"
    if re.match(r"qwen3(\.\d+)?-\d", model) or re.match(r"qwen3\.\d+-", model):
        return "hybrid_on"
    return "hybrid_off"


def _model_object(model: str) -> dict[str, Any]:
    owner = "deepseek" if model.startswith("deepseek") else "system"
    return {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": owner}


def _thinking_enabled(model: str, body: dict[str, Any]) -> bool:
    mode = thinking_mode(model)
    if mode == "only":
        return True
    if mode == "none":
        return False
    flag = body.get("enable_thinking")
    return bool(flag) if flag is not None else mode == "hybrid_on"


def _thinking_problem(model: str, body: dict[str, Any]) -> tuple[int, str, str] | None:
    mode = thinking_mode(model)
    flag = body.get("enable_thinking")
    if mode == "none" and "enable_thinking" in body:
        return (
            400,
            "InvalidParameter.NotSupportEnableThinking",
            ("<400> InternalError.Algo.InvalidParameter: The model does not support enable_thinking."),
        )
    if mode == "only" and flag is False:
        return (
            400,
            "invalid_parameter_error",
            "The value of the enable_thinking parameter is restricted to True.",
        )
    if not body.get("stream"):
        if mode == "only":
            return (
                400,
                "invalid_parameter_error",
                "This model only support stream mode, "
                "please enable the stream parameter to access the model. ",
            )
        if _thinking_enabled(model, body):
            return (
                400,
                "invalid_parameter_error",
                "parameter.enable_thinking must be set to false for non-streaming calls",
            )
    return None


def _native_error(code: str, message: str, request_id: str) -> dict[str, Any]:
    """The native API's error body (no "error" wrapper, unlike compatible mode)."""
    return {"request_id": request_id, "code": code, "message": message}


def _window_hours(window: str) -> int | None:
    match = re.fullmatch(r"(\d+)([hd])", window)
    if match is None:
        return None
    return int(match.group(1)) * (24 if match.group(2) == "d" else 1)
