"""The reconcile rules on their own (no I/O): which disagreements count."""

from __future__ import annotations

from portal_cli.money import Books, Debit, Payment, Wallet, compare


def books(**changes: object) -> Books:
    """One wallet (balance 700) with a 300 invoice debit under key pay-1, its recorded
    payment and a dashboard that agrees."""
    b = Books(
        wallets={"a": Wallet("a", "wallet-a", balance=700, ledger=700, currency="VND")},
        debits={"pay-1": Debit("pay-1", "a", 300, "VND", "t-1")},
        payments={"pay-1": Payment("pay-1", "inv-1", "a", "wallet", 300, "VND", "recorded")},
        dashboards={"a": 700},
    )
    for name, value in changes.items():
        setattr(b, name, value)
    return b


def checks(b: Books) -> list[tuple[str, str]]:
    return [(d.check, d.subject) for d in compare(b)]


def test_agreeing_books_have_no_difference() -> None:
    assert compare(books()) == []


def test_a_balance_that_is_not_the_ledger() -> None:
    wallet = Wallet("a", "wallet-a", balance=710, ledger=700)
    assert checks(books(wallets={"a": wallet}, dashboards={"a": 710})) == [("wallet = ledger", "a")]


def test_a_recorded_payment_without_its_debit() -> None:
    assert checks(books(debits={})) == [("payment = debit", "pay-1")]


def test_a_payment_in_progress_may_have_no_debit_yet() -> None:
    started = Payment("pay-1", "inv-1", "a", "wallet", 300, "VND", "started")
    assert compare(books(debits={}, payments={"pay-1": started})) == []


def test_an_abandoned_payment_with_a_debit() -> None:
    abandoned = Payment("pay-1", "inv-1", "a", "wallet", 300, "VND", "abandoned")
    assert checks(books(payments={"pay-1": abandoned})) == [("payment = debit", "pay-1")]


def test_a_debit_under_the_key_of_a_claim() -> None:
    claim = Payment("pay-1", "inv-1", "a", "claim", 300, "VND", "recorded")
    assert checks(books(payments={"pay-1": claim})) == [("debit = payment", "pay-1")]


def test_a_debit_of_another_amount() -> None:
    debit = Debit("pay-1", "a", 301, "VND", "t-1")
    assert checks(books(debits={"pay-1": debit})) == [("payment = debit", "pay-1")]


def test_claims_are_not_paid_from_the_wallet() -> None:
    claim = Payment("pay-2", "inv-2", "a", "claim", 500, "VND", "recorded")
    b = books()
    b.payments["pay-2"] = claim
    assert compare(b) == []


def test_a_dashboard_behind_and_one_without_a_wallet() -> None:
    found = checks(books(dashboards={"a": 1000, "ghost": 5}))
    assert found == [("dashboard = wallet", "a"), ("dashboard = wallet", "ghost")]


def test_an_empty_wallet_needs_no_dashboard() -> None:
    wallet = Wallet("b", "wallet-b")
    b = books()
    b.wallets["b"] = wallet
    assert compare(b) == []
