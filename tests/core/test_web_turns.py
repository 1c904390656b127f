"""ChatService with web search (issue 13): the turn goes to the native endpoint, the sources are
stored with the reply, a dropped stream keeps the text and the sources received, a rate limit is
waited out as for any reply, and a model the service will not let search is remembered."""

from __future__ import annotations

from desktop.core.chat import ChatOptions, ChatService, TurnEnded, TurnEvent
from desktop.core.client import QwenClient
from desktop.core.errors import ErrorKind
from desktop.core.history import HistoryStore, Status
from desktop.core.websearch import WebSourcesFound
from tests.core.test_chat import db_path, history, service, sleep  # noqa: F401
from tests.support.dashscope_server import DashScopeServer
from tests.support.dashscope_server.websearch import SearchReply

WEB = ChatOptions(model="qwen-plus", system_prompt="Be brief.", web_search=True)
SOURCES = [{"index": 1, "title": "One", "url": "https://one.example/", "site_name": "One"},
           {"index": 2, "title": "Two", "url": "https://two.example/", "site_name": "Two"}]


async def web_turn(service: ChatService, client: QwenClient, cid: int, text: str) -> list[TurnEvent]:
    service.add_user_message(cid, text)
    return [e async for e in service.run_turn(client, cid, WEB)]


async def test_sources_are_stored_with_the_reply_and_events_bring_them(
    service: ChatService, client: QwenClient, history: HistoryStore, srv: DashScopeServer,  # noqa: F811
) -> None:
    srv.script_search(SearchReply(content="Both [ref_1] and [ref_2].", sources=SOURCES, searches=1))
    cid = history.create_conversation().id
    events = await web_turn(service, client, cid, "Compare")
    found = [e for e in events if isinstance(e, WebSourcesFound)]
    assert found and [s.url for s in found[-1].sources] == ["https://one.example/", "https://two.example/"]
    end = events[-1]
    assert isinstance(end, TurnEnded) and end.error is None
    stored = history.messages(cid)[-1]
    assert stored.content == "Both [ref_1] and [ref_2]." and stored.status is Status.OK
    assert [s.title for s in stored.web_sources or []] == ["One", "Two"]
    assert stored.usage is not None and stored.usage.searches == 1
    assert srv.chat_requests() == []  # not the compatible endpoint: it returns no sources
    assert srv.search_requests()[0]["input"]["messages"][0] == {"role": "system", "content": "Be brief."}


async def test_a_dropped_stream_keeps_the_text_and_the_sources(
    service: ChatService, client: QwenClient, history: HistoryStore, srv: DashScopeServer,  # noqa: F811
) -> None:
    srv.script_search(SearchReply(content="A long answer that breaks [ref_1] midway", sources=SOURCES,
                                  drop_after=4))
    cid = history.create_conversation().id
    end = (await web_turn(service, client, cid, "Go"))[-1]
    assert isinstance(end, TurnEnded) and end.error is not None and end.error.kind is ErrorKind.CUT_OFF
    stored = history.messages(cid)[-1]
    assert stored.status is Status.CUT_OFF and stored.content and len(stored.web_sources or []) == 2


async def test_a_rate_limit_is_waited_out(
    service: ChatService, client: QwenClient, history: HistoryStore, srv: DashScopeServer,  # noqa: F811
) -> None:
    srv.script_search(SearchReply(status=429, error_code="Throttling.RateQuota",
                                  error_message="Requests rate limit exceeded"),
                      SearchReply(content="Fine [ref_1].", sources=SOURCES[:1]))
    cid = history.create_conversation().id
    end = (await web_turn(service, client, cid, "Again"))[-1]
    assert isinstance(end, TurnEnded) and end.error is None and end.message.content == "Fine [ref_1]."
    assert len(srv.search_requests()) == 2


async def test_a_model_that_may_not_search_is_remembered(
    service: ChatService, client: QwenClient, history: HistoryStore, srv: DashScopeServer,  # noqa: F811
) -> None:
    srv.no_search_models = {"qwen-plus"}
    assert service.offers_web_search("qwen-plus") and not service.offers_web_search("qwen-long")
    cid = history.create_conversation().id
    end = (await web_turn(service, client, cid, "News?"))[-1]
    assert isinstance(end, TurnEnded) and end.error is not None
    assert end.error.kind is ErrorKind.SEARCH_UNSUPPORTED and end.message.status is Status.ERROR
    assert not service.offers_web_search("qwen-plus") and service.offers_web_search("qwen-max")
