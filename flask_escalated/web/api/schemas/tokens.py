"""API tokens."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ....services.permissions import ABILITIES
from ._base import Body, Out, UserRef
from .common import Paged, Timestamp

ABILITY_NAMES = tuple(ABILITIES)


class TokenCreate(Body):
    name: Annotated[str, Field(min_length=1, max_length=120, examples=["CI bot"])]
    abilities: Annotated[list[Literal[ABILITY_NAMES]],  # type: ignore[valid-type]
                         Field(max_length=len(ABILITIES))] | None = Field(
        None, description="Default ['*'].")
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    user_id: UserRef | None = Field(None, description="Admins: someone else's token.")


class TokenList(Paged):
    """Keyset paged, newest first. Without ``api_token.manage`` only your own tokens."""

    user_id: UserRef | None = Field(None, description="Only this owner's tokens (admins: "
                                    "anyone's; others: their own).")


# ---------------------------------------------------------------------------- responses
class TokenOut(Out):
    id: int
    name: str
    user_id: str
    prefix: str = Field(description="The token's first characters, to recognise it.")
    abilities: list[str]
    expires_at: Timestamp
    last_used_at: Timestamp
    revoked_at: Timestamp
    created_at: Timestamp


class NewTokenOut(TokenOut):
    token: str = Field(description="The plain token: shown this once, stored only hashed.")


class TokenPage(Out):
    data: list[TokenOut]
    next_cursor: str | None
    abilities: list[str] = Field(description="Every ability a token may be given.")


class NewTokenEnvelope(Out):
    data: NewTokenOut
