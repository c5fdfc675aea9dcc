"""Knowledge-base categories, articles and search."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ....models.kb import KB_STATUSES, KB_VISIBILITIES
from ....services.kb import MAX_BODY, MAX_TAGS, MAX_TITLE_FILTER
from ....services.kb_search import MAX_QUERY_LENGTH
from ._base import Body, Id, Out, Position, Query, absent
from .common import Paged, Timestamp

KbStatus = Literal[KB_STATUSES]  # type: ignore[valid-type]
KbVisibility = Literal[KB_VISIBILITIES]  # type: ignore[valid-type]
CategoryName = Annotated[str, Field(min_length=1, max_length=120, examples=["Printers"])]
KbSlug = Annotated[str, Field(min_length=1, max_length=140, examples=["printer-triage"])]
Title = Annotated[str, Field(min_length=1, max_length=255, examples=["Printer triage"])]
Markdown = Annotated[str, Field(max_length=MAX_BODY, examples=["Check the **cable**."])]
KbTags = Annotated[list[Annotated[str, Field(min_length=1, max_length=50)]],
                   Field(max_length=MAX_TAGS)]


class CategoryCreate(Body):
    name: CategoryName
    slug: KbSlug | None = Field(None, description="Default: from the name.")
    description: Annotated[str, Field(max_length=2000)] | None = None
    parent_id: Id | None = Field(None, description="A top-level category, or null.")
    position: Position = absent()


class CategoryUpdate(CategoryCreate):
    name: CategoryName = absent()


class ArticleCreate(Body):
    title: Title
    body: Markdown = Field(description="Markdown.")
    slug: KbSlug | None = Field(None, description="Default: from the title.")
    category_id: Id | None = None
    status: KbStatus = absent(description="published needs kb.publish.")
    visibility: KbVisibility = absent()
    tags: KbTags = absent()


class ArticleUpdate(ArticleCreate):
    title: Title = absent()
    body: Markdown = absent()


class ArticleList(Paged):
    status: KbStatus | None = Field(None, description="Agents.")
    visibility: KbVisibility | None = Field(None, description="Agents.")
    category_id: Annotated[int, Field(ge=1, le=2**62)] | None = None
    q: Annotated[str, Field(max_length=MAX_TITLE_FILTER)] | None = Field(
        None, description="Only articles whose title contains this text (any case); "
                          "/kb/search ranks published articles by their full text.")


class KbSearch(Query):
    # Required, but a blank one is the service's 422 after the 404 of a switched-off knowledge
    # base (the composer probes with ?q= to learn whether there is one).
    q: Annotated[str, Field(max_length=MAX_QUERY_LENGTH)] | None = Field(
        None, description="Words to look for (required).")
    limit: Annotated[int, Field(ge=1, le=50)] = 10


# ---------------------------------------------------------------------------- responses
class CategoryOut(Out):
    id: int
    name: str
    slug: str
    description: str | None
    parent_id: int | None
    position: int
    created_at: Timestamp
    updated_at: Timestamp


class CategoryEnvelope(Out):
    data: CategoryOut


class CategoryList(Out):
    data: list[CategoryOut]


class ArticleOut(Out):
    """An article in a list; one article also carries its body."""

    id: int
    title: str
    slug: str
    category_id: int | None
    status: KbStatus
    visibility: KbVisibility
    tags: list[str]
    url: str = Field(json_schema_extra={"format": "uri-reference"},
                     description="The article's public page.")
    view_count: int
    helpful_count: int
    not_helpful_count: int
    author_user_id: str | None
    published_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
    body: str = absent(description="One article only: the Markdown.")
    body_html: str = absent(description="One article only: the rendered, cleaned HTML.")


class ArticleEnvelope(Out):
    data: ArticleOut


class ArticlePage(Out):
    data: list[ArticleOut]
    next_cursor: str | None


class SearchHitOut(Out):
    id: int
    title: str
    slug: str
    url: str = Field(json_schema_extra={"format": "uri-reference"})
    snippet: str
    visibility: KbVisibility


class SearchResults(Out):
    data: list[SearchHitOut]
