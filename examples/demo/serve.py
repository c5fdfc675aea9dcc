"""Start the demo as a real server: ``python -m examples.demo.serve [--host H] [--port N]``.

``create_app()`` creates and seeds the database on first start (``DATABASE_URL`` picks it,
``DEMO_INSTANCE_PATH`` the instance folder). With ``ESCALATED_ENABLE_REALTIME=1`` in the
environment the app is built with real-time updates, and when it then carries a Flask-SocketIO
server (``app.extensions["socketio"]``) that server runs it; otherwise Werkzeug serves it,
threaded. The browser tests (``tests/e2e``) start the demo this way.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Flask
from werkzeug.serving import run_simple

from .app import create_app

TRUE = frozenset({"1", "true", "yes", "on"})


def config_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Config switches the environment may flip for a served demo."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    realtime = environ.get("ESCALATED_ENABLE_REALTIME")
    if realtime is not None:
        config["ESCALATED_ENABLE_REALTIME"] = realtime.strip().lower() in TRUE
    return config


def build_app() -> Flask:
    return create_app(config_from_env() or None)


def serve(app: Flask, host: str, port: int) -> None:
    """Run ``app`` until interrupted: through Flask-SocketIO if the app has it."""
    socketio = app.extensions.get("socketio")
    if socketio is not None:
        socketio.run(app, host=host, port=port, use_reloader=False, debug=False,
                     allow_unsafe_werkzeug=True)
    else:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the flask-escalated demo app.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args(argv)
    serve(build_app(), args.host, args.port)


if __name__ == "__main__":
    main()
