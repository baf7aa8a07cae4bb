"""Connection tests of a server configuration: each leg checked by the mail adapters' probes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from postdesk.db import utcnow
from postdesk.net.guard import NetworkGuard
from postdesk.servers.models import IncomingProtocol, ServerType
from postdesk.servers.schemas import ConnectionTestResult, LegResult

if TYPE_CHECKING:
    from postdesk.servers.service import ServerConfig

DEFAULT_TIMEOUT = 10.0


async def test_connection(config: ServerConfig, *, guard: NetworkGuard, timeout: float) -> ConnectionTestResult:
    raise NotImplementedError
