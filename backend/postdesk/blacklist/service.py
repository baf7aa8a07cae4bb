"""Rules for the blacklist: one entry per address or domain, bulk import with per-row errors, and the
check every sending path and inbound routing makes (`is_blacklisted`, `refuse_blacklisted`)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.blacklist.models import BlacklistEntry, BlacklistReason, EntryKind
from postdesk.blacklist.repository import BlacklistRepository
from postdesk.blacklist.schemas import (
    MAX_IMPORT_ROWS,
    BlacklistEntryCreate,
    BlacklistImport,
    ImportResult,
    ImportRow,
    ImportRowError,
    entry_value,
)
from postdesk.errors import Conflict, Invalid, InvalidFields, NotFound
from postdesk.mail.addresses import EmailAddress

_HEADER_NAMES = {"value", "address", "email", "domain"}


async def list_entries(
    session: AsyncSession, caller: Caller, *, kind: EntryKind | None, reason: BlacklistReason | None,
    search: str | None, offset: int, limit: int,
) -> tuple[list[BlacklistEntry], int]:
    rows, total = await BlacklistRepository(session).list(caller.company_id, kind=kind, reason=reason, search=search,
                                                          offset=offset, limit=limit)
    return list(rows), total


async def add_entry(session: AsyncSession, caller: Caller, data: BlacklistEntryCreate) -> BlacklistEntry:
    repo = BlacklistRepository(session)
    kind, value = entry_value(data.value)
    if await repo.existing_values(caller.company_id, [value]):
        raise Conflict("value", f"{value} is already blacklisted.")
    entry = BlacklistEntry(company_id=caller.company_id, kind=kind, value=value, reason=data.reason,
                           source=data.source or "manual", created_by_id=caller.user_id)
    await repo.add_all([entry])
    return entry


async def remove_entry(session: AsyncSession, caller: Caller, entry_id: uuid.UUID) -> None:
    repo = BlacklistRepository(session)
    entry = await repo.get(caller.company_id, entry_id)
    if entry is None:
        raise NotFound("Blacklist entry")
    await repo.delete(entry)


def _csv_rows(text: str) -> list[tuple[int, ImportRow | ImportRowError]]:
    rows: list[tuple[int, ImportRow | ImportRowError]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for record in reader:
            number = reader.line_num
            if not record or not any(cell.strip() for cell in record):
                continue
            if not rows and record[0].strip().lower() in _HEADER_NAMES:
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise InvalidFields([("csv", f"At most {MAX_IMPORT_ROWS} rows can be imported at once.")])
            cells = [cell.strip() for cell in record] + ["", ""]
            try:
                rows.append((number, ImportRow(value=cells[0], reason=cells[1] or None, source=cells[2] or None)))
            except ValidationError as error:
                first = error.errors()[0]
                rows.append((number, ImportRowError(row=number, field=str(first["loc"][0]), message=first["msg"])))
    except csv.Error as error:
        raise InvalidFields([("csv", f"Unreadable CSV at line {reader.line_num}: {error}")]) from None
    return rows


async def import_entries(session: AsyncSession, caller: Caller, data: BlacklistImport) -> ImportResult:
    """Valid rows are added, rows already listed are counted, and each invalid row is reported."""
    numbered = _csv_rows(data.csv) if data.csv is not None else list(enumerate(data.entries or [], start=1))
    errors: list[ImportRowError] = []
    wanted: dict[str, BlacklistEntry] = {}
    duplicates = 0
    for number, row in numbered:
        if isinstance(row, ImportRowError):
            errors.append(row)
            continue
        try:
            kind, value = entry_value(row.value)
        except ValueError as error:
            errors.append(ImportRowError(row=number, field="value", message=str(error)))
            continue
        if value in wanted:
            duplicates += 1
            continue
        wanted[value] = BlacklistEntry(company_id=caller.company_id, kind=kind, value=value,
                                       reason=row.reason or data.reason, source=row.source or data.source,
                                       created_by_id=caller.user_id)
    repo = BlacklistRepository(session)
    existing = await repo.existing_values(caller.company_id, wanted)
    await repo.add_all(entry for value, entry in wanted.items() if value not in existing)
    return ImportResult(added=len(wanted) - len(existing), already_listed=len(existing) + duplicates, errors=errors)


def _candidates(address: str) -> list[str]:
    address = address.strip().lower()
    domain = address.rpartition("@")[2]
    labels = domain.split(".")
    # The address itself, its domain and every parent domain (a domain entry covers its subdomains).
    return [address, *(".".join(labels[i:]) for i in range(len(labels)))]


async def is_blacklisted(session: AsyncSession, company_id: uuid.UUID, address: str) -> bool:
    if "@" not in address:
        return False
    return bool(await BlacklistRepository(session).existing_values(company_id, _candidates(address)))


async def blacklisted_among(session: AsyncSession, company_id: uuid.UUID,
                            addresses: Iterable[str | EmailAddress]) -> list[str]:
    """The given addresses that the blacklist covers (itself or one of its domains), in the given order."""
    wanted = [a.address if isinstance(a, EmailAddress) else a for a in addresses]
    wanted = [a.strip() for a in wanted if a and "@" in a]
    if not wanted:
        return []
    candidates = {address: _candidates(address) for address in wanted}
    listed = await BlacklistRepository(session).existing_values(
        company_id, {value for values in candidates.values() for value in values})
    return list(dict.fromkeys(a for a, values in candidates.items() if listed.intersection(values)))


async def refuse_blacklisted(session: AsyncSession, company_id: uuid.UUID, addresses: Iterable[str | EmailAddress],
                             *, field: str = "recipients") -> None:
    """For sending paths: 422 on `field`, naming every blacklisted address, before anything is sent."""
    refused = await blacklisted_among(session, company_id, addresses)
    if refused:
        names = ", ".join(refused)
        raise Invalid(field, f"Blacklisted, mail is not sent to: {names}.", addresses=refused)
