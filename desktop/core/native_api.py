"""Synchronous calls to DashScope's native API (``/api/v1/…``) of the configured region.

The native API lives on the same host as compatible mode: ``…/compatible-mode/v1`` becomes
``…/api/v1``. Calls go through the client's HTTP connection (its proxy and TLS settings) with
the key as a Bearer token; errors come back as :class:`~desktop.core.errors.QwenError`, classified
like every other service error. No retries here: callers own their policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desktop.core.errors import ErrorKind, QwenError, classify

if TYPE_CHECKING:
    from desktop.core.client import QwenClient

COMPAT_SUFFIX = "/compatible-mode/v1"


def host_root(base_url: str) -> str | None:
    """``https://host/compatible-mode/v1`` → ``https://host``; None for an address of another shape
    (a proxy gateway with its own paths: the native API cannot be derived from it)."""
    url = base_url.rstrip("/")
    if not url.endswith(COMPAT_SUFFIX):
        return None
    return url[: -len(COMPAT_SUFFIX)]


def native_error(status: int, body: Any, request_id: str | None) -> QwenError:
    """The error of a native answer (``{"code", "message", "request_id"}``, or the OpenAI shape)."""
    code = message = None
    if isinstance(body, dict):
        inner: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else body
        code, message = inner.get("code"), inner.get("message")
        request_id = body.get("request_id") or request_id
    kind, limit = classify(status, str(code) if code else None, str(message or ""))
    return QwenError(kind, str(message or f"HTTP {status}"), status=status,
                     code=str(code) if code else None, request_id=request_id, limit=limit)


async def post(client: QwenClient, url: str, body: dict[str, Any], *,
               seconds: float = 30.0) -> dict[str, Any]:
    """POST ``body`` as JSON to ``url``; the answer's JSON object. Raises QwenError."""
    from desktop.core.client import translate_error

    headers = {"Authorization": f"Bearer {client.config.api_key}"}
    try:
        response = await client.http.post(url, json=body, headers=headers, timeout=seconds)
    except Exception as exc:
        raise translate_error(exc, proxy=client.proxy) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    request_id = response.headers.get("x-request-id")
    if response.status_code >= 400:
        raise native_error(response.status_code, answer, request_id)
    if not isinstance(answer, dict):
        raise QwenError(ErrorKind.BAD_RESPONSE, f"unexpected answer from {url.rsplit('/', 1)[-1]}",
                        request_id=request_id)
    return answer
