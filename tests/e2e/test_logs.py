"""The platform's processes log through one pipeline (portal_chassis.logging): every line
they wrote is one JSON object with its level, logger and event, and a normal start logs no
ERROR (not even aiokafka's retries while the broker elects a group coordinator)."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

pytestmark = pytest.mark.e2e
# Consumer groups join, and the relays find their leader, in the seconds after ready.
SETTLE_SECONDS = 10.0


def test_every_line_is_json_and_the_start_logs_no_error(platform):
    processes = platform["processes"]
    assert processes.ready_at is not None
    start_ends = processes.ready_at + SETTLE_SECONDS
    time.sleep(max(0.0, start_ends - time.time()))
    for name in processes.specs:
        lines = (processes.log_dir / f"{name}.log").read_text().splitlines()
        records = []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                pytest.fail(f"{name}.log:{n} is not a JSON line: {line[:300]}")
            assert isinstance(record, dict), f"{name}.log:{n}"
            assert {"timestamp", "level", "logger", "event", "service"} <= record.keys(), (
                f"{name}.log:{n}: {line[:300]}"
            )
            records.append(record)
        start = [
            r for r in records if datetime.fromisoformat(r["timestamp"]).timestamp() <= start_ends
        ]
        errors = [r for r in start if r["level"] in ("error", "critical", "exception")]
        assert errors == [], f"{name} logged errors while starting: {errors}"
        # uvicorn's own lines come through the same pipeline.
        assert any(
            r["logger"] == "uvicorn" and r["event"] == "Application startup complete."
            for r in start
        ), name
