"""The web portal's files and the SPA fallback in front of the API (no I/O beyond a tmp dir)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from portal_chassis.problems import EXCEPTION_HANDLERS
from portal_gateway.edge import edge_headers
from portal_gateway.web import serve_web

INDEX = (
    b'<!doctype html><html><head><script type="module" src="/assets/index-abc123.js">'
    b'</script></head><body><div id="root"></div></body></html>'
)
SCRIPT = b"console.log('portal');" * 200
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@get("/api/v1/ping")
async def ping() -> dict[str, str]:
    return {"pong": "yes"}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_bytes(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (tmp_path / "favicon.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    return tmp_path


def _app(root: Path | None) -> Litestar:
    app = Litestar([ping], exception_handlers=EXCEPTION_HANDLERS)
    app.asgi_handler = edge_headers(serve_web(app.asgi_handler, root))
    return app


async def test_hashed_assets_are_cached_for_a_year_and_gzipped_when_asked(dist: Path) -> None:
    async with AsyncTestClient(_app(dist)) as client:
        plain = await client.get("/assets/index-abc123.js", headers={"accept-encoding": "identity"})
        assert plain.status_code == 200 and plain.content == SCRIPT
        assert plain.headers["content-type"].startswith("text/javascript")
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert plain.headers["x-content-type-options"] == "nosniff"
        packed = await client.get("/assets/index-abc123.js", headers={"accept-encoding": "gzip"})
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.content == SCRIPT  # httpx decodes it
        assert int(packed.headers["content-length"]) < len(SCRIPT)
        icon = await client.get("/favicon.svg")
        assert icon.headers["content-type"].startswith("image/svg+xml")
        assert "immutable" not in icon.headers["cache-control"]


@pytest.mark.parametrize("path", ["/", "/transactions", "/top-up?amount=5", "/a/deep/link"])
async def test_a_page_of_the_app_answers_index_html_revalidated(dist: Path, path: str) -> None:
    async with AsyncTestClient(_app(dist)) as client:
        page = await client.get(path, headers=HTML)
        assert page.status_code == 200 and page.content == INDEX
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        head = await client.head(path, headers=HTML)
        assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing", "/api", "/schema/nothing", "/health/nothing", "/metrics"]
)
async def test_the_api_keeps_its_own_answers_even_for_a_browser(dist: Path, path: str) -> None:
    async with AsyncTestClient(_app(dist)) as client:
        answer = await client.get(path, headers=HTML)
        assert answer.status_code == 404 and answer.content != INDEX
        if path.startswith("/api"):
            assert answer.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/api/v1/ping", headers=HTML)).json() == {"pong": "yes"}


async def test_what_is_neither_a_file_nor_a_page_is_the_apis_404(dist: Path) -> None:
    async with AsyncTestClient(_app(dist)) as client:
        missing = await client.get("/assets/gone-000.js", headers={"accept": "*/*"})
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        for escape in ("/%2e%2e/pyproject.toml", "/assets/..%2f..%2fpyproject.toml"):
            answer = await client.get(escape, headers={"accept": "*/*"})
            assert answer.status_code == 404, escape
        posted = await client.post("/transactions", headers=HTML)
        assert posted.status_code in (404, 405) and INDEX not in posted.content


async def test_without_a_build_only_the_api_is_served(tmp_path: Path) -> None:
    async with AsyncTestClient(_app(tmp_path / "missing")) as client:
        assert (await client.get("/", headers=HTML)).status_code == 404
        assert (await client.get("/api/v1/ping")).json() == {"pong": "yes"}
    async with AsyncTestClient(_app(None)) as client:
        assert (await client.get("/transactions", headers=HTML)).status_code == 404


def test_the_index_is_never_gzipped_so_the_edge_can_hash_its_inline_scripts(dist: Path) -> None:
    from portal_gateway.web import load_build

    files = load_build(dist)
    assert files["/index.html"].gzipped is None
    script = files["/assets/index-abc123.js"].gzipped
    assert script is not None and gzip.decompress(script) == SCRIPT
