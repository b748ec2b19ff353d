"""The HTTP ceiling: Flask on waitress answering a constant JSON body, with ums-find's server settings.

Served by ums-find's own serving code, so the same UMS_HTTP_* settings (port, threads,
workers) apply. Run: python -m bench.baselines.hello.
"""

from __future__ import annotations

import sys

from flask import Flask, Response

from ums_find.http.workers import serve
from ums_find.settings import Settings

BODY = '{"name": "KrishnaMohan", "phone": 9876543210, "since": "2022-03-01T10:00:00Z"}'


def create_app() -> Flask:
    """One route shaped like ums-find's, doing no work."""
    app = Flask(__name__)

    @app.get("/user/<path:name>")
    def hello(name: str) -> Response:
        return Response(BODY, mimetype="application/json")

    return app


def main() -> None:
    """Serve with the settings ums-find reads."""
    sys.exit(serve(create_app, Settings.from_env()))


if __name__ == "__main__":
    main()
