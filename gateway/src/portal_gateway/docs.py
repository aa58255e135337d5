"""The API docs page (Swagger UI) with its scripts and styles served by the gateway itself:
no CDN, so the page works offline and loads nothing it did not ship (swagger-ui-py's
copy of swagger-ui-dist)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import swagger_ui
from litestar import Controller, Litestar, Response, get
from litestar._openapi.plugin import OpenAPIPlugin  # the schema it serves is set below
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath

from portal_chassis.problems import ProblemError

ASSETS_PATH = "/schema/assets"
STATIC = Path(swagger_ui.__file__).parent / "static"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}


@cache
def _asset(name: str) -> bytes:
    return (STATIC / name).read_bytes()


class DocsAssetsController(Controller):
    path = ASSETS_PATH
    include_in_schema = False

    @get("/{name:str}")
    async def asset(self, name: FromPath[str]) -> Response[Any]:
        if name not in ASSETS:  # only the listed files, never a path into the package
            raise ProblemError(404, "not_found", "no such asset")
        return Response(
            _asset(name),
            media_type=ASSETS[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )


PUBLIC_OPENAPI = Path(__file__).parent / "openapi.json"


def serve_public_openapi(app: Litestar, document: Path = PUBLIC_OPENAPI) -> None:
    """`/schema/openapi.json` (and the Swagger page) show the public contract merged from
    the services' typed schemas (`make schemas` writes it), not the gateway's forwarding
    routes, which say nothing about bodies."""
    if document.exists():
        plugin = app.plugins.get(OpenAPIPlugin)
        plugin._openapi_schema = json.loads(document.read_text())


def swagger_page() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )
