"""How the self-test reports: one line per check, failures counted, a check's exception described."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO


@dataclass
class Report:
    out: TextIO
    failures: list[str] = field(default_factory=list)

    def line(self, passed: bool, name: str, detail: str) -> None:
        if not passed:
            self.failures.append(name)
        self.out.write(f"{'ok  ' if passed else 'FAIL'} {name}: {detail}\n")
        self.out.flush()

    def run(self, name: str, check: Callable[[], str]) -> None:
        """A check returns its detail, or raises: CheckFailed with a message, anything else a bug."""
        try:
            self.line(True, name, check())
        except CheckFailed as failed:
            self.line(False, name, str(failed))
        except Exception as exc:  # report, then go on with the other checks
            self.line(False, name, describe(exc))

    async def run_async(self, name: str, check: Callable[[], Awaitable[str]]) -> None:
        try:
            self.line(True, name, await check())
        except CheckFailed as failed:
            self.line(False, name, str(failed))
        except Exception as exc:
            self.line(False, name, describe(exc))


class CheckFailed(Exception):
    pass


def describe(exc: BaseException) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" (at {Path(where[0].filename).name}:{where[0].lineno})" if where else ""
    return f"{type(exc).__name__}: {last_line(exc)}{at}"


def last_line(exc: BaseException) -> str:
    """Long messages (numpy's import advice) end with the line that matters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else ""

