# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""ACME profiles: what a directory advertises (meta.profiles) and the refusal before an order."""
from __future__ import annotations

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
