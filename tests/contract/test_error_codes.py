"""The reading of problem codes from the code (portal_tests.error_codes)."""

from __future__ import annotations

import ast
import textwrap

from portal_tests.error_codes import Index, _openapi_path

SOURCE = textwrap.dedent(
    """
    class Expired(DomainError):
        status_code = 410

    class Busy(Conflict):
        def __init__(self):
            super().__init__("busy", "try again")

    def decide(command, state):
        if state.paid:
            raise Conflict("invoice_paid", "paid already")
        return _pay(command)

    def _pay(command):
        if command.amount <= 0:
            raise RuleBroken("amount_not_positive", "more than zero")
        raise Expired("offer_expired", "too late")

    def unrelated():
        raise NotFound("plan_not_found", "no such plan")

    async def pay(self, invoice_id):
        if self.busy:
            raise Busy()
        raise ProblemError(503, "wallet_unavailable", "later")
    """
)


def _index() -> Index:
    index = Index()
    index.add_tree(ast.parse(SOURCE))
    return index


def test_codes_are_followed_through_calls_by_name_with_their_class_status() -> None:
    index = _index()
    handler = index.read(ast.parse("async def route(self): return await svc.decide(c, s)"))
    assert index.reachable(handler) == {
        (409, "invoice_paid"),
        (422, "amount_not_positive"),
        (410, "offer_expired"),
    }


def test_fixed_code_classes_and_problem_errors_are_read() -> None:
    index = _index()
    handler = index.read(ast.parse("async def route(self): return await svc.pay('i')"))
    assert index.reachable(handler) == {(409, "busy"), (503, "wallet_unavailable")}


def test_litestar_paths_become_openapi_paths() -> None:
    assert _openapi_path("/v1/invoices/{invoice_id:str}/pay") == "/v1/invoices/{invoice_id}/pay"
    assert _openapi_path("/v1/x/{a:int}/{b:str}") == "/v1/x/{a}/{b}"


def test_a_function_handed_over_by_keyword_is_followed() -> None:
    index = Index()
    index.add_tree(
        ast.parse(
            textwrap.dedent(
                """
                def decide_qr(command, state):
                    raise Conflict("challenge_used", "used")

                qr = Decider(decide=decide_qr)

                def run(self, command):
                    return self.decider.decide(command, self.state)
                """
            )
        )
    )
    handler = index.read(ast.parse("async def route(self): return await runner.run(c)"))
    assert index.reachable(handler) == {(409, "challenge_used")}
