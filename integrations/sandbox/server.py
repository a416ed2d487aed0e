"""The sandbox: one object holding the world, the fault switches and the OAuth state, one
`handle(request)` that answers like SuperOps and QuickBooks would, and a threaded HTTP server
on 127.0.0.1 that puts it on a real socket.

One sandbox can hold several QuickBooks companies (`add_company`), as one Intuit app is
connected to several realms: a request to /v3/company/<realm>/... sees that realm's world as
`sandbox.world` (per request thread), and the consent screen hands out `consent_realm`. Each
company has its own rotating refresh token (`refresh_token` is the current company's), so
refreshing one company's tokens does not revoke another's. The SuperOps API and everything
outside a request see the first world."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx

from . import quickbooks_api, superops_api
from .faults import Faults
from .http import Request, Response
from .world import World


class Sandbox:
    def __init__(self, world: World, superops_token: str = "sandbox-token", superops_subdomain: str = "sandbox",
                 qb_client_id: str = "sandbox-client", qb_client_secret: str = "sandbox-secret",
                 faults: Faults | None = None):
        self._local = threading.local()
        self._refresh: dict[str, str] = {}  # company (realm) -> its newest refresh token
        self._code_realm: dict[str, str] = {}  # authorization code -> the company consented to
        self.worlds: dict[str, World] = {}
        self.world = world  # the first company, and the SuperOps tenant
        self.consent_realm = world.realm_id  # the company the next OAuth consent picks
        self.superops_token = superops_token
        self.superops_subdomain = superops_subdomain
        self.qb_client_id = qb_client_id
        self.qb_client_secret = qb_client_secret
        self.faults = faults or Faults()
        self.cdc_limit = quickbooks_api.CDC_LIMIT  # objects in one CDC answer
        self.lock = threading.RLock()
        self.oauth_codes: dict[str, str] = {}
        self.access_tokens: dict[str, str] = {}  # access token -> the realm it was issued for
        self.refresh_token: str | None = None
        self.refreshes = 0
        self.api_requests = 0  # SuperOps and QuickBooks API requests, faulted ones included
        self.served = {"superops": 0, "quickbooks": 0}  # answered with data
        self.faults_served: dict[str, int] = {}
        self.endpoints: dict[str, int] = {}  # answered API requests by kind: graphql, query, cdc, read
        self._token_expired_once = False
        self._windows = {"superops": deque(), "quickbooks": deque()}
        self._cache: dict[tuple, tuple] = {}
        self.on_request: Callable[[int], None] | None = None  # called with api_requests (tests kill here)

    @classmethod
    def from_dump(cls, directory: str | Path, **kwargs) -> Sandbox:
        return cls(World.load(directory), **kwargs)

    # --- QuickBooks companies
    @property
    def world(self) -> World:
        realm = getattr(self._local, "realm", None)
        return self.worlds.get(realm, self._default) if realm else self._default

    @world.setter
    def world(self, world: World) -> None:
        self._default = world
        self.worlds[world.realm_id] = world

    def add_company(self, world: World) -> None:
        """Serve another QuickBooks company (its own realm id, records and clock)."""
        if world.realm_id in self.worlds:
            raise ValueError(f"the sandbox already serves realm {world.realm_id}")
        self.worlds[world.realm_id] = world

    @property
    def refresh_token(self) -> str | None:
        """The newest refresh token of the company answering now (the first one outside a request)."""
        return self._refresh.get(getattr(self._local, "realm", None) or self._default.realm_id)

    @refresh_token.setter
    def refresh_token(self, value: str | None) -> None:
        realm = getattr(self._local, "realm", None) or self._default.realm_id
        if value is None:
            self._refresh.pop(realm, None)
        else:
            self._refresh[realm] = value

    def _token_realm(self, request: Request) -> str | None:
        """The company a token request is for: the one the code was given for, or the one
        whose newest refresh token it presents (None: a stale or unknown token)."""
        form = {k: v[0] for k, v in parse_qs(request.body.decode(errors="replace")).items()}
        if form.get("grant_type") == "authorization_code":
            return self._code_realm.get(form.get("code", ""))
        presented = form.get("refresh_token")
        return next((realm for realm, token in self._refresh.items() if token == presented), None)

    @contextlib.contextmanager
    def as_realm(self, realm: str | None) -> Iterator[None]:
        """Answer as this company: `world` is its world until the block ends (this thread)."""
        before = getattr(self._local, "realm", None)
        self._local.realm = realm
        try:
            yield
        finally:
            self._local.realm = before

    # --- OAuth state
    def issue_tokens(self) -> tuple[str, str]:
        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = getattr(self._local, "realm", None) or self._default.realm_id
        self.refresh_token = refresh
        return access, refresh

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def cached(self, key: tuple, make: Callable[[], list]) -> list:
        """One remembered result per list (key[0]); any change to the world changes the key."""
        slot = (getattr(self._local, "realm", None), key[0])  # each company's lists apart
        with self.lock:
            found = self._cache.get(slot)
            if found is None or found[0] != key:
                found = self._cache[slot] = (key, make())
            return found[1]

    def note(self, fault: str) -> None:
        with self.lock:
            self.faults_served[fault] = self.faults_served.get(fault, 0) + 1

    # --- malformed records (fault switch)
    def malformed_superops(self, query: str) -> list[dict]:
        return superops_api.malformed(self.world, query, self.faults.malformed) if self.faults.malformed else []

    def malformed_quickbooks(self, entity: str) -> list[dict]:
        return quickbooks_api.malformed(self.world, entity, self.faults.malformed) if self.faults.malformed else []

    # --- dispatch
    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path == "/msp":
            return self._api("superops", request, lambda: superops_api.handle(self, request))
        if path.startswith("/v3/company/"):
            parts = path.split("/", 4)
            if len(parts) < 5:
                return Response.json(404, {"message": "not found"})
            # An unknown realm keeps the first world, whose realm check refuses it.
            with self.as_realm(parts[3] if parts[3] in self.worlds else None):
                return self._api("quickbooks", request,
                                 lambda: quickbooks_api.api(self, request, parts[3], parts[4]))
        if path == "/.well-known/openid_configuration":
            return quickbooks_api.discovery(self, request)
        if path == "/oauth2/v1/authorize":
            with self.as_realm(self.consent_realm):
                response = quickbooks_api.authorize(self, request)
            code = dict(parse_qsl(urlsplit(response.headers.get("Location", "")).query)).get("code")
            if code:
                self._code_realm[code] = self.consent_realm
            return response
        if path == "/oauth2/v1/tokens/bearer":
            with self.as_realm(self._token_realm(request)):
                return quickbooks_api.token(self, request)
        if path == "/oauth2/v1/tokens/revoke":
            return Response.json(200, {})
        return Response.json(404, {"message": f"no sandbox endpoint at {request.path}"})

    def _api(self, api: str, request: Request, answer: Callable[[], Response]) -> Response:
        with self.lock:
            self.api_requests += 1
            number = self.api_requests
            action = self.faults.action(number)
            over = self._over_limit(api)
            if api == "quickbooks" and self.faults.expire_token_after and not self._token_expired_once \
                    and number > self.faults.expire_token_after:
                self._token_expired_once = True
                self.access_tokens.clear()
        if self.on_request:
            self.on_request(number)
        if over:
            action = "rate"
        if action:
            self.faults_served[action] = self.faults_served.get(action, 0) + 1
        if action == "drop":
            return Response(0, drop=True)
        if action == "error":
            return Response.json(503, {"message": "Service Unavailable"})
        if action == "rate":
            return superops_api.rate_limited() if api == "superops" else quickbooks_api.rate_limited()
        response = answer()
        if response.status == 200:
            self.served[api] += 1
            kind = "graphql" if api == "superops" else request.path.rstrip("/").rsplit("/", 2)[-1]
            kind = kind if kind in ("graphql", "query", "cdc") else "read"
            self.endpoints[kind] = self.endpoints.get(kind, 0) + 1
        if action == "slow":
            response.delay = self.faults.slow_seconds
        return response

    def _over_limit(self, api: str) -> bool:
        limit = self.faults.superops_per_minute if api == "superops" else self.faults.quickbooks_per_minute
        if not limit:
            return False
        window, now = self._windows[api], time.monotonic()
        while window and window[0] < now - 60:
            window.popleft()
        if len(window) >= limit:
            return True
        window.append(now)
        return False

    # --- webhooks
    def webhook_body(self, events: list[dict], style: str = "legacy") -> bytes:
        """QuickBooks' legacy eventNotifications payload, or the CloudEvents array. A Merge
        event carries the merged entity's id as `deletedId` (CloudEvents: data.deletedid)."""
        if style == "legacy":
            by_realm: dict[str, list] = {}
            for event in events:
                by_realm.setdefault(event["realmId"], []).append(
                    {k: event[k] for k in ("name", "id", "operation", "lastUpdated", "deletedId") if k in event})
            payload = {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": entities}}
                                              for realm, entities in by_realm.items()]}
        else:
            operations = {"Create": "created", "Update": "updated", "Delete": "deleted", "Merge": "merged",
                          "Void": "voided", "Emailed": "emailed"}
            payload = [{"specversion": "1.0", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(e, sort_keys=True))),
                        "source": "intuit.sandbox", "type": f"qbo.{e['name'].lower()}.{operations[e['operation']]}.v1",
                        "datacontenttype": "application/json", "time": e["lastUpdated"],
                        "intuitentityid": e["id"], "intuitaccountid": e["realmId"],
                        "data": {"deletedid": e["deletedId"]} if e.get("deletedId") else {}}
                       for e in events]
        return json.dumps(payload).encode()

    @staticmethod
    def sign(body: bytes, verifier_token: str) -> str:
        return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()

    def post_webhook(self, url: str, events: list[dict], verifier_token: str | None, style: str = "legacy",
                     signature: str | None = None) -> httpx.Response:
        """Sign (unless verifier_token is None) and POST events to the app, as Intuit does."""
        body = self.webhook_body(events, style)
        headers = {"Content-Type": "application/cloudevents-batch+json" if style != "legacy" else "application/json"}
        if signature is not None:
            headers["intuit-signature"] = signature
        elif verifier_token is not None:
            headers["intuit-signature"] = self.sign(body, verifier_token)
        return httpx.post(url, content=body, headers=headers, timeout=30)


# --- the HTTP server
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sandbox: Sandbox  # set on the subclass made per server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, dict(parse_qsl(parts.query)),
                          {k.lower(): v for k, v in self.headers.items()}, body)
        response = self.sandbox.handle(request)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if response.delay:
            time.sleep(response.delay)
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            self.close_connection = True

    do_GET = do_POST = _serve

    def log_message(self, format, *args) -> None:  # noqa: A002 - quiet by default
        pass


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0):
        handler = type("BoundHandler", (_Handler,), {"sandbox": sandbox})
        super().__init__((host, port), handler)
        self.sandbox = sandbox

    def handle_error(self, request, client_address) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return  # a client that gave up or was killed: expected under the fault switches
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@contextlib.contextmanager
def serve(sandbox: Sandbox, port: int = 0) -> Iterator[str]:
    """Run the sandbox on 127.0.0.1 in a background thread; yields its base URL."""
    server = SandboxServer(sandbox, port=port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()


class SandboxTransport(httpx.BaseTransport):
    """The same handlers in-process, for tests that need no socket."""

    def __init__(self, sandbox: Sandbox, timeout: float = 5.0):
        self.sandbox = sandbox
        self.timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        response = self.sandbox.handle(Request(
            request.method, request.url.path, dict(request.url.params),
            {k.lower(): v for k, v in request.headers.items()}, body))
        if response.drop:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if response.delay >= self.timeout:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(response.status, headers=response.headers, content=response.body, request=request)
