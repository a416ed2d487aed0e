"""HTTP client for the QuickBooks Online Accounting API (httpx): the query endpoint with
STARTPOSITION paging, Change Data Capture, single reads; minorversion 75; 500 requests a
minute and 10 at once per realm; a 401 refreshes the access token once and tries again.

python-quickbooks is not used: it wraps each entity in an object model and uses requests
with its own session and token handling, while the sync needs the raw JSON bodies (the
mapping functions read the payloads as documented), CDC deletions as plain stubs, our retry
and throttle policy, and a client the sandbox can serve over httpx. intuit-oauth does the
OAuth part (oauth.py)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx

from integrations.conf import setting
from integrations.sync.errors import (
    AccessTokenExpired,
    ChangedSinceTooOld,
    PermanentError,
    RateLimited,
    TransientError,
)
from integrations.sync.retry import throttle_for, with_retries

from .oauth import TokenSource

MAX_RESULTS = 1000
# One INFO line per request would drown a sync of thousands of pages.
logging.getLogger("httpx").setLevel(logging.WARNING)
_semaphores: dict[str, threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()


@contextmanager
def _slot(realm_id: str, limit: int):
    """At most `limit` requests in flight per realm in this process (Intuit allows 10)."""
    with _semaphores_lock:
        semaphore = _semaphores.setdefault(f"{realm_id}:{limit}", threading.BoundedSemaphore(limit))
    with semaphore:
        yield


def _fault_text(response: httpx.Response) -> str:
    try:
        body = json.loads(response.content, parse_float=Decimal)
        fault = body.get("Fault") or body.get("fault") or {}
        errors = fault.get("Error") or fault.get("error") or []
        return "; ".join(f"{e.get('Message') or e.get('message')} ({e.get('Detail') or e.get('detail')})"
                         for e in errors) or response.text[:200]
    except ValueError:
        return response.text[:200]


class QuickBooksClient:
    def __init__(self, realm_id: str, tokens: TokenSource | None = None, base_url: str | None = None,
                 timeout: float | None = None, transport: httpx.BaseTransport | None = None):
        self.realm_id = realm_id
        self.tokens = tokens or TokenSource(realm_id)
        self.base = (base_url or setting("QUICKBOOKS_API_BASE")).rstrip("/") + f"/v3/company/{realm_id}"
        self.minor_version = str(setting("QUICKBOOKS_MINOR_VERSION"))
        self.http = httpx.Client(timeout=timeout or setting("QUICKBOOKS_TIMEOUT_SECONDS"), transport=transport,
                                 headers={"Accept": "application/json"})
        self.throttle = throttle_for(f"quickbooks:{realm_id}", setting("QUICKBOOKS_REQUESTS_PER_MINUTE"))
        self.concurrency = setting("QUICKBOOKS_MAX_CONCURRENT")
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, params: dict) -> dict:
        refreshed = False

        def attempt() -> dict:
            nonlocal refreshed
            try:
                return self._get(path, params)
            except AccessTokenExpired:
                if refreshed:
                    raise PermanentError(f"QuickBooks refused a freshly refreshed token for company {self.realm_id}; "
                                         "connect it again") from None
                refreshed = True
                self.tokens.after_401(self._last_token)
                return self._get(path, params)

        return with_retries(attempt, f"QuickBooks {path}")

    def _get(self, path: str, params: dict) -> dict:
        self._last_token = self.tokens.current()
        self.throttle.wait()
        self.requests += 1
        try:
            with _slot(self.realm_id, self.concurrency):
                response = self.http.get(f"{self.base}/{path}", params={**params, "minorversion": self.minor_version},
                                         headers={"Authorization": f"Bearer {self._last_token}"})
        except httpx.TimeoutException as exc:
            raise TransientError(f"QuickBooks did not answer in time ({exc.__class__.__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"QuickBooks connection failed: {exc.__class__.__name__}") from exc
        status = response.status_code
        if status == 200:
            try:
                return json.loads(response.content, parse_float=Decimal)
            except ValueError as exc:
                raise TransientError("QuickBooks sent a body that is not JSON") from exc
        if status == 401:
            raise AccessTokenExpired("QuickBooks access token expired")
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise RateLimited("QuickBooks throttled the request (HTTP 429)",
                              float(retry_after) if retry_after and retry_after.isdigit() else None)
        if status >= 500:
            raise TransientError(f"QuickBooks answered HTTP {status}")
        text = _fault_text(response)
        if path == "cdc" and "30 days" in text:
            raise ChangedSinceTooOld(text)
        if status == 400 and "Object Not Found" in text:
            raise LookupError(text)
        raise PermanentError(f"QuickBooks refused {path} (HTTP {status}): {text}")

    def query_pages(self, entity: str, updated_after: str | None = None) -> Iterator[tuple[list[dict], str]]:
        """(records, server time) for each page of SELECT * FROM entity, 1,000 at a time."""
        where = f" WHERE MetaData.LastUpdatedTime > '{updated_after}'" if updated_after else ""
        size = min(setting("QUICKBOOKS_PAGE_SIZE"), MAX_RESULTS)
        start = 1
        while True:
            statement = f"SELECT * FROM {entity}{where} STARTPOSITION {start} MAXRESULTS {size}"
            body = self.get("query", {"query": statement})
            records = (body.get("QueryResponse") or {}).get(entity) or []
            yield records, body.get("time", "")
            if len(records) < size:
                return
            start += size

    def cdc(self, entity: str, changed_since: str) -> tuple[list[dict], str]:
        """Changed and deleted records of one entity since changed_since (at most 1,000)."""
        body = self.get("cdc", {"entities": entity, "changedSince": changed_since})
        records: list[dict] = []
        for block in body.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                records.extend(response.get(entity) or [])
        return records, body.get("time", "")

    def read(self, entity: str, record_id: str) -> dict | None:
        """One record, or None when QuickBooks no longer has it."""
        try:
            body = self.get(f"{entity.lower()}/{record_id}", {})
        except LookupError:
            return None
        return body.get(entity)
