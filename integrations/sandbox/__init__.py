"""Sandbox servers that speak SuperOps' GraphQL API and QuickBooks Online's REST API over
real HTTP, serve a simulated world from a dump folder, and misbehave on demand.

    sandbox = Sandbox.from_dump(dir)            # the world and its fault switches
    with serve(sandbox) as base_url: ...        # threaded HTTP server on 127.0.0.1
    sandbox.handle(request)                     # the same handlers, in-process

The package is also a Django app (apps.SandboxConfig) for its commands; the names above are
imported on first use, so loading the app does not load the servers and graphql-core.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .faults import Faults
    from .server import Sandbox, SandboxServer, serve

__all__ = ["Faults", "Sandbox", "SandboxServer", "serve"]


def __getattr__(name: str):
    if name == "Faults":
        from .faults import Faults

        return Faults
    if name in ("Sandbox", "SandboxServer", "serve"):
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
