"""The demo: ``python -m examples.demo [--host 127.0.0.1] [--port 5000]`` serves it, and
``python -m examples.demo <command> ...`` runs a ``flask`` command against it (``escalated
--help``, ``escalated make-admin you@example.com``, ``routes`` ...), the same as
``flask --app examples.demo.app <command> ...``.

It serves with werkzeug's threading server (WebSocket included, through simple-websocket, when
``ESCALATED_ENABLE_REALTIME=1``). That server is for development; instead of werkzeug's
start-up warning about production deployments, which reads like an error, the demo prints one
line saying so. Other settings come from the environment: ``DATABASE_URL``, ``REDIS_URL``,
``SOCKETIO_MESSAGE_QUEUE``, ``DEMO_INSTANCE_PATH``, ``PORT``.
"""

from __future__ import annotations

import argparse
import os
import sys

from .app import create_app

PROG = "python -m examples.demo"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and not argv[0].startswith("-"):
        run_command(argv)
        return
    parser = argparse.ArgumentParser(
        prog=PROG, description="Serve the flask-escalated demo, or run a flask command "
        f"against it: {PROG} escalated --help.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args(argv)
    serve(args.host, args.port)


def run_command(argv: list[str]) -> None:
    """Hand ``argv`` to Flask's command line, with the demo as the app."""
    from flask.cli import FlaskGroup

    FlaskGroup(create_app=lambda: create_app()).main(args=argv, prog_name=PROG)


def serve(host: str, port: int) -> None:
    """Serve the demo until interrupted, without werkzeug's production warning."""
    from werkzeug.serving import make_server

    _fewer_malloc_arenas()
    app = create_app()
    live = app.extensions.get("socketio") is not None
    # The Socket.IO middleware is already part of app.wsgi_app; werkzeug's request handler
    # hands simple-websocket the connection, so one plain threaded server serves both.
    server = make_server(host, port, app, threaded=True)
    print(f"Serving the demo on http://{host}:{port} (live updates {'on' if live else 'off'};"
          " werkzeug's development server, fine for the demo, not for production). "
          "Ctrl+C stops it.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas, as ``MALLOC_ARENA_MAX=2`` would: the threading server runs
    each request on a new thread, and glibc's default of eight arenas per core leaves each
    thread's freed memory in an arena of its own (a few MB of resident memory). The same
    setting suits any threaded deployment (see the README's *Deploying*)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: nothing to cap
        pass


if __name__ == "__main__":
    main()
