"""The typed boundary vocabulary: strict bodies, typed answers, pages, injected use cases."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.testing import TestClient
from pydantic import Field

from portal_chassis.contract import Limit, Offset, Out, Page, Strict, paginate, use_cases
from portal_chassis.decider import Conflict, Forbidden, RuleBroken
from portal_chassis.web import create_app


class NoteIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=20)]
    stars: int = 0
    due: date | None = None


class NoteOut(Out):
    id: str
    text: str
    stars: int
    due: date | None = None


class Notes:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, data: NoteIn) -> NoteOut:
        if data.text == "taken":
            raise Conflict("note_taken", "a note says that already")
        if data.text == "secret":
            raise Forbidden("forbidden", "notes may not say that")
        if data.stars > 5:
            raise RuleBroken("too_many_stars", "at most five stars", most=5)
        row = {"id": f"n{len(self.rows) + 1}", "internal": "never shown", **data.model_dump()}
        self.rows.append(row)
        return NoteOut.model_validate(row)


class NotesController(Controller):
    path = "/v1/notes"
    dependencies = {"notes": use_cases("notes")}

    @post("/", status_code=201)
    async def add(self, data: JSONBody[NoteIn], notes: NamedDependency[Notes]) -> NoteOut:
        return notes.add(data)

    @get("/")
    async def listing(
        self, notes: NamedDependency[Notes], limit: Limit = 20, offset: Offset = 0
    ) -> Page[NoteOut]:
        rows = notes.rows[offset : offset + limit]
        return paginate([NoteOut.model_validate(r) for r in rows], len(notes.rows), limit, offset)


def client() -> TestClient[Any]:
    app = create_app(title="notes", route_handlers=[NotesController], state={"notes": Notes()})
    return TestClient(app)


def test_a_typed_body_is_validated_strictly_and_the_answer_is_the_typed_model() -> None:
    with client() as c:
        created = c.post("/v1/notes", json={"text": " hello ", "stars": 2, "due": "2026-12-31"})
        assert created.status_code == 201, created.text
        assert created.json() == {"id": "n1", "text": "hello", "stars": 2, "due": "2026-12-31"}
        for bad in (
            {"text": "x", "extra": 1},
            {"text": "x", "stars": "2"},
            {"text": "x", "due": "31/12/2026"},
            {"text": ""},
            [],
        ):
            r = c.post("/v1/notes", json=bad)
            assert r.status_code == 400, (bad, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "validation_error"
            for error in r.json().get("errors", []):  # one shape for every 400
                assert {"loc", "msg", "type"} <= set(error), error
        stars = c.post("/v1/notes", json={"text": "x", "stars": "2"}).json()["errors"]
        assert [e["loc"] for e in stars] == [["body", "stars"]], stars
        page = c.get("/v1/notes", params={"limit": 1}).json()
        assert page["items"] == [created.json()]
        assert (page["total"], page["limit"], page["offset"]) == (1, 1, 0)


def test_a_body_that_is_not_json_is_a_validation_error_like_any_bad_body() -> None:
    # As it was when every route parsed its body itself (parse_json_body).
    with client() as c:
        for raw in (b"\x00\xffnot json", b'{"text": ', b"{" + b" " * 1000):
            r = c.post("/v1/notes", content=raw, headers={"Content-Type": "application/json"})
            assert r.status_code == 400, (raw, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "validation_error", r.json()
            assert [e["loc"] for e in r.json()["errors"]] == [["body"]], r.json()
        assert c.get("/v1/notes").json()["total"] == 0


def test_domain_errors_become_problems_in_one_place() -> None:
    with client() as c:
        for text, stars, status, code in (
            ("taken", 0, 409, "note_taken"),
            ("secret", 0, 403, "forbidden"),
            ("fine", 9, 422, "too_many_stars"),
        ):
            r = c.post("/v1/notes", json={"text": text, "stars": stars})
            assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_the_openapi_describes_request_and_response_bodies() -> None:
    with client() as c:
        schema = c.get("/schema/openapi.json").json()
    post_op = schema["paths"]["/v1/notes"]["post"]
    assert "requestBody" in post_op
    assert "content" in post_op["responses"]["201"]
    get_op = schema["paths"]["/v1/notes"]["get"]
    assert "content" in get_op["responses"]["200"]
    assert {p["name"] for p in get_op["parameters"]} >= {"limit", "offset"}


class CountIn(Strict):
    count: int
    share: float


def test_a_whole_number_written_with_a_fraction_is_still_an_integer() -> None:
    # JSON Schema's "integer" includes 2.0; strict pydantic alone would refuse it.
    assert CountIn.model_validate({"count": 2.0, "share": 1}).count == 2
    assert CountIn.model_validate({"count": 2, "share": 0.5}).share == 0.5
    for bad in ({"count": 2.5, "share": 1}, {"count": "2", "share": 1}):
        try:
            CountIn.model_validate(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")
