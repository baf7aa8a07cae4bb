"""Events: what happened in a company, fanned out to every API process's WebSocket clients.

Application code calls `publish()` (buffered until commit, see postdesk.uow); the bus delivers.
"""

from postdesk.uow import Event, publish

__all__ = ["Event", "publish"]
