"""A small mixed Chinese/English notes folder, indexed for real against the loopback server."""

from __future__ import annotations

from pathlib import Path

from desktop.core.notes.index import Indexer
from desktop.core.notes.index_records import IndexConfig

MIXED_NOTES: dict[str, str] = {
    "travel.md": "# 差旅报销制度\n\n出差期间的交通和住宿费用可以报销，需要在十五天内提交发票。"
                 "住宿标准为每晚不超过五百元。\n",
    "it/vpn.md": "# VPN setup\n\nTo connect to the office VPN, install the client and sign in with your "
                 "staff account. The VPN password expires every 90 days; reset it on the staff portal.\n",
    "meeting.md": "# 周会纪要\n\n本周讨论了新项目的排期。销售部门汇报了季度数字。\n",
    "errors.md": "# Error E-4012\n\nThe approval service returns E-4012 when the workflow has no "
                 "approver. Add an approver in the workflow settings.\n",
    "printer.md": "# Printer on floor 3\n\nThe printer near the kitchen needs toner every month. Ask the "
                  "front desk for new cartridges.\n",
}


def write_notes(folder: Path, notes: dict[str, str] = MIXED_NOTES) -> dict[str, Path]:
    paths = {}
    for name, text in notes.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths


async def index_notes(folder: Path, db_path: Path, embedder: object) -> None:
    indexer = await Indexer.open(db_path, IndexConfig(dimensions=256), embedder)  # type: ignore[arg-type]
    try:
        await indexer.run([str(folder)])
    finally:
        await indexer.close()
