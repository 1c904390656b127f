"""The DashScope client: streaming chat, embeddings and the model list, with errors as our types.

A thin wrapper over the openai SDK's ``AsyncOpenAI`` pointed at DashScope's OpenAI-compatible
endpoint. The SDK's own retries are off: callers own the retry policy (:mod:`desktop.core.retry`)
so that waits are visible and cancellable. Create the client inside the running event loop and
close it with :meth:`QwenClient.aclose`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
import urllib.request
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

if TYPE_CHECKING:
    # Imported where they are used instead: openai alone takes half a second to import, which the
    # window would wait for; the first client is made after the window is up (warm_up, a reply).
    import httpx2
    import openai
    from openai.types.chat import ChatCompletionMessageParam

# The stream's events are part of what callers import from the client.
from desktop.core.chat_stream import (
    ChatEvent as ChatEvent,
    ContentDelta as ContentDelta,
    Finished as Finished,
    ReasoningDelta as ReasoningDelta,
    StreamStarted as StreamStarted,
    Usage as Usage,
    chunk_events,
    malformed,
    unreadable,
)
from desktop.core.errors import ErrorKind, QwenError, classify, redact
from desktop.core.models import is_chat_model, thinking_flag

log = logging.getLogger(__name__)

_PROXY_ENV = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    base_url: str
    api_key: str = field(repr=False)
    proxy_mode: str = "system"  # "system", "none" or "manual"
    proxy_url: str = ""
    timeout: float = 60.0


# ---- events of a streamed chat reply ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Embeddings:
    vectors: list[list[float]]  # in input order
    total_tokens: int
    request_id: str | None


# ---- proxies ---------------------------------------------------------------------------------


def system_proxy_for(url: str) -> str | None:
    """The proxy the operating system (or HTTPS_PROXY / NO_PROXY) says to use for ``url``."""
    host = urlsplit(url).hostname or ""
    if host and urllib.request.proxy_bypass(host):
        return None
    proxies = urllib.request.getproxies()
    scheme = urlsplit(url).scheme or "https"
    return proxies.get(scheme) or proxies.get("all")


def normalize_proxy_url(text: str) -> str:
    """A proxy address as IT writes it (``proxy.corp:8080``) with the scheme httpx needs (http)."""
    text = text.strip()
    if text and "://" not in text:
        return "http://" + text
    return text


PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


class ProxyProblem(StrEnum):
    """What is wrong with a typed proxy address, for the face to say in the user's language."""

    EMPTY = "empty"
    SPACE = "space"
    SCHEME = "scheme"
    HOST = "host"
    PORT = "port"


def proxy_address_problem(text: str) -> ProxyProblem | None:
    """None when ``text`` (as typed: ``proxy.corp:8080`` counts as http) is an address the client can
    use, else what is wrong with it. A ``user@`` part is allowed; the password goes in its own field."""
    text = text.strip()
    if not text:
        return ProxyProblem.EMPTY
    if any(ch.isspace() for ch in text):
        return ProxyProblem.SPACE
    try:
        parts = urlsplit(normalize_proxy_url(text))
        port = parts.port
    except ValueError:  # "Port out of range", "Port could not be cast to integer", bad IPv6
        return ProxyProblem.PORT
    if parts.scheme.lower() not in PROXY_SCHEMES:
        return ProxyProblem.SCHEME
    if not parts.hostname:
        return ProxyProblem.HOST
    if port is None and parts.netloc.rstrip().endswith(":"):
        return ProxyProblem.PORT
    return None


def _proxy_for(config: ConnectionConfig) -> str | None:
    if config.proxy_mode == "manual":
        return normalize_proxy_url(config.proxy_url) or None
    if config.proxy_mode == "none":
        return None
    return system_proxy_for(config.base_url)


# ---- the client ------------------------------------------------------------------------------


def check_base_url(url: str) -> None:
    """Raise an INVALID_URL QwenError unless ``url`` is an http(s) URL with a host (and port)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
        problem = ("it does not start with https://" if parts.scheme.lower() not in ("http", "https")
                   else "it names no host" if not parts.hostname else "")
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        problem = str(exc)
    if problem:
        raise QwenError(ErrorKind.INVALID_URL, f"{problem}: {url}")


@functools.lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the trust store takes tens of milliseconds."""
    import httpcore2

    return httpcore2.default_ssl_context()


def warm_up() -> None:
    """Pay the first request's one-time costs (lazy SDK imports, model building, the trust store)
    off the UI thread at start-up, with a request that never leaves the process."""
    import httpx2
    import openai

    ssl_context()
    body = (b'data: {"id":"w","object":"chat.completion.chunk","created":0,"model":"w","choices":'
            b'[{"index":0,"delta":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}\n\n'
            b'data: {"id":"w","object":"chat.completion.chunk","created":0,"model":"w","choices":[],'
            b'"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\ndata: [DONE]\n\n')

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    async def one_request() -> None:
        http = httpx2.AsyncClient(transport=httpx2.MockTransport(answer))
        sdk = openai.AsyncOpenAI(api_key="warm-up", base_url="http://warm-up.invalid/v1",
                                 http_client=http, max_retries=0)
        stream = await sdk.chat.completions.create(
            model="w", messages=[{"role": "user", "content": "w"}], stream=True,
            stream_options={"include_usage": True})
        async with stream:
            async for _chunk in stream:
                pass
        await sdk.close()

    asyncio.run(one_request())


class QwenClient:
    def __init__(self, config: ConnectionConfig) -> None:
        import httpx2
        import openai

        self.config = config
        check_base_url(config.base_url)
        self.proxy = _proxy_for(config)
        timeout = httpx2.Timeout(config.timeout, connect=15.0, read=max(config.timeout, 120.0))
        try:
            http = self._http_client(config, timeout)
        except (ValueError, httpx2.InvalidURL) as exc:  # httpx refuses the proxy address
            # ("Unknown scheme for proxy URL", "Invalid port")
            raise QwenError(ErrorKind.PROXY, redact(str(exc))) from exc
        self._http = http
        self._openai = openai.AsyncOpenAI(
            api_key=config.api_key,
            base_url=config.base_url,
            max_retries=0,
            http_client=http,
            timeout=timeout,
        )

    def _http_client(self, config: ConnectionConfig, timeout: httpx2.Timeout) -> httpx2.AsyncClient:
        import httpx2

        if config.proxy_mode == "system" and not any(os.environ.get(v) for v in _PROXY_ENV):
            # No proxy env vars: httpx only reads the environment, so hand it the OS setting
            # (Windows registry / macOS System Configuration) that urllib found, if any.
            http = httpx2.AsyncClient(proxy=self.proxy, timeout=timeout, trust_env=True,
                                      verify=ssl_context())
        elif config.proxy_mode == "system":  # env vars, NO_PROXY included
            http = httpx2.AsyncClient(timeout=timeout, trust_env=True, verify=ssl_context())
        else:
            http = httpx2.AsyncClient(proxy=self.proxy, timeout=timeout, trust_env=False,
                                      verify=ssl_context())
        return http

    @property
    def sdk(self) -> openai.AsyncOpenAI:
        """The underlying SDK client, for endpoints this wrapper does not cover (files, batches)."""
        return self._openai

    @property
    def http(self) -> httpx2.AsyncClient:
        """The HTTP client, with this connection's proxy and TLS settings (native DashScope calls)."""
        return self._http

    async def aclose(self) -> None:
        await self._openai.close()

    async def __aenter__(self) -> QwenClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- chat ------------------------------------------------------------------------------

    async def stream_chat(
        self,
        messages: Sequence[dict[str, str]],
        *,
        model: str,
        temperature: float | None = None,
        thinking: bool = False,
        max_tokens: int | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """Stream one reply. Cancel the consuming task to stop: the HTTP response is closed.

        Raises :class:`QwenError`; an error after the first chunk is ``CUT_OFF`` (the caller
        keeps the text received so far).
        """
        extra: dict[str, Any] = {}
        flag = thinking_flag(model, thinking)
        if flag is not None:
            extra["enable_thinking"] = flag
        kwargs: dict[str, Any] = {}
        if temperature is not None:
            kwargs["temperature"] = min(max(temperature, 0.0), 1.99)
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        try:
            stream = await self._openai.chat.completions.create(
                model=model,
                # {role, content} dicts are the wire shape; the SDK names one TypedDict per role.
                messages=cast("list[ChatCompletionMessageParam]", list(messages)),
                stream=True,
                stream_options={"include_usage": True},
                extra_body=extra or None,
                **kwargs,
            )
        except Exception as exc:
            raise self._translate(exc) from None
        request_id = stream.response.headers.get("x-request-id")
        yield StreamStarted(request_id)
        received = False
        chunks = 0
        try:
            async with stream:
                try:
                    async for chunk in stream:
                        chunks += 1
                        for event in chunk_events(chunk):
                            received = received or isinstance(event, (ReasoningDelta, ContentDelta))
                            yield event
                except ValueError as exc:  # invalid JSON or UTF-8 (the SDK decodes each line)
                    raise malformed(unreadable(exc)) from None
            if chunks == 0:  # not even the role chunk DashScope always starts with: not its stream
                raise malformed("the answer held no chat events")
        except QwenError as broken:
            if broken.kind is ErrorKind.BAD_RESPONSE:  # what came before it is kept
                raise QwenError(ErrorKind.CUT_OFF if received else ErrorKind.BAD_RESPONSE, broken.detail,
                                request_id=request_id) from None
            raise
        except Exception as exc:
            error = self._translate(exc, request_id=request_id)
            if error.kind in (ErrorKind.NETWORK, ErrorKind.TIMEOUT, ErrorKind.UNKNOWN) or received:
                raise QwenError(
                    ErrorKind.CUT_OFF, error.detail or str(error.kind), status=error.status,
                    code=error.code, request_id=error.request_id or request_id,
                ) from None
            raise error from None

    # -- embeddings and models --------------------------------------------------------------

    async def embed(
        self,
        texts: Sequence[str],
        *,
        model: str,
        dimensions: int | None = None,
        text_type: str | None = None,
    ) -> Embeddings:
        """Embed ``texts`` in ONE request (respect the model's input cap; no retries here)."""
        # No encoding_format: the SDK then asks for base64 and decodes it with numpy, about five
        # times cheaper than parsing a JSON float per dimension (it caps indexing throughput).
        kwargs: dict[str, Any] = {}
        if dimensions is not None and not model.startswith(("text-embedding-v1", "text-embedding-v2")):
            kwargs["dimensions"] = dimensions
        if text_type:
            kwargs["extra_body"] = {"text_type": text_type}
        try:
            raw = await self._openai.embeddings.with_raw_response.create(
                model=model, input=list(texts), **kwargs
            )
        except Exception as exc:
            raise self._translate(exc) from None
        response = raw.parse()
        data = sorted(response.data, key=lambda d: d.index)
        if len(data) != len(texts):
            raise QwenError(ErrorKind.BAD_REQUEST, f"expected {len(texts)} vectors, got {len(data)}")
        usage = response.usage
        return Embeddings(
            vectors=[list(d.embedding) for d in data],
            total_tokens=int(getattr(usage, "total_tokens", 0) or 0),
            request_id=raw.headers.get("x-request-id"),
        )

    async def list_models(self) -> list[str]:
        """Chat model ids the service lists, sorted; raises QwenError."""
        try:
            page = await self._openai.models.list()
        except Exception as exc:
            raise self._translate(exc) from None
        return sorted({m.id for m in page.data if is_chat_model(m.id)})

    # -- errors -----------------------------------------------------------------------------

    def _translate(self, exc: BaseException, *, request_id: str | None = None) -> QwenError:
        return translate_error(exc, proxy=self.proxy, request_id=request_id)


# ---- reading a stream's chunks -------------------------------------------------------------
# The SDK builds chunk objects without validating them, so a chunk can hold any JSON at all: each
# field is checked here, and a chunk of the wrong shape ends the stream with a BAD_RESPONSE error.


def _body_fields(body: object) -> tuple[str | None, str]:
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            code = inner.get("code") or inner.get("type")
            return (str(code) if code else None), str(inner.get("message") or "")
    if isinstance(body, str):
        return None, body
    return None, ""


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, kind):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def translate_error(
    exc: BaseException, *, proxy: str | None = None, request_id: str | None = None
) -> QwenError:
    """Turn an SDK / transport exception into a :class:`QwenError`."""
    if isinstance(exc, QwenError):
        return exc
    import httpx2
    import openai

    if isinstance(exc, openai.APIStatusError) and 300 <= exc.status_code < 400:
        # Never followed (the key would go along); the body is a web page, the target says more.
        location = exc.response.headers.get("location") or "no address given"
        return QwenError(ErrorKind.REDIRECTED, f"HTTP {exc.status_code} to {location}",
                         status=exc.status_code, request_id=exc.request_id or request_id)
    if isinstance(exc, openai.APIStatusError):
        code, message = _body_fields(exc.body)
        status = exc.status_code
        kind, limit = classify(status, code, message)
        if status == 404 and not message:
            message = "404 Not Found"
        return QwenError(kind, message, status=status, code=code,
                         request_id=exc.request_id or request_id, limit=limit)
    if isinstance(exc, openai.APITimeoutError):
        return QwenError(ErrorKind.TIMEOUT, "timed out", request_id=request_id)
    if isinstance(exc, openai.APIConnectionError):
        if _caused_by(exc, httpx2.ProxyError) or (proxy and _caused_by(exc, httpx2.ConnectError)):
            return QwenError(ErrorKind.PROXY, _describe(exc), request_id=request_id)
        return QwenError(ErrorKind.NETWORK, _describe(exc), request_id=request_id)
    if isinstance(exc, openai.APIError):
        # An error event inside the stream: the SDK gives no status, only the body.
        code, message = _body_fields(exc.body)
        kind, limit = classify(None, code, message or exc.message)
        if kind is ErrorKind.UNKNOWN:
            kind = ErrorKind.CUT_OFF
        return QwenError(kind, message or exc.message, code=code, request_id=request_id, limit=limit)
    if isinstance(exc, (httpx2.ProxyError,)):
        return QwenError(ErrorKind.PROXY, _describe(exc))
    if isinstance(exc, (httpx2.TransportError, OSError)):
        return QwenError(ErrorKind.NETWORK, _describe(exc))
    if isinstance(exc, ValueError) and "proxy" in str(exc).lower():
        return QwenError(ErrorKind.PROXY, redact(str(exc)))
    log.exception("unexpected client error", exc_info=exc)
    return QwenError(ErrorKind.UNKNOWN, f"{type(exc).__name__}: {redact(str(exc))}")


def _describe(exc: BaseException) -> str:
    """The innermost cause's text, e.g. "[Errno 111] Connection refused"."""
    cur: BaseException = exc
    while (inner := cur.__cause__ or cur.__context__) is not None:
        cur = inner
    text = str(cur) or type(cur).__name__
    return redact(text)
