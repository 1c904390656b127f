"""One small hierarchy of errors with plain-language explanations.

Every failure the user can meet is a :class:`QwenError` with a :class:`ErrorKind`. The kind picks the
explanation shown to the user (translated by the window, English on the command line); the server's
own message, HTTP status, error code and request id are kept for the "details" part, which is what
Alibaba support asks for. API keys never appear here: messages are built from server bodies, which
DashScope never echoes the key into, and :func:`redact` scrubs every key this process has seen
(:func:`register_secret`), anything key-shaped, bearer tokens and passwords in URLs regardless.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
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
    BAD_RESPONSE = "bad_response"
    REDIRECTED = "redirected"
    INVALID_URL = "invalid_url"
    CONTEXT_TOO_LONG = "context_too_long"
    BATCH_TOO_LARGE = "batch_too_large"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    INVALID_KEY = "invalid_key"
    KEYRING = "keyring"
    INDEX_MODEL_CHANGED = "index_model_changed"
    BATCH_UNAVAILABLE = "batch_unavailable"
    CANNOT_CANCEL = "cannot_cancel"
    NEWER_DATA = "newer_data"
    INDEX_DAMAGED = "index_damaged"
    SEARCH_UNSUPPORTED = "search_unsupported"
    BACKUP_REFUSED = "backup_refused"  # not ours, damaged, cut short or newer: the reason says which
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
    ErrorKind.BAD_RESPONSE: QT_TRANSLATE_NOOP(
        "Errors", "The service sent an answer that cannot be read. If you set a custom URL, check that "
                  "it is a DashScope address; otherwise try again in a few minutes."),
    ErrorKind.REDIRECTED: QT_TRANSLATE_NOOP(
        "Errors", "The service address sent the request on to another address. Qwen Desktop does not "
                  "follow it, so your API key is not sent there. If you set a custom URL, check it in "
                  "Settings."),
    ErrorKind.INVALID_URL: QT_TRANSLATE_NOOP(
        "Errors", "The service address is not a valid URL. Check the custom URL in Settings: it starts "
                  "with https:// and names a host."),
    ErrorKind.CONTEXT_TOO_LONG: QT_TRANSLATE_NOOP(
        "Errors", "The conversation is too long for this model. Start a new conversation or choose a "
                  "model with a larger context."),
    ErrorKind.BATCH_TOO_LARGE: QT_TRANSLATE_NOOP(
        "Errors", "Too many texts were sent in one request."),
    ErrorKind.BAD_REQUEST: QT_TRANSLATE_NOOP(
        "Errors", "The service rejected the request. See the details below."),
    ErrorKind.NOT_FOUND: QT_TRANSLATE_NOOP(
        "Errors", "The address was not found. If you set a custom URL, check it in Settings."),
    ErrorKind.INVALID_KEY: QT_TRANSLATE_NOOP(
        "Errors", "This is not a complete API key: it contains characters a key cannot have, such as "
                  "spaces, line breaks or accented letters. Copy the key again from the Model Studio "
                  "console."),
    ErrorKind.KEYRING: QT_TRANSLATE_NOOP(
        "Errors", "The system keyring is not available, so the API key cannot be stored safely."),
    ErrorKind.INDEX_MODEL_CHANGED: QT_TRANSLATE_NOOP(
        "Errors", "The notes index was built with another embedding model or size. Index the notes again "
                  "to search them with the model chosen in Settings."),
    ErrorKind.BATCH_UNAVAILABLE: QT_TRANSLATE_NOOP(
        "Errors", "Offline (batch) indexing is not available for this model, region or account. Index "
                  "the notes live instead."),
    ErrorKind.CANNOT_CANCEL: QT_TRANSLATE_NOOP(
        "Errors", "The service could not cancel this batch job. It goes on, and its results will be "
                  "imported when it ends."),
    ErrorKind.NEWER_DATA: QT_TRANSLATE_NOOP(
        "Errors", "This data was saved by a newer version of Qwen Desktop. Update the app to open it."),
    ErrorKind.INDEX_DAMAGED: QT_TRANSLATE_NOOP(
        "Errors", "The index of your notes is damaged. It can be built again from your notes files, "
                  "which are not touched."),
    ErrorKind.SEARCH_UNSUPPORTED: QT_TRANSLATE_NOOP(
        "Errors", "This model cannot search the web here. Send the question without web search, or "
                  "choose another model."),
    ErrorKind.BACKUP_REFUSED: QT_TRANSLATE_NOOP(
        "Errors", "This file cannot be restored. Nothing was changed."),
    ErrorKind.UNKNOWN: QT_TRANSLATE_NOOP(
        "Errors", "Something went wrong. See the details below."),
}

@dataclass(frozen=True, slots=True)
class Decision:
    """What the kind of an error decides, for every face alike."""

    retryable: bool  # waiting and sending again can help (the retry loops do it on their own)
    exit_code: int  # the command line's exit status
    offers_settings: bool  # fixing it starts in Settings: the window shows "Open Settings"


# The command line's exit codes for failures (desktop.cli.output adds 0 for success, 2 for usage).
EXIT_AUTH, EXIT_SERVICE, EXIT_OTHER = 3, 4, 1

_RETRY, _ONCE = True, False
_SETTINGS, _NO_SETTINGS = True, False

# One row per kind, each written out: a new kind without a decision fails the tests.
DECISIONS: dict[ErrorKind, Decision] = {
    ErrorKind.NO_KEY: Decision(_ONCE, EXIT_AUTH, _SETTINGS),
    ErrorKind.AUTH: Decision(_ONCE, EXIT_AUTH, _SETTINGS),
    ErrorKind.ARREARAGE: Decision(_ONCE, EXIT_AUTH, _NO_SETTINGS),
    ErrorKind.MODERATION: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.ACCESS_DENIED: Decision(_ONCE, EXIT_AUTH, _SETTINGS),
    ErrorKind.FREE_QUOTA: Decision(_ONCE, EXIT_AUTH, _NO_SETTINGS),
    ErrorKind.MODEL_NOT_FOUND: Decision(_ONCE, EXIT_OTHER, _SETTINGS),
    ErrorKind.RATE_LIMITED: Decision(_RETRY, EXIT_SERVICE, _NO_SETTINGS),
    ErrorKind.QUOTA_THROTTLED: Decision(_RETRY, EXIT_SERVICE, _NO_SETTINGS),
    ErrorKind.SERVICE_DOWN: Decision(_RETRY, EXIT_SERVICE, _NO_SETTINGS),
    ErrorKind.NETWORK: Decision(_ONCE, EXIT_SERVICE, _NO_SETTINGS),
    ErrorKind.PROXY: Decision(_ONCE, EXIT_SERVICE, _SETTINGS),
    ErrorKind.TIMEOUT: Decision(_ONCE, EXIT_SERVICE, _NO_SETTINGS),
    ErrorKind.CUT_OFF: Decision(_ONCE, EXIT_SERVICE, _NO_SETTINGS),
    ErrorKind.BAD_RESPONSE: Decision(_ONCE, EXIT_SERVICE, _NO_SETTINGS),
    ErrorKind.REDIRECTED: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.INVALID_URL: Decision(_ONCE, EXIT_OTHER, _SETTINGS),
    ErrorKind.CONTEXT_TOO_LONG: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.BATCH_TOO_LARGE: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.BAD_REQUEST: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.NOT_FOUND: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.INVALID_KEY: Decision(_ONCE, EXIT_AUTH, _SETTINGS),
    ErrorKind.KEYRING: Decision(_ONCE, EXIT_AUTH, _NO_SETTINGS),
    ErrorKind.INDEX_MODEL_CHANGED: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.BATCH_UNAVAILABLE: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.CANNOT_CANCEL: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.SEARCH_UNSUPPORTED: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.NEWER_DATA: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.INDEX_DAMAGED: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.BACKUP_REFUSED: Decision(_ONCE, EXIT_OTHER, _NO_SETTINGS),
    ErrorKind.UNKNOWN: Decision(_ONCE, EXIT_SERVICE, _NO_SETTINGS),
}

RETRYABLE = frozenset(kind for kind, decision in DECISIONS.items() if decision.retryable)
SETTINGS_KINDS = frozenset(kind for kind, decision in DECISIONS.items() if decision.offers_settings)


def exit_code(kind: ErrorKind) -> int:
    """The command line's exit code for an error of this kind."""
    return DECISIONS[kind].exit_code


def offers_settings(kind: ErrorKind | str) -> bool:
    """Whether fixing this error starts in Settings (the window shows "Open Settings")."""
    try:
        return DECISIONS[ErrorKind(kind)].offers_settings
    except ValueError:
        return False


_KEY_SHAPED = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}")
# The credential part of "Bearer X", "api_key=X" / "api_key": "X" and "scheme://user:X@host".
_BEARER = re.compile(r"(\bBearer\s+)(?!sk-…|…)([^\s'\"\\,;]{8,})")
_API_KEY_FIELD = re.compile(r"""(\bapi[_-]?key["']?\s*[:=]\s*["']?)(?!sk-…|…)([^\s"'&,;}]{8,})""",
                            re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*:)([^\s/@]+)(@)")

# Secrets this process has seen (the key in use, a key typed in), redacted whatever their shape.
# Replaced whole, never mutated, so redact() on another thread always iterates a consistent tuple.
_MIN_SECRET_LENGTH = 8  # shorter strings are too likely to be ordinary words
_MAX_SECRETS = 16
_known_secrets: tuple[str, ...] = ()
_secrets_lock = threading.Lock()


def mask(secret: str) -> str:
    """``sk-…abcd``: enough to recognise a key, not enough to use it."""
    secret = secret.strip()
    if not secret:
        return ""
    return ("sk-…" if secret.startswith("sk-") else "…") + secret[-4:]


def register_secret(value: str) -> None:
    """From now on :func:`redact` masks ``value`` wherever it appears, whatever its shape."""
    global _known_secrets
    value = value.strip()
    if len(value) < _MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        if value in _known_secrets:
            return
        recent = (*[s for s in _known_secrets if s != value], value)[-_MAX_SECRETS:]
        _known_secrets = tuple(sorted(recent, key=len, reverse=True))  # longest first


def redact(text: str) -> str:
    """Mask API keys (known ones and anything key-shaped), bearer tokens and URL passwords."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, mask(secret))
        escaped = secret.encode("unicode_escape").decode("ascii")  # as repr() and b'...' show it
        if escaped != secret and escaped in text:
            text = text.replace(escaped, mask(secret))
    text = _KEY_SHAPED.sub(lambda m: "sk-…" + m.group(0)[-4:], text)
    text = _BEARER.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    text = _API_KEY_FIELD.sub(lambda m: m.group(1) + mask(m.group(2)), text)
    return _URL_PASSWORD.sub(lambda m: m.group(1) + "***" + m.group(3), text)


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
        return DECISIONS[self.kind].retryable

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
