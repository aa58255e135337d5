"""The web image's nginx config (deploy/docker/web.nginx.conf), run for real.

nginx (Debian's nginx-light, installed by .ci/run) starts with the config as shipped, only
its paths moved into a temp dir, its port a free one and the gateway a stub on another free
port: deep links answer index.html, hashed assets are cached for good and index.html never,
the API is the gateway's (its own headers kept), and a server-sent event reaches the browser
while the gateway is still holding the stream open.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy/docker/web.nginx.conf"
INDEX = "<!doctype html><html><head><title>portal</title></head><body><div id=root></div>"
ASSET = "export const portal = 1;\n" * 200  # over gzip_min_length
LONG = "public, max-age=31536000, immutable"


class Gateway(BaseHTTPRequestHandler):
    """Stands for the gateway Service: echoes what reached it, and streams one event, then
    waits for the test to release the rest of the stream."""

    release = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/api/v1/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(b"event: dashboard\ndata: first\n\n")
            self.wfile.flush()
            self.release.wait(120)
            self.wfile.write(b"event: dashboard\ndata: second\n\n")
            return
        body = json.dumps(
            {
                "path": self.path,
                "host": self.headers.get("Host"),
                "xff": self.headers["X-Forwarded-For"],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Nginx:
    port: int
    log: Path

    def get(self, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", path, headers={"Host": "portal.example", **headers})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response, body


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(binary).is_file(), "nginx is not installed (.ci/run installs nginx-light)"
    tmp = tmp_path_factory.mktemp("nginx")
    html = tmp / "html"
    (html / "assets").mkdir(parents=True)
    (html / "index.html").write_text(INDEX)
    (html / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (html / "assets" / "index-3f2a9c.js").write_text(ASSET)
    upstream = ThreadingHTTPServer(("127.0.0.1", free_port()), Gateway)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    conf = CONF.read_text()
    for old, new in (
        ("/tmp/", f"{tmp}/"),
        ("/usr/share/nginx/html", str(html)),
        ("listen 8080;", f"listen 127.0.0.1:{port};"),
        ("server gateway:8000;", f"server 127.0.0.1:{upstream.server_port};"),
    ):
        assert old in conf, old
        conf = conf.replace(old, new)
    if os.geteuid() == 0:  # a root master would hand its workers to `nobody`, locked out of tmp
        conf = "user root;\n" + conf
    (tmp / "nginx.conf").write_text(conf)
    log = tmp / "nginx.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                "-p",
                str(tmp),
                "-e",
                "stderr",
                "-c",
                str(tmp / "nginx.conf"),
                "-g",
                "daemon off;",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"nginx exited:\n{log.read_text()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"nginx did not listen:\n{log.read_text()}"
                time.sleep(0.2)
        yield Nginx(port, log)
    finally:
        Gateway.release.set()
        process.terminate()
        process.wait(60)
        upstream.shutdown()
        upstream.server_close()


def test_the_config_is_the_one_the_image_runs_and_nginx_accepts_it() -> None:
    dockerfile = (ROOT / "deploy/docker/web.Dockerfile").read_text()
    assert "deploy/docker/web.nginx.conf /etc/nginx/nginx.conf" in dockerfile


def test_a_deep_link_is_the_app_revalidated_with_the_security_headers(nginx: Nginx) -> None:
    for path in ("/", "/tickets/42", "/wallet/history?page=2"):
        response, body = nginx.get(path, Accept="text/html")
        assert response.status == 200, path
        assert body.decode() == INDEX
        assert response.headers.get_all("Cache-Control") == ["no-cache"]
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "img-src 'self' data:" in csp
        assert "script-src 'self';" in csp  # no inline or foreign script, ever
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_hashed_assets_are_immutable_gzipped_and_never_the_app(nginx: Nginx) -> None:
    response, body = nginx.get("/assets/index-3f2a9c.js", **{"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Cache-Control"] == LONG
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).decode() == ASSET
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    missing, _ = nginx.get("/assets/index-000000.js")
    assert missing.status == 404
    favicon, _ = nginx.get("/favicon.svg")
    assert favicon.status == 200 and favicon.headers["Cache-Control"] == "no-cache"


def test_the_api_schema_and_health_are_the_gateways_with_its_own_headers(nginx: Nginx) -> None:
    for path in ("/api/v1/me?x=1", "/schema/openapi.json", "/health/ready"):
        response, body = nginx.get(path)
        assert response.status == 200, path
        seen = json.loads(body)
        assert seen["path"] == path
        assert seen["host"] == "portal.example" and seen["xff"] == "127.0.0.1"
        assert response.headers.get_all("Cache-Control") == ["no-store"]
        assert response.headers["Content-Security-Policy"] is None
    probe, body = nginx.get("/healthz")
    assert probe.status == 200 and body == b"ok\n"


def test_a_server_sent_event_is_passed_on_while_the_stream_is_still_open(nginx: Nginx) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=60)
    conn.request("GET", "/api/v1/stream", headers={"Accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    received = b""
    while b"\n\n" not in received:
        chunk = response.read1(1024)
        assert chunk, "the stream ended before the first event"
        received += chunk
    # the gateway has not sent the second event yet: the first one came through unbuffered
    assert not Gateway.release.is_set()
    assert received == b"event: dashboard\ndata: first\n\n"
    Gateway.release.set()
    assert response.read() == b"event: dashboard\ndata: second\n\n"
    conn.close()
