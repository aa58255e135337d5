"""The wallet's HTTP contract, read from its own OpenAPI (no connection is made)."""

from typing import Any

from portal_wallet import main

WEBHOOK = ("post", "/v1/payments/webhooks/{provider}")
"""The payment webhook reads its raw bytes (the provider's signature covers them), so its
body is documented by hand rather than from a parameter."""

METHODS = {"get", "post", "put", "patch", "delete"}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = main.create().openapi_schema.to_schema()
    return [
        (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_every_write_documents_its_body_and_every_operation_its_answer() -> None:
    ops = operations()
    assert len(ops) >= 14
    for method, path, op in ops:
        two_xx = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert two_xx, (method, path)
        for answer in two_xx.values():
            assert answer["content"]["application/json"]["schema"], (method, path)
        if method == "post" and "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert schema.get("$ref") or schema.get("properties"), (method, path, schema)


def test_bodies_of_writes_are_typed_models() -> None:
    bodies = {
        (method, path): op["requestBody"]["content"]["application/json"]["schema"]
        for method, path, op in operations()
        if "requestBody" in op
    }
    webhook = bodies.pop(WEBHOOK)
    assert set(webhook["required"]) == {"id", "type", "reference", "amount", "currency"}
    assert {k: v["$ref"] for k, v in bodies.items()} == {
        ("post", "/v1/wallet/top-ups"): "#/components/schemas/TopUpIn",
        ("post", "/v1/wallets/{account_id}/top-ups"): "#/components/schemas/TopUpIn",
        ("post", "/v1/wallets/{account_id}/credits"): "#/components/schemas/CreditIn",
        ("post", "/v1/wallets/{account_id}/debits"): "#/components/schemas/DebitIn",
    }


def test_the_history_page_says_which_rows_it_holds() -> None:
    schema = main.create().openapi_schema.to_schema()
    page = schema["components"]["schemas"]["TransactionsPage"]
    rows = page["properties"]["items"]["items"]["oneOf"]
    assert {r["$ref"].rsplit("/", 1)[1] for r in rows} == {"MoneyRowOut", "HeldRowOut"}
