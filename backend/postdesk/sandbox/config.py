"""Where the sandbox listens and which mailboxes it has (no server imports: the CLI reads this cheaply)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEMO_MAILBOX = "support@sandbox.test"
CATCH_ALL = "sent-by-postdesk@sandbox.test"
PASSWORD = "sandbox"  # loopback only, printed on start: a demo, not a secret
DEFAULT_PORTS = {"smtp": 2525, "imap": 1143, "pop3": 1110}
STATE_FILE = "sandbox.json"


@dataclass(frozen=True)
class SandboxInfo:
    """Where the running sandbox listens (also written to `STATE_FILE` for `send-samples`)."""

    host: str
    smtp_port: int
    imap_port: int
    pop3_port: int
    mailbox: str = DEMO_MAILBOX
    catch_all: str = CATCH_ALL
    password: str = PASSWORD


def running_sandbox(directory: Path) -> SandboxInfo | None:
    """The sandbox running from `directory`, as it described itself on start (None if not running)."""
    try:
        return SandboxInfo(**json.loads((directory / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None
