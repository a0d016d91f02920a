"""Which hosts the product may connect to on a customer's behalf: mail servers, webhook
endpoints. Only public addresses, unless a setting allows a network (loopback in the demo).

The research fetcher (sdr/fetch.py) applies the same rules to every hop of a crawl.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from sdr.fetch import _embedded_addresses, _ip_literal, _is_public, _system_resolver


class AddressRefused(Exception):
    """The host is not one the product may connect to; the message says why."""


def vet_host(host: str, port: int, *, allowed_networks: Iterable[str]) -> str:
    """The address to dial for `host`: every address it resolves to must be public (or in
    `allowed_networks`); the caller connects to the returned one, never to the name again."""
    name = (host or "").strip().rstrip(".")
    if not name or any(char in name for char in "\r\n\x00 /@"):
        raise AddressRefused(f"{host!r} is not a host name.")
    networks = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
    literal = _ip_literal(name)
    try:
        addresses = (
            [literal]
            if literal is not None
            else [ipaddress.ip_address(a.split("%", 1)[0]) for a in _system_resolver(name, port)]
        )
    except (OSError, UnicodeError) as error:
        raise AddressRefused(f"Cannot resolve {name}: {error}") from None
    if not addresses:
        raise AddressRefused(f"{name} has no address.")
    for address in addresses:
        for candidate in _embedded_addresses(address):
            if not any(candidate in network for network in networks) and not _is_public(candidate):
                raise AddressRefused(
                    f"{name} resolves to {candidate}, which is not a public address."
                )
    return str(addresses[0])
