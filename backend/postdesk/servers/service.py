"""Rules for email servers: required fields by type and receiving, default ports, write-only secrets."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, replace

from sqlalchemy.ext.asyncio import AsyncSession

from postdesk.accounts.caller import Caller
from postdesk.db import utcnow
from postdesk.errors import Conflict, InvalidFields, NotFound
from postdesk.net.guard import HostNotAllowed, NetworkGuard
from postdesk.security.rotation import secret_rotator
from postdesk.security.secrets import SecretBox
from postdesk.servers.connection import MailNetwork, incoming_server, outgoing_server
from postdesk.servers.models import AfterFetch, EmailServer, IncomingProtocol, Security, ServerType
from postdesk.servers.repository import ServerRepository
from postdesk.servers.schemas import (
    ConnectionTestResult,
    Dependent,
    EmailServerCreate,
    EmailServerFields,
    EmailServerPublic,
    EmailServerUpdate,
    LegResult,
)
from postdesk.uow import publish

SMTP_DEFAULT_PORTS = {Security.none: 25, Security.starttls: 587, Security.tls: 465}
INCOMING_DEFAULT_PORTS = {
    IncomingProtocol.imap: {Security.none: 143, Security.starttls: 143, Security.tls: 993},
    IncomingProtocol.pop3: {Security.none: 110, Security.starttls: 110, Security.tls: 995},
}

# Other domains (campaigns, dialer) report what still uses a server, so deleting it can answer 409.
DependentsFinder = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[list[Dependent]]]
DEPENDENTS_FINDERS: list[DependentsFinder] = []


def dependents_finder(finder: DependentsFinder) -> DependentsFinder:
    DEPENDENTS_FINDERS.append(finder)
    return finder


@dataclass(frozen=True)
class ServerConfig:
    """A complete configuration with plaintext secrets, as the adapters need it (never serialised)."""

    server_type: ServerType
    sender_email: str
    sender_name: str
    reply_to: str | None
    sendgrid_api_token: str | None
    smtp_host: str | None
    smtp_port: int | None
    smtp_username: str | None
    smtp_password: str | None
    smtp_security: Security
    incoming_protocol: IncomingProtocol
    incoming_host: str | None
    incoming_port: int | None
    incoming_username: str | None
    incoming_password: str | None
    incoming_security: Security
    imap_folder: str
    after_fetch: AfterFetch

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"ServerConfig(type={self.server_type}, smtp={self.smtp_host}, incoming={self.incoming_host})"


def _blank_to_none(value: str | None) -> str | None:
    return value if value else None


def config_from_fields(data: EmailServerFields) -> ServerConfig:
    values = {f.name: getattr(data, f.name) for f in fields(ServerConfig)}
    for secret in ("sendgrid_api_token", "smtp_password", "incoming_password", "smtp_username", "incoming_username"):
        values[secret] = _blank_to_none(values[secret])
    return with_default_ports(ServerConfig(**values))


def config_from_server(server: EmailServer, box: SecretBox) -> ServerConfig:
    def plain(ciphertext: str | None) -> str | None:
        return box.decrypt(ciphertext) if ciphertext else None

    return ServerConfig(
        server_type=server.server_type,
        sender_email=server.sender_email,
        sender_name=server.sender_name,
        reply_to=server.reply_to,
        sendgrid_api_token=plain(server.sendgrid_api_token_encrypted),
        smtp_host=server.smtp_host,
        smtp_port=server.smtp_port,
        smtp_username=server.smtp_username,
        smtp_password=plain(server.smtp_password_encrypted),
        smtp_security=server.smtp_security,
        incoming_protocol=server.incoming_protocol,
        incoming_host=server.incoming_host,
        incoming_port=server.incoming_port,
        incoming_username=server.incoming_username,
        incoming_password=plain(server.incoming_password_encrypted),
        incoming_security=server.incoming_security,
        imap_folder=server.imap_folder,
        after_fetch=server.after_fetch,
    )


def with_default_ports(config: ServerConfig) -> ServerConfig:
    if config.server_type == ServerType.smtp and config.smtp_port is None:
        config = replace(config, smtp_port=SMTP_DEFAULT_PORTS[config.smtp_security])
    if config.incoming_protocol != IncomingProtocol.none and config.incoming_port is None:
        config = replace(config, incoming_port=INCOMING_DEFAULT_PORTS[config.incoming_protocol][config.incoming_security])
    return config


def problems_of(config: ServerConfig) -> list[tuple[str, str]]:
    """What the seed makes mandatory: outgoing fields by type, incoming fields only when receiving."""
    problems: list[tuple[str, str]] = []
    if config.server_type == ServerType.sendgrid:
        if not config.sendgrid_api_token:
            problems.append(("sendgrid_api_token", "An API token is required for a SendGrid server."))
    else:
        if not config.smtp_host:
            problems.append(("smtp_host", "The SMTP server address is required."))
        if config.smtp_username and not config.smtp_password:
            problems.append(("smtp_password", "A password is required with an SMTP user name."))
        if config.smtp_password and not config.smtp_username:
            problems.append(("smtp_username", "A user name is required with an SMTP password."))
    if config.incoming_protocol != IncomingProtocol.none:
        label = config.incoming_protocol.value.upper()
        if not config.incoming_host:
            problems.append(("incoming_host", f"The {label} server address is required to receive mail."))
        if not config.incoming_username:
            problems.append(("incoming_username", f"The {label} user name is required to receive mail."))
        if not config.incoming_password:
            problems.append(("incoming_password", f"The {label} password is required to receive mail."))
    return problems


async def _guard_problems(config: ServerConfig, guard: NetworkGuard) -> list[tuple[str, str]]:
    problems = []
    for field, host in (("smtp_host", config.smtp_host if config.server_type == ServerType.smtp else None),
                        ("incoming_host", config.incoming_host if config.incoming_protocol != "none" else None)):
        if not host:
            continue
        try:
            await guard.vet(host, timeout=5)
        except HostNotAllowed as refused:
            problems.append((field, str(refused)))
        except (OSError, TimeoutError):
            pass  # unresolvable now is not refused; the connection test will show it red
    return problems


async def _checked(config: ServerConfig, guard: NetworkGuard) -> None:
    problems = problems_of(config) + await _guard_problems(config, guard)
    if problems:
        raise InvalidFields(problems)


def public(server: EmailServer) -> EmailServerPublic:
    status = "untested" if server.last_test_ok is None else ("ok" if server.last_test_ok else "failing")
    return EmailServerPublic.model_validate(
        {
            **{c.key: getattr(server, c.key) for c in EmailServer.__table__.columns if not c.key.endswith("encrypted")},
            "has_sendgrid_api_token": server.sendgrid_api_token_encrypted is not None,
            "has_smtp_password": server.smtp_password_encrypted is not None,
            "has_incoming_password": server.incoming_password_encrypted is not None,
            "status": status,
        }
    )


def _store(server: EmailServer, config: ServerConfig, box: SecretBox) -> None:
    def cipher(value: str | None) -> str | None:
        return box.encrypt(value) if value else None

    for name in ("server_type", "sender_email", "sender_name", "reply_to", "smtp_port", "smtp_security",
                 "incoming_protocol", "incoming_port", "incoming_security", "imap_folder", "after_fetch"):
        setattr(server, name, getattr(config, name))
    sending_smtp = config.server_type == ServerType.smtp
    receiving = config.incoming_protocol != IncomingProtocol.none
    # Fields of a leg that is not used are cleared, so no stale secret lingers in the database.
    server.sendgrid_api_token_encrypted = cipher(config.sendgrid_api_token if not sending_smtp else None)
    server.smtp_host = config.smtp_host if sending_smtp else None
    server.smtp_username = config.smtp_username if sending_smtp else None
    server.smtp_password_encrypted = cipher(config.smtp_password if sending_smtp else None)
    if not sending_smtp:
        server.smtp_port = None
    server.incoming_host = config.incoming_host if receiving else None
    server.incoming_username = config.incoming_username if receiving else None
    server.incoming_password_encrypted = cipher(config.incoming_password if receiving else None)
    if not receiving:
        server.incoming_port = None


async def _server(repo: ServerRepository, caller: Caller, server_id: uuid.UUID) -> EmailServer:
    server = await repo.get(caller.company_id, server_id)
    if server is None:
        raise NotFound("Email server")
    return server


async def list_servers(session: AsyncSession, caller: Caller) -> list[EmailServer]:
    return list(await ServerRepository(session).list(caller.company_id))


async def get_server(session: AsyncSession, caller: Caller, server_id: uuid.UUID) -> EmailServer:
    return await _server(ServerRepository(session), caller, server_id)


async def default_server(session: AsyncSession, company_id: uuid.UUID) -> EmailServer | None:
    return await ServerRepository(session).default(company_id)


async def create_server(
    session: AsyncSession, caller: Caller, data: EmailServerCreate, *, box: SecretBox, network: MailNetwork,
    verify: bool = False,
) -> EmailServer:
    repo = ServerRepository(session)
    config = config_from_fields(data)
    await _checked(config, network.guard)
    if await repo.name_taken(caller.company_id, data.name):
        raise Conflict("name", "An email server with this name already exists.")
    result = await _verified(config, network) if verify else None
    first = not await repo.list(caller.company_id)
    server = EmailServer(company_id=caller.company_id, name=data.name, is_default=data.is_default or first)
    _store(server, config, box)
    if result is not None:
        _record_result(server, result)
    await repo.add(server)
    if server.is_default:
        await repo.clear_default(caller.company_id, except_id=server.id)
    publish("email_server.changed", caller.company_id, {"id": str(server.id)}, min_role="admin")
    return server


async def update_server(
    session: AsyncSession, caller: Caller, server_id: uuid.UUID, data: EmailServerUpdate, *, box: SecretBox,
    network: MailNetwork, verify: bool = False,
) -> EmailServer:
    repo = ServerRepository(session)
    server = await _server(repo, caller, server_id)
    changes = data.model_dump(exclude_unset=True)
    # A blank secret means "keep the stored one" (the form never shows secrets back).
    for secret in ("sendgrid_api_token", "smtp_password", "incoming_password"):
        if not changes.get(secret):
            changes.pop(secret, None)
    stored = config_from_server(server, box)
    ports_follow_security = {
        "smtp_port": "smtp_security" in changes and "smtp_port" not in changes,
        "incoming_port": ("incoming_security" in changes or "incoming_protocol" in changes)
        and "incoming_port" not in changes,
    }
    config_changes = {k: v for k, v in changes.items() if k in {f.name for f in fields(ServerConfig)}}
    config = replace(stored, **config_changes)
    config = replace(config, **{port: None for port, follows in ports_follow_security.items() if follows})
    config = with_default_ports(config)
    await _checked(config, network.guard)
    if "name" in changes and changes["name"] != server.name:
        if await repo.name_taken(caller.company_id, changes["name"], except_id=server.id):
            raise Conflict("name", "An email server with this name already exists.")
        server.name = changes["name"]
    result = await _verified(config, network) if verify else None
    _store(server, config, box)
    if result is not None:
        _record_result(server, result)
    elif config != stored:
        server.last_tested_at = server.last_test_ok = server.last_test_result = None
    if changes.get("is_default"):
        server.is_default = True
        await repo.clear_default(caller.company_id, except_id=server.id)
    await session.flush()
    publish("email_server.changed", caller.company_id, {"id": str(server.id)}, min_role="admin")
    return server


async def delete_server(session: AsyncSession, caller: Caller, server_id: uuid.UUID) -> None:
    repo = ServerRepository(session)
    server = await _server(repo, caller, server_id)
    dependents = [d for finder in DEPENDENTS_FINDERS for d in await finder(session, caller.company_id, server.id)]
    if dependents:
        names = ", ".join(f"{d.kind} “{d.name}”" for d in dependents)
        raise Conflict(None, f"This email server is still used by {names}.",
                       dependents=[d.model_dump(mode="json") for d in dependents])
    await repo.delete(server)
    publish("email_server.changed", caller.company_id, {"id": str(server_id), "deleted": True}, min_role="admin")


async def test_saved_server(
    session: AsyncSession, caller: Caller, server_id: uuid.UUID, *, box: SecretBox, network: MailNetwork
) -> ConnectionTestResult:
    server = await _server(ServerRepository(session), caller, server_id)
    result = await network.test(config_from_server(server, box))
    _record_result(server, result)
    await session.flush()
    publish("email_server.changed", caller.company_id, {"id": str(server.id)}, min_role="admin")
    return result


async def test_unsaved_config(data: EmailServerFields, *, network: MailNetwork) -> ConnectionTestResult:
    config = config_from_fields(data)
    problems = problems_of(config)
    if problems:
        raise InvalidFields(problems)
    return await network.test(config)


async def _verified(config: ServerConfig, network: MailNetwork) -> ConnectionTestResult:
    result = await network.test(config)
    failing = [leg for leg in result.legs if not leg.ok]
    if failing:
        raise InvalidFields([(_field_to_fix(config, leg), f"{leg.protocol.upper()}: {leg.message}") for leg in failing])
    return result


def _field_to_fix(config: ServerConfig, leg: LegResult) -> str:
    """The form field a failing leg points at: the secret when it was refused, the folder, else the host."""
    if leg.protocol == "sendgrid":
        return "sendgrid_api_token"
    prefix = "smtp" if leg.leg == "outgoing" else "incoming"
    if leg.message == "authentication failed":
        return f"{prefix}_password"
    if leg.message == "folder not found" and config.incoming_protocol == IncomingProtocol.imap:
        return "imap_folder"
    return f"{prefix}_host"


def _record_result(server: EmailServer, result: ConnectionTestResult) -> None:
    server.last_tested_at = result.tested_at
    server.last_test_ok = result.ok
    server.last_test_result = [leg.model_dump() for leg in result.legs]


@secret_rotator
async def rotate_server_secrets(session: AsyncSession, box: SecretBox) -> int:
    rotated = 0
    for server in await ServerRepository(session).all_with_secrets():
        for column in ("sendgrid_api_token_encrypted", "smtp_password_encrypted", "incoming_password_encrypted"):
            value = getattr(server, column)
            if value:
                setattr(server, column, box.rotate(value))
                rotated += 1
    await session.flush()
    return rotated


# incoming_server/outgoing_server: the adapters' settings of a configuration, for sending and fetching.
__all__ = ["LegResult", "MailNetwork", "ServerConfig", "incoming_server", "outgoing_server", "utcnow"]
