"""The Chat tab: conversations on the left, the streaming conversation and the composer on the right.

The conversation list can be searched (titles and messages) and exported (Markdown, Word); the
composer has a "Use my notes" switch that answers from the notes index with sources. Totals of
tokens and estimated cost are shown for the conversation and the month. A failed reply is retried
in its own turn; an edited question can be put back as it was (Undo).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.chat import (
    ChatOptions,
    ChatService,
    ContextPrepared,
    Edit,
    NotesFound,
    ReplyStarted,
    RetryWaiting,
    SearchingNotes,
    TurnEnded,
)
from desktop.core.client import ContentDelta, ReasoningDelta, Usage, translate_error
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.history import Message, Status
from desktop.core.i18n import fill
from desktop.core.models import Thinking, thinking_mode
from desktop.core.pricing import format_cny
from desktop.core.runtime import Session
from desktop.core.settings import system_prompt_for
from desktop.gui.chat.conversations import ConversationView
from desktop.gui.chat.composer import Composer
from desktop.gui.chat.model_picker import ModelPicker
from desktop.gui.chat.sidebar import ConversationBar, ConversationSidebar
from desktop.gui.chat.notes_attachment import NotesAttachment
from desktop.gui.chat.parts import UndoNotice
from desktop.gui.common.i18n import ui_is_chinese
from desktop.gui.chat.messages import MessageWidget
from desktop.gui.common.panes import side_and_main
from desktop.core.tasks import TaskRunner
from desktop.core.websearch import WebSourcesFound

log = logging.getLogger(__name__)
CHAT_TASK = "chat"
UNDO_TASK = "chat-undo"  # not "chat": leaving the conversation must not cancel putting it back
YIELD_AFTER_S = 0.004


class ChatTab(QWidget):
    settings_requested = Signal()
    model_chosen = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, session: Session, service: ChatService, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.service = service
        self.history = service.history
        self.tasks = tasks
        self.conversation_id: int | None = None
        self._streaming_widget: MessageWidget | None = None
        self._edit: Edit | None = None  # the last Edit and resend, while it can be undone
        self._setup_ui()
        self._connect_signals()
        self.reload_conversations()
        self.apply_settings()

    # -- construction ----------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.sidebar = ConversationSidebar(self.history, self)
        self.new_button = self.sidebar.new_button
        self.filter_box = self.sidebar.filter_box
        self.conversation_list = self.sidebar.list
        self.totals_label = self.sidebar.totals_label
        self.bar = ConversationBar(self)

        self.view = ConversationView(self)
        self.view.set_empty_hint(self.tr("Ask Qwen anything. Press Enter to send, Shift+Enter for a new line."))
        self.composer = Composer(self)
        self.composer.setObjectName("composer")
        self.composer.setPlaceholderText(self.tr("Message Qwen…"))
        self.composer.setTabChangesFocus(True)
        self.undo_notice = UndoNotice(self)
        self.model_picker = ModelPicker(self.service.prices, self)
        self.thinking_box = QCheckBox(self.tr("Deep thinking"), self)
        self.web_box = QCheckBox(self.tr("Web search"), self)
        self.web_box.setObjectName("webSearch")
        self._web_choice: dict[int | None, bool] = {}  # per conversation (None: the new chat)
        self.notes_box = QCheckBox(self.tr("Use my notes"), self)
        self.notes_box.setObjectName("useNotes")
        self.attachment = NotesAttachment(self.notes_box, self)
        self.send_button = QPushButton(self.tr("Send"), self)
        self.send_button.setDefault(True)
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.setToolTip(self.tr("Stop the reply (Esc)"))
        self.stop_button.setEnabled(False)
        controls = QHBoxLayout()
        controls.addWidget(self.model_picker)
        controls.addWidget(self.thinking_box)
        controls.addWidget(self.web_box)
        controls.addWidget(self.notes_box)
        controls.addStretch(1)
        controls.addWidget(self.stop_button)
        controls.addWidget(self.send_button)

        main = QWidget(self)
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addWidget(self.bar)
        main_layout.addWidget(self.view, 1)
        main_layout.addWidget(self.undo_notice)
        main_layout.addWidget(self.attachment)
        main_layout.addWidget(self.composer)
        main_layout.addLayout(controls)

        self.splitter = side_and_main(self, self.sidebar, main, (220, 760))
        QWidget.setTabOrder(self.composer, self.model_picker)

        self.new_shortcut = QShortcut(QKeySequence.StandardKey.New, self)
        self.new_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.stop_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)

    def _connect_signals(self) -> None:
        self.composer.submitted.connect(self.send)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.stop_shortcut.activated.connect(self.stop)
        self.new_shortcut.activated.connect(self.new_conversation)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.open_requested.connect(self.open_conversation)
        self.sidebar.delete_confirmed.connect(self.delete_conversation)
        self.sidebar.renamed.connect(self._show_title)
        self.sidebar.chosen.connect(lambda: self.composer.setFocus(Qt.FocusReason.TabFocusReason))
        self.bar.rename_requested.connect(lambda: self._on_current(self.sidebar.rename))
        self.bar.export_requested.connect(lambda fmt: self._on_current(lambda cid: self.choose_export_file(cid, fmt)))
        self.bar.delete_requested.connect(lambda: self._on_current(self.confirm_delete))
        self.model_picker.chosen.connect(self._on_model_chosen)
        self.web_box.toggled.connect(lambda on: self._web_choice.__setitem__(self.conversation_id, on))
        self.undo_notice.undo_requested.connect(self.undo_edit)
        self.view.retry_requested.connect(self.retry)
        self.view.settings_requested.connect(self.settings_requested)
        self.view.regenerate_requested.connect(self.regenerate)
        self.view.edit_submitted.connect(self.edit_and_resend)
        self.view.cost_of = self._cost_of

    def apply_settings(self) -> None:
        """Reflect the model and the thinking default after settings change."""
        settings = self.session.settings
        self.model_picker.show_model(settings.model)
        mode = thinking_mode(settings.model)
        self.thinking_box.blockSignals(True)
        if mode is Thinking.ONLY:
            self.thinking_box.setChecked(True)
            self.thinking_box.setEnabled(False)
            self.thinking_box.setToolTip(self.tr("This model always thinks before answering."))
        elif mode is Thinking.NONE:
            self.thinking_box.setChecked(False)
            self.thinking_box.setEnabled(False)
            self.thinking_box.setToolTip(self.tr("This model does not support deep thinking."))
        else:
            self.thinking_box.setEnabled(True)
            self.thinking_box.setChecked(settings.thinking)
            self.thinking_box.setToolTip(self.tr("Let the model reason step by step before it answers "
                                                 "(slower, uses more tokens)."))
        self.thinking_box.blockSignals(False)
        self._show_web_choice()
        has_notes = bool(settings.notes_folders)
        self.notes_box.setEnabled(has_notes)
        if not has_notes:
            self.notes_box.setChecked(False)
        self.notes_box.setToolTip(
            self.tr("Answer from your notes and list the sources (cited as [1], [2]…)") if has_notes
            else self.tr("Add a folder of notes in the Search tab first."))
        self.update_totals()

    def _show_web_choice(self) -> None:
        """The Web search switch: this conversation's choice (the Settings default for a new one),
        offered only for a model that can search."""
        model = self.session.settings.model
        offered = self.service.offers_web_search(model)
        self.web_box.blockSignals(True)
        self.web_box.setEnabled(offered)
        self.web_box.setChecked(offered and self._web_choice.get(self.conversation_id,
                                                                 self.session.settings.web_search))
        self.web_box.blockSignals(False)
        self.web_box.setToolTip(
            self.tr("Let Qwen search the web and list the pages it used (each search is billed)") if offered
            else fill(self.tr("%1 cannot search the web. Choose another model to search."), model))

    # -- conversations ---------------------------------------------------------------------

    def reload_conversations(self, select: int | None = None) -> None:
        self.sidebar.reload(select if select is not None else self.conversation_id)
        self._show_title()

    def _show_title(self, *_: object) -> None:
        conversation = self.history.conversation(self.conversation_id) if self.conversation_id else None
        self.bar.show_title((conversation.title or self.tr("New conversation")) if conversation else None)

    def open_conversation(self, conversation_id: int | None) -> None:
        if self.tasks.running(CHAT_TASK):
            self.stop()
        if conversation_id != self.conversation_id:
            self._forget_edit()
            self.attachment.leave()
        self.conversation_id = conversation_id
        self._show_web_choice()
        if conversation_id is not None:
            self.view.show_conversation(self.history.messages(conversation_id))
        else:
            self.view.clear()
        self.view.scroll_to_bottom()
        self.view.update_actions(busy=False)
        self.reload_conversations()
        self.update_totals()

    def open_latest(self) -> None:
        conversations = self.history.conversations()
        self.open_conversation(conversations[0].id if conversations else None)

    def new_conversation(self) -> None:
        if self.tasks.running(CHAT_TASK):
            self.stop()
        self._forget_edit()
        self.attachment.leave()
        self.conversation_id = None
        self._web_choice.pop(None, None)
        self._show_web_choice()
        self.view.clear()
        self.reload_conversations()
        self.update_totals()
        self.composer.setFocus()

    def _on_current(self, action: Callable[[int], object]) -> None:
        if self.conversation_id is not None:
            action(self.conversation_id)

    def confirm_delete(self, conversation_id: int) -> QMessageBox:
        return self.sidebar.confirm_delete(conversation_id)

    def choose_export_file(self, conversation_id: int, fmt: str) -> QFileDialog:
        return self.sidebar.choose_export_file(conversation_id, fmt)

    def export_conversation(self, conversation_id: int, path: Path, fmt: str) -> None:
        self.sidebar.export_conversation(conversation_id, path, fmt)

    def focus_search(self) -> None:
        self.sidebar.focus_search()

    def _on_model_chosen(self, model: str) -> None:
        """The model for the next reply, and the default from now on (as in Settings)."""
        if model and model != self.session.settings.model:
            self.session.settings = self.session.settings.replace(model=model)
            self.model_chosen.emit(model)
            self.apply_settings()

    def delete_conversation(self, conversation_id: int) -> None:
        if conversation_id == self.conversation_id:
            self.new_conversation()
        if self._edit is not None and self._edit.conversation_id == conversation_id:
            self._forget_edit()
        self.history.delete_conversation(conversation_id)
        self.reload_conversations()

    # -- sending ---------------------------------------------------------------------------

    def options(self, use_notes: bool | None = None) -> ChatOptions:
        s = self.session.settings
        if use_notes is None:
            use_notes = self.notes_box.isChecked() and self.notes_box.isEnabled()
        prompt = system_prompt_for(s.system_prompt, chinese=ui_is_chinese())
        return ChatOptions(model=s.model, system_prompt=prompt, temperature=s.temperature,
                           thinking=self.thinking_box.isChecked(), use_notes=use_notes,
                           web_search=self.web_box.isChecked() and self.web_box.isEnabled())

    def send(self) -> None:
        text = self.composer.toPlainText().strip()
        if not text or self.tasks.running(CHAT_TASK):
            return
        if self.session.key is None:
            # Keep the text in the box and send the user to where the key goes.
            self.settings_requested.emit()
            return
        if self.conversation_id is None:
            self.conversation_id = self.history.create_conversation().id
            self._web_choice[self.conversation_id] = self.web_box.isChecked()
        self._forget_edit()  # the conversation moves on from the edit
        message = self.service.add_user_message(self.conversation_id, text)
        self.composer.clear()
        self.attachment.sent()
        self.view.add_message(message)
        self.view.scroll_to_bottom()
        self.reload_conversations()
        self._start_turn()

    def retry(self, reply_id: int) -> None:
        """Answer the question of a failed (or cut-off) reply again, in that reply's place: the
        turns after it stay as they are (from the notes again if the reply was)."""
        if self.conversation_id is None or self.tasks.running(CHAT_TASK):
            return
        reply = self.history.message(reply_id)
        if reply is None or reply.conversation_id != self.conversation_id or reply.role != "assistant":
            return
        self._start_turn(True if reply.sources is not None else None, again=reply_id)

    def regenerate(self) -> None:
        """Answer the last question again (from the notes again if the answer was)."""
        if self.conversation_id is None or self.tasks.running(CHAT_TASK) or self.session.key is None:
            return
        removed = self.service.regenerate(self.conversation_id)
        question = self.history.messages(self.conversation_id)[-1]
        self.view.remove_after(question.id)
        use_notes = removed.sources is not None if removed is not None else None
        self._start_turn(use_notes)

    def edit_and_resend(self, message_id: int, text: str) -> None:
        """Change an earlier question; the conversation continues from there."""
        if self.conversation_id is None or self.tasks.running(CHAT_TASK):
            return
        self._edit = self.service.edit_message(self.conversation_id, message_id, text)
        self.undo_notice.offer(len(self._edit.replaced))
        self.view.remove_after(message_id)
        for widget in self.view.message_widgets():
            if widget.message.id == message_id:
                widget.stop_edit(text)
        self.reload_conversations()
        if self.session.key is None:
            self.settings_requested.emit()
            return
        self._start_turn()

    def undo_edit(self) -> None:
        """Put back what the last edit replaced; its answer, if still arriving, is stopped first."""
        edit = self._edit
        self._forget_edit()
        if edit is None:
            return
        answering = self.tasks.get(CHAT_TASK)
        self.stop()
        self.tasks.start(UNDO_TASK, self._undo(edit, answering))

    async def _undo(self, edit: Edit, answering: asyncio.Task[None] | None) -> None:
        if answering is not None:
            await asyncio.gather(answering, return_exceptions=True)  # its stopped reply is saved first
        self.service.undo_edit(edit)
        if self.conversation_id == edit.conversation_id:
            self.view.show_conversation(self.history.messages(edit.conversation_id))
            self.view.scroll_to_bottom()
            self.view.update_actions(self.is_busy())
            self.update_totals()
        self.reload_conversations()

    def _forget_edit(self) -> None:
        """The conversation moved on (or was left): the last edit can no longer be undone."""
        self._edit = None
        self.undo_notice.setVisible(False)

    def ask_about_notes(self, query: str, results: int = 0) -> None:
        """From the Search tab: a new conversation whose question, about the search, the user
        phrases first (nothing is sent before Enter); "Use my notes" is on for it only."""
        query = " ".join(query.split())
        if not query:
            return
        self.new_conversation()
        self.attachment.attach(query, results)
        self.composer.setPlainText(fill(self.tr("What do my notes say about %1?"), query))
        self.composer.selectAll()  # typing replaces it
        self.composer.setFocus()

    def _start_turn(self, use_notes: bool | None = None, again: int | None = None) -> None:
        """Run a turn: answer the last question, or (``again``) a failed reply's, in its place."""
        assert self.conversation_id is not None
        self.tasks.start(CHAT_TASK, self._run_turn(self.conversation_id, self.options(use_notes), again))

    def stop(self) -> None:
        if self.tasks.running(CHAT_TASK):
            self.tasks.cancel(CHAT_TASK)

    def is_busy(self) -> bool:
        return self.tasks.running(CHAT_TASK)

    def _set_busy(self, busy: bool) -> None:
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.view.update_actions(busy)
        self.busy_changed.emit(busy)

    async def aclose(self) -> None:
        """Stop a reply that is still streaming."""
        task = self.tasks.get(CHAT_TASK)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # -- costs -----------------------------------------------------------------------------

    def _cost_of(self, message: Message) -> float | None:
        return self.service.reply_cost(message) if message.role == "assistant" else None

    def update_totals(self) -> None:
        month = self.service.month_totals()
        lines = []
        if self.conversation_id is not None:
            conversation = self.service.conversation_totals(self.conversation_id)
            lines.append(fill(self.tr("Conversation: %1 · %2 tokens"), format_cny(conversation.cost),
                              f"{conversation.tokens:,}"))
        lines.append(fill(self.tr("This month: %1 · %2 tokens"), format_cny(month.cost), f"{month.tokens:,}"))
        if month.searches:
            lines[-1] += " · " + (self.tr("1 web search") if month.searches == 1
                                  else self.tr("%n web searches", "", month.searches))
        self.totals_label.setText("\n".join(lines))

    async def _run_turn(self, conversation_id: int, options: ChatOptions, again: int | None = None) -> None:
        self._set_busy(True)
        widget: MessageWidget | None = None
        try:
            client = self.session.client()
            worked_since = time.perf_counter()
            async for event in self.service.run_turn(client, conversation_id, options, again=again):
                # A fast stream delivers hundreds of events per socket read, and iterating them
                # never suspends: hand the loop back to Qt every few ms so the window stays smooth.
                if time.perf_counter() - worked_since > YIELD_AFTER_S:
                    await asyncio.sleep(0)
                    worked_since = time.perf_counter()
                if isinstance(event, ReplyStarted):
                    widget = (self.view.replace_message(again, event.message, streaming=True)
                              if again is not None else self.view.add_message(event.message, streaming=True))
                    self._streaming_widget = widget
                elif widget is None:
                    continue
                elif isinstance(event, ContentDelta):
                    widget.append_content(event.text)
                elif isinstance(event, ReasoningDelta):
                    widget.append_reasoning(event.text)
                elif isinstance(event, Usage):
                    widget.set_usage(event)
                elif isinstance(event, RetryWaiting):
                    widget.show_retry_wait(event.seconds, event.error)
                elif isinstance(event, SearchingNotes):
                    widget.show_searching()
                elif isinstance(event, NotesFound):
                    widget.status.setText(self.tr("Waiting for Qwen…"))
                elif isinstance(event, ContextPrepared):
                    widget.set_context(list(event.sources) if event.sources is not None else None,
                                       event.omitted_messages, event.omitted_sources, event.input_limit)
                elif isinstance(event, WebSourcesFound):
                    widget.set_web_sources(list(event.sources))
                elif isinstance(event, TurnEnded):
                    widget.finish(event.message, event.error, self.service.reply_cost(event.message))
                    if event.error is not None and event.error.kind is ErrorKind.SEARCH_UNSUPPORTED:
                        self._show_web_choice()  # off for this model now: Retry sends without
        except asyncio.CancelledError:
            if widget is not None:
                widget.mark_stopped()
            raise
        except Exception as exc:  # noqa: BLE001 - never a silent end: an error card with Retry
            log.error("chat turn failed", exc_info=exc)
            error = exc if isinstance(exc, QwenError) else translate_error(exc)
            if widget is not None and widget.streaming:
                message = widget.message
                message.content = widget.body.text()
                message.status = Status.CUT_OFF if message.content else Status.ERROR
                message.error_kind = error.kind.value
                message.error_detail = error.details()
                self.history.update_message(message)
                widget.finish(message, error)
            elif widget is None:
                self._show_detached_error(conversation_id, error, again)
            else:  # the reply had ended: the task runner reports it in the status bar
                raise
        finally:
            self._streaming_widget = None
            self._set_busy(False)
            if self.conversation_id == conversation_id:
                self.reload_conversations()
                self.update_totals()

    def _show_detached_error(self, conversation_id: int, error: QwenError, again: int | None) -> None:
        """An error before any request was made (no key, bad URL): store it like a failed reply —
        on the reply that was to be answered again, if any (its text, if it has some, is kept)."""
        reply = self.history.message(again) if again is not None else None
        if reply is None:
            reply = self.history.add_message(conversation_id, "assistant", "", status=Status.ERROR)
        elif reply.status is not Status.CUT_OFF:
            reply.status = Status.ERROR
        reply.error_kind = error.kind.value
        reply.error_detail = error.details()
        reply.request_id = error.request_id or ""
        self.history.update_message(reply)
        if again is not None:
            self.view.replace_message(again, reply)
        else:
            self.view.add_message(reply)
        if error.kind is ErrorKind.NO_KEY:
            self.settings_requested.emit()

    def streaming_widget(self) -> MessageWidget | None:
        return self._streaming_widget
