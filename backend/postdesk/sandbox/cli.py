"""`postdesk sandbox` and `postdesk sandbox send-samples` (imports nothing heavy until it runs)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from postdesk.sandbox.config import DEFAULT_PORTS, SandboxInfo, running_sandbox
from postdesk.settings import REPO_ROOT


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="start", choices=["start", "send-samples"],
                        help="start the sandbox (default), or send sample customer mail into the running one")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where the sandbox keeps its mail (default: $POSTDESK_DATA_DIR/sandbox, or var/sandbox)")
    parser.add_argument("--smtp-port", type=int, default=DEFAULT_PORTS["smtp"])
    parser.add_argument("--imap-port", type=int, default=DEFAULT_PORTS["imap"])
    parser.add_argument("--pop3-port", type=int, default=DEFAULT_PORTS["pop3"])


def run(args: argparse.Namespace) -> None:
    directory = args.dir or Path(os.environ.get("POSTDESK_DATA_DIR") or REPO_ROOT / "var") / "sandbox"
    if args.action == "send-samples":
        _send_samples(directory)
        return
    from postdesk.sandbox.dovecot import DovecotMissing
    from postdesk.sandbox.server import serve

    directory.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(serve(directory, smtp_port=args.smtp_port, imap_port=args.imap_port,
                          pop3_port=args.pop3_port, on_ready=_print_instructions))
    except DovecotMissing as missing:
        sys.exit(f"postdesk sandbox: {missing}")
    except OSError as exc:
        sys.exit(f"postdesk sandbox: {exc} (is another sandbox running? choose ports with --smtp-port etc.)")


def _send_samples(directory: Path) -> None:
    from postdesk.sandbox.samples import send_samples

    info = running_sandbox(directory)
    if info is None:
        sys.exit(f"postdesk sandbox: no sandbox is running from {directory}; start it with `postdesk sandbox`")
    subjects = send_samples(info.host, info.smtp_port, info.mailbox)
    print(f"Sent {len(subjects)} sample emails to {info.mailbox}:")
    for subject in subjects:
        print(f"  - {subject}")


def _print_instructions(info: SandboxInfo) -> None:
    print(f"""
Postdesk mail sandbox running on {info.host} (Ctrl-C stops it; mail is kept).

  In Postdesk (Settings > Email servers > New), enter:
    Sender email        {info.mailbox}
    Server type         SMTP
    SMTP                host {info.host}  port {info.smtp_port}  security none  (no user name needed)
    Incoming            IMAP  host {info.host}  port {info.imap_port}  security none
                        (or POP3 on port {info.pop3_port})
    User name           {info.mailbox}
    Password            {info.password}

  Postdesk must be allowed to reach {info.host}: start it with
    POSTDESK_NETWORK_ALLOW=127.0.0.1 make run

  Send sample customer emails into the mailbox:
    postdesk sandbox send-samples      (or: make sandbox-samples)

  Mail Postdesk sends to customers lands in {info.catch_all}
  (same password, same IMAP/POP3 ports): read it with any mail client.
""", flush=True)
