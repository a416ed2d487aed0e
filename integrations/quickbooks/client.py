"""HTTP client for the QuickBooks Online Accounting API (httpx): the query endpoint with
STARTPOSITION paging, Change Data Capture, single reads; minorversion 75; 500 requests a
minute and 10 at once per realm; a 401 refreshes the access token once and tries again.
The host is Intuit's sandbox or production one as QUICKBOOKS_ENVIRONMENT says, unless
QUICKBOOKS_API_BASE names another (our own sandbox).

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
from integrations.sync.errors import AccessTokenExpired, PermanentError, RateLimited, TransientError
from integrations.sync.retry import throttle_for, with_retries

from .oauth import TokenSource

MAX_RESULTS = 1000
API_HOSTS = {"sandbox": "https://sandbox-quickbooks.api.intuit.com", "production": "https://quickbooks.api.intuit.com"}
# Intuit answers a query for these with the active records only unless it names Active.
HIDES_INACTIVE = ("Customer", "Item", "Employee")
# Full reads page in a fixed order (a record's Id never changes), so an edit during the read
# does not move records between pages.
FULL_ORDER = "Id"
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


def api_base() -> str:
    """The Accounting API host: QUICKBOOKS_API_BASE when set, else Intuit's host for
    QUICKBOOKS_ENVIRONMENT (sandbox or production)."""
    explicit = str(setting("QUICKBOOKS_API_BASE") or "").strip()
    if explicit:
        return explicit
    environment = str(setting("QUICKBOOKS_ENVIRONMENT") or "").strip().lower()
    if environment in API_HOSTS:
        return API_HOSTS[environment]
    raise PermanentError(f"QUICKBOOKS_ENVIRONMENT {environment!r} is neither 'sandbox' nor 'production': "
                         "set QUICKBOOKS_API_BASE to the Accounting API host it stands for")


def select(entity: str, conditions: list[str] | None = None, order: str | None = None,
           start: int | None = None, size: int | None = None) -> str:
    """One query statement. Customer, Item and Employee queries always name Active, so
    inactive records (a churned client's customer, a technician who left) are listed too."""
    conditions = list(conditions or [])
    if entity in HIDES_INACTIVE:
        conditions.insert(0, "Active IN (true, false)")
    text = f"SELECT * FROM {entity}"
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    if order:
        text += f" ORDERBY {order}"
    if start is not None:
        text += f" STARTPOSITION {start} MAXRESULTS {size}"
    return text


def quoted(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


class QuickBooksClient:
    def __init__(self, realm_id: str, tokens: TokenSource | None = None, base_url: str | None = None,
                 timeout: float | None = None, transport: httpx.BaseTransport | None = None):
        self.realm_id = realm_id
        self.tokens = tokens or TokenSource(realm_id)
        self.base = (base_url or api_base()).rstrip("/") + f"/v3/company/{realm_id}"
        self.minor_version = str(setting("QUICKBOOKS_MINOR_VERSION"))
        self.http = httpx.Client(timeout=timeout or setting("QUICKBOOKS_TIMEOUT_SECONDS"), transport=transport,
                                 headers={"Accept": "application/json"})
        self.throttle = throttle_for(f"quickbooks:{realm_id}", setting("QUICKBOOKS_REQUESTS_PER_MINUTE"))
        self.concurrency = setting("QUICKBOOKS_MAX_CONCURRENT")
        self.requests = 0
        self.server_time = ""  # the "time" of QuickBooks' latest answer

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
                body = json.loads(response.content, parse_float=Decimal)
            except ValueError as exc:
                raise TransientError("QuickBooks sent a body that is not JSON") from exc
            if isinstance(body, dict) and body.get("time"):
                self.server_time = str(body["time"])
            return body
        if status == 401:
            raise AccessTokenExpired("QuickBooks access token expired")
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise RateLimited("QuickBooks throttled the request (HTTP 429)",
                              float(retry_after) if retry_after and retry_after.isdigit() else None)
        if status >= 500:
            raise TransientError(f"QuickBooks answered HTTP {status}")
        text = _fault_text(response)
        if status == 400 and "Object Not Found" in text:
            raise LookupError(text)
        raise PermanentError(f"QuickBooks refused {path} (HTTP {status}): {text}")

    def query_pages(self, entity: str, updated_after: str | None = None) -> Iterator[tuple[list[dict], str]]:
        """(records, server time) for each page of SELECT * FROM entity, 1,000 at a time:
        every record (inactive ones included), or those changed after `updated_after`.

        A changed-since read pages newest first: a record edited while the pages are read
        moves to the front, so later pages shift back and repeat a record rather than skip
        one (oldest first, the edit would pull the rest forward and a record would fall
        between two pages)."""
        conditions = [f"MetaData.LastUpdatedTime > {quoted(updated_after)}"] if updated_after else []
        order = "MetaData.LastUpdatedTime DESC" if updated_after else FULL_ORDER
        size = min(setting("QUICKBOOKS_PAGE_SIZE"), MAX_RESULTS)
        start = 1
        while True:
            body = self.get("query", {"query": select(entity, conditions, order, start, size)})
            records = (body.get("QueryResponse") or {}).get(entity) or []
            yield records, body.get("time", "")
            if len(records) < size:
                return
            start += size

    def by_ids(self, entity: str, ids: list[str]) -> list[dict]:
        """The records of these ids QuickBooks still has (inactive ones included)."""
        found: list[dict] = []
        for start in range(0, len(ids), 100):
            chunk = ids[start:start + 100]
            statement = select(entity, [f"Id IN ({', '.join(quoted(i) for i in chunk)})"], None, 1, MAX_RESULTS)
            body = self.get("query", {"query": statement})
            found.extend((body.get("QueryResponse") or {}).get(entity) or [])
        return found

    def current_time(self, entity: str) -> str:
        """QuickBooks' own clock: the time of its latest answer, or of a count query when
        this client has had none yet (our clock may differ from Intuit's)."""
        if not self.server_time:
            self.get("query", {"query": f"SELECT COUNT(*) FROM {entity}"})
        return self.server_time

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
