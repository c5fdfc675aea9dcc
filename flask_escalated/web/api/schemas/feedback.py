"""Feedback a customer or a visitor gives: a satisfaction rating, a yes/no on an article."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ._base import Body

#: A satisfaction rating: 1 (terrible) to 5 (excellent).
Stars = Annotated[int, Field(ge=1, le=5, examples=[5])]
#: The optional comment beside a rating (the satisfaction service's own limit).
RatingComment = Annotated[str, Field(max_length=2000, examples=["Quick and kind."])]


class RatingIn(Body):
    """Rate the help on a ticket (once)."""

    rating: Stars
    comment: RatingComment | None = None


class ArticleVote(Body):
    """Whether a knowledge-base article helped (the page's two buttons)."""

    helpful: Literal["yes", "no"]
