"""A real Dovecot (IMAP + POP3) on 127.0.0.1 for tests, run from a private directory.

    server = DovecotServer.start(certificates)        # one per test session
    address, password = server.new_user()            # a fresh, empty mailbox
    await server.deliver(address, raw_bytes)
    server.imap_port, server.imaps_port, server.pop3_port, server.pop3s_port
    server.stop()

IMAP and POP3 offer STARTTLS/STLS on the plain ports and implicit TLS on the `*s` ports, with the
certificate from `tests.support.certs`. Users live in a passwd-file, mail in Maildirs.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.certs import TestCertificates
from tests.support.net import free_port

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = postdesk-test-{imap_port}
listen = 127.0.0.1
protocols = imap pop3
ssl = yes
ssl_cert = <{cert_file}
ssl_key = <{key_file}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
pop3_uidl_format = %08Xu%08Xv
login_greeting = Postdesk test Dovecot ready.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = {pop3s_port}
    ssl = yes
  }}
}}
# The auth process cannot reach anvil's penalty socket, which disables the per-IP auth penalty:
# a wrong-password test must not slow down the next test's login.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class DovecotServer:
    root: Path
    config_file: Path
    imap_port: int
    imaps_port: int
    pop3_port: int
    pop3s_port: int
    host: str = "127.0.0.1"
    spare_users: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def start(cls, certificates: TestCertificates, *, spare_users: int = 60) -> DovecotServer:
        # Not under pytest's tmp dir: that is root-only, and Dovecot's mail processes run as `mail`.
        root = Path(tempfile.mkdtemp(prefix="postdesk-dovecot-"))
        root.chmod(0o755)
        for name in ("run", "state", "mail"):
            (root / name).mkdir()
        shutil.chown(root / "mail", "mail", "mail")
        (root / "passwd").touch(0o644)
        ports = {name: free_port() for name in ("imap_port", "imaps_port", "pop3_port", "pop3s_port")}
        config_file = root / "dovecot.conf"
        config_file.write_text(
            _CONFIG.format(
                root=root, cert_file=certificates.cert_file, key_file=certificates.key_file, **ports
            )
        )
        server = cls(root=root, config_file=config_file, **ports)
        # Users known before start: Dovecot notices passwd-file changes only once a second.
        server.spare_users = [
            (f"agent-{secrets.token_hex(4)}@example.test", secrets.token_urlsafe(12))
            for _ in range(spare_users)
        ]
        (root / "passwd").write_text(
            "".join(f"{user}:{{PLAIN}}{password}\n" for user, password in server.spare_users)
        )
        # Output to a file, not a pipe: the daemon keeps its inherited descriptors open.
        with (root / "startup.log").open("wb") as startup_log:
            started = subprocess.run(
                ["dovecot", "-c", str(config_file)], stdout=startup_log, stderr=startup_log, check=False
            )
        if started.returncode != 0:
            output = (root / "startup.log").read_text(errors="replace")
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"dovecot failed to start: {output}")
        server._wait_until_listening()
        return server

    def stop(self) -> None:
        subprocess.run(
            ["doveadm", "-c", str(self.config_file), "stop"], capture_output=True, timeout=15, check=False
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def new_user(self) -> tuple[str, str]:
        """(address, password) of a user nobody used yet: an empty mailbox, usable at once."""
        if self.spare_users:
            return self.spare_users.pop()
        user = (f"agent-{secrets.token_hex(4)}@example.test", secrets.token_urlsafe(12))
        self.add_user(*user)
        time.sleep(1.1)
        return user

    def add_user(self, user: str, password: str) -> None:
        """Add a login; Dovecot sees it within about a second (see `new_user` for an instant one)."""
        passwd = self.root / "passwd"
        previous_mtime = passwd.stat().st_mtime
        with passwd.open("a") as lines:
            lines.write(f"{user}:{{PLAIN}}{password}\n")
        # Dovecot re-reads the file when its mtime (whole seconds) changes: make sure it does.
        new_mtime = max(time.time(), previous_mtime + 1)
        os.utime(passwd, (new_mtime, new_mtime))

    async def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Store a message as if it had arrived (like an MTA delivering to the mailbox)."""
        await self._doveadm("save", "-u", user, "-m", folder, stdin=raw)

    async def create_folder(self, user: str, folder: str) -> None:
        await self._doveadm("mailbox", "create", "-u", user, folder)

    async def set_uidvalidity(self, user: str, folder: str, uidvalidity: int) -> None:
        """Change a folder's UIDVALIDITY, as a server does after restoring or recreating it."""
        await self._doveadm("mailbox", "update", "-u", user, "--uid-validity", str(uidvalidity), folder)

    async def message_count(self, user: str, folder: str = "INBOX") -> int:
        output = await self._doveadm("-f", "flow", "mailbox", "status", "-u", user, "messages", folder)
        return int(output.decode().strip().split("=")[1])

    async def unseen_uids(self, user: str, folder: str = "INBOX") -> list[int]:
        output = await self._doveadm("search", "-u", user, "mailbox", folder, "UNSEEN")
        return [
            int(line.split()[1]) for line in output.decode().splitlines() if line.strip()
        ]  # "<guid> <uid>"

    async def _doveadm(self, *args: str, stdin: bytes | None = None) -> bytes:
        process = await asyncio.create_subprocess_exec(
            "doveadm",
            "-c",
            str(self.config_file),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin), timeout=15)
        if process.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {stderr.decode(errors='replace')}")
        return stdout

    def _wait_until_listening(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((self.host, self.imap_port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                log = (
                    (self.root / "dovecot.log").read_text(errors="replace")
                    if (self.root / "dovecot.log").exists()
                    else ""
                )
                raise RuntimeError(f"Dovecot did not start:\n{log}")
            time.sleep(0.05)
