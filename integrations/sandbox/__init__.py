"""Sandbox servers that speak SuperOps' GraphQL API and QuickBooks Online's REST API over
real HTTP, serve a simulated world from a dump folder, and misbehave on demand.

    sandbox = Sandbox.from_dump(dir)            # the world and its fault switches
    with serve(sandbox) as base_url: ...        # threaded HTTP server on 127.0.0.1
    sandbox.handle(request)                     # the same handlers, in-process
"""

from .faults import Faults  # noqa: F401
from .server import Sandbox, SandboxServer, serve  # noqa: F401
