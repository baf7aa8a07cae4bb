"""Offset pagination shared by list endpoints."""

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

MAX_PAGE_SIZE = 200


class PageParams(BaseModel):
    offset: int
    limit: int


def _page(
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageParams:
    return PageParams(offset=offset, limit=limit)


PageDep = Annotated[PageParams, Depends(_page)]
