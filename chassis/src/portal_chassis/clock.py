"""Time comes from a clock object so tests can control it."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


class FileOffsetClock:
    """System time shifted by the seconds written in a file (tests move time forward).

    Only used when PORTAL_CLOCK_OFFSET_FILE is set: end-to-end tests drive the clock of
    separate processes (subscription expiry, dashboards) without waiting for days.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._mtime: float | None = None
        self._offset = 0.0

    def offset(self) -> float:
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError:
            return 0.0
        if mtime != self._mtime:
            try:
                with open(self.path, encoding="utf-8") as handle:
                    self._offset = float(handle.read().strip() or 0)
            except (OSError, ValueError):
                self._offset = 0.0
            self._mtime = mtime
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset())


def clock_from_env() -> Clock:
    path = os.environ.get("PORTAL_CLOCK_OFFSET_FILE")
    return FileOffsetClock(path) if path else SystemClock()
