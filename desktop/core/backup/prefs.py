"""Where backups go and what they hold: this computer's choice, kept beside the settings.

Not part of the settings on purpose: a backup folder is a place on one computer (a synced folder,
a second disk), so restoring a backup made elsewhere must not change it. The file also records
the app version that last ran, which tells the next start that the app was upgraded.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core.jsonfile import read_json, write_json

FILE_NAME = "backups.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BackupPrefs:
    folder: str = ""  # "": backups/ in the data folder
    with_index: bool = False  # the notes index (large; it can be rebuilt)
    last_version: str = ""  # the app version that last ran

    def replace(self, **changes: Any) -> BackupPrefs:
        return dataclasses.replace(self, **changes)


def load_prefs(data_dir: Path) -> BackupPrefs:
    try:
        raw = read_json(data_dir / FILE_NAME)
    except FileNotFoundError:
        return BackupPrefs()
    except (OSError, ValueError) as exc:
        log.warning("backup preferences unreadable (%s); using the defaults", exc)
        return BackupPrefs()
    if not isinstance(raw, dict):
        return BackupPrefs()
    folder, with_index, last = raw.get("folder"), raw.get("with_index"), raw.get("last_version")
    return BackupPrefs(folder if isinstance(folder, str) else "",
                       with_index if isinstance(with_index, bool) else False,
                       last if isinstance(last, str) else "")


def save_prefs(data_dir: Path, prefs: BackupPrefs) -> None:
    write_json(data_dir / FILE_NAME, dataclasses.asdict(prefs))
