"""One small hierarchy of errors with plain-language explanations.

Every failure the user can meet is a :class:`QwenError` with a :class:`ErrorKind`. The kind picks the
explanation shown to the user (translated by the window, English on the command line); the server's
own message, HTTP status, error code and request id are kept for the "details" part, which is what
Alibaba support asks for. API keys never appear here: messages are built from server bodies, which
DashScope never echoes the key into, and :func:`redact` scrubs anything key-shaped regardless.
"""

from __future__ import annotations

import re
from enum import StrEnum

from desktop.core.i18n import QT_TRANSLATE_NOOP


class ErrorKind(StrEnum):
    NO_KEY = "no_key"
    AUTH = "auth"
    ARREARAGE = "arrearage"
    MODERATION = "moderation"
    ACCESS_DENIED = "access_denied"
    FREE_QUOTA = "free_quota"
    MODEL_NOT_FOUND = "model_not_found"
    RATE_LIMITED = "rate_limited"
    QUOTA_THROTTLED = "quota_throttled"
    SERVICE_DOWN = "service_down"
    NETWORK = "network"
    PROXY = "proxy"
    TIMEOUT = "timeout"
    CUT_OFF = "cut_off"
    CONTEXT_TOO_LONG = "context_too_long"
    BATCH_TOO_LARGE = "batch_too_large"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    KEYRING = "keyring"
    UNKNOWN = "unknown"


# English source texts; the window shows them through Qt translation (context "Errors"). The context
# is a literal on purpose: pyside6-lupdate only picks up QT_TRANSLATE_NOOP with a string-literal context.
MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.NO_KEY: QT_TRANSLATE_NOOP(
        "Errors", "No API key is set. Add your DashScope API key in Settings."),
    ErrorKind.AUTH: QT_TRANSLATE_NOOP(
        "Errors", "The API key was not accepted. Check that it is copied completely and that the region "
                  "in Settings matches the region where the key was created."),
    ErrorKind.ARREARAGE: QT_TRANSLATE_NOOP(
        "Errors", "Your Alibaba Cloud account is overdue. Top up the account in the Alibaba Cloud console, "
                  "then try again."),
    ErrorKind.MODERATION: QT_TRANSLATE_NOOP(
        "Errors", "The service refused this message because it may contain inappropriate content. "
                  "Rephrase it and try again."),
    ErrorKind.ACCESS_DENIED: QT_TRANSLATE_NOOP(
        "Errors", "Your account may not use this model. Activate it in the Model Studio console or "
                  "choose another model in Settings."),
    ErrorKind.FREE_QUOTA: QT_TRANSLATE_NOOP(
        "Errors", "The free quota for this model is used up. Enable paid use in the Model Studio "
                  "console or choose another model."),
    ErrorKind.MODEL_NOT_FOUND: QT_TRANSLATE_NOOP(
        "Errors", "This model does not exist or is not available in this region. Choose another model "
                  "in Settings (model names are case-sensitive)."),
    ErrorKind.RATE_LIMITED: QT_TRANSLATE_NOOP(
        "Errors", "The service is busy: too many requests in a short time. Wait a moment and try again."),
    ErrorKind.QUOTA_THROTTLED: QT_TRANSLATE_NOOP(
        "Errors", "Too many tokens were used in the last minute. Wait about a minute and try again."),
    ErrorKind.SERVICE_DOWN: QT_TRANSLATE_NOOP(
        "Errors", "The Qwen service is having problems right now. Try again in a few minutes."),
    ErrorKind.NETWORK: QT_TRANSLATE_NOOP(
        "Errors", "Could not reach the Qwen service. Check your internet connection."),
    ErrorKind.PROXY: QT_TRANSLATE_NOOP(
        "Errors", "Could not connect through the proxy. Check the proxy settings in Settings."),
    ErrorKind.TIMEOUT: QT_TRANSLATE_NOOP(
        "Errors", "The Qwen service did not answer in time. Check your connection and try again."),
    ErrorKind.CUT_OFF: QT_TRANSLATE_NOOP(
        "Errors", "The reply was cut off before it finished. The text received so far is kept."),
    ErrorKind.CONTEXT_TOO_LONG: QT_TRANSLATE_NOOP(
        "Errors", "The conversation is too long for this model. Start a new conversation or choose a "
                  "model with a larger context."),
    ErrorKind.BATCH_TOO_LARGE: QT_TRANSLATE_NOOP(
        "Errors", "Too many texts were sent in one request."),
    ErrorKind.BAD_REQUEST: QT_TRANSLATE_NOOP(
        "Errors", "The service rejected the request. See the details below."),
    ErrorKind.NOT_FOUND: QT_TRANSLATE_NOOP(
        "Errors", "The address was not found. If you set a custom URL, check it in Settings."),
    ErrorKind.KEYRING: QT_TRANSLATE_NOOP(
        "Errors", "The system keyring is not available, so the API key cannot be stored safely."),
    ErrorKind.UNKNOWN: QT_TRANSLATE_NOOP(
        "Errors", "Something went wrong. See the details below."),
}

# What the kind of an error decides, in one place for every face: whether waiting and sending again
# can help, the command line's exit code, and whether the window offers "Open Settings".
RETRYABLE = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.QUOTA_THROTTLED, ErrorKind.SERVICE_DOWN})

SETTINGS_KINDS = frozenset({ErrorKind.AUTH, ErrorKind.NO_KEY, ErrorKind.MODEL_NOT_FOUND, ErrorKind.PROXY,
                            ErrorKind.ACCESS_DENIED})

EXIT_AUTH, EXIT_SERVICE, EXIT_OTHER = 3, 4, 1
_AUTH_KINDS = frozenset({ErrorKind.NO_KEY, ErrorKind.AUTH, ErrorKind.ARREARAGE, ErrorKind.ACCESS_DENIED,
                         ErrorKind.FREE_QUOTA, ErrorKind.KEYRING})
_SERVICE_KINDS = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.QUOTA_THROTTLED, ErrorKind.SERVICE_DOWN,
                            ErrorKind.NETWORK, ErrorKind.PROXY, ErrorKind.TIMEOUT, ErrorKind.CUT_OFF,
                            ErrorKind.UNKNOWN})


def exit_code(kind: ErrorKind) -> int:
    """The command line's exit code for an error of this kind."""
    if kind in _AUTH_KINDS:
        return EXIT_AUTH
    if kind in _SERVICE_KINDS:
        return EXIT_SERVICE
    return EXIT_OTHER


def offers_settings(kind: ErrorKind | str) -> bool:
    """Whether fixing this error starts in Settings (the window shows "Open Settings")."""
    try:
        return ErrorKind(kind) in SETTINGS_KINDS
    except ValueError:
        return False

_KEY_SHAPED = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}")


def redact(text: str) -> str:
    """Replace anything shaped like an API key with a masked form."""
    return _KEY_SHAPED.sub(lambda m: "sk-…" + m.group(0)[-4:], text)


class QwenError(Exception):
    """A failure with a kind (what to tell the user) and details (what to tell support)."""

    def __init__(
        self,
        kind: ErrorKind,
        detail: str = "",
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        limit: int | None = None,
    ) -> None:
        self.kind = kind
        self.detail = redact(detail)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.limit = limit  # the N of "should not be larger than N" / "Range of input length [1, N]"
        super().__init__(self.summary())

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    @property
    def message(self) -> str:
        """The plain-language English explanation (translate it with context "Errors")."""
        return MESSAGES[self.kind]

    def details(self) -> str:
        """Technical details for the expandable part of an error, one item per line."""
        lines = []
        if self.status is not None:
            lines.append(f"HTTP {self.status}")
        if self.code:
            lines.append(f"code: {self.code}")
        if self.detail:
            lines.append(self.detail)
        if self.request_id:
            lines.append(f"request id: {self.request_id}")
        return "\n".join(lines)

    def summary(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        rid = f" [request id {self.request_id}]" if self.request_id else ""
        return f"{MESSAGES[self.kind]}{extra}{rid}"


_LIMIT_RE = re.compile(r"should not be larger than (\d+)")
_RANGE_RE = re.compile(r"Range of input length should be \[1, ?(\d+)\]")


def classify(status: int | None, code: str | None, message: str) -> tuple[ErrorKind, int | None]:
    """Map an HTTP status, DashScope error code and message to an :class:`ErrorKind`.

    DashScope's codes come in snake_case and CamelCase, so classify by status and code first,
    then by the message text. Returns the kind and, for size errors, the limit the server named.
    """
    c = (code or "").lower()
    m = message or ""
    ml = m.lower()
    if match := _LIMIT_RE.search(m):
        return ErrorKind.BATCH_TOO_LARGE, int(match.group(1))
    if match := _RANGE_RE.search(m):
        return ErrorKind.CONTEXT_TOO_LONG, int(match.group(1))
    if status == 407:  # DashScope never asks for proxy credentials: a proxy on the way does
        return ErrorKind.PROXY, None
    if status == 401 or c in {"invalid_api_key", "invalidapikey"}:
        return ErrorKind.AUTH, None
    if c == "arrearage" or "good standing" in ml:
        return ErrorKind.ARREARAGE, None
    if c == "data_inspection_failed" or "inappropriate content" in ml:
        return ErrorKind.MODERATION, None
    if status == 429:
        if c == "insufficient_quota" or "quota" in ml:
            return ErrorKind.QUOTA_THROTTLED, None
        return ErrorKind.RATE_LIMITED, None
    if status == 403:
        if c in {"insufficient_quota", "allocationquota.freetieronly"} or "free tier" in ml:
            return ErrorKind.FREE_QUOTA, None
        return ErrorKind.ACCESS_DENIED, None
    if status == 404:
        if "model" in c or "model" in ml:
            return ErrorKind.MODEL_NOT_FOUND, None
        return ErrorKind.NOT_FOUND, None
    if status is not None and status >= 500:
        return ErrorKind.SERVICE_DOWN, None
    if c.startswith("limit_") or "rate limit" in ml:
        return ErrorKind.RATE_LIMITED, None
    if status == 400 or c in {"invalid_parameter_error", "invalidparameter"}:
        return ErrorKind.BAD_REQUEST, None
    return ErrorKind.UNKNOWN, None
