"""Inbound pipeline benchmark (`make bench-inbound`). Not a test: it prints numbers.

1. Fills a private Dovecot mailbox with N realistic messages (default 10,000: mixed sizes, HTML
   with inline images, PDF/binary attachments, several charsets), written straight into the
   Maildir so filling takes seconds.
2. Raw fetch: the same mailbox read over IMAP with the mail adapter and no processing.
3. Ingestion: the real fetcher (supervisor in this process, embedded mode) from start to the last
   committed interaction; RSS is sampled as the mailbox drains (flat memory = bounded batches).
4. Latency under IDLE: 200 messages APPENDed over IMAP one by one; time from APPEND to the
   `interaction.created` event, p50/p99.

Runs on uvloop, as `make run` does (uvicorn picks it); BENCH_LOOP=asyncio for the stock loop.

    make bench-inbound                       # SQLite (embedded defaults)
    BENCH_DATABASE=postgres make bench-inbound   # a throw-away PostgreSQL database on 127.0.0.1
    BENCH_MESSAGES=2000 make bench-inbound
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import os
import random
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "backend"))

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from postdesk.inbound.models import InboundMail
from postdesk.mail.connection import MailServer, Security
from postdesk.mail.imap import ImapMailbox
from postdesk.net import NetworkGuard
from postdesk.settings import Settings
from tests.support.certs import make_test_certificates
from tests.support.dovecot import DovecotServer

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "10000"))
LATENCY_MESSAGES = int(os.environ.get("BENCH_LATENCY_MESSAGES", "200"))
CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "iso-8859-15", "koi8-r", "shift_jis"]
TEXTS = {
    "utf-8": "Grüße aus Köln — ваш заказ 注文 📦 ",
    "iso-8859-1": "Bonjour, où est ma commande ? Très urgent. ",
    "windows-1252": "Dear team, my “order” hasn’t arrived… ",
    "iso-8859-15": "Le prix était 20 € de plus. ",
    "koi8-r": "Здравствуйте, где мой заказ? ",
    "shift_jis": "注文がまだ届いていません。",
}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def realistic_message(n: int, rng: random.Random) -> bytes:
    charset = rng.choice(CHARSETS)
    message = EmailMessage()
    message["From"] = f"Customer {n} <customer{n % 500}@example.org>"
    message["To"] = "support@example.test"
    message["Subject"] = f"Order {n}: {TEXTS[charset][:20]}"
    message["Date"] = "Mon, 23 Nov 2026 09:00:00 +0000"
    message["Message-ID"] = make_msgid(idstring=str(n), domain="example.org")
    kind = rng.random()
    body = (TEXTS[charset] * rng.randint(5, 60)) + f"\nRef {n}\n"
    message.set_content(body, charset=charset)
    if kind > 0.5:  # HTML alternative with an inline logo
        message.add_alternative(f"<p>{body}</p><img src=\"cid:logo{n}@x\">", subtype="html", charset=charset)
        message.get_payload()[1].add_related(PNG, maintype="image", subtype="png", cid=f"<logo{n}@x>")
    if kind > 0.85:  # an attachment of 20-400 KB
        size = rng.randint(20_000, 400_000)
        message.add_attachment(rng.randbytes(size), maintype="application", subtype="pdf", filename=f"invoice-{n}.pdf")
    return message.as_bytes()


def fill_maildir(dovecot: DovecotServer, user: str, count: int) -> int:
    """Write messages straight into the user's Maildir/new (what an MTA does), owned by `mail`."""
    root = dovecot.root / "mail" / user
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = random.Random(42)
    total = 0
    host = socket.gethostname()
    for n in range(count):
        raw = realistic_message(n, rng).replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")
        total += len(raw)
        (root / "new" / f"{1700000000 + n}.P{n}Q{n}.{host}").write_bytes(raw)
    for path in [root, *root.rglob("*")]:
        shutil.chown(path, "mail", "mail")
    return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds used so far: by the whole machine (every process, kernel included), by this process
    (fetching and recording), and by its live child processes (the preparing workers)."""

    machine: float
    this_process: float
    children: float

    @classmethod
    def now(cls) -> CpuTimes:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
        machine = (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
        children = 0.0
        for task in Path("/proc/self/task").iterdir():
            for pid in (task / "children").read_text().split():
                children += _process_cpu(Path("/proc") / pid / "stat")
        return cls(machine, _process_cpu(Path("/proc/self/stat")), children)

    def per_message_ms(self, before: CpuTimes, messages: int) -> tuple[float, float, float, float]:
        """(machine, this process, children, everything else: Dovecot, kernel) in ms per message."""
        machine, mine, children = (1000 * (a - b) / messages for a, b in
                                   ((self.machine, before.machine), (self.this_process, before.this_process),
                                    (self.children, before.children)))
        return machine, mine, children, machine - mine - children


def _process_cpu(stat: Path) -> float:
    try:
        fields = stat.read_text().rpartition(")")[2].split()
    except OSError:  # ended meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def raw_fetch(server: MailServer, guard: NetworkGuard, batch: int) -> tuple[int, int, float]:
    started = time.perf_counter()
    count = size = 0
    async with ImapMailbox(server, guard=guard, fetch_batch_size=batch) as mailbox:
        await mailbox.select("INBOX")
        async for fetched in mailbox.fetch_new(0):
            count += 1
            size += len(fetched.raw)
    return count, size, time.perf_counter() - started


async def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="postdesk-bench-"))
    certs = make_test_certificates(work / "certs")
    dovecot = DovecotServer.start(certs, spare_users=2)
    database = None
    try:
        user, password = dovecot.new_user()
        print(f"filling the mailbox with {MESSAGES} messages ...", flush=True)
        started = time.perf_counter()
        total_bytes = fill_maildir(dovecot, user, MESSAGES)
        print(f"  {total_bytes / 1_048_576:.1f} MB written in {time.perf_counter() - started:.1f} s", flush=True)

        guard = NetworkGuard(("127.0.0.0/8", "localhost"))
        server = MailServer(host="localhost", port=dovecot.imap_port, security=Security.STARTTLS, username=user,
                            password=password, timeout=30, ca_pem=certs.ca_pem)
        env: dict[str, object] = {
            "data_dir": work / "data", "secret_key": secrets.token_urlsafe(48),
            "encryption_keys": Fernet.generate_key().decode(), "network_allow": "127.0.0.0/8,localhost",
            "mail_ca_file": certs.ca_file, "log_level": "WARNING",
            "inbound_idle_seconds": 300,
        }
        if os.environ.get("BENCH_BATCH"):
            env["inbound_batch_size"] = int(os.environ["BENCH_BATCH"])
        if os.environ.get("BENCH_DATABASE") == "postgres":
            import asyncpg

            database = f"postdesk_bench_{secrets.token_hex(4)}"
            admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            await admin.execute(f'CREATE DATABASE "{database}"')
            await admin.close()
            env["database_url"] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
        settings = Settings(**env)  # type: ignore[arg-type]

        # Dovecot indexes the new Maildir on first access; do it before timing either side.
        count, _, _ = await raw_fetch(server, guard, 200)
        raw_runs = []
        for _ in range(3):
            cpu_before = CpuTimes.now()
            run = await raw_fetch(server, guard, settings.inbound_batch_size)
            raw_runs.append((*run, CpuTimes.now().per_message_ms(cpu_before, run[0])))
        count, size, seconds, raw_cpu = min(raw_runs, key=lambda run: run[2])
        raw_rate = count / seconds
        print(f"raw IMAP fetch:    {count} messages, {size / 1_048_576:.1f} MB in {seconds:.2f} s "
              f"= {raw_rate:.0f} msg/s (best of {len(raw_runs)}: "
              + ", ".join(f"{run[0] / run[2]:.0f}" for run in raw_runs) + " msg/s)", flush=True)
        print(f"  CPU per message: {raw_cpu[0]:.2f} ms on the machine (this process {raw_cpu[1]:.2f}, "
              f"Dovecot and kernel {raw_cpu[3]:.2f})", flush=True)

        await ingest_and_measure(settings, dovecot, user, password, raw_rate, raw_cpu[0])
    finally:
        dovecot.stop()
        if database:
            import asyncpg

            admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            await admin.close()
        shutil.rmtree(work, ignore_errors=True)


async def ingest_and_measure(settings: Settings, dovecot: DovecotServer, user: str, password: str,
                             raw_rate: float, raw_cpu_ms: float) -> None:
    from postdesk.migrate import upgrade_to_head
    from postdesk.observability import configure_logging
    from postdesk.runtime import Runtime
    from tests.inbound.conftest import seed_tenant

    configure_logging(os.environ.get("BENCH_LOG_LEVEL", "WARNING"), "console")
    await asyncio.to_thread(upgrade_to_head, settings)
    runtime = await Runtime.start(settings, role="api")  # embedded: the supervisor runs here
    try:
        rss_before = rss_mb()
        cpu_before = CpuTimes.now()
        started = time.perf_counter()
        tenant = await seed_tenant(runtime, dovecot, after_fetch="mark_seen", mailbox=(user, password))
        samples: list[tuple[int, float]] = []
        done = 0
        while done < MESSAGES:
            await asyncio.sleep(0.5)
            async with runtime.session_maker() as session:
                done = int(await session.scalar(select(func.count()).select_from(InboundMail)
                                                .where(InboundMail.email_server_id == tenant.server_id)) or 0)
            samples.append((done, rss_mb()))
            if time.perf_counter() - started > 3600:
                raise SystemExit(f"gave up after an hour at {done} messages")
        seconds = time.perf_counter() - started
        cpu = CpuTimes.now().per_message_ms(cpu_before, MESSAGES)
        rate = MESSAGES / seconds
        print(f"ingestion:         {MESSAGES} messages fetched, parsed, stored and committed as interactions in "
              f"{seconds:.1f} s = {rate:.0f} msg/s", flush=True)
        print(f"ratio ingestion / raw fetch: {rate / raw_rate:.2f} (target >= 0.5)")
        cores = os.cpu_count() or 1
        print(f"  CPU per message: {cpu[0]:.2f} ms on the machine (fetching and recording process {cpu[1]:.2f}, "
              f"preparing process {cpu[2]:.2f}, Dovecot and kernel {cpu[3]:.2f}); the machine was "
              f"{100 * cpu[0] * rate / 1000 / cores:.0f}% busy on {cores} cores")
        print(f"  CPU ratio raw fetch / ingestion: {raw_cpu_ms / cpu[0]:.2f}; with every core busy, ingestion "
              f"at this CPU cost could reach {1000 * cores / cpu[0]:.0f} msg/s = "
              f"{1000 * cores / cpu[0] / raw_rate:.2f} of the raw fetch rate")
        marks = [samples[min(len(samples) - 1, int(len(samples) * q))] for q in (0.1, 0.5, 0.9)]
        print("memory (RSS) while draining: " + ", ".join(f"{n} done: {mb:.0f} MB" for n, mb in marks)
              + f"; before {rss_before:.0f} MB; process peak {peak_rss_mb():.0f} MB")
        await measure_latency(runtime, dovecot, tenant, user, password)
    finally:
        await runtime.stop()


async def measure_latency(runtime, dovecot: DovecotServer, tenant, user: str, password: str) -> None:
    await asyncio.sleep(1)  # the fetcher is idling now
    latencies: list[float] = []
    appended: dict[str, float] = {}
    imap = imaplib.IMAP4("127.0.0.1", dovecot.imap_port)
    imap.login(user, password)
    try:
        async with runtime.events.subscribe(str(tenant.company_id)) as events:
            for n in range(LATENCY_MESSAGES):
                subject = f"Latency {n} {uuid.uuid4().hex[:8]}"
                message = EmailMessage()
                message["From"] = "late@example.org"
                message["To"] = "support@example.test"
                message["Subject"] = subject
                message["Message-ID"] = make_msgid(domain="example.org")
                message.set_content("Where is my parcel?")
                raw = message.as_bytes().replace(b"\n", b"\r\n")
                appended[subject] = time.perf_counter()
                await asyncio.to_thread(imap.append, "INBOX", None, None, raw)
                while True:
                    event = await asyncio.wait_for(events.get(), 30)
                    if event.type == "interaction.created" and event.data.get("subject") in appended:
                        latencies.append(time.perf_counter() - appended.pop(event.data["subject"]))
                        break
                await asyncio.sleep(0.02)
    finally:
        imap.logout()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"APPEND -> interaction.created under IDLE ({len(latencies)} messages): p50 {p50 * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms (target p99 < 1 s)")


if __name__ == "__main__":
    if os.environ.get("BENCH_LOOP", "uvloop") == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
