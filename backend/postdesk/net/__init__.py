"""Outbound network safety: hosts typed in by company admins are vetted here before we connect."""

from postdesk.net.guard import HostNotAllowed, NetworkGuard, VettedHost

__all__ = ["HostNotAllowed", "NetworkGuard", "VettedHost"]
