"""Answering an earlier turn again in its place, and undoing Edit and resend: ChatService with a real
HistoryStore against the loopback server."""

from __future__ import annotations

import dataclasses

from desktop.core.ask import Source
from desktop.core.chat import ChatOptions, ChatService, TurnEnded, TurnEvent
from desktop.core.client import QwenClient
from desktop.core.history import HistoryStore, Message, Status
from tests.core.test_chat import db_path, history, service, sleep  # noqa: F401
from tests.support.dashscope_server import ChatReply, DashScopeServer

OPTIONS = ChatOptions(model="qwen-plus", system_prompt="Be brief.")
USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}


async def turn(service: ChatService, client: QwenClient, cid: int, again: int | None = None) -> TurnEnded:
    events: list[TurnEvent] = [e async for e in service.run_turn(client, cid, OPTIONS, again=again)]
    end = events[-1]
    assert isinstance(end, TurnEnded)
    return end


async def ask(service: ChatService, client: QwenClient, cid: int, text: str) -> TurnEnded:
    service.add_user_message(cid, text)
    return await turn(service, client, cid)


def rows(history: HistoryStore, cid: int) -> list[tuple[object, ...]]:
    """Everything stored of each message but its id."""
    return [tuple(v for k, v in dataclasses.asdict(m).items() if k != "id") for m in history.messages(cid)]


async def test_an_older_failed_turn_is_answered_again_in_place_and_later_turns_stay(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply.error(400, "Arrearage"), ChatReply(content="Four."), ChatReply(content="Paris."))
    cid = history.create_conversation().id
    failed = await ask(service, client, cid, "Capital of France?")
    assert failed.error is not None and failed.message.status is Status.ERROR
    await ask(service, client, cid, "2 + 2?")
    before = history.messages(cid)

    end = await turn(service, client, cid, again=failed.message.id)

    assert end.error is None and end.message.id == failed.message.id
    assert srv.chat_requests()[-1]["messages"] == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
    after = history.messages(cid)
    assert [(m.id, m.role, m.content, m.status) for m in after] == [
        (before[0].id, "user", "Capital of France?", Status.OK),
        (failed.message.id, "assistant", "Paris.", Status.OK),
        (before[2].id, "user", "2 + 2?", Status.OK),
        (before[3].id, "assistant", "Four.", Status.OK)]
    assert after[3] == before[3]  # the later answer is untouched


async def test_what_a_reply_answered_again_had_cost_stays_counted(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply(content="one two three four", disconnect_after=2, usage=USAGE),
                    ChatReply(content="Whole.", usage=USAGE))
    cid = history.create_conversation().id
    cut = await ask(service, client, cid, "Tell me")
    assert cut.message.status is Status.CUT_OFF
    spent = service.month_totals().tokens
    await turn(service, client, cid, again=cut.message.id)
    new = history.messages(cid)[-1]
    assert new.content == "Whole." and new.id == cut.message.id
    assert new.usage is not None
    assert service.month_totals().tokens == spent + new.usage.total_tokens


async def test_undo_of_an_edit_puts_back_every_message_exactly(
    service: ChatService, client: QwenClient, srv: DashScopeServer, history: HistoryStore
) -> None:
    srv.script_chat(ChatReply(content="Paris.", usage=USAGE), ChatReply(content="2.1 million.", usage=USAGE),
                    ChatReply(content="Rome.", usage=USAGE))
    cid = history.create_conversation().id
    await ask(service, client, cid, "Capital of France?")
    await ask(service, client, cid, "Population?")
    reply = history.messages(cid)[-1]
    reply.sources = [Source(1, "/notes/paris.md", "paris.md", "Paris is…")]
    reply.reasoning, reply.thinking_seconds, reply.omitted_messages = "hmm", 1.5, 1
    history.update_message(reply)
    before, title = rows(history, cid), history.conversation(cid).title  # type: ignore[union-attr]
    question = history.messages(cid)[0]
    month = service.month_totals().tokens

    edit = service.edit_message(cid, question.id, "Capital of Italy?")
    assert [m.content for m in edit.replaced] == ["Paris.", "Population?", "2.1 million."]
    assert history.conversation(cid).title == "Capital of Italy?"  # type: ignore[union-attr]
    assert history.message(question.id).edited is not None  # type: ignore[union-attr]  # kept, and exported
    rome = await turn(service, client, cid)
    assert rome.message.content == "Rome." and rome.message.usage is not None

    service.undo_edit(edit)

    assert rows(history, cid) == before
    assert history.message(question.id).edited is None  # type: ignore[union-attr]  # as it was
    assert history.conversation(cid).title == title  # type: ignore[union-attr]
    # Money spent stays spent, once: the restored replies count again, the undone answer still counts.
    assert service.month_totals().tokens == month + rome.message.usage.total_tokens
    assert service.conversation_totals(cid).tokens == 2 * 1500
    # The conversation goes on from the restored turns.
    srv.script_chat(ChatReply(content="Yes."))
    await ask(service, client, cid, "Sure?")
    assert [m["content"] for m in srv.chat_requests()[-1]["messages"][1:]] == [
        "Capital of France?", "Paris.", "Population?", "2.1 million.", "Sure?"]


async def test_undo_keeps_a_title_the_user_gave_meanwhile(
    service: ChatService, client: QwenClient, history: HistoryStore
) -> None:
    cid = history.create_conversation().id
    await ask(service, client, cid, "first question")
    question = history.messages(cid)[0]
    edit = service.edit_message(cid, question.id, "changed question")
    history.rename(cid, "My own title")
    service.undo_edit(edit)
    assert history.conversation(cid).title == "My own title"  # type: ignore[union-attr]
    assert [m.content for m in history.messages(cid)] == ["first question", "Echo: first question"]


async def test_undo_after_the_conversation_was_deleted_does_nothing(
    service: ChatService, client: QwenClient, history: HistoryStore
) -> None:
    cid = history.create_conversation().id
    await ask(service, client, cid, "question")
    edit = service.edit_message(cid, history.messages(cid)[0].id, "other")
    history.delete_conversation(cid)
    service.undo_edit(edit)
    assert history.messages(cid) == [] and history.conversations() == []


def test_the_edit_record_is_a_copy(service: ChatService, history: HistoryStore) -> None:
    cid = history.create_conversation().id
    question = service.add_user_message(cid, "q")
    reply = history.add_message(cid, "assistant", "a")
    edit = service.edit_message(cid, question.id, "q2")
    assert edit.replaced == (Message(reply.id, cid, "assistant", "a", created=reply.created),)
    assert edit.previous_text == "q" and edit.previous_title == "q"
