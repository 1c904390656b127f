"""Typed user settings, kept as versioned JSON in the data directory, written atomically.

Window geometry and other UI state are not settings: the window keeps them in QSettings.
The API key and the proxy password are never settings (see :mod:`desktop.core.secrets`).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core import paths
from desktop.core.jsonfile import read_json, write_json
from desktop.core.models import DEFAULT_MODEL
from desktop.core.recovery import DataFile, Recovery, set_aside
from desktop.core.regions import Region

SCHEMA_VERSION = 1
log = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = (
    "You are Qwen, a helpful assistant. Answer in the language of the user's question. "
    "Use Markdown where it helps."
)
# The same default for a window shown in Chinese. Only the untouched English default is replaced by
# it (see system_prompt_for); a prompt the user wrote is sent as written.
DEFAULT_SYSTEM_PROMPT_ZH = "你是通义千问，一个乐于助人的助手。请用用户提问所用的语言回答，需要时使用 Markdown。"


def system_prompt_for(prompt: str, *, chinese: bool) -> str:
    """The system prompt to send: the Chinese default when the app speaks Chinese and the stored
    prompt is still the English default; otherwise the stored prompt, unchanged."""
    if chinese and prompt.strip() == DEFAULT_SYSTEM_PROMPT:
        return DEFAULT_SYSTEM_PROMPT_ZH
    return prompt


@dataclass(slots=True)
class Settings:
    version: int = SCHEMA_VERSION
    region: str = Region.BEIJING.value
    custom_base_url: str = ""
    model: str = DEFAULT_MODEL
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    temperature: float = 0.7
    thinking: bool = False  # the "Deep thinking" default for new conversations
    web_search: bool = False  # the "Web search" default for new conversations
    language: str = "system"  # "system", "en" or "zh_CN"
    theme: str = "system"  # "system", "light" or "dark"
    proxy_mode: str = "system"  # "system" (env + OS), "none", or "manual"
    # For manual: http://[user@]host:port or socks5://host:port. Never the password: that is in the
    # keyring (desktop.core.proxy_password); an older file that has one is moved out at start.
    proxy_url: str = ""
    # Notes search
    notes_folders: list[str] = field(default_factory=list)
    embedding_model: str = "text-embedding-v4"
    embedding_dimensions: int = 1024
    max_file_size_mb: float = 20.0
    batch_threshold_chunks: int = 5000
    confirm_cost_cny: float = 1.0  # an index run estimated above this asks first, however few parts
    rerank_notes: bool = True  # ask-your-notes (and "Best match first") reorder hits with a rerank model
    rerank_model: str = "gte-rerank-v2"  # or "qwen3-rerank"
    ocr_notes: bool = False  # "Read scanned documents and photos": qwen-vl-ocr, counted and priced first

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _coerce(raw: dict[str, Any]) -> Settings:
    """Build settings from stored JSON, ignoring unknown keys and wrong types (keep the default)."""
    defaults = Settings()
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        if f.name not in raw:
            continue
        value = raw[f.name]
        default = getattr(defaults, f.name)
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, list):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, str)
        if ok:
            values[f.name] = value
        else:
            log.warning("settings: ignoring %s of wrong type", f.name)
    values["version"] = SCHEMA_VERSION
    return Settings(**values)


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    # Version 1 is the first; later versions add steps here (raw["version"] < N: transform).
    return raw


def last_good_file(path: Path) -> Path:
    """The copy of the settings last written by the app: what a damaged file is recovered from."""
    return path.with_name(path.stem + ".last-good" + path.suffix)


def _read(path: Path) -> Settings:
    """The settings in ``path``; raises FileNotFoundError, OSError or ValueError (not JSON, or
    JSON that is not an object)."""
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise ValueError(f"the settings are a JSON {type(raw).__name__}, not an object")
    return _coerce(_migrate(raw))


def load_with_recovery(path: Path | None = None) -> tuple[Settings, Recovery | None]:
    """The settings, and what was done when the file was damaged.

    A damaged file is moved aside (never deleted or overwritten) and the last good copy the app
    wrote is used instead; only when there is none either do the settings start from defaults."""
    path = path or paths.settings_file()
    try:
        return _read(path), None
    except FileNotFoundError:
        return Settings(), None
    except (OSError, ValueError) as exc:
        reason = str(exc)
        log.error("settings file unreadable (%s)", reason)
    kept_at = set_aside(path)
    backup = last_good_file(path)
    try:
        settings = _read(backup)
    except (OSError, ValueError) as exc:
        log.error("no usable last good settings (%s); starting from defaults", exc)
        return Settings(), Recovery(DataFile.SETTINGS, kept_at, None, reason)
    log.warning("settings restored from %s", backup)
    return settings, Recovery(DataFile.SETTINGS, kept_at, backup, reason)


def load(path: Path | None = None) -> Settings:
    return load_with_recovery(path)[0]


def save(settings: Settings, path: Path | None = None) -> None:
    """Write atomically (:func:`desktop.core.jsonfile.write_json`): a crash mid-write leaves the
    previous file intact. Raises OSError when the file cannot be written."""
    path = path or paths.settings_file()
    data = dataclasses.asdict(settings)
    write_json(path, data)
    write_json(last_good_file(path), data)
