"""The tutorial's FindService, re-implemented faithfully: the baseline ums-find must beat.

Flask on waitress; every request opens a NEW MySQL connection with the connector's
pure-Python protocol (`use_pure=True`), runs the tutorial's SQL and closes it.
Run: python -m bench.baselines.tutorial (settings from the UMS_* environment).
"""

from __future__ import annotations

import os
from typing import Any

import mysql.connector
import waitress
from flask import Flask, jsonify


def create_app(db: dict[str, Any]) -> Flask:
    """The tutorial's app: one route, one connection per request."""
    app = Flask(__name__)

    @app.route("/user/<name>")
    def find(name: str) -> Any:
        conn = mysql.connector.connect(use_pure=True, **db)
        try:
            cursor = conn.cursor()
            cursor.execute("SELECT * FROM ums_users WHERE name = %s", (name,))
            row: Any = cursor.fetchone()
        finally:
            conn.close()
        if row is None:
            return jsonify({"error": "not found"}), 404
        return jsonify({"name": row[0], "phone": row[1], "since": row[2].isoformat()})

    return app


def main() -> None:
    """Serve on UMS_HTTP_PORT with UMS_HTTP_THREADS threads, as ums-find would."""
    env = os.environ
    db = {
        "host": env.get("UMS_MYSQL_HOST", "127.0.0.1"),
        "port": int(env.get("UMS_MYSQL_PORT", "3306")),
        "user": env.get("UMS_MYSQL_USER", "root"),
        "password": env.get("UMS_MYSQL_PASSWORD", ""),
        "database": env.get("UMS_MYSQL_DATABASE", "glarimy"),
    }
    waitress.serve(
        create_app(db),
        host=env.get("UMS_HTTP_HOST", "127.0.0.1"),
        port=int(env.get("UMS_HTTP_PORT", "8080")),
        threads=int(env.get("UMS_HTTP_THREADS", "8")),
    )


if __name__ == "__main__":
    main()
