"""Agent profiles: who is an agent or admin when the host does not decide itself."""

from __future__ import annotations

from sqlalchemy import select

from ..events import Actor
from ..models import AgentProfile
from . import audit, session
from .errors import ValidationError
from .permissions import SYSTEM_ROLES


def make_agent(user_id: object, actor: Actor, *, role: str = "agent") -> AgentProfile:
    """Create or update the agent profile of a host user; ``role`` is a system or custom role."""
    from .roles import role_exists

    if not role_exists(role):
        raise ValidationError(f"Unknown role '{role[:60]}'.",
                              {"role": f"one of {', '.join(SYSTEM_ROLES)} or a custom role"})
    uid = str(user_id)
    profile = session().execute(
        select(AgentProfile).where(AgentProfile.user_id == uid)
    ).scalar_one_or_none()
    old = None
    if profile is None:
        profile = AgentProfile(user_id=uid, role=role, is_active=True)
        session().add(profile)
    else:
        old = {"role": profile.role, "is_active": profile.is_active}
        profile.role, profile.is_active = role, True
    session().flush()
    audit.log(actor, "agent.saved", "agent", uid, old=old,
              new={"role": role, "is_active": True})
    return profile


def list_agents() -> list[AgentProfile]:
    return list(
        session().execute(
            select(AgentProfile).where(AgentProfile.is_active.is_(True)).order_by(AgentProfile.user_id)
        ).scalars()
    )
