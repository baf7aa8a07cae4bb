"""Network guard for hosts typed in by company admins (mail servers, connection tests).

An admin of one company must not be able to make Postdesk open connections to the machine it runs on
or to the private network around it (cloud metadata at 169.254.169.254, the database, Redis...).
Every connection to an admin-entered host goes through `NetworkGuard.vet()`: the name is resolved
once, every answer is checked, and the caller then connects to the vetted address itself (so a second
DNS answer cannot swap in 127.0.0.1), keeping the original name for TLS SNI and certificate checks.

The operator can lift the guard for chosen networks or names (`POSTDESK_NETWORK_ALLOW`), e.g. for an
on-premises mail server or for tests against servers on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
type IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Not flagged by every `ipaddress` property on every Python version, so named explicitly.
_ALWAYS_REFUSED = (
    ipaddress.ip_network("100.64.0.0/10"),  # carrier-grade NAT (RFC 6598)
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64 well-known prefix: reaches IPv4 space via a gateway
)

DEFAULT_RESOLVE_TIMEOUT = 10.0


class HostNotAllowed(Exception):
    """The host may not be contacted.

    The message is the same whatever the cause, so a connection test cannot be used to map internal
    networks; `reason` is for server logs only.
    """

    def __init__(self, reason: str = "") -> None:
        super().__init__("this host is not allowed")
        self.reason = reason


@dataclass(frozen=True)
class VettedHost:
    """A host that passed the guard: connect to `addresses`, verify TLS against `hostname`."""

    hostname: str
    addresses: tuple[str, ...]

    async def open_socket(self, port: int, *, timeout: float) -> socket.socket:
        """A connected non-blocking TCP socket to the first vetted address that answers.

        Raises TimeoutError when no address answered within `timeout` and the last OSError when every
        address refused.
        """
        loop = asyncio.get_running_loop()
        last_error: OSError = OSError(f"no address to connect to for {self.hostname}")
        async with asyncio.timeout(timeout):
            for address in self.addresses:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setblocking(False)
                try:
                    await loop.sock_connect(sock, (address, port))
                except OSError as exc:
                    sock.close()
                    last_error = exc
                    continue
                except BaseException:
                    sock.close()
                    raise
                return sock
        raise last_error


class NetworkGuard:
    """Decides whether an admin-entered host may be contacted.

    `allow` lists CIDR networks ("127.0.0.0/8", "::1/128") and host names ("localhost",
    "mail.intranet.example") that are exempt from the public-address rule.
    """

    def __init__(self, allow: Iterable[str] = ()) -> None:
        networks: list[IPNetwork] = []
        hostnames: set[str] = set()
        for entry in (item.strip() for item in allow):
            if not entry:
                continue
            network = _parse_network(entry)
            if network is not None:
                networks.append(network)
            elif "/" in entry:
                raise ValueError(f"not a network: {entry!r}")
            else:
                hostnames.add(_normalise_hostname(entry))
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(networks)
        self.allowed_hostnames: frozenset[str] = frozenset(hostnames)

    @classmethod
    def from_setting(cls, value: str | Iterable[str] | None) -> NetworkGuard:
        """Build from a comma-separated setting such as "127.0.0.0/8,::1/128,localhost"."""
        if value is None:
            return cls()
        entries = value.split(",") if isinstance(value, str) else value
        return cls(entries)

    def is_allowed_address(self, address: str | IPAddress) -> bool:
        ip = _unmap(ipaddress.ip_address(address))
        if any(ip in network for network in self.allowed_networks if network.version == ip.version):
            return True
        return _is_public(ip)

    async def vet(self, host: str, *, timeout: float = DEFAULT_RESOLVE_TIMEOUT) -> VettedHost:
        """Resolve `host` and return it with its addresses if every answer may be contacted."""
        hostname = _normalise_hostname(host)
        if not _looks_like_host(hostname):
            raise HostNotAllowed("malformed host")
        literal = _parse_address(hostname)
        if literal is not None:
            addresses = [literal]
        else:
            addresses = await _resolve(hostname, timeout)
        if hostname not in self.allowed_hostnames:
            refused = [str(ip) for ip in addresses if not self.is_allowed_address(ip)]
            if refused:
                raise HostNotAllowed(f"{hostname} resolves to non-public {', '.join(refused)}")
        unique = dict.fromkeys(str(_unmap(ip)) for ip in addresses)
        return VettedHost(hostname=hostname, addresses=tuple(unique))


def _is_public(ip: IPAddress) -> bool:
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if any(ip in network for network in _ALWAYS_REFUSED if network.version == ip.version):
        return False
    embedded = _embedded_ipv4(ip)
    return embedded is None or _is_public(embedded)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to (6to4, Teredo), which must be public too."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _unmap(ip: IPAddress) -> IPAddress:
    """::ffff:127.0.0.1 and ::127.0.0.1 are judged as the IPv4 address they carry."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


async def _resolve(hostname: str, timeout: float) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            answers = await loop.getaddrinfo(hostname, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, TimeoutError) as exc:
        raise HostNotAllowed(f"{hostname} does not resolve: {exc}") from None
    addresses = [
        ipaddress.ip_address(sockaddr[0].split("%")[0])
        for family, _, _, _, sockaddr in answers
        if family in (socket.AF_INET, socket.AF_INET6)
    ]
    if not addresses:
        raise HostNotAllowed(f"{hostname} has no IP address")
    return addresses


def _normalise_hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.removesuffix(".")


def _looks_like_host(hostname: str) -> bool:
    return 0 < len(hostname) <= 253 and all(ch.isprintable() and not ch.isspace() for ch in hostname)


def _parse_address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _parse_network(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
