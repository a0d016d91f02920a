"""The address check every outbound connection goes through (sdr/netguard.py)."""

from __future__ import annotations

import ipaddress
import re

import pytest

from sdr.netguard import AddressRefused, embedded_addresses, ip_literal, is_public, vet_host


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104  (an address to refuse, not one to bind)
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "fec0::1",  # deprecated site-local
        "ff02::1",
    ],
)
def test_private_and_special_addresses_are_refused(address):
    with pytest.raises(AddressRefused, match="not a public address"):
        vet_host(address, 25, allowed_networks=[])


def test_a_public_address_is_returned_to_be_dialled():
    assert vet_host("93.184.215.14", 587, allowed_networks=[]) == "93.184.215.14"
    assert vet_host("2606:4700::1111", 587, allowed_networks=[]) == "2606:4700::1111"


@pytest.mark.parametrize(
    "address, hidden",
    [
        ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("::10.0.0.1", "10.0.0.1"),  # IPv4-compatible
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),  # NAT64
        ("2002:c0a8:0101::1", "192.168.1.1"),  # 6to4
    ],
)
def test_an_address_hidden_inside_ipv6_is_checked_too(address, hidden):
    found = embedded_addresses(ipaddress.ip_address(address))
    assert ipaddress.ip_address(hidden) in found
    with pytest.raises(AddressRefused, match="not a public address"):
        vet_host(address, 25, allowed_networks=[])
    # Allowing the IPv6 range the address is written in does not let the IPv4 inside pass.
    outer = f"{address}/128"
    with pytest.raises(AddressRefused, match=re.escape(hidden)):
        vet_host(address, 25, allowed_networks=[outer])


@pytest.mark.parametrize("legacy", ["0x7f.1", "2130706433", "127.1", "0177.0.0.1"])
def test_legacy_spellings_of_loopback_are_read_as_loopback(legacy):
    assert ip_literal(legacy) == ipaddress.IPv4Address("127.0.0.1")
    with pytest.raises(AddressRefused):
        vet_host(legacy, 25, allowed_networks=[])


@pytest.mark.parametrize(
    "host",
    [
        "smtp.example.com\r\nRCPT TO:<x@y>",
        "smtp.example.com\nx",
        "smtp\x00.example.com",
        "",
        " ",
        "a b",
        "user@host",
        "host/path",
    ],
)
def test_a_host_with_control_characters_or_separators_is_not_a_host_name(host):
    with pytest.raises(AddressRefused, match="not a host name"):
        vet_host(host, 25, allowed_networks=[])


def test_an_allowed_network_lets_its_addresses_through():
    assert vet_host("127.0.0.1", 25, allowed_networks=["127.0.0.0/8"]) == "127.0.0.1"
    assert vet_host("::1", 25, allowed_networks=["::1/128"]) == "::1"
    # Only that network: the rest of the private ranges stay closed.
    with pytest.raises(AddressRefused):
        vet_host("10.0.0.1", 25, allowed_networks=["127.0.0.0/8"])


def test_a_mapped_address_is_allowed_only_if_the_ipv4_inside_is_allowed():
    with pytest.raises(AddressRefused, match=re.escape("127.0.0.1")):
        vet_host("::ffff:127.0.0.1", 25, allowed_networks=["::ffff:0:0/96"])
    assert vet_host("::ffff:127.0.0.1", 25, allowed_networks=["::ffff:0:0/96", "127.0.0.1/32"])


def test_a_name_is_resolved_and_every_answer_checked():
    # localhost resolves through the system resolver (no network needed) to loopback.
    with pytest.raises(AddressRefused, match="not a public address"):
        vet_host("localhost", 25, allowed_networks=[])
    assert vet_host("localhost", 25, allowed_networks=["127.0.0.0/8", "::1/128"]) in {
        "127.0.0.1",
        "::1",
    }


def test_a_name_that_does_not_resolve_says_so():
    with pytest.raises(AddressRefused, match=re.escape("Cannot resolve no-such-host.invalid")):
        vet_host("no-such-host.invalid", 25, allowed_networks=[])


def test_public_means_globally_routable_and_not_special():
    assert is_public(ipaddress.ip_address("8.8.8.8"))
    assert not is_public(ipaddress.ip_address("192.0.2.1"))  # documentation range
    assert not is_public(ipaddress.ip_address("ff0e::1"))  # global-scope multicast


# The ranges the issue found passing the check, each tested at its first, middle and last
# address, then every range of the explicit list at its first address.
@pytest.mark.parametrize(
    "address",
    [
        "fec0::",
        "fec0::1",
        "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",  # deprecated site-local, fec0::/10
        "3fff::",
        "3fff:abc::1",
        "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",  # documentation, 3fff::/20 (RFC 9637)
        "192.0.0.8",  # IPv4 dummy address (RFC 7600)
        "192.0.0.9",  # PCP anycast: not a web server
        "192.0.0.170",  # NAT64 discovery
        "192.88.99.0",
        "192.88.99.1",
        "192.88.99.255",  # deprecated 6to4 relay anycast (RFC 7526)
        "192.31.196.1",  # AS112
        "192.175.48.1",  # AS112 direct delegation
        "192.52.193.1",  # AMT
        "198.18.0.1",  # benchmarking
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "64:ff9b:1::1",  # local-use IPv4/IPv6 translation
        "100::1",  # discard-only
        "2001:2::1",  # benchmarking
        "2001:db8::1",  # documentation
        "2620:4f:8000::1",  # AS112
        "5f00::1",  # SRv6 SIDs
    ],
)
def test_special_use_ranges_are_refused(address):
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(AddressRefused, match="not a public address"):
        vet_host(address, 443, allowed_networks=[])


def test_every_range_on_the_special_use_list_is_refused_at_its_edges():
    from sdr.netguard import SPECIAL_USE

    for network in SPECIAL_USE:
        for address in (network[0], network[-1]):
            assert not is_public(address), f"{address} ({network}) passed the check"


def test_public_neighbours_of_the_special_ranges_still_pass():
    for address in ("192.0.1.1", "192.88.98.255", "192.88.100.1", "2a00:1450::1", "2606:4700::1"):
        assert is_public(ipaddress.ip_address(address)), address
