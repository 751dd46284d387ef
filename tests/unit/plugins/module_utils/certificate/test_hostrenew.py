# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The renewal agent's decisions (certificate_renewal: host): ARI identifiers and windows, the lifetime fallback, the
files a certificate is written as, certbot's command and credentials, the configuration check, pool members."""
from __future__ import annotations

import base64
import datetime

import pytest

from ansible_collections.port443.https.plugins.module_utils.certificate import _hostrenew

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 12, 1, tzinfo=UTC)


def at(seconds):
    return T0 + datetime.timedelta(seconds=seconds)


def test_parse_time_nanoseconds_and_offsets():
    assert _hostrenew.parse_time("2026-12-01T00:00:10.123456789Z") == at(10.123456)
    assert _hostrenew.parse_time("2026-12-01T01:00:00+01:00") == T0
    with pytest.raises(ValueError):
        _hostrenew.parse_time("yesterday")


def test_ari_cert_id_matches_rfc9773_example():
    # RFC 9773 section 4.1: keyIdentifier 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 00:87:65:43:21.
    aki = bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
    assert _hostrenew.ari_cert_id(aki, 0x87654321) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"


def test_serial_bytes_keeps_the_sign_octet():
    assert _hostrenew.serial_bytes(0x7F) == b"\x7f"
    assert _hostrenew.serial_bytes(0x80) == b"\x00\x80"


def test_ari_point_is_stable_and_inside_the_window():
    window = {"start": "2026-12-01T00:01:00Z", "end": "2026-12-01T00:02:00Z"}
    points = {_hostrenew.ari_renew_at(window, serial) for serial in range(50)}
    assert all(at(60) <= p <= at(120) for p in points)
    assert len(points) > 40  # spread over the window
    assert _hostrenew.ari_renew_at(window, 7) == _hostrenew.ari_renew_at(window, 7)


def test_ari_window_is_cut_to_the_validity():
    # pebble answers with two days around the two-thirds point, whatever the lifetime: cut to [notBefore, notAfter].
    window = {"start": "2026-11-30T00:01:20Z", "end": "2026-12-02T00:01:20Z"}
    point = _hostrenew.ari_renew_at(window, 12345, at(0), at(120))
    assert at(0) <= point <= at(120)


def test_ari_window_in_the_past_means_now():
    # A revoked certificate: pebble's window ends before the certificate was issued.
    window = {"start": "2026-11-30T23:00:00Z", "end": "2026-11-30T23:30:00Z"}
    decision = _hostrenew.decide(at(0), at(120), at(1), 50, window, 99)
    assert decision["due"] and decision["basis"] == "ari"


def test_lifetime_fallback():
    assert _hostrenew.lifetime_renew_at(at(0), at(600), 50) == at(300)
    assert _hostrenew.lifetime_renew_at(at(0), at(300), 0) == at(201)  # a third remains by default
    decision = _hostrenew.decide(at(0), at(120), at(59), 50)
    assert not decision["due"] and decision["basis"] == "lifetime" and decision["renew_at"] == "2026-12-01T00:01:00Z"
    assert _hostrenew.decide(at(0), at(120), at(60), 50)["due"]


def test_ari_never_later_than_the_fallback():
    window = {"start": "2026-12-01T00:01:50Z", "end": "2026-12-01T00:01:55Z"}
    decision = _hostrenew.decide(at(0), at(120), at(61), 50, window, 5)
    assert decision["due"] and decision["basis"] == "lifetime" and "before the point" in decision["why"]


def test_expired_is_always_due():
    window = {"start": "2026-12-01T00:05:00Z", "end": "2026-12-01T00:06:00Z"}
    assert _hostrenew.decide(at(0), at(120), at(121), 100, window, 5)["due"]


PEM_A = "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"a" * 100).decode() + "\n-----END CERTIFICATE-----"
PEM_B = "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"b" * 60).decode() + "\n-----END CERTIFICATE-----"


def test_pem_blocks_normalise_and_files_match_the_roles_full_chain():
    blocks = _hostrenew.pem_blocks("junk\n" + PEM_A + "\r\n\n" + PEM_B + "\n")
    assert len(blocks) == 2
    assert all(len(line) <= 64 for block in blocks for line in block.splitlines())
    files = _hostrenew.files_text(blocks)
    assert files["cert"] == blocks[0] and files["chain"] == blocks[1]
    # finish.yml: each part trimmed, joined by a newline, a final newline.
    assert files["fullchain"] == blocks[0].strip() + "\n" + blocks[1].strip() + "\n"
    assert _hostrenew.files_text(blocks[:1])["fullchain"] == blocks[0]
    with pytest.raises(ValueError):
        _hostrenew.files_text([])


CONFIG = {"name": "pool", "cert": "/c", "chain": "/ch", "fullchain": "/f", "key": "/k", "sans": ["DNS:pool.test"],
          "directory": "https://ca/dir", "challenge": "http-01", "webroot": "/var/www/acme", "server": "nginx",
          "service": "nginx", "probe_name": "pool.test", "certbot_dir": "/var/lib/c", "state_file": "/s",
          "validate_certs": False, "email": ""}


def test_certbot_argv_http01():
    argv = _hostrenew.certbot_argv(CONFIG, "/w/csr.pem", "/w/out")
    assert argv[:2] == ["certbot", "certonly"]
    assert ["--csr", "/w/csr.pem"] == argv[argv.index("--csr"):argv.index("--csr") + 2]
    assert "--no-verify-ssl" in argv and "--register-unsafely-without-email" in argv
    assert argv[argv.index("--webroot") + 2] == "/var/www/acme"
    assert argv[argv.index("--fullchain-path") + 1] == "/w/out/fullchain.pem"


def test_certbot_argv_dns01_and_credentials():
    config = dict(CONFIG, challenge="dns-01", email="a@b.test", validate_certs=True,
                  dns={"server": "ns", "key_name": "k", "key_secret": "c2VjcmV0", "propagation_seconds": 2})
    argv = _hostrenew.certbot_argv(config, "/w/csr.pem", "/w/out", "/w/ini")
    assert "--dns-rfc2136" in argv and argv[argv.index("--dns-rfc2136-credentials") + 1] == "/w/ini"
    assert argv[argv.index("--dns-rfc2136-propagation-seconds") + 1] == "2"
    assert "--no-verify-ssl" not in argv and argv[argv.index("-m") + 1] == "a@b.test"
    ini = _hostrenew.rfc2136_ini(config["dns"], "192.0.2.53")
    assert "dns_rfc2136_server = 192.0.2.53\n" in ini and "dns_rfc2136_algorithm = HMAC-SHA256\n" in ini
    with pytest.raises(_hostrenew.ConfigError, match="key_algorithm"):
        _hostrenew.rfc2136_ini(dict(config["dns"], key_algorithm="gost"), "192.0.2.53")


@pytest.mark.parametrize("change, message", [
    ({"directory": ""}, "directory: missing"),
    ({"challenge": "tls-alpn-01"}, "challenge"),
    ({"webroot": ""}, "webroot: needed"),
    ({"challenge": "dns-01", "dns": {"server": "ns"}}, "dns.key_name"),
    ({"pool": {"members": ["a", "b"], "me": "c"}}, "pool.me"),
])
def test_check_config_names_the_problem(change, message):
    with pytest.raises(_hostrenew.ConfigError, match=message):
        _hostrenew.check_config(dict(CONFIG, **change))
    with pytest.raises(_hostrenew.ConfigError):
        _hostrenew.check_config([])
    assert _hostrenew.check_config(CONFIG) is CONFIG


def test_pool_roles():
    assert _hostrenew.pool_role(None) == ("single", "")
    assert _hostrenew.pool_role({"members": ["a", "b", "c"], "me": "a"}) == ("leader", "")
    assert _hostrenew.pool_role({"members": ["a", "b", "c"], "me": "c"}) == ("member", "b")


def cert(der, key=b"K", after=120, sans=("pool.test",)):
    return {"der": der, "public_key": key, "not_after": at(after), "sans": list(sans)}


def test_member_action():
    mine = cert(b"old")
    assert _hostrenew.member_action(mine, None, b"K", ["pool.test"])[0] is False
    assert _hostrenew.member_action(mine, cert(b"old"), b"K", ["pool.test"]) == (
        False, "the member before this one serves this member's certificate: nothing to do")
    assert "another key" in _hostrenew.member_action(mine, cert(b"new", key=b"X", after=240), b"K", ["pool.test"])[1]
    assert "other names" in _hostrenew.member_action(mine, cert(b"new", after=240, sans=["x.test"]), b"K",
                                                     ["pool.test"])[1]
    assert "older" in _hostrenew.member_action(mine, cert(b"new", after=60), b"K", ["pool.test"])[1]
    assert _hostrenew.member_action(mine, cert(b"new", after=240), b"K", ["pool.test"])[0] is True
    assert _hostrenew.member_action(None, cert(b"new", after=240), b"K", ["pool.test"])[0] is True


# --- the web server's own copies ------------------------------------------------------------------------------------

OLD = _hostrenew.files_text(["-----BEGIN CERTIFICATE-----\nOLDLEAF\n-----END CERTIFICATE-----\n",
                             "-----BEGIN CERTIFICATE-----\nISSUER\n-----END CERTIFICATE-----\n"])
NEW = _hostrenew.files_text(["-----BEGIN CERTIFICATE-----\nNEWLEAF\n-----END CERTIFICATE-----\n",
                             "-----BEGIN CERTIFICATE-----\nISSUER\n-----END CERTIFICATE-----\n"])


def test_copies_of_the_full_chain_get_the_new_full_chain_whatever_their_names():
    listing = {"/etc/haproxy/port443/site.crt": OLD["fullchain"].encode(),
               "/etc/haproxy/port443/site.2.crt": OLD["fullchain"].encode(),
               "/etc/haproxy/port443/site.crt.key": b"-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n",
               "/etc/haproxy/port443/other.crt": b"-----BEGIN CERTIFICATE-----\nOTHER\n-----END CERTIFICATE-----\n"}
    assert _hostrenew.copies_to_replace(listing, OLD, NEW) == {
        "/etc/haproxy/port443/site.2.crt": NEW["fullchain"], "/etc/haproxy/port443/site.crt": NEW["fullchain"]}


def test_a_copy_of_the_leaf_alone_gets_the_new_leaf():
    assert _hostrenew.copies_to_replace({"/c/leaf.crt": OLD["cert"].encode()}, OLD, NEW) == {"/c/leaf.crt": NEW["cert"]}


def test_an_unchanged_chain_and_an_empty_part_match_nothing():
    # The issuer did not change: its copy stays as it is; an empty previous part (no chain) is no match for an empty file.
    listing = {"/c/chain.crt": OLD["chain"].encode(), "/c/empty": b""}
    assert not _hostrenew.copies_to_replace(listing, dict(OLD, cert=""), NEW)
    assert not _hostrenew.copies_to_replace(listing, {"cert": "", "chain": "", "fullchain": ""}, NEW)


def test_a_certificate_without_chain_is_its_own_full_chain_and_takes_the_new_full_chain():
    alone = _hostrenew.files_text(["-----BEGIN CERTIFICATE-----\nOLDLEAF\n-----END CERTIFICATE-----\n"])
    assert alone["cert"] == alone["fullchain"]
    assert _hostrenew.copies_to_replace({"/c/x.crt": alone["cert"].encode()}, alone, NEW) == {"/c/x.crt": NEW["fullchain"]}


def test_a_copy_edited_by_hand_is_not_touched():
    listing = {"/c/site.crt": OLD["fullchain"].encode() + b"\n"}
    assert not _hostrenew.copies_to_replace(listing, OLD, NEW)


# --- the role's settings --------------------------------------------------------------------------------------------

def test_settings_problems_names_the_registry_and_refuses_dual_certificates():
    servers = ("nginx", "apache", "caddy", "haproxy")
    assert not _hostrenew.settings_problems("haproxy", ["ECC"], servers)
    assert not _hostrenew.settings_problems("caddy", [], servers)
    (problem,) = _hostrenew.settings_problems("lighttpd", [], servers)
    assert "certificate_host_renewal_server must be one of nginx, apache, caddy, haproxy (got 'lighttpd')" in problem
    (problem,) = _hostrenew.settings_problems("nginx", ["ECC", "RSA"], servers)
    assert "certificate_key_types: ECC, RSA" in problem and "certificate_renewal: controller" in problem
