# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The certificate role's two decision filters: acme_order_reasons (the ACME order rule) and
provided_certificate_problems (the provided source's refusal) call the core the state step calls; bad input is one
AnsibleFilterError naming the filter."""

from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.port443.https.plugins.filter.acme_order_reasons import FilterModule as OrderFilters
from ansible_collections.port443.https.plugins.filter.provided_certificate_problems import FilterModule as ProvidedFilters

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

ORDER = OrderFilters().filters()["acme_order_reasons"]
PROBLEMS = ProvidedFilters().filters()["provided_certificate_problems"]
FACTS = {"exists": True, "names": ["DNS:a"], "wanted": ["DNS:a"], "key_changed": False, "issuer": "https://ca/dir\n",
         "directory": "https://ca/dir", "renewal": "", "forced": False, "host_renewal": False, "expired": False,
         "in_window": False}


def test_acme_order_reasons_filter():
    assert ORDER(FACTS) == []
    # Jinja hands booleans from templates as text at times: "True"/"False" are read as booleans.
    assert ORDER(dict(FACTS, in_window="True", key_changed="False")) == ["inside the renewal window"]
    assert ORDER(dict(FACTS, exists=False, names=[], issuer=None)) == ["no certificate yet"]


@pytest.mark.parametrize("value", [None, "facts", {"exists": True}, dict(FACTS, extra=1)])
def test_acme_order_reasons_filter_refuses_bad_input(value):
    with pytest.raises(AnsibleFilterError, match="acme_order_reasons: expected a dict with exactly the keys"):
        ORDER(value)


def _material():
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.lab.test")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.lab.test")]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())


def test_provided_certificate_problems_filter():
    cert, key = _material()
    assert PROBLEMS(cert, key, "", ["DNS:www.lab.test"]) == []
    assert PROBLEMS(cert, key) == []
    assert PROBLEMS(cert, key, None, ["DNS:other.lab.test"]) == ["it does not cover DNS:other.lab.test"]
    with pytest.raises(AnsibleFilterError, match="provided_certificate_problems: expected a PEM key"):
        PROBLEMS(cert, 5)
    with pytest.raises(AnsibleFilterError, match="names: expected a list"):
        PROBLEMS(cert, key, "", "DNS:www.lab.test")
