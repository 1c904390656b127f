"""Choosing the model in the chat bar, each one said in plain words.

The list holds the usual Qwen chat models and the one chosen in Settings (which may be any id the
service lists). Closed, the box shows the model's id; open, each row says what the model is good at,
whether it thinks before answering, and its price per million tokens from ``prices.json`` (so an
edited price shows at once). Choosing one makes it the model for the next reply and the default, as
choosing it in Settings does.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop.core.models import DEFAULT_CHAT_MODELS, Thinking, thinking_mode
from desktop.core.pricing import Price, PriceTable
from desktop.gui.common.plain import plain_tooltip

DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 1


def _amount(cny: float) -> str:
    return f"¥{cny:.2f}".rstrip("0").rstrip(".") if cny < 100 else f"¥{cny:,.0f}"


class _DescribedRows(QStyledItemDelegate):
    """In the open list, a row shows the model's description rather than its bare id."""

    def initStyleOption(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt override
                        index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        described = index.data(DESCRIPTION_ROLE)
        if described:
            option.text = str(described)  # type: ignore[attr-defined]


class ModelPicker(QComboBox):
    chosen = Signal(str)  # the user picked a model (not emitted when the list is refilled)

    def __init__(self, prices: PriceTable, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prices = prices
        self.setObjectName("modelPicker")
        self.setAccessibleName(self.tr("Model"))
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setItemDelegate(_DescribedRows(self))
        self._extra: list[str] = []
        self.activated.connect(self._on_activated)

    # -- what a model is -------------------------------------------------------------------

    def purpose(self, model: str) -> str:
        """What the model is good at, in a few words ("" for a model we know nothing about)."""
        family = model.removesuffix("-latest")
        purposes = {
            "qwen-plus": self.tr("Balanced quality and price, for most work"),
            "qwen-max": self.tr("Strong on complex tasks; slower and dearer"),
            "qwen3-max": self.tr("The most capable; the highest price"),
            "qwen-flash": self.tr("Fastest and cheapest, for simple tasks"),
            "qwen-turbo": self.tr("Fast and cheap (older; Flash replaces it)"),
            "qwq-plus": self.tr("Reasons step by step: maths, logic, code"),
            "qwen-long": self.tr("For very long documents"),
        }
        return purposes.get(family, "")

    def thinking_words(self, model: str) -> str:
        mode = thinking_mode(model)
        if mode is Thinking.ONLY:
            return self.tr("always thinks first")
        if mode is Thinking.NONE:
            return self.tr("answers without deep thinking")
        return self.tr("can think first (Deep thinking)")

    def price_words(self, model: str) -> str:
        price: Price | None = self.prices.price(model)
        if price is None:
            return self.tr("no price in prices.json")
        words = self.tr("%1 in, %2 out per million tokens").replace("%1", _amount(price.input)).replace(
            "%2", _amount(price.output))
        if price.thinking_output is not None and price.thinking_output != price.output:
            words += self.tr(" (%1 out when thinking)").replace("%1", _amount(price.thinking_output))
        return words

    def describe(self, model: str) -> str:
        """One line: id — purpose · thinking · price."""
        parts = [p for p in (self.purpose(model), self.thinking_words(model), self.price_words(model)) if p]
        return f"{model} — " + " · ".join(parts)

    # -- the list --------------------------------------------------------------------------

    def show_model(self, model: str, extra: list[str] | None = None) -> None:
        """List the usual models (and ``model``, and ``extra``), ``model`` selected."""
        if extra is not None:
            self._extra = list(extra)
        models = list(DEFAULT_CHAT_MODELS)
        for other in [*self._extra, model]:
            if other and other not in models:
                models.append(other)
        self.blockSignals(True)
        self.clear()
        for name in models:
            self.addItem(name)
            self.setItemData(self.count() - 1, self.describe(name), DESCRIPTION_ROLE)
            self.setItemData(self.count() - 1, plain_tooltip(self.describe(name)), Qt.ItemDataRole.ToolTipRole)
        self.setCurrentIndex(models.index(model) if model in models else 0)
        self.blockSignals(False)
        self.setToolTip(plain_tooltip(self.describe(self.current_model()) + "\n"
                                      + self.tr("More models: Settings → Model → Refresh list")))
        self.view().setMinimumWidth(max(self.view().sizeHintForColumn(0) + 24, self.width()))

    def showPopup(self) -> None:  # noqa: N802 - Qt override
        self.show_model(self.current_model())  # prices.json may have been edited since
        super().showPopup()

    def current_model(self) -> str:
        return self.currentText()

    def _on_activated(self, index: int) -> None:
        model = self.itemText(index)
        self.setToolTip(plain_tooltip(self.describe(model)))
        self.chosen.emit(model)
