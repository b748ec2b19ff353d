"""The HTTP ceiling: Flask on waitress answering a constant JSON body, with ums-find's server settings.

Run: python -m bench.baselines.hello (port and threads from UMS_HTTP_PORT, UMS_HTTP_THREADS).
"""

from __future__ import annotations

import os

import waitress
from flask import Flask, Response

BODY = '{"name": "KrishnaMohan", "phone": 9876543210, "since": "2022-03-01T10:00:00Z"}'


def create_app() -> Flask:
    """One route shaped like ums-find's, doing no work."""
    app = Flask(__name__)

    @app.get("/user/<path:name>")
    def hello(name: str) -> Response:
        return Response(BODY, mimetype="application/json")

    return app


def main() -> None:
    """Serve with the same host, port and thread settings ums-find reads."""
    env = os.environ
    waitress.serve(
        create_app(),
        host=env.get("UMS_HTTP_HOST", "127.0.0.1"),
        port=int(env.get("UMS_HTTP_PORT", "8080")),
        threads=int(env.get("UMS_HTTP_THREADS", "8")),
    )


if __name__ == "__main__":
    main()
