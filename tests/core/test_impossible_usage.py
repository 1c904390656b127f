"""Token counts that cannot be true (negative, 10**30) leave the reply standing with its usage
unknown: no error, no absurd cost in the totals (issue 10, item 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.chat import ChatOptions, ChatService, TurnEnded
from desktop.core.client import QwenClient
from desktop.core.history import HistoryStore, Status
from tests.support.dashscope_server import ChatReply, DashScopeServer


@pytest.mark.parametrize("usage", [
    {"prompt_tokens": -5, "completion_tokens": 3, "total_tokens": -2},
    {"prompt_tokens": 10, "completion_tokens": 10**30, "total_tokens": 10**30},
    {"prompt_tokens": 1.5e12, "completion_tokens": 1, "total_tokens": 2},
])
async def test_an_impossible_token_count_is_shown_as_unknown(
    srv: DashScopeServer, client: QwenClient, tmp_path: Path, usage: dict[str, object]
) -> None:
    srv.script_chat(ChatReply(content="The answer is 42.", usage=usage))
    history = HistoryStore(tmp_path / "history.sqlite3")
    try:
        service = ChatService(history)
        conversation = history.create_conversation()
        service.add_user_message(conversation.id, "What is the answer?")
        events = [e async for e in service.run_turn(client, conversation.id, ChatOptions(model="qwen-plus"))]
        end = events[-1]
        assert isinstance(end, TurnEnded) and end.error is None
        assert end.message.status is Status.OK and end.message.content == "The answer is 42."
        assert end.message.usage is None
        assert service.reply_cost(end.message) is None
        totals = service.conversation_totals(conversation.id)
        assert totals.tokens == 0 and totals.cost == 0
    finally:
        history.close()
