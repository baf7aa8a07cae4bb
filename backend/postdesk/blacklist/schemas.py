from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from postdesk.blacklist.models import BlacklistReason, EntryKind
from postdesk.validation import normalize_email

MAX_IMPORT_ROWS = 5000
MAX_IMPORT_CSV_CHARS = 1_000_000
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalize_domain(value: str) -> str:
    domain = value.strip().lstrip("@").rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("not a valid domain name") from None
    if not domain or len(domain) > 253 or not all(_LABEL.match(label) for label in domain.split(".")):
        raise ValueError("not a valid domain name")
    return domain


def entry_value(value: str) -> tuple[EntryKind, str]:
    """An address (lower-cased) or a domain ("example.com" or "@example.com")."""
    value = value.strip()
    if "@" in value.lstrip("@"):
        return EntryKind.address, normalize_email(value).lower()
    return EntryKind.domain, normalize_domain(value)


def _valid_entry(value: str) -> str:
    return entry_value(value)[1]


EntryValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320),
                       AfterValidator(_valid_entry)]
Source = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class BlacklistEntryCreate(BaseModel):
    value: EntryValue = Field(description="An email address, or a domain such as example.com (covers subdomains).")
    reason: BlacklistReason = BlacklistReason.manual
    source: Source = ""


class BlacklistEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: EntryKind
    value: str
    reason: BlacklistReason
    source: str
    created_at: datetime


class ImportRow(BaseModel):
    value: Annotated[str, StringConstraints(max_length=320)]
    reason: BlacklistReason | None = None
    source: Source | None = None


class BlacklistImport(BaseModel):
    """Either `entries` (JSON rows) or `csv` (columns: value[,reason[,source]]; a header row is optional)."""

    entries: list[ImportRow] | None = Field(default=None, max_length=MAX_IMPORT_ROWS)
    csv: Annotated[str, StringConstraints(max_length=MAX_IMPORT_CSV_CHARS)] | None = None
    reason: BlacklistReason = Field(default=BlacklistReason.manual, description="For rows that give none.")
    source: Source = Field(default="import", description="For rows that give none.")

    @model_validator(mode="after")
    def _one_of(self) -> BlacklistImport:
        if (self.entries is None) == (self.csv is None):
            raise ValueError("give either entries or csv")
        return self


class ImportRowError(BaseModel):
    row: int = Field(description="1-based row number (CSV: the line's record number, header included).")
    field: str
    message: str


class ImportResult(BaseModel):
    added: int
    already_listed: int
    errors: list[ImportRowError]


class BlacklistCheck(BaseModel):
    address: str
    blacklisted: bool
