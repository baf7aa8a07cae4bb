"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives and fails on demand.

    with SmtpTestServer(certificates, credentials={"agent": "secret"}) as server:
        ...  # connect to 127.0.0.1:server.port with STARTTLS (or implicit_tls=True for port-465 style)
        server.refuse_recipient("gone@example.test", "550 5.1.1 No such user")
        server.data_reply = "451 4.3.0 Try again later"
        server.received  # [ReceivedMail(mail_from, recipients, content)]

AUTH (PLAIN, LOGIN) is offered once the session is encrypted, as real submission servers do,
unless `auth_require_tls=False`. With `implicit_tls=True` aiosmtpd cannot tell the session is
encrypted and warns "Requiring AUTH while not requiring TLS"; tests silence it with
`@pytest.mark.filterwarnings("ignore:Requiring AUTH")`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.certs import TestCertificates
from tests.support.net import free_port


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    recipients: tuple[str, ...]
    content: bytes
    authenticated_as: str | None


@dataclass
class _Handler:
    received: list[ReceivedMail] = field(default_factory=list)
    recipient_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    peers: set[object] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:  # one peer (client address and port) per TCP connection, STARTTLS or not
            self.peers.add(session.peer)
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.recipient_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        mail = ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content), login)
        with self.lock:
            self.received.append(mail)
        return "250 2.0.0 Message accepted for delivery"


class SmtpTestServer:
    def __init__(
        self,
        certificates: TestCertificates | None = None,
        *,
        credentials: dict[str, str] | None = None,
        implicit_tls: bool = False,
        auth_require_tls: bool = True,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.credentials = dict(credentials or {})
        self._handler = _Handler()
        kwargs: dict[str, Any] = {
            "authenticator": self._authenticate if self.credentials else None,
            # aiosmtpd only knows about STARTTLS; an implicit-TLS session is encrypted already.
            "auth_require_tls": auth_require_tls and not implicit_tls,
            "auth_required": bool(self.credentials),
        }
        if certificates is not None:
            if implicit_tls:
                kwargs["ssl_context"] = certificates.server_context()
            else:
                kwargs["tls_context"] = certificates.server_context()
        self._controller = Controller(self._handler, hostname=self.host, port=self.port, **kwargs)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()

    @property
    def received(self) -> list[ReceivedMail]:
        with self._handler.lock:
            return list(self._handler.received)

    @property
    def sessions(self) -> int:
        """Connections that said EHLO: tells whether a client reused its connection."""
        with self._handler.lock:
            return len(self._handler.peers)

    @property
    def data_reply(self) -> str | None:
        return self._handler.data_reply

    @data_reply.setter
    def data_reply(self, reply: str | None) -> None:
        self._handler.data_reply = reply

    def refuse_recipient(self, address: str, reply: str) -> None:
        self._handler.recipient_replies[address.lower()] = reply

    def reset(self) -> None:
        with self._handler.lock:
            self._handler.received.clear()
            self._handler.recipient_replies.clear()
            self._handler.data_reply = None
            self._handler.peers.clear()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self.credentials.get(user) == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)
