"""The running platform keeps its public contract: schemathesis generates requests from the
served OpenAPI, as a customer and as platform staff, and checks that no answer is a 5xx,
every status, media type and body is the documented one, and no schema-valid request is
refused as invalid. Bounded: a few examples per operation, one worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portal_tests.e2e import Customer, admin_client

pytestmark = pytest.mark.e2e

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Never called with generated data: ending the caller's own session or its second factor,
# rotating the platform's signing key, a stream that never ends, provider-signed webhooks.
ALWAYS_OUT = (
    r"^/api/v1/auth/(logout|keys/rotate|refresh)$",
    r"^/api/v1/me/(password|2fa.*|email/.*)$",
    r"^/api/v1/dashboard/stream$",
    r"^/api/v1/payments/webhooks/",
)
# Platform-wide settings the other end-to-end tests rely on (loyalty thresholds, billing
# settings, the catalogue): random staff writes there would change other tests' world.
STAFF_OUT = (
    r"^/api/v1/crm/levels$",
    r"^/api/v1/billing/settings$",
    r"^/api/v1/plans",
    r"^/api/v1/staff/(users|departments)$",
    r"^/api/v1/(tickets/departments|repairs/branches|crm/care-types|crm/care-reasons)$",
)
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "positive_data_acceptance",
    )
)


def schemathesis(url: str, token: str, excluded: tuple[str, ...], work: Path) -> Any:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/schema/openapi.json",
        "--url",
        url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,fuzzing",
        "--max-examples",
        "4",
        "--workers",
        "1",
        "--seed",
        "20261130",
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
        "--report",
        "junit",
        "--report-junit-path",
        str(work / "junit.xml"),
    ]
    # One pattern: given several times, the option keeps only the last one.
    command += ["--exclude-path-regex", "|".join(f"({pattern})" for pattern in excluded)]
    # In a directory of its own: it keeps a cache of examples where it runs.
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=work)


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_the_platform_answers_as_its_openapi_says(platform, who, tmp_path):
    url = platform["url"]
    if who == "customer":
        token, excluded = Customer(url).token, ALWAYS_OUT
    else:
        token = admin_client(url).headers["Authorization"].removeprefix("Bearer ")
        excluded = ALWAYS_OUT + STAFF_OUT
    result = schemathesis(url, token, excluded, tmp_path)
    report = result.stdout[-12000:]
    assert result.returncode == 0, report
    assert "No issues found" in result.stdout or " passed" in result.stdout, report
