"""Prometheus on a port of its own: the public port never shows runtime, memory or
per-route traffic. Only the pod network (Prometheus) reaches this one."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server


class MetricsServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: WSGIServer | None = None

    def start(self) -> None:
        # A small threaded server in this process, reading the same registry.
        self._server, _ = start_http_server(self.port, addr=self.host)
        self.port = self._server.server_address[1]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
