"""Three host shapes (DESIGN §3): integer ids with Flask-Login (the default test host), UUID ids
with Flask-Login, and a host without Flask-Login that answers through hooks only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, request
from flask_login import FlaskLoginClient, LoginManager, UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from flask_escalated import Escalated
from flask_escalated.events import Actor
from flask_escalated.models import metadata as escalated_metadata
from flask_escalated.services import agents

pytestmark = pytest.mark.all_databases


class UuidBase(DeclarativeBase):
    pass


class UuidUser(UserMixin, UuidBase):
    __tablename__ = "uuid_host_users"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True,
                                    default=lambda: str(uuid.uuid4()))
    email: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(255))


class HookBase(DeclarativeBase):
    pass


class Person(HookBase):
    """A host user with no Flask-Login at all; the host says who is signed in via a header."""

    __tablename__ = "hook_host_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(sa.String(80))
    staff: Mapped[bool] = mapped_column(default=False)
    boss: Mapped[bool] = mapped_column(default=False)


class Isolated(FlaskLoginClient):
    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _empty(engine: sa.Engine, *metas: sa.MetaData) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "mysql":
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for meta in metas:
            for table in reversed(meta.sorted_tables):
                conn.execute(table.delete())
        if engine.dialect.name == "mysql":
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")


@pytest.fixture
def uuid_host(database_url, tmp_path):
    db = SQLAlchemy(model_class=UuidBase)
    app = Flask("uuid_host")
    app.config.update(SECRET_KEY="x", TESTING=True, SQLALCHEMY_DATABASE_URI=database_url,
                      ESCALATED_ATTACHMENT_STORAGE=str(tmp_path))
    app.test_client_class = Isolated
    db.init_app(app)
    manager = LoginManager(app)
    manager.user_loader(lambda uid: db.session.get(UuidUser, uid))
    Escalated(app, db=db)
    with app.app_context():
        UuidBase.metadata.create_all(db.engine)
        yield app, db
        db.session.remove()
        _empty(db.engine, escalated_metadata, UuidBase.metadata)
        db.engine.dispose()


@pytest.fixture
def hook_host(database_url, tmp_path):
    db = SQLAlchemy(model_class=HookBase)
    app = Flask("hook_host")
    app.config.update(SECRET_KEY="x", TESTING=True, SQLALCHEMY_DATABASE_URI=database_url,
                      ESCALATED_ATTACHMENT_STORAGE=str(tmp_path))
    db.init_app(app)
    calls = {"users_loader": 0}

    def current() -> Person | None:
        handle = request.headers.get("X-Person")
        return db.session.execute(sa.select(Person).where(Person.handle == handle)).scalar() \
            if handle else None

    def many(ids: list[str]) -> dict[str, Person]:
        calls["users_loader"] += 1
        rows = db.session.execute(sa.select(Person).where(Person.id.in_([int(i) for i in ids])))
        return {str(p.id): p for p in rows.scalars()}

    Escalated(
        app, db=db,
        current_user_loader=current,
        user_loader=lambda uid: db.session.get(Person, int(uid)),
        users_loader=many,
        agent_check=lambda p: p.staff,
        admin_check=lambda p: p.boss,
        user_display=lambda p: (f"@{p.handle}", None),
    )
    with app.app_context():
        HookBase.metadata.create_all(db.engine)
        yield app, db, calls
        db.session.remove()
        _empty(db.engine, escalated_metadata, HookBase.metadata)
        db.engine.dispose()


def test_uuid_host(uuid_host):
    app, db = uuid_host
    customer = UuidUser(email="c@example.test", name="Cleo")
    agent = UuidUser(email="a@example.test", name="Ari")
    db.session.add_all([customer, agent])
    db.session.commit()
    with app.extensions["escalated"].unit_of_work():
        agents.make_agent(agent.id, Actor.system())
    c = app.test_client(user=customer)
    r = c.post("/support/api/v1/tickets", json={"subject": "Hi", "description": "UUIDs!"})
    assert r.status_code == 201, r.json
    assert r.json["data"]["requester"] == {"type": "user", "id": customer.id, "name": "Cleo",
                                           "email": "c@example.test"}
    ref = r.json["data"]["reference"]
    a = app.test_client(user=agent)
    assert a.post(f"/support/api/v1/tickets/{ref}/replies", json={"body": "Hello"}).status_code \
        == 201
    assert a.post(f"/support/api/v1/tickets/{ref}/assign",
                  json={"assignee_id": agent.id}).json["data"]["assignee"]["name"] == "Ari"
    # A deleted host user renders as a placeholder, never an error.
    db.session.delete(agent)
    db.session.commit()
    r = c.get(f"/support/api/v1/tickets/{ref}")
    assert r.status_code == 200
    assert r.json["data"]["assignee"]["name"] == "Deleted user"
    replies = c.get(f"/support/api/v1/tickets/{ref}/replies").json["data"]
    assert replies[0]["author"]["name"] == "Deleted user"


def test_hook_host_without_flask_login(hook_host):
    app, db, calls = hook_host
    db.session.add_all([Person(handle="cus"), Person(handle="ag", staff=True),
                        Person(handle="boss", staff=True, boss=True)])
    db.session.commit()
    client = app.test_client()

    def as_(handle: str) -> dict[str, str]:
        return {"X-Person": handle}

    assert client.get("/support/api/v1/tickets").status_code == 401
    for i in range(4):
        r = client.post("/support/api/v1/tickets", headers=as_("cus"),
                        json={"subject": f"T{i}", "description": "d"})
        assert r.status_code == 201, r.json
    me = client.get("/support/api/v1/me", headers=as_("ag")).json["data"]
    assert me["is_agent"] and not me["is_admin"] and me["user"]["name"] == "@ag"
    assert client.get("/support/api/v1/me", headers=as_("boss")).json["data"]["is_admin"]
    calls["users_loader"] = 0
    listing = client.get("/support/api/v1/tickets", headers=as_("ag")).json["data"]
    assert len(listing) == 4 and {t["requester"]["name"] for t in listing} == {"@cus"}
    assert calls["users_loader"] == 1  # one bulk call per page, not one per row
    ref = listing[0]["reference"]
    r = client.post(f"/support/api/v1/tickets/{ref}/replies", headers=as_("ag"),
                    json={"body": "on it"})
    assert r.status_code == 201 and r.json["data"]["author"]["name"] == "@ag"
    assert client.delete(f"/support/api/v1/tickets/{ref}", headers=as_("ag")).status_code == 403
    assert client.delete(f"/support/api/v1/tickets/{ref}", headers=as_("boss")).status_code == 204
