"""Estimated cost of replies in CNY, from a per-model price table the user can edit.

The table lives in ``prices.json`` in the data directory, written with the defaults below the
first time it is needed. Prices are CNY per million tokens: ``input``, ``output``, and
``thinking_output`` (what output costs when the model thought first; the output price when
absent). A model matches its own entry or, failing that, the longest entry it starts with
followed by "-" (``qwen-plus-latest`` uses ``qwen-plus``). Edits apply without a restart.
"""

from __future__ import annotations

import calendar
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from desktop.core import paths
from desktop.core.jsonfile import read_json, write_json
from desktop.core.client import Usage

log = logging.getLogger(__name__)

# Beijing list prices, CNY per million tokens (indicative; Alibaba changes them and tiers some by
# input length: the first tier is listed).
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "qwen-plus": {"input": 0.8, "output": 2.0, "thinking_output": 8.0},
    "qwen-flash": {"input": 0.15, "output": 1.5},
    "qwen-turbo": {"input": 0.3, "output": 0.6, "thinking_output": 3.0},
    "qwen-max": {"input": 2.4, "output": 9.6},
    "qwen3-max": {"input": 6.0, "output": 24.0},
    "qwen-long": {"input": 0.5, "output": 2.0},
    "qwq-plus": {"input": 1.6, "output": 4.0},
    "gte-rerank-v2": {"input": 0.8, "output": 0.0},  # reranking notes: tokens read, nothing written
}
# CNY per 1,000 web searches (indicative: agent strategies cost about this, plain ones less).
DEFAULT_SEARCH_PER_1000 = 4.0
# Models the app asks on the way to a reply: priced from the defaults when an older prices.json
# does not list them.
SERVICE_PRICES = ("gte-rerank-v2",)


@dataclass(frozen=True, slots=True)
class Price:
    input: float  # CNY per million tokens
    output: float
    thinking_output: float | None = None


def prices_file() -> Path:
    return paths.data_dir() / "prices.json"


class PriceTable:
    def __init__(self, path: Path | None = None, *, create: bool = True) -> None:
        self.path = path or prices_file()
        self._create = create
        self._mtime: float | None = None
        self._prices: dict[str, Price] = _parse(DEFAULT_PRICES)
        self._search_per_1000 = DEFAULT_SEARCH_PER_1000
        self._reload()

    def _reload(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            if self._create:
                self._write_defaults()
            return
        except OSError:
            return
        if mtime == self._mtime:
            return
        self._mtime = mtime
        try:
            raw = read_json(self.path)
            models = raw.get("models") if isinstance(raw, dict) else None
            if not isinstance(models, dict):
                raise ValueError("no 'models' object")
            self._prices = _parse(models)
            per_1000 = raw.get("web_search_per_1000") if isinstance(raw, dict) else None
            self._search_per_1000 = _number(per_1000, DEFAULT_SEARCH_PER_1000)
            for name in SERVICE_PRICES:
                self._prices.setdefault(name, _parse(DEFAULT_PRICES)[name])
        except (OSError, ValueError) as exc:
            log.warning("price table %s unreadable (%s); using the defaults", self.path, exc)
            self._prices = _parse(DEFAULT_PRICES)
            self._search_per_1000 = DEFAULT_SEARCH_PER_1000

    def _write_defaults(self) -> None:
        data = {
            "currency": "CNY",
            "unit": "per million tokens",
            "note": "Edit the prices to match your contract; thinking_output is the output price "
                    "when the model thinks first.",
            "models": DEFAULT_PRICES,
            "web_search_per_1000": DEFAULT_SEARCH_PER_1000,
        }
        try:
            write_json(self.path, data)
        except OSError as exc:  # the defaults in memory still price replies
            log.error("could not write %s: %s", self.path, exc)

    def price(self, model: str) -> Price | None:
        self._reload()
        if model in self._prices:
            return self._prices[model]
        matches = [name for name in self._prices if model.startswith(name + "-")]
        return self._prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, usage: Usage | None) -> float | None:
        """CNY for one reply, or None when the model has no price (or there is no usage)."""
        if usage is None:
            return None
        price = self.price(model)
        if price is None:
            return None
        output = price.output
        if usage.reasoning_tokens and price.thinking_output is not None:
            output = price.thinking_output
        tokens = (usage.prompt_tokens * price.input + usage.completion_tokens * output) / 1_000_000
        return tokens + usage.searches * self.search_price()

    def search_price(self) -> float:
        """CNY for one web search."""
        self._reload()
        return self._search_per_1000 / 1000


def _number(value: object, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if value is not None:
        log.warning("price table: ignoring web_search_per_1000=%r", value)
    return default


def _parse(models: Mapping[str, object]) -> dict[str, Price]:
    out: dict[str, Price] = {}
    for name, entry in models.items():
        if not isinstance(entry, dict):
            continue
        try:
            thinking = entry.get("thinking_output")
            out[str(name)] = Price(float(entry["input"]), float(entry["output"]),
                                   float(thinking) if thinking is not None else None)
        except (KeyError, TypeError, ValueError):
            log.warning("price table: ignoring the entry for %s", name)
    return out


@dataclass(frozen=True, slots=True)
class Totals:
    """Tokens and estimated cost of a set of replies."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    replies: int = 0
    unpriced: int = 0  # replies whose model has no price
    searches: int = 0  # web searches (their price is in the cost)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def totals(table: PriceTable, replies: Iterable[tuple[str, Usage | None]]) -> Totals:
    prompt = completion = count = unpriced = searches = 0
    cost = 0.0
    for model, usage in replies:
        if usage is None:
            continue
        count += 1
        prompt += usage.prompt_tokens
        completion += usage.completion_tokens
        searches += usage.searches
        one = table.cost(model, usage)
        if one is None:
            unpriced += 1
        else:
            cost += one
    return Totals(prompt, completion, cost, count, unpriced, searches)


def month_start(now: float | None = None) -> float:
    """The first moment of the current calendar month, local time."""
    t = time.localtime(now)
    return time.mktime((t.tm_year, t.tm_mon, 1, 0, 0, 0, 0, 0, -1))


def month_end(now: float | None = None) -> float:
    t = time.localtime(now)
    days = calendar.monthrange(t.tm_year, t.tm_mon)[1]
    return time.mktime((t.tm_year, t.tm_mon, days, 23, 59, 59, 0, 0, -1)) + 1


def format_cny(amount: float) -> str:
    """¥0.0012, ¥0.35, ¥12.40: enough digits to show small amounts."""
    if amount == 0:
        return "¥0"
    if amount < 0.01:
        return f"¥{amount:.4f}"
    if amount < 1:
        return f"¥{amount:.3f}"
    return f"¥{amount:,.2f}"
