"""The demo's server entry point (``python -m examples.demo.serve``)."""

from __future__ import annotations

from examples.demo import serve


def test_realtime_switch_is_read_from_the_environment():
    assert serve.config_from_env({}) == {}
    assert serve.config_from_env({"ESCALATED_ENABLE_REALTIME": "1"}) == {
        "ESCALATED_ENABLE_REALTIME": True}
    assert serve.config_from_env({"ESCALATED_ENABLE_REALTIME": "0"}) == {
        "ESCALATED_ENABLE_REALTIME": False}


def test_serve_uses_socketio_when_the_app_has_it(monkeypatch):
    calls = []

    class FakeSocketIO:
        def run(self, app, **kw):
            calls.append(("socketio", kw["host"], kw["port"]))

    class FakeApp:
        extensions = {"socketio": FakeSocketIO()}

    serve.serve(FakeApp(), "127.0.0.1", 5123)
    monkeypatch.setattr(serve, "run_simple",
                        lambda host, port, app, **kw: calls.append(("werkzeug", host, port,
                                                                    kw["threaded"])))
    FakeApp.extensions = {}
    serve.serve(FakeApp(), "127.0.0.1", 5124)
    assert calls == [("socketio", "127.0.0.1", 5123), ("werkzeug", "127.0.0.1", 5124, True)]
