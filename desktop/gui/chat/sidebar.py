"""The Chat tab's side: New chat, the conversation search, the list of conversations and the totals;
and the bar above the open conversation with its title and Rename / Export / Delete in plain sight.

Keyboard: Down or Enter in the search box goes into the list; the arrows move through it (opening each
conversation); Enter goes on to the message box; F2 renames; Delete asks, then deletes. The right-click
menu offers the same as the bar. The texts keep the Chat tab's translation context.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPainter, QPaintEvent, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.history import HistoryStore
from desktop.core.i18n import fill
from desktop.gui.chat.exporting import choose_export_file, export_conversation
from desktop.gui.common.confirm import confirm
from desktop.gui.common.plain import plain_label, plain_tooltip, search_field

ID_ROLE = Qt.ItemDataRole.UserRole


def export_menu(parent: QWidget, export: object) -> QMenu:
    """Markdown or Word: ``export(fmt)`` is called with "md" or "docx"."""
    menu = QMenu(parent)
    markdown = QCoreApplication.translate("ConversationBar", "Export as Markdown…")
    word = QCoreApplication.translate("ConversationBar", "Export as Word document…")
    menu.addAction(markdown).triggered.connect(lambda: export("md"))  # type: ignore[operator]
    menu.addAction(word).triggered.connect(lambda: export("docx"))  # type: ignore[operator]
    return menu


def _shortcut(key: QKeySequence | QKeySequence.StandardKey | Qt.Key, widget: QWidget) -> QShortcut:
    shortcut = QShortcut(QKeySequence(key), widget)
    shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
    return shortcut


class ConversationSidebar(QWidget):
    new_requested = Signal()
    open_requested = Signal(int)  # a conversation chosen in the list
    delete_confirmed = Signal(int)  # the user said yes to deleting it
    chosen = Signal()  # Enter in the list: on to the message box
    renamed = Signal(int)

    def __init__(self, history: HistoryStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self._current: int | None = None
        self.new_button = QPushButton(self.tr("New chat"), self)
        self.new_button.setToolTip(self.tr("Start a new conversation (Ctrl+N)"))
        self.filter_box = search_field(self, "conversationSearch", self.tr("Search conversations…"))
        self.filter_box.setToolTip(self.tr("Search titles and messages (Ctrl+F)"))
        self.list = QListWidget(self)
        self.list.setObjectName("conversationList")
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setUniformItemSizes(True)
        self.totals_label = plain_label(self, "costTotals")
        self.totals_label.setToolTip(self.tr("Estimated from the token counts and the price table "
                                         "(prices.json in the data folder)"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.new_button)
        layout.addWidget(self.filter_box)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.totals_label)
        QWidget.setTabOrder(self.new_button, self.filter_box)
        QWidget.setTabOrder(self.filter_box, self.list)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(200)
        # Delete on the list (not while a title is being renamed: that editor has the focus).
        self.delete_shortcut = _shortcut(QKeySequence.StandardKey.Delete, self.list)
        self.into_list_shortcut = _shortcut(Qt.Key.Key_Down, self.filter_box)
        self.enter_shortcuts = [_shortcut(key, self.list) for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)]
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.new_button.clicked.connect(self.new_requested)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.customContextMenuRequested.connect(self._on_menu_requested)
        self.delete_shortcut.activated.connect(self._on_delete_key)
        self.into_list_shortcut.activated.connect(self.focus_list)
        self.filter_box.returnPressed.connect(self.focus_list)
        for shortcut in self.enter_shortcuts:
            shortcut.activated.connect(self.chosen)
        self.filter_box.textChanged.connect(lambda _text: self._filter_timer.start())
        self._filter_timer.timeout.connect(lambda: self.reload(self._current))

    # -- the list --------------------------------------------------------------------------

    def reload(self, current: int | None) -> None:
        """List the conversations (those matching the search, if any), ``current`` selected."""
        self._filter_timer.stop()
        self._current = current
        query = self.filter_box.text().strip()
        conversations = self.history.search_conversations(query) if query else self.history.conversations()
        self.list.blockSignals(True)
        self.list.clear()
        for conv in conversations:
            item = QListWidgetItem(conv.title or self.tr("New conversation"))
            item.setData(ID_ROLE, conv.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
            if conv.id == current:
                self.list.setCurrentItem(item)
        if current is None:
            self.list.setCurrentRow(-1)
        self.list.blockSignals(False)

    def item_of(self, conversation_id: int) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(ID_ROLE) == conversation_id:
                return item
        return None

    def focus_search(self) -> None:
        self.filter_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_box.selectAll()

    def focus_list(self) -> None:
        """Into the list, on the open conversation (else the first one)."""
        if self.list.count() == 0:
            return
        if self.list.currentItem() is None:
            self.list.setCurrentRow(0)  # opens it, as an arrow key would
        self.list.setFocus(Qt.FocusReason.TabFocusReason)

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None and int(current.data(ID_ROLE)) != self._current:
            self.open_requested.emit(int(current.data(ID_ROLE)))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        title = item.text().strip()
        if title:
            self.history.rename(int(item.data(ID_ROLE)), title)
            self.renamed.emit(int(item.data(ID_ROLE)))

    def _on_delete_key(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.confirm_delete(int(item.data(ID_ROLE)))

    def _on_menu_requested(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        conversation_id = int(item.data(ID_ROLE))
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.tr("Rename")).triggered.connect(lambda: self.rename(conversation_id))
        menu.addAction(self.tr("Export as Markdown…")).triggered.connect(
            lambda: self.choose_export_file(conversation_id, "md"))
        menu.addAction(self.tr("Export as Word document…")).triggered.connect(
            lambda: self.choose_export_file(conversation_id, "docx"))
        menu.addSeparator()
        menu.addAction(self.tr("Delete")).triggered.connect(lambda: self.confirm_delete(conversation_id))
        menu.popup(self.list.viewport().mapToGlobal(pos))

    # -- what can be done with a conversation ----------------------------------------------

    def rename(self, conversation_id: int) -> None:
        """Edit the title in place in the list (Enter keeps it, Esc leaves it as it was)."""
        if self.filter_box.text() and self.item_of(conversation_id) is None:
            self.filter_box.clear()
            self.reload(self._current)
        item = self.item_of(conversation_id)
        if item is not None:
            self.list.scrollToItem(item)
            self.list.setFocus()
            self.list.editItem(item)

    def confirm_delete(self, conversation_id: int) -> QMessageBox:
        """Ask before deleting (the bar, the menu and the Delete key alike)."""
        conversation = self.history.conversation(conversation_id)
        title = (conversation.title if conversation else "") or self.tr("New conversation")
        return confirm(self, self.tr("Delete conversation"),
                       fill(self.tr("Delete the conversation “%1”? This cannot be undone."), title),
                       self.tr("Delete"), lambda: self.delete_confirmed.emit(conversation_id))

    def choose_export_file(self, conversation_id: int, fmt: str) -> QFileDialog:
        return choose_export_file(self, self.history, conversation_id, fmt)

    def export_conversation(self, conversation_id: int, path: Path, fmt: str) -> None:
        export_conversation(self, self.history, conversation_id, path, fmt)


class ConversationBar(QWidget):
    """Above the open conversation: its title, and Rename, Export and Delete where a user looks."""

    rename_requested = Signal()
    export_requested = Signal(str)  # "md" or "docx"
    delete_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversationBar")
        self.title = _ElidedTitle(self)
        self.title.setObjectName("conversationTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.rename_button = QPushButton(self.tr("Rename"), self)
        self.rename_button.setToolTip(self.tr("Rename this conversation (F2 in the list)"))
        self.export_button = QToolButton(self)
        self.export_button.setText(self.tr("Export"))
        self.export_button.setToolTip(self.tr("Save this conversation as Markdown or as a Word document"))
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.export_button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # tool buttons skip Tab by default
        self.export_button.setMenu(export_menu(self, self.export_requested.emit))
        self.delete_button = QPushButton(self.tr("Delete"), self)
        self.delete_button.setToolTip(self.tr("Delete this conversation (Delete in the list)"))
        for button in (self.rename_button, self.delete_button):
            button.setAutoDefault(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title, 1)
        layout.addWidget(self.rename_button)
        layout.addWidget(self.export_button)
        layout.addWidget(self.delete_button)
        self.rename_button.clicked.connect(self.rename_requested)
        self.delete_button.clicked.connect(self.delete_requested)
        self.show_title(None)

    def show_title(self, title: str | None) -> None:
        """The open conversation's title; None hides the bar (a new chat has nothing to act on)."""
        self.setVisible(title is not None)
        self.title.setText(title or "")
        self.title.setToolTip(plain_tooltip(title or ""))


class _ElidedTitle(QLabel):
    """A one-line title that ends in "…" when the room is short (the tooltip has all of it)."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(40, super().minimumSizeHint().height())

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)
