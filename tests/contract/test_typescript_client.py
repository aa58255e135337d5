"""The web portal's TypeScript types are generated from the public OpenAPI (`make schemas`):
a contract change that was not carried into the client fails here, before tsc would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from portal_gateway.docs import PUBLIC_OPENAPI
from portal_tests.infra import REPO_ROOT

WEB = REPO_ROOT / "web"
COMMITTED = WEB / "src" / "api" / "schema.d.ts"


def test_the_committed_typescript_client_is_generated_from_the_public_openapi(
    tmp_path: Path,
) -> None:
    if not (WEB / "node_modules" / "openapi-typescript").exists():
        # make test installs web/ first (npm ci); a bare pytest run may not have.
        assert shutil.which("npm"), "npm is needed to check the TypeScript client"
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    fresh = tmp_path / "schema.d.ts"
    subprocess.run(
        ["node", "scripts/gen-api.mjs", str(PUBLIC_OPENAPI), str(fresh)],
        cwd=WEB,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert fresh.read_text() == COMMITTED.read_text(), (
        "web/src/api/schema.d.ts is stale: run `make schemas`"
    )
    # The operations a front end builds on are typed, bodies included.
    text = COMMITTED.read_text()
    for operation in ('"/api/v1/wallet/top-ups"', '"/api/v1/invoices/{invoice_id}/pay"'):
        assert operation in text
    assert "TopUpIn" in text and "Problem" in text
