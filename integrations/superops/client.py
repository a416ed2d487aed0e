"""HTTP client for SuperOps' GraphQL API (httpx): authentication headers, listInfo paging,
the 800-a-minute limit, and errors classified as permanent or transient."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import httpx

from integrations.conf import setting
from integrations.sync.errors import PermanentError, RateLimited, TransientError
from integrations.sync.retry import throttle_for, with_retries

from . import queries

log = logging.getLogger(__name__)
PAGE_SIZE = 100


class QueryRefused(PermanentError):
    """SuperOps answered the request with GraphQL errors (a field, argument or condition it
    does not take). The sync reads a list in full when its incremental condition is refused."""

    def __init__(self, message: str, errors: list[dict]):
        super().__init__(message)
        self.errors = errors
# One INFO line per request would drown a sync of thousands of pages.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Page:
    records: list[dict]
    number: int
    has_more: bool
    total: int | None
    # GraphQL errors SuperOps raised on single records of this page (each nulled in the
    # answer): the page is otherwise good, but the listing is not complete.
    errors: list[dict] = field(default_factory=list)


def record_errors(data: object, errors: list[dict]) -> bool:
    """Whether every error sits inside one record of a list answer (path root, list key,
    index, ...) while the root itself was answered: the rest of the page is usable."""
    if not isinstance(data, dict) or not errors:
        return False
    for error in errors:
        path = error.get("path")
        if not (isinstance(path, list) and len(path) >= 3 and isinstance(path[2], int)
                and isinstance(data.get(str(path[0])), dict)):
            return False
    return True


class SuperOpsClient:
    def __init__(self, url: str | None = None, token: str | None = None, subdomain: str | None = None,
                 timeout: float | None = None, transport: httpx.BaseTransport | None = None):
        self.url = url or setting("SUPEROPS_API_URL")
        self.subdomain = subdomain if subdomain is not None else setting("SUPEROPS_SUBDOMAIN")
        token = token if token is not None else setting("SUPEROPS_API_TOKEN")
        if not token or not self.subdomain:
            raise PermanentError("SuperOps is not configured: set SUPEROPS_API_TOKEN and SUPEROPS_SUBDOMAIN")
        self.http = httpx.Client(
            timeout=timeout or setting("SUPEROPS_TIMEOUT_SECONDS"), transport=transport,
            headers={"Authorization": f"Bearer {token}", "CustomerSubDomain": self.subdomain,
                     "Content-Type": "application/json", "Accept": "application/json"})
        self.throttle = throttle_for(f"superops:{self.subdomain}", setting("SUPEROPS_REQUESTS_PER_MINUTE"))
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def execute(self, document: str, variables: dict) -> dict:
        """The `data` of one GraphQL request, retried through transient failures; any GraphQL
        error refuses it (QueryRefused)."""
        return self.request(document, variables)[0]

    def request(self, document: str, variables: dict, allow_record_errors: bool = False) -> tuple[dict, list[dict]]:
        """`data` and the errors SuperOps raised on single records (only when allowed; any
        other GraphQL error refuses the request)."""
        return with_retries(lambda: self._post(document, variables, allow_record_errors), "SuperOps request")

    def _post(self, document: str, variables: dict, allow_record_errors: bool = False) -> tuple[dict, list[dict]]:
        self.throttle.wait()
        self.requests += 1
        try:
            response = self.http.post(self.url, json={"query": document, "variables": variables})
        except httpx.TimeoutException as exc:
            raise TransientError(f"SuperOps did not answer in time ({exc.__class__.__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"SuperOps connection failed: {exc.__class__.__name__}") from exc
        if response.status_code == 401:
            raise PermanentError("SuperOps refused the API token (HTTP 401): check SUPEROPS_API_TOKEN")
        if response.status_code == 400:
            raise PermanentError(
                f"SuperOps refused the request (HTTP 400); is the subdomain {self.subdomain!r} right? "
                "Check SUPEROPS_SUBDOMAIN")
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("Retry-After")
            cls = RateLimited if response.status_code == 429 else TransientError
            raise cls(f"SuperOps answered HTTP {response.status_code}",
                      float(retry_after) if retry_after and retry_after.isdigit() else None)
        if response.status_code != 200:
            raise PermanentError(f"SuperOps answered HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise TransientError("SuperOps sent a body that is not JSON") from exc
        if not isinstance(body, dict):
            raise TransientError("SuperOps sent a body that is not a JSON object")
        raw = body.get("errors") or []
        errors = [e if isinstance(e, dict) else {"message": str(e)} for e in (raw if isinstance(raw, list) else [raw])]
        codes = {c.get("code") for err in errors if isinstance(err.get("extensions"), dict)
                 for c in err["extensions"].get("clientError") or [] if isinstance(c, dict)}
        if "rate_limit_exceeded" in codes:
            # SuperOps signals its limit with HTTP 200 and an error code, not a 429.
            raise RateLimited("SuperOps rate limit exceeded")
        data = body.get("data") or {}
        if errors and not (allow_record_errors and record_errors(data, errors)):
            shown = "; ".join(str(e.get("message", "?")) for e in errors[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise QueryRefused(f"SuperOps refused the query: {shown}{more}", errors)
        return (data if isinstance(data, dict) else {}), errors

    def vocabulary(self, name: str) -> list[dict]:
        """A tenant vocabulary (getClientStageList, getPriorityList): every entry, unpaged."""
        entries = self.execute(queries.VOCABULARY[name], {}).get(name)
        return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    def pages(self, query: str, updated_after: str | None = None, page_size: int = PAGE_SIZE,
              module: str | None = None, sort: bool = True) -> Iterator[Page]:
        """Every page of a list query (of one module, for worklogs), page 1 on, sorted by id
        unless told not to, until hasMore is false."""
        list_key = queries.LISTS[query].list_key
        document = queries.document(query)
        number = 1
        while True:
            variables = queries.variables(query, number, page_size, updated_after, module, sort)
            answer, errors = self.request(document, variables, allow_record_errors=True)
            data = answer.get(query) if isinstance(answer.get(query), dict) else {}
            info = data.get("listInfo") if isinstance(data.get("listInfo"), dict) else {}
            found = data.get(list_key)
            # None items were nulled by an error (in `errors`); anything else goes to the loader,
            # which sets aside what it cannot read.
            records = [r for r in found if r is not None] if isinstance(found, list) else []
            page = Page(records, number, bool(info.get("hasMore")), info.get("totalCount"), errors)
            yield page
            if not page.has_more:
                return
            number += 1
