"""The request and response the sandbox handlers speak, independent of any server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""

    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    delay: float = 0.0  # answer only after this many seconds

    @classmethod
    def json(cls, status: int, payload, **headers: str) -> Response:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers})
