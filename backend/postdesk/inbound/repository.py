"""Queries of the inbound pipeline: sync positions, the fetched-mail ledger, threading look-ups."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.campaigns.models import Campaign
from postdesk.inbound.models import InboundMail, InboundMailbox, MailOutcome
from postdesk.interactions.models import Direction, Interaction, Message
from postdesk.servers.models import EmailServer, IncomingProtocol


@dataclass(frozen=True)
class WantedMailbox:
    """A mailbox some enabled, receiving campaign needs fetched, with what identifies its configuration."""

    server_id: uuid.UUID
    company_id: uuid.UUID
    fingerprint: tuple


class InboundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- mailboxes ------------------------------------------------------------------------------

    async def wanted_mailboxes(self) -> list[WantedMailbox]:
        """Every company's receiving servers (system-wide: the supervisor serves all companies).

        Reads servers and campaigns directly: one query per reconcile instead of one per company.
        """
        used = (
            select(Campaign.email_server_id)
            .where(Campaign.enabled.is_(True), Campaign.receive_emails.is_(True), Campaign.email_server_id.is_not(None))
            .distinct()
        )
        rows = await self.session.scalars(
            select(EmailServer).where(EmailServer.incoming_protocol != IncomingProtocol.none,
                                      EmailServer.id.in_(used))
        )
        return [
            WantedMailbox(
                server.id,
                server.company_id,
                (server.incoming_protocol, server.incoming_host, server.incoming_port, server.incoming_security,
                 server.incoming_username, server.incoming_password_encrypted, server.imap_folder,
                 server.after_fetch),
            )
            for server in rows
        ]

    async def server(self, server_id: uuid.UUID) -> EmailServer | None:
        return await self.session.get(EmailServer, server_id, populate_existing=True)

    async def mailbox(self, server_id: uuid.UUID, folder: str) -> InboundMailbox | None:
        return await self.session.scalar(
            select(InboundMailbox).where(InboundMailbox.email_server_id == server_id, InboundMailbox.folder == folder)
            .execution_options(populate_existing=True)
        )

    async def ensure_mailbox(self, company_id: uuid.UUID, server_id: uuid.UUID, folder: str) -> InboundMailbox:
        found = await self.mailbox(server_id, folder)
        if found is not None:
            return found
        try:
            async with self.session.begin_nested():
                self.session.add(InboundMailbox(company_id=company_id, email_server_id=server_id, folder=folder))
        except IntegrityError:  # another process created it meanwhile
            pass
        found = await self.mailbox(server_id, folder)
        assert found is not None
        return found

    async def mailboxes(self, company_id: uuid.UUID) -> Sequence[InboundMailbox]:
        return (await self.session.scalars(
            select(InboundMailbox).where(InboundMailbox.company_id == company_id)
            .order_by(InboundMailbox.created_at)
        )).all()

    async def mailbox_for_company(self, company_id: uuid.UUID, server_id: uuid.UUID) -> InboundMailbox | None:
        return await self.session.scalar(
            select(InboundMailbox).where(InboundMailbox.company_id == company_id,
                                         InboundMailbox.email_server_id == server_id)
            .order_by(InboundMailbox.updated_at.desc()).limit(1)
        )

    # --- ledger ---------------------------------------------------------------------------------

    async def imap_seen(self, server_id: uuid.UUID, folder: str, uidvalidity: int, uid: int) -> InboundMail | None:
        return await self.session.scalar(
            select(InboundMail).where(_imap_position(server_id, folder, uidvalidity), InboundMail.uid == uid)
        )

    async def pop3_known(self, server_id: uuid.UUID, uidls: Iterable[str]) -> dict[str, InboundMail]:
        wanted = list(uidls)
        found: dict[str, InboundMail] = {}
        for start in range(0, len(wanted), 500):
            rows = await self.session.scalars(
                select(InboundMail).where(InboundMail.email_server_id == server_id,
                                          InboundMail.uidl.in_(wanted[start:start + 500]))
            )
            found.update({row.uidl: row for row in rows if row.uidl is not None})
        return found

    async def imap_recorded(self, server_id: uuid.UUID, folder: str, uidvalidity: int,
                            uids: Sequence[int]) -> set[int]:
        """Which of `uids` the ledger already holds for this folder position."""
        found: set[int] = set()
        for start in range(0, len(uids), 500):
            rows = await self.session.scalars(
                select(InboundMail.uid).where(_imap_position(server_id, folder, uidvalidity),
                                              InboundMail.uid.in_(uids[start:start + 500])))
            found.update(uid for uid in rows if uid is not None)
        return found

    async def same_content_many(self, server_id: uuid.UUID, hashes: Sequence[str]) -> list[InboundMail]:
        """Messages already taken from this server with one of these contents (a duplicate is the same
        Message-ID and the same bytes; the caller matches the Message-ID)."""
        found: list[InboundMail] = []
        for start in range(0, len(hashes), 500):
            rows = await self.session.scalars(select(InboundMail).where(
                InboundMail.email_server_id == server_id, InboundMail.content_hash.in_(hashes[start:start + 500]),
                InboundMail.outcome.in_((MailOutcome.ingested, MailOutcome.own))))
            found.extend(rows)
        return found

    async def pending_after_fetch(self, server_id: uuid.UUID, folder: str, uidvalidity: int, *, above_uid: int = 0,
                                  limit: int = 1000) -> list[int]:
        """UIDs (ascending) of committed messages whose mark-seen/delete was not yet applied on the server."""
        return list((await self.session.scalars(
            select(InboundMail.uid).where(_imap_position(server_id, folder, uidvalidity), InboundMail.uid > above_uid,
                                          InboundMail.server_done.is_(False))
            .order_by(InboundMail.uid).limit(limit))).all())

    async def mark_imap_done(self, server_id: uuid.UUID, folder: str, uidvalidity: int, *, above_uid: int,
                             through_uid: int) -> None:
        """The messages of a folder position in (above_uid, through_uid] are marked seen/deleted on the server."""
        await self.session.execute(update(InboundMail).where(
            _imap_position(server_id, folder, uidvalidity), InboundMail.uid > above_uid,
            InboundMail.uid <= through_uid, InboundMail.server_done.is_(False)).values(server_done=True))

    async def mark_server_done(self, ids: Sequence[uuid.UUID]) -> None:
        for start in range(0, len(ids), 500):
            await self.session.execute(
                update(InboundMail).where(InboundMail.id.in_(ids[start:start + 500])).values(server_done=True)
            )

    async def quarantine(self, company_id: uuid.UUID, *, offset: int, limit: int) -> tuple[list[InboundMail], int]:
        where = (InboundMail.company_id == company_id, InboundMail.outcome == MailOutcome.quarantined)
        total = await self.session.scalar(select(func.count()).select_from(InboundMail).where(*where)) or 0
        rows = await self.session.scalars(
            select(InboundMail).where(*where).order_by(InboundMail.received_at.desc(), InboundMail.id)
            .offset(offset).limit(limit)
        )
        return list(rows.all()), int(total)

    async def mail(self, company_id: uuid.UUID, mail_id: uuid.UUID, *, for_update: bool = False) -> InboundMail | None:
        query = select(InboundMail).where(InboundMail.company_id == company_id, InboundMail.id == mail_id)
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    # --- threading ------------------------------------------------------------------------------

    async def messages_by_header(self, company_id: uuid.UUID, message_ids: Sequence[str]) -> list[Message]:
        if not message_ids:
            return []
        rows = await self.session.scalars(
            select(Message).where(Message.company_id == company_id, Message.message_id_header.in_(message_ids))
            .order_by(Message.created_at)
        )
        return list(rows.all())

    async def own_outbound_many(self, company_id: uuid.UUID, message_ids: Sequence[str]) -> dict[str, Message]:
        """Our sent messages among these Message-IDs (mail of ours fetched back)."""
        found: dict[str, Message] = {}
        for start in range(0, len(message_ids), 500):
            rows = await self.session.scalars(select(Message).where(
                Message.company_id == company_id, Message.message_id_header.in_(message_ids[start:start + 500]),
                Message.direction == Direction.outbound))
            for row in rows:
                if row.message_id_header is not None:
                    found.setdefault(row.message_id_header, row)
        return found

    async def interaction(self, company_id: uuid.UUID, interaction_id: uuid.UUID) -> Interaction | None:
        return await self.session.scalar(
            select(Interaction).where(Interaction.company_id == company_id, Interaction.id == interaction_id)
            .with_for_update()
        )

    async def interaction_by_reference(self, company_id: uuid.UUID, reference: str) -> Interaction | None:
        return await self.session.scalar(
            select(Interaction).where(Interaction.company_id == company_id, Interaction.reference == reference)
            .with_for_update()
        )


def _imap_position(server_id: uuid.UUID, folder: str, uidvalidity: int):
    """The ledger rows of one IMAP folder position (the unique key's leading columns)."""
    return and_(InboundMail.email_server_id == server_id, InboundMail.folder == folder,
                InboundMail.uidvalidity == uidvalidity)
