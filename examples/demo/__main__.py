"""Start the demo server: ``python -m examples.demo [--host 127.0.0.1] [--port 5000]``.

With ``ESCALATED_ENABLE_REALTIME=1`` it serves Socket.IO (WebSocket included, through
simple-websocket) from werkzeug's threading server, which Flask-SocketIO accepts here only
because this is a demo (``allow_unsafe_werkzeug``). Other settings come from the environment:
``DATABASE_URL``, ``REDIS_URL``, ``SOCKETIO_MESSAGE_QUEUE``, ``DEMO_INSTANCE_PATH``.
"""

from __future__ import annotations

import argparse
import os

from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.demo",
                                     description="Serve the flask-escalated demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args(argv)
    app = create_app()
    socketio = app.extensions.get("socketio")
    print(f"Serving the demo on http://{args.host}:{args.port}"
          f" (live updates {'on' if socketio else 'off'})", flush=True)
    if socketio is not None:
        socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True,
                     use_reloader=False)
    else:
        app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
