"""Errors services raise. Each carries the HTTP status and code the web layer answers with."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(ServiceError):
    status = 422
    code = "validation_error"


class UnknownField(ServiceError):
    """A key the operation does not take: refused, never ignored (a typo must not turn into a
    silent wrong action)."""

    status = 422
    code = "unknown_field"

    def __init__(self, message: str, names: list[str]) -> None:
        super().__init__(message, {name: "unknown field" for name in names})
        #: Every unknown key, in the order sent (``error.unknown_fields`` in the answer).
        self.names = names


def refuse_unknown(keys: Iterable[str], known: Collection[str], path: str) -> None:
    """Raise :class:`UnknownField` naming each of ``keys`` not in ``known`` by its path
    (``f"{path}.{key}"``, e.g. ``conditions.all[0].valeu``)."""
    names = [f"{path}.{key}" for key in keys if key not in known]
    if names:
        raise UnknownField(f"Unknown key{'s' if len(names) > 1 else ''}: {', '.join(names)}.",
                           names)


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class PermissionDenied(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class StaleVersion(Conflict):
    code = "stale_version"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class StorageFull(ServiceError):
    """Attachment storage has no room left: nothing was saved, try again once it has."""

    status = 507
    code = "insufficient_storage"


class StorageUnavailable(ServiceError):
    """Attachment storage could not be written (a network volume gone, a read-only disk)."""

    status = 503
    code = "storage_unavailable"
