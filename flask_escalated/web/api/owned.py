"""The show, create, change and delete routes of a resource people own: personal to its author
or shared (canned responses, saved views).

Such resources differ in what they hold, not in how the API handles one: the service decides
who may see and change a row (its ``get``, ``create``, ``update`` and ``remove`` take the
principal), the view only parses, commits and serializes. One declaration keeps the four
operations alike, so a fix to one reaches every owned resource.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import Response, jsonify
from pydantic import BaseModel

from ...services.permissions import Principal
from ..security import current_principal
from .base import route
from .commit import committed
from .schemas import parse_body
from .schemas._base import Body


class OwnedService(Protocol):
    """What a service module offers for an owned resource."""

    def get(self, principal: Principal, item_id: object) -> Any: ...

    def create(self, principal: Principal, data: Mapping[str, Any]) -> Any: ...

    def update(self, principal: Principal, item_id: object, data: Mapping[str, Any]) -> Any: ...

    def remove(self, principal: Principal, item_id: object) -> None: ...


@dataclass(frozen=True)
class OwnedResource:
    """One owned resource's API: ``path`` is the collection (``/views``), ``id_name`` the id's
    name in the item's rule (and in the OpenAPI document), ``noun`` the endpoints' suffix
    (``create_<noun>``...), ``out`` turns a row into its JSON object."""

    path: str
    id_name: str
    noun: str
    tag: str
    service: OwnedService
    out: Callable[[Any], dict[str, Any]]
    create_body: type[Body]
    update_body: type[Body]
    envelope: type[BaseModel]
    #: Guard of the show route, and of the create, update and delete routes.
    read_permission: str
    write_permission: str
    #: Summaries by operation: ``create``, ``show``, ``update``, ``delete``.
    summaries: dict[str, str]
    #: Checks a parsed body's changes beyond its schema (filters read through another model).
    check: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda data: data)


def _named(view: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``view`` under its endpoint's name (the OpenAPI operation id and ``url_for``'s name)."""
    view.__name__ = view.__qualname__ = name
    return view


def add_owned_routes(res: OwnedResource) -> None:
    """Register ``POST <path>``, and ``GET``, ``PATCH`` and ``DELETE <path>/<id>``."""
    item = f"{res.path}/<int:{res.id_name}>"

    def create() -> tuple[Response, int]:
        data = res.check(parse_body(res.create_body).changes())
        with committed():
            row = res.service.create(current_principal(), data)
        return jsonify({"data": res.out(row)}), 201

    def show(**ids: int) -> Response:
        return jsonify({"data": res.out(res.service.get(current_principal(), ids[res.id_name]))})

    def update(**ids: int) -> Response:
        data = res.check(parse_body(res.update_body).changes())
        with committed():
            row = res.service.update(current_principal(), ids[res.id_name], data)
        return jsonify({"data": res.out(row)})

    def delete(**ids: int) -> tuple[str, int]:
        with committed():
            res.service.remove(current_principal(), ids[res.id_name])
        return "", 204

    route(res.path, ["POST"], summary=res.summaries["create"], tag=res.tag,
          permission=res.write_permission, body=res.create_body, status=201,
          response=res.envelope)(_named(create, f"create_{res.noun}"))
    route(item, ["GET"], summary=res.summaries["show"], tag=res.tag,
          permission=res.read_permission, response=res.envelope)(_named(show, f"show_{res.noun}"))
    route(item, ["PATCH"], summary=res.summaries["update"], tag=res.tag,
          permission=res.write_permission, body=res.update_body,
          response=res.envelope)(_named(update, f"update_{res.noun}"))
    route(item, ["DELETE"], summary=res.summaries["delete"], tag=res.tag,
          permission=res.write_permission, status=204)(_named(delete, f"delete_{res.noun}"))
