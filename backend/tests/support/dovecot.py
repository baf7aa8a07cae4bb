"""A real Dovecot (IMAP + POP3) on 127.0.0.1 for tests, run from a private directory.

    server = DovecotServer.start(certificates)        # one per test session
    server.add_user("agent@example.test", "secret")
    await server.deliver("agent@example.test", raw_bytes)
    server.imap_port, server.imaps_port, server.pop3_port, server.pop3s_port
    server.stop()

IMAP and POP3 offer STARTTLS/STLS on the plain ports and implicit TLS on the `*s` ports, with the
certificate from `tests.support.certs`. Users live in a passwd-file, mail in Maildirs.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
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

    @classmethod
    def start(cls, certificates: TestCertificates) -> DovecotServer:
        # Not under pytest's tmp dir: that is root-only, and Dovecot's mail processes run as `mail`.
        root = Path(tempfile.mkdtemp(prefix="postdesk-dovecot-"))
        root.chmod(0o755)
        for name in ("run", "state", "mail"):
            (root / name).mkdir()
        shutil.chown(root / "mail", "mail", "mail")
        (root / "passwd").touch(0o644)
        ports = dict(imap_port=free_port(), imaps_port=free_port(), pop3_port=free_port(), pop3s_port=free_port())
        config_file = root / "dovecot.conf"
        config_file.write_text(
            _CONFIG.format(root=root, cert_file=certificates.cert_file, key_file=certificates.key_file, **ports)
        )
        server = cls(root=root, config_file=config_file, **ports)
        # Output to a file, not a pipe: the daemon keeps its inherited descriptors open.
        with (root / "startup.log").open("wb") as startup_log:
            started = subprocess.run(["dovecot", "-c", str(config_file)], stdout=startup_log, stderr=startup_log)
        if started.returncode != 0:
            output = (root / "startup.log").read_text(errors="replace")
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(f"dovecot failed to start: {output}")
        server._wait_until_listening()
        return server

    def stop(self) -> None:
        subprocess.run(["doveadm", "-c", str(self.config_file), "stop"], capture_output=True, timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self, user: str, password: str) -> None:
        with (self.root / "passwd").open("a") as passwd:
            passwd.write(f"{user}:{{PLAIN}}{password}\n")

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

    async def _doveadm(self, *args: str, stdin: bytes | None = None) -> bytes:
        process = await asyncio.create_subprocess_exec(
            "doveadm", "-c", str(self.config_file), *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
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
                log = (self.root / "dovecot.log").read_text(errors="replace") if (self.root / "dovecot.log").exists() else ""
                raise RuntimeError(f"Dovecot did not start:\n{log}")
            time.sleep(0.05)
