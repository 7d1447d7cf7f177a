"""Alice's own worker page: a Flask app serving ``/agent`` with the TaskRouter JS SDK.

    page = helpers.WorkerPage(client, qs, "Alice").start()
    page                      # shows the page inline (an IFrame) in the notebook
    print(page.html_source()) # the HTML and JavaScript the page is made of

``/agent`` renders ``templates/agent.html`` with a fresh token (:func:`worker_token`) and the
``Worker`` options for the mode (:func:`worker_options`). The SDK itself is served from the
kit (``/static/twilio-taskrouter.js``, bundled at setup by ``make worker-sdk``), never from a
CDN. ``/token`` hands the page a new token when the SDK says the old one is about to expire.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, Response, render_template, url_for
from twilio.rest import Client
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ._html import escape
from .access_tokens import worker_options, worker_token
from .config import KIT_ROOT
from .errors import KitError
from .quickstart import Quickstart

SDK_VERSION = "2.1.1"
SDK_BUNDLE = KIT_ROOT / "worker_page_js" / "dist" / f"twilio-taskrouter-{SDK_VERSION}.js"
TEMPLATE = Path(__file__).parent / "templates" / "agent.html"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the page's URL is harmless, but a notebook cell is no place for access logs


def create_worker_app(client: Client, qs: Quickstart, name: str = "Alice") -> Flask:
    """The learner's Flask app: ``/agent`` (the page), ``/token``, and the SDK bundle."""
    app = Flask("helpers.worker_page", template_folder=str(TEMPLATE.parent))
    options = worker_options(client)

    @app.get("/agent")
    def agent() -> str:
        return render_template(TEMPLATE.name, name=name, token=worker_token(client, qs, name),
                               options=options, sdk_url=url_for("sdk"),
                               token_url=url_for("token"))  # fmt: skip

    @app.get("/token")
    def token() -> Response:
        return Response(worker_token(client, qs, name), mimetype="text/plain",
                        headers={"Cache-Control": "no-store"})  # fmt: skip

    @app.get("/static/twilio-taskrouter.js")
    def sdk() -> Response:
        if not SDK_BUNDLE.exists():
            return Response(f"throw new Error({_missing_bundle()!r});", 404,
                            mimetype="text/javascript")  # fmt: skip
        return Response(SDK_BUNDLE.read_bytes(), mimetype="text/javascript")

    return app


BUILD_HINT = "run `make worker-sdk` (needs Node.js and npm) in the kit's folder"


def _missing_bundle() -> str:
    return f"The TaskRouter JS SDK bundle is missing ({SDK_BUNDLE.name}). How to fix: {BUILD_HINT}"


class WorkerPage:
    """The worker page served on a loopback port, shown inline in the notebook."""

    def __init__(self, client: Client, qs: Quickstart, name: str = "Alice", port: int = 0) -> None:
        self.client, self.qs, self.name = client, qs, name
        self._port = port
        self._server: BaseWSGIServer | None = None

    def start(self) -> WorkerPage:
        if self._server is not None:
            return self
        if not SDK_BUNDLE.exists():
            raise KitError(f"The TaskRouter JS SDK bundle is missing ({SDK_BUNDLE})", BUILD_HINT)
        app = create_worker_app(self.client, self.qs, self.name)
        try:
            server = make_server("127.0.0.1", self._port, app, threaded=True,
                                 request_handler=_QuietHandler)  # fmt: skip
        except OSError as error:
            raise KitError(f"Cannot serve the worker page on port {self._port}: {error}",
                           "pass port=0 to use any free port") from None  # fmt: skip
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                         name="worker-page", daemon=True).start()  # fmt: skip
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise KitError("The worker page is not running", "call page.start() first")
        return f"http://127.0.0.1:{self._server.server_port}/agent"

    @staticmethod
    def html_source() -> str:
        """The page's HTML and JavaScript, as served (before the token is filled in)."""
        return TEMPLATE.read_text()

    def _repr_html_(self) -> str:
        if self._server is None:
            return f"<p>Worker page for {escape(self.name)}: not running (call .start())</p>"
        return (f'<iframe src="{escape(self.url)}" width="100%" height="340" '
                f'style="border:1px solid #ccc" title="{escape(self.name)}"></iframe>')  # fmt: skip

    def __repr__(self) -> str:
        state = self.url if self._server is not None else "not running"
        return f"WorkerPage({self.name!r}, {state})"


__all__ = ["WorkerPage", "create_worker_app", "worker_options", "worker_token"]
