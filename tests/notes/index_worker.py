"""Runs one index pass in a separate process, for the crash test (it is killed with SIGKILL).

    python -m tests.notes.index_worker DB_PATH NOTES_DIR BASE_URL
"""

from __future__ import annotations

import asyncio
import sys

from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.notes.index import Indexer
from desktop.core.notes.index_records import IndexConfig
from tests.support.dashscope_server import TEST_KEY


async def main(db_path: str, notes_dir: str, base_url: str) -> None:
    client = QwenClient(ConnectionConfig(base_url=base_url, api_key=TEST_KEY, proxy_mode="none"))
    indexer = await Indexer.open(db_path, IndexConfig(dimensions=64, concurrency=2), client)
    try:
        await indexer.run([notes_dir])
    finally:
        await indexer.close()
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
