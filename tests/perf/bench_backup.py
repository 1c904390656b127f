"""Benchmark: back up and restore a history of 1,000 conversations of 20 messages.

Fills a fresh data folder (temporary) with the conversations — questions of one to three sentences,
answers of a few hundred to a few thousand characters of mixed English and Chinese Markdown drawn
at random (seeded) from a vocabulary, so that they compress like real text rather than like one
paragraph repeated — then prints the history database's size, the backup's size, and the time to
create a backup, list the backups and restore one (the checks, the backup of the current state
and the replacement included). Not a test: run it by hand,

    .venv/bin/python tests/perf/bench_backup.py [--conversations 1000] [--messages 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

_EN = ("the report data quarter budget team meeting customer project deadline review summary "
       "office supplier contract invoice policy schedule training update risk result analysis "
       "please check confirm send attach draft final version table chart number total average "
       "because however therefore also only more less before after during within across").split()
_ZH = list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下"
           "过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体"
           "制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数")


def _sentence(rng: random.Random) -> str:
    if rng.random() < 0.5:
        words = rng.choices(_EN, k=rng.randint(6, 18))
        return " ".join(words).capitalize() + "."
    return "".join(rng.choices(_ZH, k=rng.randint(10, 40))) + "。"


def _answer(rng: random.Random) -> str:
    parts = [f"## {_sentence(rng)[:30]}\n"]
    while sum(map(len, parts)) < rng.choice((300, 800, 1500, 3000)):
        kind = rng.random()
        if kind < 0.6:
            parts.append(" ".join(_sentence(rng) for _ in range(rng.randint(2, 5))) + "\n")
        elif kind < 0.8:
            parts.append("".join(f"- {_sentence(rng)}\n" for _ in range(rng.randint(2, 5))))
        elif kind < 0.9:
            parts.append(f"```python\nresult = {rng.randint(1, 999)} * {rng.random():.4f}\nprint(result)\n```\n")
        else:
            parts.append("| a | b |\n|---|---|\n" + "".join(
                f"| {rng.randint(0, 9999)} | {rng.choice(_EN)} |\n" for _ in range(rng.randint(2, 6))))
    return "\n".join(parts)


def fill(conversations: int, messages: int) -> None:
    import json
    import sqlite3

    from desktop.core import paths
    from desktop.core.history import HistoryStore

    HistoryStore(paths.history_db()).close()  # the schema of this version
    rng = random.Random(15)
    db = sqlite3.connect(paths.history_db())
    now = time.time() - conversations * 600
    with db:
        for c in range(conversations):
            start = now + c * 600
            cur = db.execute("INSERT INTO conversations(title, created, updated) VALUES (?, ?, ?)",
                             (_sentence(rng)[:40], start, start + messages * 20))
            cid = cur.lastrowid
            rows = []
            for m in range(messages):
                if m % 2 == 0:
                    rows.append((cid, "user", " ".join(_sentence(rng) for _ in range(rng.randint(1, 3))),
                                 "", None, start + m * 20))
                else:
                    usage = json.dumps({"prompt_tokens": rng.randint(100, 5000), "completion_tokens":
                                        rng.randint(50, 2000), "reasoning_tokens": 0, "cached_tokens": 0})
                    rows.append((cid, "assistant", _answer(rng), "qwen-plus", usage, start + m * 20))
            db.executemany("INSERT INTO messages(conversation_id, role, content, model, usage, created) "
                           "VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.close()


class _Holder:
    def __init__(self) -> None:
        from desktop.core.settings import Settings

        self.settings = Settings()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["QWEN_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="qwen-bench-backup-")

    from desktop.core import paths
    from desktop.core.backup.service import BackupService

    t0 = time.perf_counter()
    fill(args.conversations, args.messages)
    filled = time.perf_counter() - t0
    service = BackupService(paths.data_dir(), lambda: ["sk-bench0000000000000000"])
    db_size = paths.history_db().stat().st_size
    print(f"history: {args.conversations:,} conversations x {args.messages} messages, "
          f"{db_size / 1e6:.1f} MB database (filled in {filled:.1f} s)")

    create_times, sizes = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        info = service.create()
        create_times.append(time.perf_counter() - t0)
        sizes.append(info.size)
    print(f"backup create: median {statistics.median(create_times) * 1000:.0f} ms "
          f"(runs: {', '.join(f'{t * 1000:.0f}' for t in create_times)} ms); "
          f"size {sizes[-1] / 1e6:.2f} MB ({sizes[-1] / db_size:.0%} of the database)")
    t0 = time.perf_counter()
    listed = service.backups()
    print(f"backup list: {len(listed)} backups in {(time.perf_counter() - t0) * 1000:.0f} ms")

    t0 = time.perf_counter()
    restored = asyncio.run(service.restore(info.path, holder=_Holder()))
    print(f"backup restore (checks, backup of the current state, replace): "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms, {restored.plan.info.manifest.conversations:,} "
          f"conversations back")


if __name__ == "__main__":
    main()
