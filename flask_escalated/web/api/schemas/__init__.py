"""The API's declared contract: one module per resource, each a set of pydantic v2 models.

The models validate every request body and query string (strict, unknown fields refused) and
generate the schemas of ``openapi.json``.
"""

from ._base import (
    Body,
    Empty,
    EmptyQuery,
    Query,
    UnknownField,
    optional_body,
    parse_body,
    parse_form,
    parse_query,
    validate,
)

__all__ = ["Body", "Empty", "EmptyQuery", "Query", "UnknownField", "optional_body",
           "parse_body", "parse_form", "parse_query", "validate"]
