"""The "Test connection" check: can we reach the service with this key, and if not, why."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.regions import REGIONS, Region


@dataclass(frozen=True, slots=True)
class ConnectionReport:
    ok: bool
    models: tuple[str, ...] = ()
    error: QwenError | None = None
    key_region: Region | None = None  # on 401: the region where this key does work, if any


def default_region_urls() -> dict[Region, str]:
    return {region: info.base_url for region, info in REGIONS.items()}


async def check_connection(
    config: ConnectionConfig, *, other_regions: Mapping[Region, str] | None = None
) -> ConnectionReport:
    """List the models with ``config``; on a rejected key, try ``other_regions`` with the same key.

    Pass ``other_regions`` only when the user picked a region (not a custom URL or environment
    override), so a custom endpoint's key is never sent to Alibaba's other regions.
    """
    try:
        async with QwenClient(config) as client:
            models = await client.list_models()
        return ConnectionReport(ok=True, models=tuple(models))
    except QwenError as error:
        if error.kind is not ErrorKind.AUTH or not other_regions:
            return ConnectionReport(ok=False, error=error)
        for region, url in other_regions.items():
            if url.rstrip("/") == config.base_url.rstrip("/"):
                continue
            try:
                async with QwenClient(dataclasses.replace(config, base_url=url)) as client:
                    await client.list_models()
            except QwenError:
                continue
            return ConnectionReport(ok=False, error=error, key_region=region)
        return ConnectionReport(ok=False, error=error)
