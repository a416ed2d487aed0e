"""What the list pages share: whitelisted sorting, paging at 50 rows, and the query string
that keeps a page's filters in its paging and sorting links (the role check is access.py's)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, QueryDict

PER_PAGE = 50


def sort_key(request: HttpRequest, allowed: dict, default: str) -> str:
    """The `sort` parameter if the page allows it ("-" for descending), else `default`."""
    asked = request.GET.get("sort", "")
    return asked if asked.lstrip("-") in allowed else default


def ordering(key: str, allowed: dict, tie: str = "pk") -> list:
    """Order expressions for a whitelisted key: empty values always last, then a tie-breaker
    so a page never shows a row twice or skips one."""
    expression = allowed[key.lstrip("-")]
    term = expression.desc(nulls_last=True) if key.startswith("-") else expression.asc(nulls_last=True)
    return [term, tie]


def page_of(request: HttpRequest, rows, per_page: int = PER_PAGE) -> Page:
    """The asked-for page of `rows` (the last page when past the end, the first when garbled)."""
    return Paginator(rows, per_page).get_page(request.GET.get("page"))


def query_without(request: HttpRequest, *names: str) -> str:
    """The request's query string without `names` (e.g. page, sort), ending in "&" when not
    empty, so a template writes `?{{ keep }}page=2` and the filters survive."""
    query: QueryDict = request.GET.copy()
    for name in names:
        query.pop(name, None)
    for name in [k for k, v in query.items() if v == ""]:
        query.pop(name)
    encoded = query.urlencode()
    return f"{encoded}&" if encoded else ""


def sort_links(request: HttpRequest, allowed: dict, current: str) -> dict:
    """Per column key, the link that sorts by it (reversing when it is already the sort) and
    the arrow to show beside the heading."""
    keep = query_without(request, "sort", "page")
    links = {}
    for key in allowed:
        if current == key:
            links[key] = {"href": f"?{keep}sort=-{key}", "arrow": "▲"}
        elif current == f"-{key}":
            links[key] = {"href": f"?{keep}sort={key}", "arrow": "▼"}
        else:
            links[key] = {"href": f"?{keep}sort=-{key}", "arrow": ""}
    return links
