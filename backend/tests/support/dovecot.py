"""A real Dovecot (IMAP + POP3) on 127.0.0.1 for tests, run from a private directory.

    server = DovecotServer.start(certificates)        # one per test session
    address, password = server.new_user()            # a fresh, empty mailbox
    await server.deliver(address, raw_bytes)
    server.imap_port, server.imaps_port, server.pop3_port, server.pop3s_port
    server.stop()

IMAP and POP3 offer STARTTLS/STLS on the plain ports and implicit TLS on the `*s` ports, with the
certificate from `tests.support.certs`. The runner itself is `postdesk.sandbox.dovecot` (shared with
`postdesk sandbox`); this adds throw-away directories and ready-made users.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from postdesk.sandbox.dovecot import Dovecot
from tests.support.certs import TestCertificates


@dataclass
class DovecotServer(Dovecot):
    spare_users: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def start(cls, certificates: TestCertificates, *, spare_users: int = 60) -> DovecotServer:  # type: ignore[override]
        # Not under pytest's tmp dir: that is root-only, and Dovecot's mail processes run as `mail`.
        root = Path(tempfile.mkdtemp(prefix="postdesk-dovecot-"))
        # Users known before start: Dovecot notices passwd-file changes only once a second.
        users = [
            (f"agent-{secrets.token_hex(4)}@example.test", secrets.token_urlsafe(12)) for _ in range(spare_users)
        ]
        try:
            running = Dovecot.start(
                root, users=users, tls=(certificates.cert_file, certificates.key_file),
                greeting="Postdesk test Dovecot ready.",
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cls(
            root=running.root, config_file=running.config_file, imap_port=running.imap_port,
            pop3_port=running.pop3_port, imaps_port=running.imaps_port, pop3s_port=running.pop3s_port,
            spare_users=users,
        )  # fmt: skip

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def new_user(self) -> tuple[str, str]:
        """(address, password) of a user nobody used yet: an empty mailbox, usable at once."""
        if self.spare_users:
            return self.spare_users.pop()
        user = (f"agent-{secrets.token_hex(4)}@example.test", secrets.token_urlsafe(12))
        self.add_user(*user)
        time.sleep(1.1)
        return user

    async def _doveadm(self, *args: str, stdin: bytes | None = None) -> bytes:  # kept for older callers
        return await self.doveadm(*args, stdin=stdin)
