# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import shutil

import pytest

from ansible_collections.port443.https.plugins.module_utils.probe import _revocation

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI needed for the staple request")

GOOD = "OCSP response: \n======================================\nOCSP Response Data:\n    OCSP Response Status: successful (0x0)\n    Cert Status: good\n"
REVOKED = GOOD.replace("Cert Status: good", "Cert Status: revoked")


@pytest.mark.parametrize("output, expected", [
    (GOOD, {"present": True, "status": "good"}),
    (REVOKED, {"present": True, "status": "revoked"}),
    ("OCSP response: no response sent\n", {"present": False, "status": None}),
    ("CONNECTED\n", {"present": None, "status": "unknown"}),
])
def test_stapled_parsing(output, expected):
    seen = []

    def run(argv):
        seen.append(argv)
        return 0, output

    result = _revocation.stapled("::1", 8443, "www.example.test", 2, run)
    assert {k: result[k] for k in expected} == expected
    assert "[::1]:8443" in seen[0] and "-servername" in seen[0] and "-status" in seen[0]


def test_stapled_without_runner():
    assert _revocation.stapled("127.0.0.1", 443, None, 2, None) is None


def test_stapled_runner_error():
    def run(argv):
        raise OSError("boom")

    assert _revocation.stapled("127.0.0.1", 443, "127.0.0.1", 2, run)["status"] == "unknown"


def test_fetch_rejects_other_schemes():
    with pytest.raises(ValueError):
        _revocation.fetch("ldap://example.test/crl", 1)
