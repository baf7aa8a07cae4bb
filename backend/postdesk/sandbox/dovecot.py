"""A private Dovecot (IMAP + POP3) on 127.0.0.1, run from one directory, with or without root.

Used by `postdesk sandbox` (a demo mailbox for newcomers) and by the test suite (tests/support): one
implementation of "start Dovecot somewhere harmless". Users live in a passwd-file, mail in Maildirs
under the directory; nothing is installed or changed elsewhere on the machine.

Run as root, Dovecot drops privileges to its usual system users (`mail`, `dovenull`, `dovecot`);
run as anyone else, every process stays that user (Dovecot's rootless mode), so ports must be >1024.
"""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = postdesk-{instance}
listen = {host}
protocols = imap pop3
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {first_uid}
first_valid_gid = {first_gid}
mail_location = maildir:{root}/mail/%u
pop3_uidl_format = %08Xu%08Xv
login_greeting = {greeting}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/mail/%u
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
# one wrong password must not slow down the next login (tests, a newcomer trying things).
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
{unprivileged}"""

# Without root nothing can chroot or change owners: every process stays the caller (Dovecot's rootless mode).
_UNPRIVILEGED = """\
service imap-login {
  chroot =
}
service pop3-login {
  chroot =
}
service anvil {
  chroot =
}
"""

_SSL = """\
ssl = yes
ssl_cert = <{cert_file}
ssl_key = <{key_file}
ssl_min_protocol = TLSv1.2"""


class DovecotMissing(RuntimeError):
    """Dovecot is not installed (Debian: dovecot-imapd and dovecot-pop3d)."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Dovecot:
    """A running Dovecot. `imaps_port`/`pop3s_port` are 0 when it was started without TLS."""

    root: Path
    config_file: Path
    imap_port: int
    pop3_port: int
    imaps_port: int = 0
    pop3s_port: int = 0
    host: str = "127.0.0.1"

    @classmethod
    def start(
        cls,
        root: Path,
        *,
        users: list[tuple[str, str]] = (),  # type: ignore[assignment]
        imap_port: int | None = None,
        pop3_port: int | None = None,
        tls: tuple[Path, Path] | None = None,
        greeting: str = "Postdesk Dovecot ready.",
    ) -> Dovecot:
        """Start Dovecot from `root` (created if needed; mail already there is kept).

        `users` are (address, password) logins known from the start; `tls` is (certificate file, key
        file) to offer STARTTLS/STLS and implicit-TLS listeners too. Ports default to free ones.
        """
        for program in ("dovecot", "doveadm"):
            if shutil.which(program) is None:
                raise DovecotMissing(
                    f"{program} not found: install Dovecot (Debian: apt-get install dovecot-imapd dovecot-pop3d)"
                )
        root = root.resolve()
        root.mkdir(parents=True, exist_ok=True)
        as_root = os.geteuid() == 0
        if as_root:
            _check_reachable(root)
        root.chmod(0o755)  # Dovecot's unprivileged processes must reach their sockets and the mail
        for name in ("run", "state", "mail"):
            (root / name).mkdir(exist_ok=True)
        config_file = root / "dovecot.conf"
        if config_file.exists():
            _stop(config_file)  # a sandbox killed earlier may have left its Dovecot running
        me = pwd.getpwuid(os.geteuid()).pw_name
        my_group = grp.getgrgid(os.getegid()).gr_name
        mail_user, mail_group = ("mail", "mail") if as_root else (me, my_group)
        if as_root:
            shutil.chown(root / "mail", mail_user, mail_group)
        ports = {
            "imap_port": imap_port or free_port(),
            "pop3_port": pop3_port or free_port(),
            "imaps_port": free_port() if tls else 0,
            "pop3s_port": free_port() if tls else 0,
        }
        passwd = root / "passwd"
        passwd.write_text("".join(f"{user}:{{PLAIN}}{password}\n" for user, password in users))
        passwd.chmod(0o644)
        config_file.write_text(
            _CONFIG.format(
                root=root,
                instance=ports["imap_port"],
                host="127.0.0.1",
                ssl=_SSL.format(cert_file=tls[0], key_file=tls[1]) if tls else "ssl = no",
                login_user="dovenull" if as_root else me,
                internal_user="dovecot" if as_root else me,
                internal_group="dovecot" if as_root else my_group,
                unprivileged="" if as_root else _UNPRIVILEGED,
                first_uid=1 if as_root else min(os.geteuid(), 1),
                first_gid=1 if as_root else min(os.getegid(), 1),
                mail_user=mail_user,
                mail_group=mail_group,
                greeting=greeting,
                **ports,
            )
        )
        server = cls(root=root, config_file=config_file, **ports)
        # Output to a file, not a pipe: the daemon keeps its inherited descriptors open.
        with (root / "startup.log").open("wb") as startup_log:
            started = subprocess.run(
                ["dovecot", "-c", str(config_file)], stdout=startup_log, stderr=startup_log, check=False
            )
        if started.returncode != 0:
            raise RuntimeError(f"dovecot failed to start: {(root / 'startup.log').read_text(errors='replace')}")
        server.wait_until_listening()
        return server

    def stop(self) -> None:
        _stop(self.config_file)

    def add_user(self, user: str, password: str) -> None:
        """Add a login; Dovecot sees it within about a second (it re-reads the file when it changes)."""
        passwd = self.root / "passwd"
        previous_mtime = passwd.stat().st_mtime
        with passwd.open("a") as lines:
            lines.write(f"{user}:{{PLAIN}}{password}\n")
        # Dovecot compares the mtime in whole seconds: make sure it moves.
        new_mtime = max(time.time(), previous_mtime + 1)
        os.utime(passwd, (new_mtime, new_mtime))

    def users(self) -> list[str]:
        lines = (self.root / "passwd").read_text().splitlines()
        return [line.split(":", 1)[0] for line in lines if line.strip()]

    async def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Store a message as if it had arrived (like an MTA delivering to the mailbox)."""
        await self.doveadm("save", "-u", user, "-m", folder, stdin=raw)

    async def create_folder(self, user: str, folder: str) -> None:
        await self.doveadm("mailbox", "create", "-u", user, folder)

    async def set_uidvalidity(self, user: str, folder: str, uidvalidity: int) -> None:
        """Change a folder's UIDVALIDITY, as a server does after restoring or recreating it."""
        await self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(uidvalidity), folder)

    async def expunge(self, user: str, uid: int, folder: str = "INBOX") -> None:
        """Remove a message for good, as another mail client would."""
        await self.doveadm("expunge", "-u", user, "mailbox", folder, "uid", str(uid))

    async def message_count(self, user: str, folder: str = "INBOX") -> int:
        output = await self.doveadm("-f", "flow", "mailbox", "status", "-u", user, "messages", folder)
        return int(output.decode().strip().split("=")[1])

    async def unseen_uids(self, user: str, folder: str = "INBOX") -> list[int]:
        output = await self.doveadm("search", "-u", user, "mailbox", folder, "UNSEEN")
        return [int(line.split()[1]) for line in output.decode().splitlines() if line.strip()]  # "<guid> <uid>"

    async def doveadm(self, *args: str, stdin: bytes | None = None) -> bytes:
        process = await asyncio.create_subprocess_exec(
            "doveadm", "-c", str(self.config_file), *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(process.communicate(stdin), timeout=15)
        if process.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {stderr.decode(errors='replace')}")
        return stdout

    def wait_until_listening(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection((self.host, self.imap_port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                log = self.root / "dovecot.log"
                text = log.read_text(errors="replace") if log.exists() else ""
                raise RuntimeError(f"Dovecot did not start:\n{text}")
            time.sleep(0.05)


def _check_reachable(root: Path) -> None:
    """Run as root, Dovecot's own users must be able to traverse every parent directory of `root`."""
    for parent in root.parents:
        if not parent.stat().st_mode & 0o001:
            raise RuntimeError(
                f"Dovecot's unprivileged users cannot enter {parent} (mode {parent.stat().st_mode & 0o777:o}); "
                f"use a directory outside it"
            )


def _stop(config_file: Path, timeout: float = 10) -> None:
    """Stop the Dovecot of `config_file` (if running) and wait until it is gone."""
    subprocess.run(["doveadm", "-c", str(config_file), "stop"], capture_output=True, timeout=15, check=False)
    pid_file = config_file.parent / "run" / "master.pid"
    deadline = time.monotonic() + timeout
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
