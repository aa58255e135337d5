"""The `portal` CLI against the running platform: what `make dev` seeds reconciles, the
seeded wallet's stream reads back, and an admin made by the CLI can log in."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from portal_cli.main import app
from portal_tests.e2e import SECRET, login

pytestmark = pytest.mark.e2e

runner = CliRunner()


def test_seeded_demo_data_reconciles_and_its_wallet_stream_shows(
    platform: dict[str, Any], cli_env: None
) -> None:
    seeded = runner.invoke(app, ["seed", "demo", "--url", platform["url"], "--secret", SECRET])
    assert seeded.exit_code == 0, seeded.output
    assert "demo customer demo@example.com" in seeded.output
    again = runner.invoke(app, ["seed", "demo", "--url", platform["url"], "--secret", SECRET])
    assert again.exit_code == 0, again.output  # idempotent: the same keys every run

    account = platform["identity_db"]["emails"].find_one({"_id": "demo@example.com"})["account_id"]
    # Limited to the demo account: the topics are shared by every test session on this
    # Kafka, so this platform's dashboards also hold accounts of other sessions' databases.
    reconciled = runner.invoke(app, ["money", "reconcile", "--account", account, "--wait", "60"])
    assert reconciled.exit_code == 0, reconciled.output
    assert "1 wallets, 1 invoice debits, 1 billing payments, 1 dashboards" in reconciled.output

    shown = runner.invoke(app, ["stream", "show", "wallet", f"wallet-{account}", "--json"])
    assert shown.exit_code == 0, shown.output
    for expected in ("WalletOpened", "TopUpCompleted", "WalletCredited", "WalletDebited"):
        assert expected in shown.output
    assert '"reason": "invoice_payment"' in shown.output


def test_an_admin_created_by_the_cli_logs_in(platform: dict[str, Any], cli_env: None) -> None:
    created = runner.invoke(
        app, ["admin", "create", "ops-admin@example.com", "--password", "ops-passphrase-1"]
    )
    assert created.exit_code == 0, created.output
    assert "created (staff)" in created.output  # the platform admin was seeded already
    tokens = login(platform["url"], "ops-admin@example.com", "ops-passphrase-1")
    assert tokens["access_token"]
