"""How much a model accepts: its context window, and what the service taught us about it.

The table in :mod:`desktop.core.models` is indicative. When the service answers "Range of input
length should be [1, N]", N is the real input limit: it is remembered per model (in
``model_limits.json`` in the data directory) and used from then on. The service's own token
counts (``usage.prompt_tokens``) calibrate our estimate per model, so trimming aims right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from desktop.core import paths
from desktop.core.jsonfile import read_json, write_json
from desktop.core.models import answer_room, context_window

log = logging.getLogger(__name__)

SAFETY = 0.95  # aim a little under a limit the service named: our counts are estimates
MIN_RATIO, MAX_RATIO = 0.5, 4.0


@dataclass(slots=True)
class ModelLimit:
    input_limit: int | None = None  # learned from the service's length error
    token_ratio: float = 1.0  # service tokens per estimated token
    observed: bool = False  # whether the ratio came from real usage counts


def limits_file() -> Path:
    return paths.data_dir() / "model_limits.json"


class ModelLimits:
    """Per-model input limits and token-count calibration, saved as JSON when they change."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or limits_file()
        self._models: dict[str, ModelLimit] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = read_json(self.path)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return
        models = raw.get("models", {}) if isinstance(raw, dict) else {}
        for model, entry in models.items():
            if not isinstance(entry, dict):
                continue
            limit = entry.get("input_limit")
            ratio = entry.get("token_ratio", 1.0)
            self._models[str(model)] = ModelLimit(
                input_limit=int(limit) if isinstance(limit, int) and limit > 0 else None,
                token_ratio=_clamp(float(ratio)) if isinstance(ratio, (int, float)) else 1.0,
                observed=bool(entry.get("observed", False)),
            )

    def _save(self) -> None:
        data = {"models": {m: {"input_limit": e.input_limit, "token_ratio": round(e.token_ratio, 4),
                               "observed": e.observed} for m, e in sorted(self._models.items())}}
        try:
            write_json(self.path, data)
        except OSError as exc:  # a cache: the next lesson is saved again
            log.error("could not save %s: %s", self.path, exc)

    def get(self, model: str) -> ModelLimit:
        return self._models.get(model) or ModelLimit()

    def learned_limit(self, model: str) -> int | None:
        return self.get(model).input_limit

    def ratio(self, model: str) -> float:
        return self.get(model).token_ratio

    def input_budget(self, model: str) -> int:
        """Tokens (in the service's counting) a request to ``model`` may use, answer room kept."""
        budget = context_window(model) - answer_room(model)
        learned = self.learned_limit(model)
        if learned is not None:
            budget = min(budget, int(learned * SAFETY))
        return max(1, budget)

    def count(self, model: str, estimated: int) -> int:
        """An estimate in the service's counting."""
        return round(estimated * self.ratio(model))

    def learn_limit(self, model: str, limit: int, estimated: int) -> None:
        """The service rejected a request of ``estimated`` (raw) tokens: its limit is ``limit``.

        If our calibrated count thought the request fitted, our counts run low for this model:
        raise the ratio so that the next attempt aims under the limit.
        """
        entry = self._models.setdefault(model, ModelLimit())
        entry.input_limit = limit
        if estimated > 0 and estimated * entry.token_ratio <= limit:
            entry.token_ratio = _clamp(max(entry.token_ratio * 1.25, limit / estimated * 1.1))
        self._save()

    def observe(self, model: str, estimated: int, prompt_tokens: int) -> None:
        """The service counted ``prompt_tokens`` for a request we estimated at ``estimated``."""
        if estimated < 50 or prompt_tokens <= 0:
            return  # too small to say anything about the ratio
        measured = _clamp(prompt_tokens / estimated)
        entry = self._models.setdefault(model, ModelLimit())
        new = measured if not entry.observed else (entry.token_ratio + measured) / 2
        changed = not entry.observed or abs(new - entry.token_ratio) > 0.05 * entry.token_ratio
        entry.token_ratio = new
        entry.observed = True
        if changed:
            self._save()


def _clamp(ratio: float) -> float:
    return min(MAX_RATIO, max(MIN_RATIO, ratio))
