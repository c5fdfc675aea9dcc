"""The benchmark's host app: integer user ids, Flask-Login, a bulk ``users_loader``.

A copy of the test host (``tests/hosts/intid.py``) so ``bench`` does not import the test suite.
The generator fills ``host_users`` with the agents and customers it invents.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import LoginManager, UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from flask_escalated import Escalated

db = SQLAlchemy()


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "host_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))


def create_app(config: dict[str, Any]) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="bench-secret", SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False})
    app.config.update(config)
    db.init_app(app)
    manager = LoginManager(app)

    @manager.user_loader
    def load(user_id: str) -> User | None:
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    escalated = Escalated()

    @escalated.user_by_email
    def by_email(email: str) -> User | None:
        return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()

    @escalated.users_loader
    def load_many(ids: list[str]) -> dict[str, User]:
        numeric = [int(i) for i in ids if i.isdigit()]
        rows = db.session.execute(select(User).where(User.id.in_(numeric))).scalars()
        return {str(u.id): u for u in rows}

    escalated.init_app(app, db=db)
    return app
