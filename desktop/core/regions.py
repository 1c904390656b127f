"""DashScope regions and base-URL handling."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum

from desktop.core.i18n import QT_TRANSLATE_NOOP

ENV_BASE_URL = "DASHSCOPE_BASE_URL"


class Region(StrEnum):
    BEIJING = "beijing"
    SINGAPORE = "singapore"
    US = "us"
    HONG_KONG = "hongkong"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class RegionInfo:
    region: Region
    label: str  # English source text, translated by the window (context "Regions")
    base_url: str


REGIONS: dict[Region, RegionInfo] = {
    r.region: r
    for r in (
        RegionInfo(Region.BEIJING, QT_TRANSLATE_NOOP("Regions", "China (Beijing)"),
                   "https://dashscope.aliyuncs.com/compatible-mode/v1"),
        RegionInfo(Region.SINGAPORE, QT_TRANSLATE_NOOP("Regions", "Singapore (International)"),
                   "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
        RegionInfo(Region.US, QT_TRANSLATE_NOOP("Regions", "US (Virginia)"),
                   "https://dashscope-us.aliyuncs.com/compatible-mode/v1"),
        RegionInfo(Region.HONG_KONG, QT_TRANSLATE_NOOP("Regions", "China (Hong Kong)"),
                   "https://cn-hongkong.dashscope.aliyuncs.com/compatible-mode/v1"),
    )
}
CUSTOM_LABEL = QT_TRANSLATE_NOOP("Regions", "Custom URL")

_TRAILING = re.compile(r"(/chat/completions|/embeddings|/models)?/*$")


def normalise_base_url(url: str) -> str:
    """Accept what users paste: trailing ``/``, ``/chat/completions``, a bare host.

    ``https://dashscope.aliyuncs.com/`` and ``…/compatible-mode/v1/chat/completions`` both become
    ``…/compatible-mode/v1``; a URL that already names a path other than the known endpoints is kept.
    """
    url = url.strip()
    if not url:
        return url
    if "://" not in url:
        url = "https://" + url
    url = _TRAILING.sub("", url)
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if not path and host.endswith(("aliyuncs.com", "aliyuncs.com:443")):
        return f"{scheme}://{host}/compatible-mode/v1"
    if path.rstrip("/") in {"api/v1"}:  # the native API path gives 404 to the OpenAI client
        return f"{scheme}://{host}/compatible-mode/v1"
    return f"{scheme}://{host}{slash}{path}"


def resolve_base_url(region: Region | str, custom_url: str = "") -> tuple[str, str]:
    """The base URL to use and where it came from: ``"environment"``, ``"custom"`` or ``"region"``."""
    env = os.environ.get(ENV_BASE_URL, "").strip()
    if env:
        return normalise_base_url(env), "environment"
    region = Region(region)
    if region is Region.CUSTOM:
        return normalise_base_url(custom_url), "custom"
    return REGIONS[region].base_url, "region"
