"""The network guard refuses hosts on loopback, private and special networks unless allow-listed."""

from __future__ import annotations

import asyncio
import socket

import pytest

from postdesk.net import HostNotAllowed, NetworkGuard

TEST_ALLOW = ["127.0.0.0/8", "::1/128", "localhost"]


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.1.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "[::1]",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "fd00::1",
        "fe80::1",
        "ff02::1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "2130706433",  # 127.0.0.1 written as one number, resolved by getaddrinfo
        "0177.0.0.1",  # 127.0.0.1 in octal
        "localhost",
    ],
)
async def test_refuses_internal_hosts(host: str) -> None:
    with pytest.raises(HostNotAllowed) as caught:
        await NetworkGuard().vet(host)
    assert str(caught.value) == "this host is not allowed"


@pytest.mark.parametrize("host", ["", " ", "mail\r\nexample.com", "a" * 300])
async def test_refuses_malformed_hosts(host: str) -> None:
    with pytest.raises(HostNotAllowed):
        await NetworkGuard().vet(host)


async def test_unresolvable_host_gets_the_same_generic_error() -> None:
    with pytest.raises(HostNotAllowed) as caught:
        await NetworkGuard().vet("no-such-host.invalid", timeout=5)
    assert str(caught.value) == "this host is not allowed"
    assert "resolve" in caught.value.reason


@pytest.mark.parametrize(
    "host", ["93.184.216.34", "2606:4700::1111", "[2606:4700::1111]", "::ffff:93.184.216.34"]
)
async def test_public_literals_pass_without_dns(host: str) -> None:
    vetted = await NetworkGuard().vet(host)
    assert vetted.addresses in (("93.184.216.34",), ("2606:4700::1111",))


async def test_allow_list_lifts_the_guard_for_networks_and_names() -> None:
    guard = NetworkGuard(TEST_ALLOW)
    assert (await guard.vet("127.0.0.1")).addresses == ("127.0.0.1",)
    assert (await guard.vet("::1")).addresses == ("::1",)
    assert (await guard.vet("::ffff:127.0.0.1")).addresses == ("127.0.0.1",)
    localhost = await guard.vet("LOCALHOST.")
    assert localhost.hostname == "localhost"
    assert localhost.addresses
    with pytest.raises(HostNotAllowed):
        await guard.vet("10.0.0.5")


async def test_allow_listed_name_does_not_allow_its_network_for_other_names() -> None:
    guard = NetworkGuard(["localhost"])
    assert (await guard.vet("localhost")).addresses
    with pytest.raises(HostNotAllowed):
        await guard.vet("127.0.0.1")


def test_allow_list_is_read_from_the_comma_separated_setting() -> None:
    guard = NetworkGuard.from_setting("127.0.0.0/8, ::1/128 ,localhost,")
    assert [str(network) for network in guard.allowed_networks] == ["127.0.0.0/8", "::1/128"]
    assert guard.allowed_hostnames == {"localhost"}
    with pytest.raises(ValueError):
        NetworkGuard(["10.0.0.0/99"])


async def test_vetted_host_connects_to_the_checked_address() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        vetted = await NetworkGuard(TEST_ALLOW).vet("127.0.0.1")
        sock = await vetted.open_socket(port, timeout=2)
        with sock:
            assert sock.getpeername() == ("127.0.0.1", port)
    finally:
        listener.close()


async def test_vetted_host_reports_refused_connections() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed_port = probe.getsockname()[1]
    vetted = await NetworkGuard(TEST_ALLOW).vet("127.0.0.1")
    with pytest.raises(ConnectionRefusedError):
        await vetted.open_socket(closed_port, timeout=2)


async def test_guard_never_blocks_the_event_loop_while_resolving() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        await NetworkGuard(TEST_ALLOW).vet("localhost")
    finally:
        task.cancel()
    assert ticks > 0
