"""One mailbox's fetcher: a long-lived task that keeps a server's incoming mailbox drained.

IMAP: select the folder, take every UID above the last one committed (never "UNSEEN": another
client may have read the mail), in bounded batches; then IDLE until the server announces mail
(re-issued every `inbound_idle_seconds`, which also detects dead connections), or poll when the
server has no IDLE. A changed UIDVALIDITY restarts the folder from UID 1; the ledger drops what
was already taken (same Message-ID and bytes). POP3: poll, take the UIDLs not in the ledger.

Per batch: prepare (parse, sanitise, store blobs: `inbound.prepare`, in worker processes), then one transaction
records the messages and the new sync position, with the look-ups done once per batch; when a
message fails it is retried alone and quarantined after `inbound_max_attempts`. Only after the
commit are messages marked seen or deleted on the server (rows record it, so a crash in between is
finished on the next connection).

IMAP batches go through a pipeline: while one transaction records, the next batches are fetched
and prepared (up to `BATCHES_AHEAD` waiting); a recorder that fell behind takes the prepared batches
waiting behind it into the same transaction. Batches are still committed strictly in fetch order,
so the sync position only ever covers what is committed; mark-seen/delete runs between fetches on
the one IMAP connection.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import case, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from postdesk.db import utcnow
from postdesk.inbound import recording, service
from postdesk.inbound.models import InboundMailbox, MailboxStatus
from postdesk.inbound.repository import InboundRepository
from postdesk.interactions import intake
from postdesk.mail.connection import MailServer, Security
from postdesk.mail.errors import ServerError
from postdesk.mail.imap import ImapMailbox, uid_set
from postdesk.mail.pop3 import Pop3Mailbox
from postdesk.mail.retry import backoff_delays
from postdesk.servers import service as server_service
from postdesk.servers.models import AfterFetch, IncomingProtocol
from postdesk.uow import unit_of_work

if TYPE_CHECKING:
    from postdesk.runtime import Runtime

log = structlog.get_logger(__name__)

MAX_MESSAGE_BYTES = 50 * 1024 * 1024
BATCHES_AHEAD = 2  # fetched batches waiting for the recorder: how far fetching runs ahead of commits
MERGED_MESSAGES = 500  # at most this many messages in one recording transaction (batches merged)


class MailboxGone(Exception):
    """The server was deleted or no longer receives: the fetcher ends (the supervisor decides again)."""


class StorageUnavailable(Exception):
    """The database or blob store failed: not the message's fault, so nothing is quarantined."""


@dataclass(frozen=True)
class Fetched:
    source: recording.MailSource
    raw: bytes
    size: int
    oversized: bool = False


@dataclass(frozen=True)
class Incoming:
    """The parts of a server's configuration a fetcher needs (secrets decrypted)."""

    server: MailServer
    protocol: IncomingProtocol
    folder: str
    after_fetch: AfterFetch


class MailboxFetcher:
    def __init__(self, runtime: Runtime, server_id: uuid.UUID, company_id: uuid.UUID) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.server_id = server_id
        self.company_id = company_id
        self.mailbox_id: uuid.UUID | None = None
        self._status: tuple[MailboxStatus, str] | None = None
        # IMAP: the highest UID this connection marked seen/deleted, and the UID ranges marked while a batch
        # was being recorded, (folder, uidvalidity, above, through): the next recording transaction notes them
        # (SQLite has one writer; a transaction of their own would wait).
        self._marked_through = 0
        self._done_on_server: list[tuple[str, int, int, int]] = []

    async def run(self) -> None:
        """Fetch until cancelled; connection failures are reported and retried with backoff."""
        self._healthy()
        while True:
            try:
                incoming = await self._load()
                if incoming.protocol is IncomingProtocol.imap:
                    await self._run_imap(incoming)
                else:
                    await self._run_pop3(incoming)
            except asyncio.CancelledError:
                raise
            except MailboxGone:
                await self._report(MailboxStatus.stopped, "")
                return
            except (ServerError, StorageUnavailable, OSError, TimeoutError) as exc:
                pause = next(self._delays)
                log.warning("inbound_fetch_failed", server_id=str(self.server_id), error=str(exc)[:300],
                            retry_in=round(pause, 1))
                await self._report(MailboxStatus.error, _describe(exc))
                await asyncio.sleep(pause)
            except Exception as exc:  # a bug must not kill the fetcher for good
                pause = next(self._delays)
                log.exception("inbound_fetcher_crashed", server_id=str(self.server_id), retry_in=round(pause, 1))
                await self._report(MailboxStatus.error, f"internal error: {type(exc).__name__}")
                await asyncio.sleep(pause)

    def _healthy(self) -> None:
        """A sync succeeded: the next failure starts the backoff from its first step again."""
        self._delays = backoff_delays(maximum=self.settings.inbound_max_backoff_seconds)

    # --- configuration and status ---------------------------------------------------------------

    async def _load(self) -> Incoming:
        async with self.runtime.session_maker() as session:
            server = await InboundRepository(session).server(self.server_id)
            if server is None or server.incoming_protocol is IncomingProtocol.none:
                raise MailboxGone()
            config = server_service.with_default_ports(server_service.config_from_server(server, self.runtime.secret_box))
        mail_server = MailServer(
            host=config.incoming_host or "", port=config.incoming_port or 0,
            security=Security(config.incoming_security.value), username=config.incoming_username,
            password=config.incoming_password, timeout=self.settings.mail_timeout_seconds,
            tls_context=self.runtime.mail_tls_context,
        )
        folder = config.imap_folder if config.incoming_protocol is IncomingProtocol.imap else ""
        return Incoming(mail_server, config.incoming_protocol, folder, config.after_fetch)

    async def _mailbox(self, folder: str) -> InboundMailbox:
        async with unit_of_work(self.runtime) as session:
            mailbox = await InboundRepository(session).ensure_mailbox(self.company_id, self.server_id, folder)
        self.mailbox_id = mailbox.id
        return mailbox

    async def _report(self, status: MailboxStatus, error: str, **values: object) -> None:
        """Record the mailbox's health when it changes (the status API and supervisors read it)."""
        # Every failed attempt is written (outage alerts count them); a repeated "ok" is not.
        if self.mailbox_id is None or (status is not MailboxStatus.error and self._status == (status, error) and not values):
            return
        now = utcnow()
        changes: dict[str, object] = {"status": status, "updated_at": now, **values}
        if status is MailboxStatus.error:
            changes.update(last_error=error[:500], last_error_at=now,
                           consecutive_failures=InboundMailbox.consecutive_failures + 1)
        elif status is MailboxStatus.ok:
            changes.update(last_ok_at=now, consecutive_failures=0)
        try:
            async with unit_of_work(self.runtime) as session:
                await session.execute(update(InboundMailbox).where(InboundMailbox.id == self.mailbox_id).values(**changes))
            self._status = (status, error)
        except Exception:
            log.warning("inbound_status_not_saved", server_id=str(self.server_id), exc_info=True)

    # --- IMAP -----------------------------------------------------------------------------------

    async def _run_imap(self, incoming: Incoming) -> None:
        mailbox = await self._mailbox(incoming.folder)
        async with ImapMailbox(
            incoming.server, guard=self.runtime.network_guard, idle_reissue_seconds=self.settings.inbound_idle_seconds,
            poll_seconds=self.settings.inbound_poll_seconds, fetch_batch_size=self.settings.inbound_batch_size,
            max_message_bytes=MAX_MESSAGE_BYTES,
        ) as imap:
            state = await imap.select(incoming.folder)
            mailbox = await self._position(imap, mailbox, state.uidvalidity)
            self._marked_through = 0  # a new connection: look at everything not yet done on the server
            await self._report(MailboxStatus.ok, "", uses_idle=imap.supports_idle)
            await self._finish_after_fetch(imap, incoming, mailbox.uidvalidity)
            while True:
                await self._sync_imap(imap, incoming, mailbox)
                self._healthy()
                await self._report(MailboxStatus.ok, "")
                # The adapter also wakes for mail that arrived during the sync, and raises at once when
                # the server closes the connection (e.g. BYE after its folder was recreated).
                await imap.wait_for_new_mail(timeout=self.settings.inbound_idle_seconds)
                # Selecting again notices a folder recreated meanwhile (servers need not announce it).
                state = await imap.select(incoming.folder)
                if state.uidvalidity != mailbox.uidvalidity:
                    mailbox = await self._position(imap, mailbox, state.uidvalidity)
                    self._marked_through = 0

    async def _position(self, imap: ImapMailbox, mailbox: InboundMailbox, uidvalidity: int) -> InboundMailbox:
        """Start (first sync) or restart (UIDVALIDITY changed) the folder's sync position."""
        if mailbox.uidvalidity == uidvalidity:
            return mailbox
        first = mailbox.uidvalidity is None
        last_uid = 0
        if first and mailbox.sync_since is not None:
            since = await imap.first_uid_since(mailbox.sync_since)
            last_uid = (since - 1) if since is not None else ((imap.folder.uidnext or 1) - 1 if imap.folder else 0)
        async with unit_of_work(self.runtime) as session:
            values: dict[str, object] = {"uidvalidity": uidvalidity, "last_uid": last_uid}
            if not first:
                values["resyncs"] = InboundMailbox.resyncs + 1
                log.warning("inbound_uidvalidity_changed", server_id=str(self.server_id), old=mailbox.uidvalidity,
                            new=uidvalidity)
            await session.execute(update(InboundMailbox).where(InboundMailbox.id == mailbox.id).values(**values))
            fresh = await InboundRepository(session).mailbox(self.server_id, mailbox.folder)
        assert fresh is not None
        return fresh

    async def _sync_imap(self, imap: ImapMailbox, incoming: Incoming, mailbox: InboundMailbox) -> None:
        assert mailbox.uidvalidity is not None
        waiting: asyncio.Queue[_Waiting] = asyncio.Queue(BATCHES_AHEAD)
        recorder = asyncio.ensure_future(self._recorder(waiting, mailbox))
        try:
            batch: list[Fetched] = []
            batch_bytes = 0
            async for message in imap.fetch_new(mailbox.last_uid):
                source = recording.MailSource(self.company_id, self.server_id, incoming.folder, mailbox.uidvalidity,
                                              message.uid)
                batch.append(Fetched(source, message.raw, message.size, message.oversized))
                batch_bytes += len(message.raw)
                if len(batch) >= self.settings.inbound_batch_size or batch_bytes >= imap.fetch_batch_bytes:
                    await self._hand_over(waiting, recorder, batch)
                    await self._finish_after_fetch(imap, incoming, mailbox.uidvalidity, while_recording=True)
                    batch, batch_bytes = [], 0
            if batch:
                await self._hand_over(waiting, recorder, batch)
            await self._hand_over(waiting, recorder, None)
            await recorder
        finally:
            if not recorder.done():  # failed or cancelled meanwhile: nothing half-done
                recorder.cancel()
                await asyncio.gather(recorder, return_exceptions=True)
            while not waiting.empty():
                left = waiting.get_nowait()
                if left is not None:
                    left[1].cancel()
        await self._finish_after_fetch(imap, incoming, mailbox.uidvalidity)

    async def _hand_over(self, waiting: asyncio.Queue[_Waiting], recorder: asyncio.Future[None],
                         batch: list[Fetched] | None) -> None:
        """Start preparing `batch` and queue it for the recorder (None: no more batches). Waits while
        `BATCHES_AHEAD` batches already wait, so memory stays bounded; raises what stopped the recorder."""
        item = None if batch is None else (batch, asyncio.ensure_future(self._prepare_batch(batch)))
        queued = asyncio.ensure_future(waiting.put(item))
        await asyncio.wait({queued, recorder}, return_when=asyncio.FIRST_COMPLETED)
        if not queued.done():
            queued.cancel()
            if item is not None:
                item[1].cancel()
        if recorder.done():
            recorder.result()  # its failure ends this sync; what it committed stays committed
            if not queued.done():
                raise RuntimeError("the recorder stopped before the end of the mailbox")

    async def _recorder(self, waiting: asyncio.Queue[_Waiting], mailbox: InboundMailbox) -> None:
        """Record queued batches in fetch order. One that fell behind records the batches already
        prepared behind it in the same transaction (up to `MERGED_MESSAGES`): fewer commits and look-ups
        per message exactly when the mailbox is large."""
        held: _Waiting | _Nothing = _NOTHING  # taken from the queue, not ready to join the transaction
        while True:
            item = await waiting.get() if held is _NOTHING else held
            held = _NOTHING
            if item is None:
                return
            merged = [item]
            await item[1]
            while not waiting.empty() and sum(len(batch) for batch, _ in merged) < MERGED_MESSAGES:
                following = waiting.get_nowait()
                if following is None or not following[1].done():
                    held = following
                    break
                merged.append(following)
            await self._record_batch([fetched for batch, _ in merged for fetched in batch],
                                     [ready for _, preparing in merged for ready in preparing.result()], mailbox)

    async def _finish_after_fetch(self, imap: ImapMailbox, incoming: Incoming, uidvalidity: int | None, *,
                                  while_recording: bool = False) -> None:
        """Mark seen / delete on the server what is committed and not yet done (also after a crash).

        Batches commit in UID order, so only UIDs above the last one this connection marked can still be
        pending. `while_recording`: a batch is being recorded; the next recording transaction writes that
        it is done instead of a transaction of our own (which would wait for SQLite's write lock and stall
        fetching). Until then a crash only means marking it seen again, which changes nothing.
        """
        if uidvalidity is None:
            return
        async with self.runtime.session_maker() as session:
            uids = await InboundRepository(session).pending_after_fetch(
                self.server_id, incoming.folder, uidvalidity, above_uid=self._marked_through)
        if uids:
            if incoming.after_fetch is AfterFetch.mark_seen:
                await imap.mark_seen(uids)
            elif incoming.after_fetch is AfterFetch.delete:
                await imap.delete(uids)
            self._done_on_server.append((incoming.folder, uidvalidity, self._marked_through, uids[-1]))
            self._marked_through = uids[-1]
            log.debug("inbound_after_fetch", action=incoming.after_fetch.value, uids=uid_set(uids))
        if self._done_on_server and not while_recording:
            async with unit_of_work(self.runtime) as session:
                await self._note_done_on_server(session)

    async def _note_done_on_server(self, session) -> None:
        """Write (in the caller's transaction) what was marked seen/deleted on the server meanwhile."""
        done, self._done_on_server = self._done_on_server, []
        repo = InboundRepository(session)
        for folder, uidvalidity, above, through in done:
            await repo.mark_imap_done(self.server_id, folder, uidvalidity, above_uid=above, through_uid=through)

    # --- POP3 -----------------------------------------------------------------------------------

    async def _run_pop3(self, incoming: Incoming) -> None:
        mailbox = await self._mailbox("")
        while True:
            async with Pop3Mailbox(incoming.server, guard=self.runtime.network_guard) as pop:
                await self._report(MailboxStatus.ok, "", uses_idle=False)
                done = await self._sync_pop3(pop, incoming, mailbox)
            # QUIT applied the deletions: only now are they done.
            if done:
                async with unit_of_work(self.runtime) as session:
                    await InboundRepository(session).mark_server_done(done)
            self._healthy()
            await asyncio.sleep(self.settings.inbound_poll_seconds)

    async def _sync_pop3(self, pop: Pop3Mailbox, incoming: Incoming, mailbox: InboundMailbox) -> list[uuid.UUID]:
        listing = await pop.list_messages()
        async with self.runtime.session_maker() as session:
            known = await InboundRepository(session).pop3_known(self.server_id, [item.uid for item in listing])
        deleting = incoming.after_fetch is AfterFetch.delete
        done: list[uuid.UUID] = []
        batch: list[Fetched] = []
        for item in listing:
            row = known.get(item.uid)
            if row is not None:
                if not row.server_done:
                    if deleting:
                        await pop.delete(item.uid)
                    done.append(row.id)
                continue
            oversized = item.size > MAX_MESSAGE_BYTES
            raw = await (pop.retrieve_header(item.uid) if oversized else pop.retrieve(item.uid))
            batch.append(Fetched(recording.MailSource(self.company_id, self.server_id, uidl=item.uid), raw, item.size,
                                 oversized))
            if len(batch) >= self.settings.inbound_batch_size:
                await self._take(batch, mailbox)
                batch = []
        if batch:
            await self._take(batch, mailbox)
        # Everything listed is now in the ledger: delete what must go, once per session.
        async with self.runtime.session_maker() as session:
            committed = await InboundRepository(session).pop3_known(self.server_id, [i.uid for i in listing])
        for uidl, row in committed.items():
            if not row.server_done and row.id not in done:
                if deleting:
                    await pop.delete(uidl)
                done.append(row.id)
        return done

    # --- taking a batch -------------------------------------------------------------------------

    async def _take(self, batch: list[Fetched], mailbox: InboundMailbox) -> None:
        await self._record_batch(batch, await self._prepare_batch(batch), mailbox)

    async def _prepare_batch(self, batch: list[Fetched]) -> list[service.Prepared | BaseException]:
        try:
            return list(await self.runtime.mail_preparer.prepare_many(
                self.runtime.blobs, [(item.raw, item.size if item.oversized else None) for item in batch]))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - storage failed: each message's own retry will tell
            return [exc] * len(batch)

    async def _record_batch(self, batch: list[Fetched], prepared: list[service.Prepared | BaseException],
                            mailbox: InboundMailbox) -> None:
        """Record a batch in one transaction; on any failure, message by message (retry, quarantine)."""
        if not any(isinstance(p, BaseException) for p in prepared):
            try:
                async with unit_of_work(self.runtime) as session:
                    intake.count_queues_in_memory(session)
                    batch_recording = await recording.BatchRecording.start(
                        session, batch[0].source, [(item.source, ready) for item, ready in zip(batch, prepared)])
                    for item, ready in zip(batch, prepared, strict=True):
                        if not batch_recording.is_recorded(item.source):
                            await batch_recording.record(ready, item.source)  # type: ignore[arg-type]
                    await batch_recording.write()
                    await self._advance(session, mailbox, batch)
                    await self._note_done_on_server(session)
                _committed(mailbox, batch)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.info("inbound_batch_failed", server_id=str(self.server_id), exc_info=True)
        for item, first in zip(batch, prepared, strict=True):
            await self._take_one(item, first, mailbox)

    async def _prepare(self, item: Fetched) -> service.Prepared:
        """Prepare one message again (a retry), in the worker process like its batch was."""
        [outcome] = await self._prepare_batch([item])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def _take_one(self, item: Fetched, first: service.Prepared | BaseException, mailbox: InboundMailbox) -> None:
        attempts = 0
        outcome: service.Prepared | BaseException = first
        while True:
            attempts += 1
            try:
                if isinstance(outcome, BaseException):
                    raise outcome
                async with unit_of_work(self.runtime) as session:
                    if not await recording.already_recorded(session, item.source):
                        await recording.record(session, outcome, item.source)
                    await self._advance(session, mailbox, [item])
                _committed(mailbox, [item])
                return
            except asyncio.CancelledError:
                raise
            except IntegrityError:
                # Another fetcher recorded it first (a lease lost mid-batch): it is taken exactly once.
                async with unit_of_work(self.runtime) as session:
                    await self._advance(session, mailbox, [item])
                _committed(mailbox, [item])
                return
            except (OperationalError, OSError) as exc:
                raise StorageUnavailable(str(exc)[:300]) from exc
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise StorageUnavailable(str(exc)[:300]) from exc
                error: BaseException = exc
            except Exception as exc:  # noqa: BLE001 - this message's problem; the mailbox goes on
                error = exc
            log.warning("inbound_message_failed", server_id=str(self.server_id), uid=item.source.uid,
                        uidl=item.source.uidl, attempt=attempts, error=repr(error)[:300])
            if attempts >= self.settings.inbound_max_attempts:
                await self._quarantine(item, error, attempts, mailbox)
                return
            await asyncio.sleep(min(0.2 * attempts, 2))
            try:
                outcome = await self._prepare(item)
            except (OSError, asyncio.CancelledError):
                raise
            except Exception as exc:  # noqa: BLE001
                outcome = exc

    async def _quarantine(self, item: Fetched, error: BaseException, attempts: int, mailbox: InboundMailbox) -> None:
        raw_key = await self.runtime.blobs.put(item.raw)  # failing here is a storage problem: raised
        async with unit_of_work(self.runtime) as session:
            if not await recording.already_recorded(session, item.source):
                await service.quarantine(session, item.source, raw_key=raw_key, raw=item.raw,
                                         error=f"{type(error).__name__}: {error}", attempts=attempts)
            await self._advance(session, mailbox, [item])
        _committed(mailbox, [item])
        log.error("inbound_message_quarantined", server_id=str(self.server_id), uid=item.source.uid,
                  uidl=item.source.uidl, error=repr(error)[:300])

    async def _advance(self, session, mailbox: InboundMailbox, items: list[Fetched]) -> None:
        """Move the sync position past `items` in the same transaction that recorded them."""
        values: dict[str, object] = {"fetched_total": InboundMailbox.fetched_total + len(items),
                                     "updated_at": utcnow()}
        uids = [item.source.uid for item in items if item.source.uid is not None]
        if uids:
            values["last_uid"] = case((InboundMailbox.last_uid < max(uids), max(uids)), else_=InboundMailbox.last_uid)
        await session.execute(update(InboundMailbox).where(InboundMailbox.id == mailbox.id).values(**values))


class _Nothing:
    pass


_NOTHING = _Nothing()
type _Waiting = tuple[list[Fetched], asyncio.Future[list[service.Prepared | BaseException]]] | None


def _committed(mailbox: InboundMailbox, items: list[Fetched]) -> None:
    """After the commit only: the in-memory position follows what is durably recorded."""
    uids = [item.source.uid for item in items if item.source.uid is not None]
    if uids:
        mailbox.last_uid = max(mailbox.last_uid, *uids)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ServerError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, StorageUnavailable):
        return "storage unavailable"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc)[:300] or type(exc).__name__
