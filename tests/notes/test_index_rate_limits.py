"""An index run goes on through a per-minute rate limit, at the pace the service accepts.

The loopback server's limit is scaled to a one-second window and the app's own policy by 1/60,
so a minute of the real service is a second here.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from desktop.core.client import QwenClient
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.notes.index_records import IndexProgress, Phase
from desktop.core.retry import RetryPolicy
from tests.notes.test_index import many_notes, stored_vectors
from tests.support.dashscope_server import DashScopeServer, EmbeddingReply

MINUTE_IS_A_SECOND = RetryPolicy(scale=1 / 60)


@pytest.fixture
def limited(srv: DashScopeServer) -> DashScopeServer:
    srv.rate_window_seconds = 1.0
    srv.rate_limit_per_minute = 10
    return srv


async def test_an_index_completes_in_one_run_through_a_rate_limit(
    limited: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any
) -> None:
    many_notes(notes_dir, 300)  # 300 chunks: 30 requests of 10, three windows' worth
    seen: list[IndexProgress] = []
    indexer = await open_indexer(client, retry=MINUTE_IS_A_SECOND, concurrency=4)
    report = await asyncio.wait_for(indexer.run([str(notes_dir)], seen.append), timeout=90)

    assert report.chunks_embedded == 300 and report.chunks_failed == 0
    assert stored_vectors(indexer.store.path) == 300
    assert limited.rate_limited("/embeddings") > 0  # the limit was really hit
    waiting = [p for p in seen if p.retry_in is not None]
    assert waiting and {p.retry_reason for p in waiting} == {ErrorKind.RATE_LIMITED}
    assert seen[-1].phase is Phase.DONE and seen[-1].chunks_embedded == 300
    assert seen[-1].retry_in is None


async def test_the_old_policy_stops_the_same_run(
    limited: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any
) -> None:
    many_notes(notes_dir, 300)
    indexer = await open_indexer(client, retry=RetryPolicy(scale=1 / 60, paced=False), concurrency=4)
    with pytest.raises(QwenError) as stopped:
        await asyncio.wait_for(indexer.run([str(notes_dir)]), timeout=90)
    assert stopped.value.kind is ErrorKind.RATE_LIMITED
    assert stored_vectors(indexer.store.path) < 300


@pytest.mark.parametrize(("reply", "kind"), [
    (EmbeddingReply.error(400, "Arrearage"), ErrorKind.ARREARAGE),
    (EmbeddingReply.error(401, "invalid_api_key"), ErrorKind.AUTH),
    (EmbeddingReply.error(404, "model_not_found", "The model `x` does not exist"), ErrorKind.MODEL_NOT_FOUND),
])
async def test_an_error_that_will_not_clear_stops_the_run_at_once(
    limited: DashScopeServer, client: QwenClient, notes_dir: Path, open_indexer: Any,
    reply: EmbeddingReply, kind: ErrorKind,
) -> None:
    many_notes(notes_dir, 300)
    limited.script_embeddings(*[EmbeddingReply()] * 12, reply)  # through the rate limit, then this
    indexer = await open_indexer(client, retry=RetryPolicy(), concurrency=4)  # 10 minutes' patience
    started = time.monotonic()
    with pytest.raises(QwenError) as stopped:
        await asyncio.wait_for(indexer.run([str(notes_dir)]), timeout=90)
    assert stopped.value.kind is kind
    assert limited.rate_limited("/embeddings") > 0  # it came while the run was being paced
    assert time.monotonic() - started < 30  # not after the rate budget (600 s)
