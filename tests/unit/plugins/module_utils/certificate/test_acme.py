# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""ACME profiles: what a directory advertises (meta.profiles) and the refusal before an order; ARI (RFC 9773)."""
from __future__ import annotations

import datetime

import pytest

from ansible_collections.port443.https.plugins.module_utils.certificate import _acme

URL = "https://ca.test/dir"
LE = {"newOrder": "https://ca.test/new-order",
      "meta": {"profiles": {"classic": "The same profile you've always known", "shortlived": "Six days",
                            "tlsserver": "TLS server only"}}}
# pebble 2.6 (Debian 12 and 13): a meta object without profiles.
PEBBLE = {"newOrder": "https://pebble:14000/order-plz",
          "meta": {"externalAccountRequired": False, "termsOfService": "data:text/plain,Do%20what%20thou%20wilt"}}


def test_profiles_advertised():
    assert _acme.profiles(LE) == {"classic": "The same profile you've always known", "shortlived": "Six days",
                                  "tlsserver": "TLS server only"}
    assert _acme.profile_problem(LE, "shortlived", URL) == ""


def test_no_profiles():
    for directory in (PEBBLE, {}, {"meta": None}, {"meta": {"profiles": []}}):
        problem = _acme.profile_problem(directory, "shortlived", URL)
        assert problem.startswith(f"the CA at {URL} advertises no ACME profiles"), problem
        assert "(profile)" in problem


def test_unknown_profile_names_the_offered_ones():
    problem = _acme.profile_problem(LE, "sixday", URL)
    assert problem == (f"the CA at {URL} does not offer the ACME profile 'sixday' (profile); it offers classic, "
                       "shortlived, tlsserver")


def test_not_a_directory():
    assert _acme.parse_directory(b"<html>") is None
    assert _acme.parse_directory("[1]") is None
    assert _acme.parse_directory(b'{"meta": {}}') == {"meta": {}}
    assert "is not a JSON object" in _acme.profile_problem(None, "classic", URL)


def test_cert_id_of_rfc_9773():
    # RFC 9773 section 4.1: AKI 69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:C8:D4, serial 0x87654321.
    aki = bytes.fromhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
    assert _acme.cert_id(aki, 0x87654321) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
    assert _acme.cert_id(aki, 0x7F) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.fw"
    assert _acme.cert_id(aki, 0) == "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AA"


def test_parse_timestamp():
    utc = datetime.timezone.utc
    assert _acme.parse_timestamp("2025-01-02T04:00:00Z") == datetime.datetime(2025, 1, 2, 4, tzinfo=utc)
    assert _acme.parse_timestamp("2025-01-02T04:00:00.123456789+02:00") == datetime.datetime(
        2025, 1, 2, 2, 0, 0, 123456, tzinfo=utc)
    for bad in ("2025-01-02", "tomorrow", None, 5):
        with pytest.raises(ValueError):
            _acme.parse_timestamp(bad)


def test_renewal_window():
    start, end = _acme.renewal_window('{"suggestedWindow": {"start": "2025-01-02T04:00:00Z", "end": "2025-01-03T04:00:00Z"}}')
    assert (end - start).days == 1
    for bad in ("[]", "{}", '{"suggestedWindow": {"start": "x", "end": "2025-01-03T04:00:00Z"}}', "not json"):
        with pytest.raises(ValueError):
            _acme.renewal_window(bad)


def test_ari_reason():
    utc = datetime.timezone.utc
    start, end = datetime.datetime(2025, 1, 2, tzinfo=utc), datetime.datetime(2025, 1, 3, tzinfo=utc)
    assert _acme.ari_reason(start, end, datetime.datetime(2025, 1, 1, tzinfo=utc)) == ""
    assert _acme.ari_reason(start, end, start) == ""
    assert "inside the suggested renewal window" in _acme.ari_reason(start, end, datetime.datetime(2025, 1, 2, 12, tzinfo=utc))
    assert "window ended" in _acme.ari_reason(start, end, datetime.datetime(2025, 1, 4, tzinfo=utc))
