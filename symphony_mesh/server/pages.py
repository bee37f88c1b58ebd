"""Pagination of list RPCs (federation.md API-4).

A page token is opaque to clients: URL-safe base64 of `<list kind>\\0<last name>`. Lists are ordered
by name, so the next page starts after the last name of this one. A token for another list, or
one that does not decode, is `INVALID_ARGUMENT INVALID_PAGE_TOKEN`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

from symphony_mesh.errors import InvalidArgumentError

__all__ = ["decode_page_token", "encode_page_token", "page_size", "split_page"]

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(requested: int) -> int:
    """0 (or negative) means 100; more than 1000 means 1000."""
    if requested <= 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def encode_page_token(kind: str, last_name: str) -> str:
    """The token of the page that follows `last_name`."""
    return base64.urlsafe_b64encode(f"{kind}\0{last_name}".encode()).decode()


def decode_page_token(kind: str, token: str) -> str:
    """The name after which the page starts; `""` for the first page."""
    if not token:
        return ""
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    token_kind, sep, last_name = decoded.partition("\0")
    if not sep or token_kind != kind:
        raise InvalidArgumentError("invalid page token", "INVALID_PAGE_TOKEN")
    return last_name


def split_page(
    rows: Sequence[T], limit: int, kind: str, name_of: Callable[[T], str]
) -> tuple[Sequence[T], str]:
    """This page's rows and the next page's token, from `limit + 1` rows fetched by name."""
    if len(rows) <= limit:
        return rows, ""
    return rows[:limit], encode_page_token(kind, name_of(rows[limit - 1]))
