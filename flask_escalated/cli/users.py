"""``flask escalated make-agent|make-admin|create-api-token``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click
from flask import current_app

from ..clock import now
from ..events import Actor
from ..hosts import user_id_of
from ..services import agents, ext, tokens
from ..services.errors import ServiceError
from ..services.permissions import ABILITIES
from .group import escalated_cli


def resolve_user(ident: str) -> tuple[str, Any]:
    """A host user by id, or by e-mail through the ``user_by_email`` hook. When the app gives
    Escalated no way to look the user up, the error says which hook to add."""
    escalated = ext()
    user = None
    if "@" in ident:
        if escalated.hooks.user_by_email is None:
            raise click.ClickException(
                f"Cannot look up '{ident}': finding users by e-mail needs the user_by_email "
                "hook (README, 'Your users'):\n\n"
                "    @escalated.user_by_email\n"
                "    def user_by_email(email):\n"
                "        return User.query.filter_by(email=email).first()\n\n"
                "or pass the user's id instead.")
        user = escalated.find_user_by_email(ident)
    else:
        if escalated.hooks.user_loader is None and not _login_manager_loads_users():
            raise click.ClickException(
                f"Cannot look up user '{ident}': Escalated loads users by id through "
                "Flask-Login's user_loader or its own user_loader hook, and this app has "
                "neither (README, 'Your users').")
        user = escalated.load_user(ident)
    if user is None:
        raise click.ClickException(f"No host user '{ident}'.")
    uid = user_id_of(user)
    assert uid is not None
    return uid, user


def _login_manager_loads_users() -> bool:
    manager = getattr(current_app, "login_manager", None)
    return getattr(manager, "_user_callback", None) is not None


def _make(ident: str, role: str) -> None:
    uid, _ = resolve_user(ident)
    try:
        with ext().unit_of_work():
            agents.make_agent(uid, Actor.system(), role=role)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"User {uid} is now {'an admin' if role == 'admin' else 'an agent'} ({role}).")


@escalated_cli.command("make-agent")
@click.argument("user")
@click.option("--role", type=click.Choice(["agent", "light_agent"]), default="agent",
              show_default=True)
def make_agent(user: str, role: str) -> None:
    """Make USER (id or e-mail) an agent."""
    _make(user, role)


@escalated_cli.command("make-admin")
@click.argument("user")
def make_admin(user: str) -> None:
    """Make USER (id or e-mail) an Escalated admin."""
    _make(user, "admin")


@escalated_cli.command("create-api-token")
@click.option("--user", "user_ident", required=True, help="Host user id or e-mail.")
@click.option("--name", required=True, help="What the token is for.")
@click.option("--ability", "abilities", multiple=True, type=click.Choice(sorted(ABILITIES)),
              help="Repeat for several; default '*'. The owner's own rights still apply.")
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None)
def create_api_token(
    user_ident: str, name: str, abilities: tuple[str, ...], expires_in_days: int | None
) -> None:
    """Create an API token. The plain token is printed once, alone on the last line."""
    uid, _ = resolve_user(user_ident)
    expires = now() + timedelta(days=expires_in_days) if expires_in_days else None
    try:
        with ext().unit_of_work():
            row, plain = tokens.create_token(
                uid, name, list(abilities) or None, Actor.system(), expires_at=expires
            )
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Token {row.id} '{row.name}' for user {uid}, abilities {', '.join(row.abilities)}"
               + (f", expires {expires:%Y-%m-%d}" if expires else "") + ". Store it now:",
               err=True)
    click.echo(plain)


@escalated_cli.command("seed-demo")
@click.option("--admin", "admins", multiple=True, required=True, help="Host user id or e-mail.")
@click.option("--agent", "agents_", multiple=True, required=True, help="Host user id or e-mail.")
@click.option("--customer", "customers", multiple=True, required=True,
              help="Host user id or e-mail.")
def seed_demo(admins: tuple[str, ...], agents_: tuple[str, ...],
              customers: tuple[str, ...]) -> None:
    """Create demo departments and tickets in every state (once)."""
    from ..services import demo

    def ids(idents: tuple[str, ...]) -> list[str]:
        return [resolve_user(i)[0] for i in idents]

    with ext().unit_of_work():
        count = demo.seed_demo(ids(admins), ids(agents_), ids(customers))
    click.echo(f"Seeded {count} demo tickets." if count else "Demo data already present.")
