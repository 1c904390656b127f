"""``qwen-desktop chat --web``: the answer streams with its markers as [n], then the pages it cites
as ``[n] Title — URL``; ``history export --json`` and the Markdown export carry them (issue 13)."""

from __future__ import annotations

import json

from tests.support.dashscope_server import DashScopeServer
from tests.support.dashscope_server.websearch import SearchReply
from tests.test_cli import chat_env, qwen  # noqa: F401

SOURCES = [
    {"index": 1, "title": "Exchange rates today", "url": "https://fx.example/cny", "site_name": "FX"},
    {"index": 2, "title": "Notice\n\x1b[31mred", "url": "http://gov.example/notice", "site_name": "Gov"},
]


def test_chat_web_streams_then_lists_the_sources(srv: DashScopeServer, chat_env: dict[str, str]) -> None:  # noqa: F811
    srv.script_search(SearchReply(content="The yuan rose [ref_1] after a notice [ref_2] ([ref_9]).",
                                  sources=SOURCES, searches=1, tokens=["The yuan rose [re", "f_1] after",
                                                                      " a notice [ref_2] ([ref_9])."]))
    done = qwen(["chat", "--web", "How is the yuan doing?"], chat_env)
    assert done.returncode == 0, done.stderr
    answer, _, listing = done.stdout.partition("\nWeb sources:\n")
    assert answer.strip() == "The yuan rose [1] after a notice [2] ([ref_9])."
    assert listing.splitlines() == ["[1] Exchange rates today — https://fx.example/cny",
                                    "[2] Notice ^[[31mred — http://gov.example/notice"]  # no escape reaches the terminal
    (request,) = srv.search_requests()
    assert request["parameters"]["enable_search"] is True
    assert request["input"]["messages"][-1] == {"role": "user", "content": "How is the yuan doing?"}

    exported = qwen(["history", "export", "--json"], chat_env)
    data = json.loads(exported.stdout)
    reply = data["messages"][-1]
    assert [s["url"] for s in reply["web_sources"]] == ["https://fx.example/cny", "http://gov.example/notice"]
    assert reply["usage"]["searches"] == 1 and reply["content"].startswith("The yuan rose [ref_1]")
    markdown = qwen(["history", "export"], chat_env).stdout
    assert "[\\[1\\]](<https://fx.example/cny>)" in markdown and "**Web sources**" in markdown


def test_chat_web_with_a_model_that_cannot_search_is_a_usage_error(srv: DashScopeServer, chat_env: dict[str, str]) -> None:  # noqa: F811
    done = qwen(["chat", "--web", "--model", "qwen-long", "hi"], chat_env)
    assert done.returncode == 2 and "cannot search the web" in done.stderr
    assert srv.requests == []


def test_a_refusal_to_search_says_so_in_one_line(srv: DashScopeServer, chat_env: dict[str, str]) -> None:  # noqa: F811
    srv.no_search_models = {"qwen-plus"}
    done = qwen(["chat", "--web", "hi"], chat_env)
    assert done.returncode == 1, done.stderr
    assert "cannot search the web here" in done.stderr and "Traceback" not in done.stderr

