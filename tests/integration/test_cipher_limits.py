# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The ciphers check behind a connection limiter (nginx limit_conn, fail2ban, a load balancer): a real TCP proxy in
front of a real nginx serving Mozilla's intermediate profile forwards the first N connections and then closes every
further one (FIN, after reading the ClientHello), resets it (RST: SO_LINGER 0) or stalls it (accepts, never answers).

A close, a reset or a stall in the middle of the enumeration is not the server refusing the rest of the offer: the
result must be `cipher_enumeration_unknown` (complete false), never `ok` and never a `profile_mismatch` built on the
part enumerated before the limiter started. N is set from the number of connections the other checks of the same
endpoint take (measured through the same proxy, passing everything), plus a few, so the limiter starts during the
TLS 1.3 suites, the TLS 1.2 suites or the TLS 1.3 groups; then at every connection of the run, with a listener that
goes away as well (connecting refused); and behind a limiter that lets connections through again."""

from __future__ import annotations

import typing as t

import pki
import pytest
from conftest import codes, local_curves, probe, start_nginx, wait_listening
from limiter import LimitingProxy, RecoveringLimiter

from ansible_collections.port443.https.plugins.module_utils.profiles import _mozilla_guidelines

MOZ = _mozilla_guidelines.GUIDELINES["6.0"]["configurations"]["intermediate"]


OPTIONS = {"checks": ["tcp", "tls_versions", "ciphers"], "tls_profile": "intermediate", "tls_guideline": "6.0", "tls_pq": False,
           "timeout": 2}


@pytest.fixture(scope="module")
def limited(lab):
    """An nginx with Mozilla 6.0 intermediate (TLS 1.2 and 1.3, RSA certificate), and how many connections its
    checks other than ciphers take."""
    leaf = pki.issue("limited.test", issuer=lab.inter)
    cert = lab.write("limited.crt", leaf.pem + lab.inter.pem)
    key = lab.write("limited.key", leaf.key_pem)
    curves = local_curves(MOZ["tls_curves"])
    server = {"cert": cert, "key": key, "protocols": "TLSv1.2 TLSv1.3", "ciphers": ":".join(MOZ["ciphers"]["openssl"]), "curves": curves}
    proc, port = start_nginx(lab.tmp, "limited", [server])
    lab.procs.append(proc)
    wait_listening("127.0.0.1", port)
    upstream = ("127.0.0.1", port)

    def through(proxy: LimitingProxy, label: str, **options) -> dict:
        lab.endpoints[label] = {"host": "127.0.0.1", "port": proxy.port, "server_name": "limited.test"}
        return probe(lab, [label], **{**OPTIONS, **options})[label]

    passing = LimitingProxy(upstream, "close", None)
    whole = through(passing, "limited_open")
    assert whole["status"] == "ok" and whole["ciphers"]["complete"], whole["reasons"]
    passing.close()
    before = LimitingProxy(upstream, "close", None)
    through(before, "limited_before", checks=["tcp", "tls_versions"], tls_profile=None)
    before.close()
    return Limited(upstream, before.count, whole["ciphers"]["handshakes"], through, whole, passing.count)


class Limited(t.NamedTuple):
    upstream: tuple[str, int]
    before: int  # connections of the checks other than ciphers
    handshakes: int  # the enumeration's ClientHellos
    through: t.Callable[..., dict]
    whole: dict  # the result with nothing in the way
    total: int  # connections of the whole run


# After how many enumeration ClientHellos the limiter starts. Mozilla 6.0 intermediate with an RSA certificate takes 16
# (TLS 1.3 suites: 3 + the refusal, order 1, groups: 3 + the refusal; TLS 1.2 suites 3 + the refusal, order 1; one
# refusal each for TLS 1.1 and 1.0), the versions side by side: early, in the middle and near the end.
AFTER = (2, 7, 11, 13)


@pytest.mark.parametrize("mode", ["close", "reset", "stall"])
def test_a_limiter_mid_enumeration_is_unknown_never_ok(limited, mode):
    upstream, before, handshakes, through = limited.upstream, limited.before, limited.handshakes, limited.through
    assert handshakes > max(AFTER)
    for after in AFTER:
        proxy = LimitingProxy(upstream, mode, before + after)
        try:
            res = through(proxy, f"limited_{mode}_{after}")
        finally:
            proxy.close()
        found = codes(res)
        assert "cipher_enumeration_unknown" in found, (mode, after, res["reasons"], res["ciphers"])
        assert "profile_mismatch" not in found, (mode, after, res["reasons"])
        assert res["status"] != "ok" and res["ciphers"]["complete"] is False, (mode, after, res["ciphers"])


@pytest.mark.parametrize("mode", ["close", "reset"])
def test_a_limiter_without_a_profile_is_not_ok(limited, mode):
    """Without tls_profile nothing compares the lists: the partial result alone must not pass as ok."""
    upstream, before, through = limited.upstream, limited.before, limited.through
    for after in (11, 13):
        proxy = LimitingProxy(upstream, mode, before + after)
        try:
            res = through(proxy, f"limited_{mode}_noprofile_{after}", tls_profile=None)
        finally:
            proxy.close()
        assert res["status"] != "ok" and "cipher_enumeration_unknown" in codes(res), (after, res["reasons"], res["ciphers"])


@pytest.mark.parametrize("mode", ["close", "reset", "refuse"])
def test_a_limiter_at_any_connection_is_unknown_never_ok(limited, mode):
    """Every point at which a limiter can start, from the first connection to past the last: while it lets everything
    through the result is the whole one; once it stops a connection the result is not ok, not complete, and no
    profile comparison is built on what was enumerated before."""
    for allow in range(limited.total + 2):
        proxy = LimitingProxy(limited.upstream, mode, allow)
        try:
            res = limited.through(proxy, f"limited_any_{mode}_{allow}")
        finally:
            proxy.close()
        found = codes(res)
        if allow >= limited.total:
            assert res["status"] == "ok" and found == [], (mode, allow, res["reasons"])
            continue
        ciphers = res.get("ciphers") or {}
        assert res["status"] != "ok" and ciphers.get("complete") is not True, (mode, allow, res["reasons"], ciphers)
        assert "profile_mismatch" not in found, (mode, allow, res["reasons"])


@pytest.mark.parametrize("mode", ["close", "reset"])
@pytest.mark.parametrize("window", [1, 2])
def test_a_limiter_that_lets_connections_through_again(limited, mode, window):
    """A limiter whose window passes (connections allow+1 .. allow+window stopped, the rest forwarded): a result
    marked complete is the whole one; anything else is not ok. Never a partial list passed as the server's."""
    keys = ("versions", "groups", "server_order", "forward_secrecy", "dh", "certificate_key_types_by_version")
    want = {key: limited.whole["ciphers"][key] for key in keys}
    completed = 0
    for allow in range(limited.total):
        proxy = RecoveringLimiter(limited.upstream, mode, allow, window)
        try:
            res = limited.through(proxy, f"limited_window_{mode}_{window}_{allow}")
        finally:
            proxy.close()
        ciphers = res.get("ciphers") or {}
        if ciphers.get("complete"):
            completed += 1
            assert {key: ciphers[key] for key in keys} == want, (mode, window, allow, ciphers)
            assert res["status"] != "ok" or codes(res) == [], (mode, window, allow, res["reasons"])
        else:
            # Not ok; where the window stopped the reachability check itself, that is the finding (the endpoint
            # looked closed) and no enumeration ran, else the enumeration says it is unknown.
            assert res["status"] != "ok", (mode, window, allow, res["reasons"])
            assert res.get("ciphers") is None or "cipher_enumeration_unknown" in codes(res), (mode, window, allow, res["reasons"])
    # The enumeration asks again after a close or reset without an alert (the known offer, then the repeat): where the
    # window has passed by then, it finishes. A limiter that recovers must not leave every run unknown.
    assert completed > 0, (mode, window)
