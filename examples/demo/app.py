"""The demo host app: its own users and sign-in, with Escalated mounted at /support.

Run it with ``python3 noxfile.py -s demo`` (or ``python -m examples.demo --port 5000``), open
http://127.0.0.1:5000 and sign in as admin@demo.test, agent@demo.test or customer@demo.test
with the password ``demo``.

Environment: ``DATABASE_URL`` and ``REDIS_URL`` pick the database and Redis;
``WEBHOOK_ALLOWED_HOSTS`` lets webhooks reach receivers on this machine; ``MAIL_FROM`` (with
``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_DOMAIN``) sends mail; ``INBOUND_SECRET`` opens the inbound
mail webhook; ``RATE_LIMIT_ENABLED=0`` turns the rate limits off (a load test from one address);
``ESCALATED_ENABLE_REALTIME=1`` turns on live updates over Socket.IO, and
``SOCKETIO_MESSAGE_QUEUE=redis://...`` lets several demo processes share them.
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from flask_escalated import Escalated
from flask_escalated import migrate as escalated_migrate
from flask_escalated.web.security import csrf_token, csrf_valid

db = SQLAlchemy()
login_manager = LoginManager()
escalated = Escalated()

DEMO_PASSWORD = "demo"
DEMO_INSTANCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance")
DEMO_USERS = [
    ("admin@demo.test", "Ada Admin"),
    ("agent@demo.test", "Alex Agent"),
    ("agent2@demo.test", "Sam Support"),
    ("customer@demo.test", "Casey Customer"),
    ("customer2@demo.test", "Robin Requester"),
]


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "demo_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@escalated.users_loader
def load_users(ids: list[str]) -> dict[str, User]:
    numeric = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(User).where(User.id.in_(numeric))).scalars()
    return {str(u.id): u for u in rows}


@escalated.user_by_email
def user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("DEMO_INSTANCE_PATH") or DEMO_INSTANCE)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY") or _instance_secret(app.instance_path),
        # What the README's security notes ask of a host: its session cookie (which carries the
        # CSRF token) is not sent on cross-site requests.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL")
        or "sqlite:///" + os.path.join(app.instance_path, "demo.sqlite"),
        # A connection the database closed (a restart, an idle timeout) is replaced before use
        # instead of failing the request that draws it from the pool.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        ESCALATED_REDIS_URL=os.environ.get("REDIS_URL"),
        ESCALATED_ENABLE_REALTIME=_flag(os.environ.get("ESCALATED_ENABLE_REALTIME")),
        ESCALATED_SOCKETIO_MESSAGE_QUEUE=os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None,
        ESCALATED_APP_NAME="Demo Support",
        ESCALATED_APP_URL=os.environ.get("APP_URL", "http://127.0.0.1:5000"),
        # Other sites that may embed the widget (space-separated origins); the demo's own
        # origin needs no entry.
        ESCALATED_WIDGET_ORIGINS=os.environ.get("WIDGET_ORIGINS", "").split(),
        # Webhook receivers on private addresses the demo may post to (space-separated host
        # names or addresses, e.g. "127.0.0.1" for a receiver on this machine).
        ESCALATED_WEBHOOK_ALLOWED_HOSTS=os.environ.get("WEBHOOK_ALLOWED_HOSTS", "").split(),
        DEMO_SEED=True,
    )
    app.config.update(_mail_settings())
    if os.environ.get("INBOUND_SECRET"):
        app.config["ESCALATED_INBOUND_SECRET"] = os.environ["INBOUND_SECRET"]
    if os.environ.get("RATE_LIMIT_ENABLED"):
        app.config["ESCALATED_RATE_LIMIT_ENABLED"] = _flag(os.environ["RATE_LIMIT_ENABLED"])
    if test_config:
        app.config.update(test_config)
    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "login"
    escalated.init_app(app, db=db)

    app.add_url_rule("/", "home", home)
    app.add_url_rule("/login", "login", escalated.rate_limit("auth")(login),
                     methods=["GET", "POST"])
    app.add_url_rule("/logout", "logout", logout, methods=["POST"])
    app.jinja_env.globals["csrf_token"] = csrf_token

    with app.app_context():
        setup_database(seed=app.config["DEMO_SEED"])
    if not app.testing and not app.config["ESCALATED_REDIS_URL"] \
            and os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        # No Redis: run the periodic jobs (SLA check, escalations, snooze wake-up, ...) in a
        # background thread of this process, so the demo needs nothing else running. Not
        # under `flask ...` commands (Flask sets FLASK_RUN_FROM_CLI): a one-off command has
        # no use for it, and `flask escalated cron` runs the schedule itself.
        from flask_escalated.jobs.schedule import InlineScheduler

        InlineScheduler(app).start()
    return app


def _mail_settings() -> dict[str, Any]:
    """Outbound mail when ``MAIL_FROM`` is set: ``MAIL_SERVER`` and ``MAIL_PORT`` (plain SMTP,
    e.g. a local relay) and ``MAIL_DOMAIN`` for Message-IDs and reply addresses."""
    sender = os.environ.get("MAIL_FROM")
    if not sender:
        return {}
    return {
        "ESCALATED_MAIL_FROM": sender,
        "ESCALATED_MAIL_DOMAIN": os.environ.get("MAIL_DOMAIN") or sender.rpartition("@")[2],
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_DEFAULT_SENDER": sender,
    }


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _instance_secret(instance_path: str) -> str:
    """A per-install secret kept in the instance folder, so sessions survive restarts."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(secrets.token_hex(32))
    with open(path) as fh:
        return fh.read().strip()


def setup_database(seed: bool = True) -> None:
    """Create the host's tables, bring Escalated's to head, and seed the demo once."""
    db.create_all()
    escalated_migrate.upgrade()
    if not seed:
        return
    users = {}
    for email, name in DEMO_USERS:
        user = user_by_email(email)
        if user is None:
            user = User(email=email, name=name,
                        password_hash=generate_password_hash(DEMO_PASSWORD))
            db.session.add(user)
        users[email] = user
    db.session.commit()
    from flask_escalated.services import demo

    with escalated.unit_of_work():
        demo.seed_demo(
            admin_ids=[str(users["admin@demo.test"].id)],
            agent_ids=[str(users["agent@demo.test"].id), str(users["agent2@demo.test"].id)],
            customer_ids=[str(users["customer@demo.test"].id),
                          str(users["customer2@demo.test"].id)],
        )


def home() -> str:
    return render_template("home.html", user=current_user, users=DEMO_USERS,
                           password=DEMO_PASSWORD)


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") \
            and not target.startswith("//"):
        return target
    return url_for("home")


def login() -> Any:
    error = None
    if request.method == "POST":
        if not csrf_valid(request.form.get("csrf_token")):
            abort(400, description="The form expired; reload the page and try again.")
        user = user_by_email(request.form.get("email", ""))
        if user is None or not check_password_hash(user.password_hash,
                                                   request.form.get("password", "")):
            error = "Wrong e-mail or password."
        else:
            session.clear()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error, users=DEMO_USERS,
                           password=DEMO_PASSWORD), 401 if error else 200


def logout() -> Any:
    if not csrf_valid(request.form.get("csrf_token")):
        abort(400)
    logout_user()
    return redirect(url_for("home"))
