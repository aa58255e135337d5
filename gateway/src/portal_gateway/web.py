"""The web portal's built files (web/dist), served by the gateway at `/` on the API's origin.

One origin for the app and the API: no CORS, and the browser session cookie stays
first-party and SameSite=Strict. Deep links work: a GET for a page of the app (any path
outside the API's prefixes whose client accepts HTML) answers index.html and the app's router
takes over. Vite names its assets by content hash, so those are cached for a year; index.html
is revalidated every time so a new build is picked up at once.

The files are read once at start-up (a build is a few MB) and served from memory, gzipped when
the client accepts it; only names found in the build are ever answered, so no request path
reaches the file system. Without a build (no index.html) nothing is mounted: the API works alone.
"""

from __future__ import annotations

import gzip
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar.types import ASGIApp, Receive, Scope

from portal_chassis.logging import get_logger

log = get_logger(__name__)

API_PREFIXES = ("/api/", "/schema", "/metrics", "/health", "/.well-known/")
"""Never the app's: these keep their own answers (a 404 stays problem+json)."""
API_EXACT = frozenset({"/api"})
HASHED_DIR = "assets/"
LONG_CACHE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"
SHORT_CACHE = b"public, max-age=3600"
COMPRESSIBLE = (".html", ".js", ".css", ".svg", ".json", ".txt", ".map", ".webmanifest")
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".webmanifest": "application/manifest+json",
}


@dataclass(frozen=True)
class _File:
    body: bytes
    gzipped: bytes | None
    content_type: bytes
    cache_control: bytes


def _content_type(name: str) -> bytes:
    suffix = Path(name).suffix.lower()
    media = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media.startswith("text/") or media in ("application/json", "image/svg+xml"):
        media += "; charset=utf-8"
    return media.encode()


def load_build(root: Path) -> dict[str, _File]:
    """Every file of a build, keyed by its URL path (`/assets/index-abc.js`)."""
    files: dict[str, _File] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        name = path.relative_to(root).as_posix()
        body = path.read_bytes()
        # index.html stays plain: the edge reads it to hash its inline scripts into the CSP.
        zippable = name.endswith(COMPRESSIBLE) and name != "index.html"
        packed = gzip.compress(body, 9, mtime=0) if zippable else None
        if name == "index.html":
            cache = REVALIDATE
        elif name.startswith(HASHED_DIR):
            cache = LONG_CACHE
        else:
            cache = SHORT_CACHE
        files["/" + name] = _File(
            body,
            packed if packed is not None and len(packed) < len(body) else None,
            _content_type(name),
            cache,
        )
    return files


def _header(scope: Scope, name: bytes) -> bytes:
    return b",".join(v for k, v in scope.get("headers", []) if k.lower() == name)


def _is_api(path: str) -> bool:
    return path in API_EXACT or path.startswith(API_PREFIXES)


def serve_web(app: ASGIApp, root: Path | None) -> ASGIApp:
    """Wrap the API app: the build's files and the SPA fallback first, the API otherwise."""
    if root is None or not (root / "index.html").is_file():
        if root is not None:
            log.info("web portal not served: no build", web_dir=str(root))
        return app
    files = load_build(root)
    index = files["/index.html"]
    log.info("web portal served", web_dir=str(root), files=len(files))

    async def web(scope: Scope, receive: Receive, send: Any) -> None:
        method = scope.get("method", "")
        path: str = scope.get("path", "")
        if scope["type"] != "http" or method not in ("GET", "HEAD") or _is_api(path):
            await app(scope, receive, send)
            return
        found = files.get(path)
        if found is None and b"text/html" in _header(scope, b"accept"):
            found = index  # a deep link into the app: its router shows the page
        if found is None:
            await app(scope, receive, send)  # the API's 404
            return
        body = found.body
        headers = [
            (b"content-type", found.content_type),
            (b"cache-control", found.cache_control),
            (b"vary", b"Accept-Encoding"),
        ]
        if found.gzipped is not None and b"gzip" in _header(scope, b"accept-encoding"):
            body = found.gzipped
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    return web
