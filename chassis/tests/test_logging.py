"""One log pipeline: every logger (ours through structlog, uvicorn, FastStream, aiokafka,
httpx, pymongo through stdlib logging) writes one JSON object a line in production and a
key=value line in `make dev`, with the ids bound for the request or message."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka import errors as kafka_errors
from litestar import get
from litestar.testing import TestClient

from portal_chassis.bus import make_broker
from portal_chassis.logging import bind_ids, configure_logging, get_logger, trace_id_of
from portal_chassis.web import create_app

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
COORDINATOR = "aiokafka.consumer.group_coordinator"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    configure_logging("test", json=True)


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Everything the process wrote, stdout and stderr (a log file holds both)."""
    captured = capsys.readouterr()
    return [line for line in (captured.out + captured.err).splitlines() if line.strip()]


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines(capsys)]  # each line is one whole object


def log_from_every_library() -> None:
    get_logger("portal_test").info("ours", amount=3)
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("faststream").warning("a FastStream warning")
    logging.getLogger(COORDINATOR).warning("an aiokafka warning")
    logging.getLogger("pymongo.connection").warning("a pymongo warning")
    with httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(204))) as c:
        c.get("http://upstream.test/v1/things")


def test_every_logger_writes_one_json_object_a_line_with_the_ids(capsys):
    uvicorn.Config("portal_x:app")  # uvicorn installs its own handlers before the factory
    configure_logging("wallet", json=True)
    bind_ids("corr-1", "cause-1", traceparent=TRACEPARENT)
    log_from_every_library()
    out = json_lines(capsys)
    assert [(o["logger"], o["event"]) for o in out] == [
        ("portal_test", "ours"),
        ("uvicorn", "Started server process [42]"),
        ("faststream", "a FastStream warning"),
        (COORDINATOR, "an aiokafka warning"),
        ("pymongo.connection", "a pymongo warning"),
    ]
    for o in out:
        assert o["correlation_id"] == "corr-1" and o["causation_id"] == "cause-1"
        assert o["trace_id"] == TRACE_ID and o["service"] == "wallet"
        assert o["level"] in ("info", "warning") and o["timestamp"].endswith("Z")
    assert out[0]["amount"] == 3


def test_key_value_lines_for_make_dev(capsys):
    uvicorn.Config("portal_x:app")
    configure_logging("wallet", json=False)
    bind_ids("corr-1", traceparent=TRACEPARENT)
    log_from_every_library()
    out = lines(capsys)
    assert len(out) == 5
    for line in out:
        assert not line.startswith("{") and "correlation_id=corr-1" in line
        assert f"trace_id={TRACE_ID}" in line
    assert "ours" in out[0] and "amount=3" in out[0] and "[info" in out[0]
    assert "Started server process [42]" in out[1] and "[uvicorn]" in out[1]


def test_a_traceback_stays_inside_its_json_line_without_locals(capsys):
    configure_logging("wallet", json=True)
    secret = "hunter2"  # a local of the failing frame: never written
    try:
        raise ValueError("bad " + "input")
    except ValueError:
        get_logger("portal_test").exception("ours failed")
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    out = json_lines(capsys)
    assert [o["event"] for o in out] == ["ours failed", "Exception in ASGI application"]
    for o in out:
        assert o["level"] == "error" and o["exception"][0]["exc_value"] == "bad input"
    assert secret not in json.dumps(out)


def test_no_info_line_per_http_request(capsys):
    configure_logging("gateway", json=True)
    with httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200))) as c:
        for _ in range(3):
            c.get("http://upstream.test/v1/things")
    assert lines(capsys) == []


def test_no_info_line_per_pdf_from_the_font_subsetter(capsys):
    from fpdf import FPDF

    configure_logging("billing", json=True)
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("body", fname=DEJAVU)  # installed by .ci/run, as billing needs it
    pdf.set_font("body", size=12)
    pdf.cell(text="Hóa đơn 1.234.567 ₫")
    pdf.output()  # subsets the font: fontTools logs a line per table at INFO
    assert lines(capsys) == []


def test_aiokafka_group_chatter_and_retriable_errors_stay_below_info(capsys):
    configure_logging("wallet", json=True)
    coordinator = logging.getLogger(COORDINATOR)
    coordinator.info("(Re-)joining group %s", "wallet-projection")
    # What aiokafka logs at ERROR while the broker elects a coordinator, then retries.
    coordinator.error(
        "Group Coordinator Request failed: %s", kafka_errors.GroupCoordinatorNotAvailableError()
    )
    coordinator.error(
        "Heartbeat send request failed: %s. Will retry.", kafka_errors.NodeNotReadyError()
    )
    # A fatal one still shows as an error.
    coordinator.error(
        "Attempt to join group failed due to fatal error: %s",
        kafka_errors.InvalidSessionTimeoutError(),
    )
    out = json_lines(capsys)
    assert [(o["level"], o["event"]) for o in out] == [
        (
            "error",
            "Attempt to join group failed due to fatal error: "
            "[Error 26] InvalidSessionTimeoutError",
        )
    ]


def test_log_level_debug_shows_the_retriable_kafka_errors_as_debug(capsys):
    configure_logging("wallet", level="DEBUG", json=True)
    logging.getLogger(COORDINATOR).error(
        "Group Coordinator Request failed: %s", kafka_errors.GroupCoordinatorNotAvailableError()
    )
    out = [o for o in json_lines(capsys) if o["logger"] == COORDINATOR]
    assert [o["level"] for o in out] == ["debug"]


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_faststream_writes_through_the_pipeline_and_no_info_line_per_message(capsys, level):
    configure_logging("wallet", level=level, json=True)
    broker = make_broker("localhost:9092", client_id="test")
    # What FastStream does as it starts and around every message (TestKafkaBroker mocks
    # its logger out, so its own calls are made here).
    broker._setup_logger()
    bind_ids("corr-9")
    broker.config.logger.log("Received", extra={"message_id": "m-1"})
    broker.config.logger.log("Processed", extra={"message_id": "m-1"})
    out = json_lines(capsys)  # all JSON: nothing in FastStream's coloured format
    if level == "INFO":
        assert out == []
    else:
        assert [(o["level"], o["event"]) for o in out] == [
            ("debug", "Received"),
            ("debug", "Processed"),
        ]
        assert all(o["correlation_id"] == "corr-9" for o in out)


@pytest.mark.parametrize(
    ("traceparent", "trace_id"),
    [
        (TRACEPARENT, TRACE_ID),
        (TRACEPARENT.upper(), TRACE_ID),
        (None, None),
        ("", None),
        ("00-00000000000000000000000000000000-b7ad6b7169203331-01", None),
        ("00-0af7651916cd43dd8448eb211c80319c-01", None),
        ("garbage\n{}", None),
    ],
)
def test_trace_id_of_a_traceparent(traceparent, trace_id):
    assert trace_id_of(traceparent) == trace_id


def test_bind_ids_without_a_traceparent_binds_no_trace_id(capsys):
    configure_logging("wallet", json=True)
    bind_ids("corr-1", traceparent=TRACEPARENT)
    bind_ids("corr-2", traceparent="not one")  # the previous message's trace id is gone
    get_logger("portal_test").info("next")
    (line,) = json_lines(capsys)
    assert line["correlation_id"] == "corr-2" and "trace_id" not in line


def test_uvicorn_no_access_log_stays_off(capsys):
    uvicorn.Config("portal_x:app", access_log=False)  # `--no-access-log`, as every CMD
    configure_logging("wallet", json=True)
    assert not logging.getLogger("uvicorn.access").hasHandlers()


@get("/v1/hello")
async def hello() -> dict[str, str]:
    get_logger("portal_test").info("in the handler")
    return {"hello": "world"}


def test_a_request_logs_json_lines_with_its_ids_after_the_app_started(capsys):
    configure_logging("wallet", json=True)
    app = create_app(title="Test service", route_handlers=[hello])
    with TestClient(app) as client:  # the app's start-up keeps the pipeline as it is
        r = client.get(
            "/v1/hello", headers={"X-Correlation-ID": "corr-5", "traceparent": TRACEPARENT}
        )
    assert r.status_code == 200
    (line,) = [o for o in json_lines(capsys) if o["event"] == "in the handler"]
    assert line["correlation_id"] == "corr-5" and line["trace_id"] == TRACE_ID
    assert line["path"] == "/v1/hello" and line["method"] == "GET"
