"""The API tests' seeded world (one of everything the API addresses), for the fuzzer."""

from ..web_api.conftest import bearer, ext, make_ticket, world  # noqa: F401  (fixtures)
