"""Tags: the catalogue and tagging tickets."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..events import Actor, record
from ..models import Tag, Ticket
from . import activity, audit, cache, committed_one, deletion, savepoint, session, sla, tickets
from .errors import Conflict, NotFound, ValidationError

#: Runs of what is neither a letter nor a digit (of any script) become one dash.
_NON_SLUG = re.compile(r"[\W_]+")


def slugify(name: str) -> str:
    """The slug of a tag, department or skill name: accents folded ("Café" is ``cafe``,
    "Straße" ``strasse``), letters and digits of every script kept ("日本語" stays), the rest
    one dash; at most 80 characters."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", name.casefold())
                     if not unicodedata.combining(c))
    return _NON_SLUG.sub("-", folded).strip("-")[:80].strip("-")


def _clean_names(names: Iterable[object], field: str = "tags") -> list[str]:
    """The names with their spaces tidied. A refusal names ``field``, the request's field the
    names came in (``tags`` on a ticket, ``name`` in the catalogue), and says what is wrong: a
    name such as "!!!" is a non-empty string, but leaves nothing to make a slug from."""
    clean: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name.strip() or len(name) > 80:
            raise ValidationError(
                "Tags must be non-empty strings of at most 80 characters.", {field: "invalid"}
            )
        if not slugify(name):
            raise ValidationError(
                "A tag needs at least one letter or digit to make its slug from.",
                {field: "needs a letter or a digit"},
            )
        clean.append(" ".join(name.split()))
    return clean


def ensure_tags(names: Iterable[object]) -> list[Tag]:
    """The tags named, created if missing (one query to find, one insert per new tag)."""
    clean = _clean_names(names)
    by_slug = {slugify(n): n for n in clean}
    db = session()
    found = {slug: cache.attach(db, tag) for slug, tag in _known(list(by_slug)).items()}
    for slug, name in by_slug.items():
        if slug not in found:
            try:
                with savepoint():
                    tag = Tag(name=name, slug=slug)
                    db.add(tag)
            except IntegrityError:
                tag = committed_one(select(Tag).where(Tag.slug == slug))
            found[slug] = tag
    return [found[s] for s in by_slug]


def _known(slugs: list[str]) -> dict[str, Tag]:
    """The existing tags among ``slugs``, as detached copies from the process cache (a tag
    found once is kept; a slug not found is asked for again next time)."""
    found: dict[str, Tag] = {}
    missing = []
    for slug in slugs:
        tag = cache.peek(f"tag:{slug}")
        if tag is None:
            missing.append(slug)
        else:
            found[slug] = tag
    if missing:
        with Session(bind=session().connection(), expire_on_commit=False) as own:
            for tag in own.execute(select(Tag).where(Tag.slug.in_(missing))).scalars():
                found[tag.slug] = tag
            own.expunge_all()
        for slug in missing:
            if slug in found:
                cache.put(f"tag:{slug}", found[slug])
    return found


def add_tags(ticket: Ticket, names: Iterable[object], actor: Actor) -> list[Tag]:
    added = [t for t in ensure_tags(names) if t not in ticket.tags]
    for tag in added:
        ticket.tags.append(tag)
        activity.record(ticket, "tag_added", actor, tag=tag.slug)
        record(session(), "tag_added", actor=actor, ticket=ticket, tag=tag)
    if added:
        tickets.touch(ticket)
        sla.reconsider(ticket)
    return added


def remove_tags(ticket: Ticket, names: Iterable[object], actor: Actor) -> list[Tag]:
    slugs = {slugify(n) for n in _clean_names(names)}
    removed = [t for t in ticket.tags if t.slug in slugs]
    for tag in removed:
        ticket.tags.remove(tag)
        activity.record(ticket, "tag_removed", actor, tag=tag.slug)
        record(session(), "tag_removed", actor=actor, ticket=ticket, tag=tag)
    if removed:
        tickets.touch(ticket)
        sla.reconsider(ticket)
    return removed


def set_tags(ticket: Ticket, names: Iterable[object], actor: Actor) -> list[Tag]:
    wanted = ensure_tags(names)
    remove_tags(ticket, [t.name for t in ticket.tags if t not in wanted], actor)
    add_tags(ticket, [t.name for t in wanted], actor)
    return list(ticket.tags)


# ---------------------------------------------------------------------------- catalogue
def list_tags() -> list[Tag]:
    return list(session().execute(select(Tag).order_by(Tag.slug)).scalars())


def create_tag(actor: Actor, name: object, color: object = None) -> Tag:
    (clean,) = _clean_names([name], "name")
    slug = slugify(clean)
    db = session()
    if db.execute(select(Tag.id).where(Tag.slug == slug)).first():
        raise Conflict(f"A tag '{slug}' already exists.", {"name": "taken"})
    tag = Tag(name=clean, slug=slug, color=_color(color))
    db.add(tag)
    db.flush()
    audit.log(actor, "tag.created", "tag", tag.id, new={"name": tag.name, "color": tag.color})
    return tag


def update_tag(actor: Actor, tag_id: int, name: object = None, color: object = None) -> Tag:
    tag = get_tag(tag_id)
    old = {"name": tag.name, "color": tag.color}
    if name is not None:
        (clean,) = _clean_names([name], "name")
        _name_free(tag, clean)
        tag.name = clean
    if color is not None:
        tag.color = _color(color)
    audit.log(actor, "tag.updated", "tag", tag.id, old=old,
              new={"name": tag.name, "color": tag.color})
    return tag


def _name_free(tag: Tag, name: str) -> None:
    """Refuse a rename to a name another tag goes by, as :func:`create_tag` refuses a new one:
    its slug, which tagging a ticket by that name finds, or its very name (a tag keeps the slug
    it was created with, so a renamed one may be called what its slug does not say)."""
    slug = slugify(name)
    clash = session().execute(
        select(Tag.id).where(or_(Tag.slug == slug, Tag.name == name), Tag.id != tag.id)
    ).first()
    if clash:
        raise Conflict(f"A tag '{slug}' already exists.", {"name": "taken"})


def delete_tag(actor: Actor, tag_id: int) -> None:
    tag = get_tag(tag_id)
    audit.log(actor, "tag.deleted", "tag", tag.id, old={"name": tag.name, "slug": tag.slug})
    deletion.delete_with_dependants(tag)


def get_tag(tag_id: int) -> Tag:
    tag = session().get(Tag, tag_id)
    if tag is None:
        raise NotFound("No such tag.")
    return tag


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _color(value: object) -> str:
    if value is None:
        return "#6b7280"
    if not isinstance(value, str) or not _COLOR.match(value):
        raise ValidationError("Colours are #rrggbb.", {"color": "expected #rrggbb"})
    return value.lower()
