# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import pytest

from ansible_collections.port443.https.plugins.module_utils.firewall.base import (
    FirewallError,
    Rule,
    build_rules,
    build_wanted,
    comment_for,
    key_from_comment,
    read_cache,
    parse_ports,
    parse_sources,
    render_rules,
    rules_by_family,
    validate_comment,
)


def test_parse_ports_accepts_ints_strings_and_ranges():
    assert parse_ports([443, "80", "8000-8010", "9000:9001", "443"]) == [(443, 443), (80, 80), (8000, 8010), (9000, 9001)]


@pytest.mark.parametrize("bad,msg", [(0, "out of range"), (70000, "out of range"), ("abc", "not a port"),
                                     ("10-5", "ends before"), ("1-70000", "out of range")])
def test_parse_ports_rejects(bad, msg):
    with pytest.raises(FirewallError, match=msg):
        parse_ports([bad])


def test_parse_ports_needs_one():
    with pytest.raises(FirewallError):
        parse_ports([])


def test_sources_normalised_and_validated():
    assert parse_sources(None) == [None]
    assert parse_sources(["10.1.2.3/8", "2001:DB8::1/32", "192.0.2.1"]) == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1/32"]
    with pytest.raises(FirewallError, match="CIDR"):
        parse_sources(["10.0.0.300/8"])


def test_rule_keys_round_trip_and_families():
    rules = build_rules(["443", "8000-8010"], "tcp", ["10.0.0.0/8", "2001:db8::/32"])
    assert [r.key for r in rules] == ["tcp/443,from=10.0.0.0/8", "tcp/443,from=2001:db8::/32",
                                      "tcp/8000-8010,from=10.0.0.0/8", "tcp/8000-8010,from=2001:db8::/32"]
    assert [r.family for r in rules] == ["ipv4", "ipv6", "ipv4", "ipv6"]
    assert all(Rule.from_key(r.key) == r for r in rules)
    assert Rule("udp", 53, 53).families() == ["ipv4", "ipv6"]
    with pytest.raises(ValueError):
        Rule.from_key("ssh")
    with pytest.raises(FirewallError):
        build_rules([443], "icmp", None)


def test_comments():
    rule = Rule("tcp", 443, 443)
    assert comment_for(rule) == "port443.https:tcp/443"
    assert comment_for(rule, "web") == "port443.https:tcp/443 web"
    assert key_from_comment("port443.https:tcp/443 web") == "tcp/443"
    assert key_from_comment("f2b ban") is None
    validate_comment("admin web-1")
    with pytest.raises(FirewallError):
        validate_comment('bad"quote')


def test_render():
    text = render_rules(rules_by_family([Rule("tcp", 443, 443), Rule("tcp", 22, 22, "10.0.0.0/8")]))
    assert text == ("ipv4: allow tcp/22 from 10.0.0.0/8\nipv4: allow tcp/443 from any\nipv6: allow tcp/443 from any\n")


def test_build_wanted_defaults_conflicts_and_errors():
    defaults = {"protocol": "tcp", "state": "open", "source": None, "comment": "https"}
    wanted = build_wanted([{"port": ["443", "80"]},
                           {"port": ["8000-8010"], "source": ["10.0.0.0/8"], "comment": "admin"},
                           {"port": ["53"], "protocol": "udp", "state": "closed", "source": []},
                           {"port": ["443"]}], defaults)
    assert [(r.key, r.comment, want) for r, want in wanted] == [
        ("tcp/443", "https", True), ("tcp/80", "https", True), ("tcp/8000-8010,from=10.0.0.0/8", "admin", True),
        ("udp/53", "https", False)]
    with pytest.raises(FirewallError, match=r"^rules\[1\]: tcp/443 is asked both open and closed$"):
        build_wanted([{"port": ["443"]}, {"port": ["443"], "state": "closed"}], defaults)
    with pytest.raises(FirewallError, match=r"^rules\[0\]\.port: 70000 is out of range"):
        build_wanted([{"port": ["70000"]}], defaults)
    with pytest.raises(FirewallError, match=r"^rules\[1\]\.source: "):
        build_wanted([{"port": ["1"]}, {"port": ["2"], "source": ["10.0.0.300/8"]}], defaults)
    with pytest.raises(FirewallError, match=r"^rules\[0\]\.comment: "):
        build_wanted([{"port": ["1"], "comment": "bad;comment"}], defaults)
    with pytest.raises(FirewallError, match=r"^rules\[0\]\.port: "):
        build_wanted([{"port": []}], defaults)
    with pytest.raises(FirewallError, match=r"^rules: at least one entry"):
        build_wanted([], defaults)


def test_read_cache_runs_each_status_read_once_until_dropped():
    calls = []

    def runner(argv, data=None):
        calls.append(argv)
        return 0, f"out{len(calls)}", ""

    run, drop = read_cache(runner)
    assert run(["ufw", "status"]) == run(["ufw", "status"]) == (0, "out1", "")
    run(["ufw", "allow", "443/tcp"])
    run(["ufw", "allow", "443/tcp"])  # never cached: only the reads are
    assert run(["nft", "-j", "-a", "list", "ruleset"]) == run(["nft", "-j", "-a", "list", "ruleset"])
    drop()
    assert run(["ufw", "status"])[1] != "out1"  # read again after a change
    assert calls == [["ufw", "status"], ["ufw", "allow", "443/tcp"], ["ufw", "allow", "443/tcp"],
                     ["nft", "-j", "-a", "list", "ruleset"], ["ufw", "status"]]
