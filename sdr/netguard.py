"""Which hosts the product may connect to on a customer's behalf: research pages, mail
servers, webhook endpoints. Only public addresses, unless a setting allows a network
(loopback in the demo).

This is the one place for the address check: the research fetcher (sdr/fetch.py) applies
`embedded_addresses` and `is_public` to every hop of a crawl, and `vet_host` serves mail
servers (outreach/smtp.py, outreach/mailboxes.py) and anything else that dials a host.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# The IANA special-purpose registries (IPv4 and IPv6), written out: `ipaddress`'s
# is_global follows the registry of the Python release, and 3.11's misses several of
# these (192.0.0.8, 192.88.99.0/24, 3fff::/20, ...). Some are marked globally reachable
# there (anycast relays, AS112, PCP/TURN anycast), but none is a host a customer's
# website, mail server or webhook lives on, so all are refused.
SPECIAL_USE: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments: 192.0.0.8 dummy, PCP/TURN anycast
        "192.0.2.0/24",
        "192.31.196.0/24",  # AS112
        "192.52.193.0/24",  # AMT
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",
        "192.175.48.0/24",  # AS112 direct delegation
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",
        "64:ff9b:1::/48",  # local-use translation
        "100::/64",  # discard-only
        "100:0:0:1::/64",  # dummy prefix
        "2001::/23",  # IETF protocol assignments (Teredo's inner address is checked apart)
        "2001:db8::/32",
        "2620:4f:8000::/48",  # AS112
        "3fff::/20",  # documentation
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",  # deprecated site-local
        "ff00::/8",
    )
)


class AddressRefused(Exception):
    """The host is not one the product may connect to; the message says why."""


def vet_host(host: str, port: int, *, allowed_networks: Iterable[str]) -> str:
    """The address to dial for `host`: every address it resolves to must be public (or in
    `allowed_networks`); the caller connects to the returned one, never to the name again."""
    name = (host or "").strip().rstrip(".")
    if not name or any(char in name for char in "\r\n\x00 /@"):
        raise AddressRefused(f"{host!r} is not a host name.")
    networks = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
    literal = ip_literal(name)
    try:
        addresses = (
            [literal]
            if literal is not None
            else [ipaddress.ip_address(a.split("%", 1)[0]) for a in system_resolver(name, port)]
        )
    except (OSError, UnicodeError) as error:
        raise AddressRefused(f"Cannot resolve {name}: {error}") from None
    if not addresses:
        raise AddressRefused(f"{name} has no address.")
    for address in addresses:
        for candidate in embedded_addresses(address):
            if not any(candidate in network for network in networks) and not is_public(candidate):
                raise AddressRefused(
                    f"{name} resolves to {candidate}, which is not a public address."
                )
    return str(addresses[0])


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses DNS gives for `host`, in its order, without repeats."""
    # AI_ADDRCONFIG: no IPv6 answers on a machine without IPv6 (many containers), where
    # dialling the first answer would fail although the site is reachable over IPv4.
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells out, if it is one, in any form a resolver would accept."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        # inet_aton accepts the legacy forms browsers do ("0x7f.1", "2130706433", "127.1",
        # "0177.0.0.1"), which an attacker uses to slip 127.0.0.1 past a naive check.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):  # ValueError: an embedded NUL
        return None


def embedded_addresses(address: IPAddress) -> list[IPAddress]:
    """The address itself plus any IPv4 address carried inside an IPv6 one (mapped,
    IPv4-compatible, 6to4, Teredo, NAT64): each would reach that IPv4 host in the end."""
    found: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        teredo = address.teredo
        found += [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
        if teredo:
            found.append(teredo[1])
        ipv4_compatible = address.packed[:12] == bytes(12) and int(address) > 1  # ::a.b.c.d
        if ipv4_compatible or address in NAT64:
            found.append(ipaddress.IPv4Address(address.packed[12:]))
    return found


def is_public(address: IPAddress) -> bool:
    """Globally routable and not special: no loopback, private, link-local, CGNAT,
    multicast, reserved or unspecified address, nor any on the special-use list."""
    if any(address in network for network in SPECIAL_USE):
        return False
    # is_global alone is not enough on Python 3.11: it is True for multicast and for the
    # deprecated IPv6 site-local range.
    site_local = isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or site_local
    )
