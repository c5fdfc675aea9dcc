"""The console's API tokens: everyone's, filtered by owner, and revoked with a confirmation.

People make their own tokens (``POST /api/v1/api-tokens``, ``flask escalated
create-api-token``); the console is where an admin sees them all and revokes one, through
:func:`...services.tokens.revoke` as ``DELETE /api/v1/api-tokens/<id>`` does. Tokens are kept
as hashes, so no page can show one: only the first characters people tell them apart by.

The list is keyset paged and filtered by the API's own query schema
(:class:`..api.schemas.tokens.TokenList`); owners are named with one bulk user lookup a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, url_for
from markupsafe import Markup

from ...clock import now
from ...models import ApiToken
from ...services import serializers, tokens
from ...services.errors import NotFound
from ..api.schemas.tokens import TokenList
from ..forms import FieldSpec
from .crud import Column, Page, Resource, link, register

PERMISSION = "api_token.manage"


@dataclass(frozen=True)
class TokenRow:
    """A token and its owner as the host names them (``None``: no such user any more)."""

    token: ApiToken
    owner: dict[str, Any] | None

    @property
    def id(self) -> int:
        return self.token.id

    @property
    def owner_label(self) -> str:
        return _label(self.owner, self.token.user_id)


def _label(person: dict[str, Any] | None, user_id: str) -> str:
    """How a page names a host user: name, else e-mail, else the id."""
    person = person or {}
    return person.get("name") or person.get("email") or f"user {user_id}"


def _with_owners(rows: list[ApiToken]) -> list[TokenRow]:
    people = serializers.People({t.user_id for t in rows})
    return [TokenRow(t, people.user(t.user_id)) for t in rows]


def _rows(filters: TokenList, cursor: Any, limit: int) -> Page:
    before = cursor if isinstance(cursor, int) and not isinstance(cursor, bool) else None
    rows = tokens.list_tokens(filters.user_id, before=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(_with_owners(rows), rows[-1].id if more and rows else None)


def _load(ident: int) -> TokenRow:
    row = tokens.get_token(ident)
    if row is None:
        raise NotFound("No such token.")
    return _with_owners([row])[0]


def _filter_specs() -> list[FieldSpec]:
    owners = tokens.owners()
    people = serializers.People(owners)
    choices = [(uid, _label(people.user(uid), uid)) for uid in owners]
    return [FieldSpec("user_id", "Owner", widget="select", choices=choices,
                      blank="— everyone —", max_length=64)]


def state(token: ApiToken) -> str:
    """``revoked``, ``expired`` or ``active``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now():
        return "expired"
    return "active"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "—"


def _owner(row: TokenRow) -> Markup:
    """The owner, linking to the list of their tokens."""
    return Markup('<a href="{}">{}</a>').format(
        url_for(API_TOKENS.endpoint("list"), user_id=row.token.user_id), row.owner_label)


def _state(row: TokenRow) -> Markup:
    current = state(row.token)
    when = {"revoked": row.token.revoked_at, "expired": row.token.expires_at}.get(current)
    return Markup('<span class="esc-status esc-token-{}">{}</span>{}').format(
        current, current, Markup(" {}").format(_when(when)) if when is not None else "")


API_TOKENS = Resource(
    name="api-tokens", label="API tokens", singular="token", view=PERMISSION,
    delete_permission=PERMISSION, load=_load, serialize=lambda row: {},
    title=lambda row: row.token.name, rows=_rows, filters=TokenList,
    filter_specs=_filter_specs,
    columns=[Column("Name", link("api-tokens", lambda r: r.token.name)),
             Column("Owner", _owner),
             Column("Starts with", lambda r: r.token.token_prefix + "…"),
             Column("Abilities", lambda r: ", ".join(r.token.abilities or [])),
             Column("Last used", lambda r: _when(r.token.last_used_at)),
             Column("Expires", lambda r: _when(r.token.expires_at)),
             Column("State", _state)],
    delete=lambda actor, ident: tokens.revoke(ident, actor),
    delete_words=("revoke", "revoked"),
    deletable=lambda row: row.token.revoked_at is None,
    form_template="escalated/admin/api_token.html",
    context=lambda row: {"token_state": state(row.token)} if row is not None else {},
    intro="Everyone's API tokens, newest first. People make their own from the API; a "
          "revoked token stops working at once. Tokens are stored hashed: only their first "
          "characters can be shown.")


def register_all(bp: Blueprint) -> None:
    register(bp, API_TOKENS)
