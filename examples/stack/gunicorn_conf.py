"""Gunicorn settings for one web process of the stack (``gunicorn -c`` this file).

One worker per gunicorn: Flask-SocketIO keeps a client's long-polling session in the process
that opened it, so more web capacity means more gunicorn processes behind a balancer with
sticky sessions, each with the Redis message queue (``SOCKETIO_MESSAGE_QUEUE``). The worker is
``gthread``: Socket.IO in threading mode serves WebSocket through simple-websocket there.
"""

import os

from flask_escalated import logs

workers = 1
worker_class = "gthread"
threads = int(os.environ.get("STACK_WEB_THREADS", "32"))
# A request longer than this is a bug or a stuck client; the worker is restarted.
timeout = 60
graceful_timeout = 10
# Longer than a client's pause between requests on a kept-alive connection, so the server
# never closes one just as the client sends on it (a balancer in front keeps its own, shorter).
keepalive = 75
accesslog = "-"
# gunicorn's control socket, one per web process (they would share one default path).
control_socket = os.environ.get("STACK_CONTROL_SOCKET", "gunicorn.ctl")
# The request id is the response's X-Request-Id, the same one the app's log lines carry.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'


def post_worker_init(worker):
    logs.configure_logging(os.environ.get("STACK_LOG_FORMAT", "json"))
