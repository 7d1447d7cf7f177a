"""The floor: a minimal loopback HTTP server that answers canned bodies, in its own process.

    python -m bench.floor --port P --responses canned.json

It is what "the bare cost of the HTTP round trips" means in the report: ``http.server`` with
keep-alive, TCP_NODELAY and headers + body in one write, no auth, no routing, no state, no
SQLite. The canned bodies are the sandbox's own answers to the same requests (captured from
``http_client.last_response``), so the SDK parses exactly as much JSON on both sides and the
difference is what the sandbox itself adds. It runs as a separate process because the sandbox
does: client and server then do not share one GIL in either case.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from taskrouter_sandbox.testing import free_port

from . import KIT_ROOT

ACCEPT = json.dumps({"instruction": "accept"}).encode()


def load(path: Path) -> dict[tuple[str, str], tuple[int, bytes]]:
    table = {}
    for item in json.loads(path.read_text()):
        table[(item["method"], item["path"])] = (int(item["status"]), item["body"].encode())
    return table


class FloorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    canned: ClassVar[dict[tuple[str, str], tuple[int, bytes]]] = {}

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        if path == "/_floor/health":
            status, body = 200, b'{"status": "ok"}'
        elif method == "POST" and path.endswith("/assignment_callback"):
            status, body = 200, ACCEPT
        else:
            status, body = self.canned.get((method, path), (404, b'{"code": 20404}'))
        head = (
            f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.wfile.write(head.encode("latin-1") + body)  # one write: no Nagle stall

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format: str, *args: object) -> None:
        """Silent: logging would be part of the measured cost."""


@dataclass
class FloorProcess:
    """The floor server as a child process, serving ``responses`` (a list of canned answers)."""

    responses: list[dict[str, Any]]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    _dir: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> FloorProcess:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-floor-")
        table = Path(self._dir.name) / "canned.json"
        table.write_text(json.dumps(self.responses))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.floor", "--port", str(self.port),
             "--responses", str(table)],
            cwd=KIT_ROOT, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_floor/health", timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("the floor server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> FloorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def canned(method: str, url: str, status: int, text: str) -> dict[str, Any]:
    """One canned answer from a captured SDK exchange (``http_client.last_request/response``)."""
    path = urllib.request.urlparse(url).path
    return {"method": method, "path": path, "status": status, "body": text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--responses", type=Path, required=True)
    args = parser.parse_args()
    handler = type("Handler", (FloorHandler,), {"canned": load(args.responses)})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
