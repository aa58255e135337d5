"""The committed AsyncAPI document is generated from the FastStream apps as wired."""

import json

from portal_tests.asyncapi import OUTPUT, document


def test_committed_asyncapi_matches_the_apps():
    assert OUTPUT.exists(), "run `make asyncapi`"
    assert json.loads(OUTPUT.read_text()) == document(), "stale: run `make asyncapi` and commit"


def test_every_wallet_event_is_documented_on_its_topic():
    doc = document()
    assert "wallet.events" in doc["channels"]
    schemas = doc["components"]["schemas"]
    for name in (
        "TopUpRequested",
        "TopUpCompleted",
        "TopUpFailed",
        "WalletCredited",
        "WalletDebited",
        "DebitRejected",
    ):
        assert name in schemas, name
