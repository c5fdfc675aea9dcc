"""JSON API v1: API tokens — everyone manages their own; admins manage all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, jsonify

from ...clock import now
from ...models import ApiToken
from ...services import ext, tokens
from ...services.errors import NotFound, PermissionDenied, ValidationError
from ...services.permissions import ABILITIES
from ...services.serializers import iso
from ..security import current_principal, via_token
from .base import keyset_page, route
from .commit import committed
from .schemas import parse_body, parse_query
from .schemas.tokens import NewTokenEnvelope, TokenCreate, TokenList, TokenPage


def _token(t: ApiToken) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "user_id": t.user_id, "prefix": t.token_prefix,
            "abilities": t.abilities, "expires_at": iso(t.expires_at),
            "last_used_at": iso(t.last_used_at), "revoked_at": iso(t.revoked_at),
            "created_at": iso(t.created_at)}


@route("/api-tokens", ["GET"], summary="Your API tokens (admins: everyone's), newest first",
       tag="API tokens", paged=True, query=TokenList, response=TokenPage)
def list_tokens() -> Response:
    principal = current_principal()
    owner = parse_query(TokenList).user_id
    if not principal.can("api_token.manage"):
        if owner is not None and owner != principal.user_id:
            raise PermissionDenied("Only admins list other people's tokens.")
        owner = principal.user_id
    return keyset_page("api-tokens", lambda before, limit: tokens.list_tokens(
        owner, before=before, limit=limit), _token, abilities=sorted(ABILITIES))


@route("/api-tokens", ["POST"], summary="Create a token; the plain token is shown once",
       tag="API tokens", status=201,
       body=TokenCreate, response=NewTokenEnvelope)
def create_token() -> tuple[Response, int]:
    principal = current_principal()
    if via_token():
        raise PermissionDenied("Tokens are created from a signed-in session, not with a token.")
    data = parse_body(TokenCreate)
    owner = data.user_id or str(principal.user_id)
    if owner != principal.user_id:
        if not principal.can("api_token.manage"):
            raise PermissionDenied("Only admins create tokens for other people.")
        if ext().load_user(owner) is None:
            raise ValidationError(f"No user '{owner[:40]}'.", {"user_id": "unknown"})
    days = data.expires_in_days
    with committed():
        row, plain = tokens.create_token(
            owner, data.name, data.abilities, principal.actor,
            expires_at=now() + timedelta(days=days) if days else None)
    return jsonify({"data": {**_token(row), "token": plain}}), 201


@route("/api-tokens/<int:token_id>", ["DELETE"], summary="Revoke a token", tag="API tokens",
       status=204)
def revoke_token(token_id: int) -> tuple[str, int]:
    principal = current_principal()
    row = tokens.get_token(token_id)
    if row is None or (row.user_id != principal.user_id
                       and not principal.can("api_token.manage")):
        raise NotFound("No such token.")
    with committed():
        tokens.revoke(row.id, principal.actor)
    return "", 204
