# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Doctor lab PKI in one go: root CA, intermediate CA, and one leaf (with key) per name given.

Usage: python make_pki.py DIR NAME...   (writes root.pem, intermediate.pem, NAME.pem, NAME.key; does nothing
for files that exist)."""

from __future__ import annotations

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def _issue(cn: str, days: int, issuer: tuple | None = None, ca: bool = False, path_length: int | None = None) -> tuple:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer[0].subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - DAY).not_valid_after(NOW + days * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True))
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = (builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256()), key


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def main(directory: str, names: list[str]) -> None:
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if os.path.exists(os.path.join(directory, "intermediate.pem")):
        return
    root = _issue("Doctor Lab Root CA", 3650, ca=True, path_length=1)
    inter = _issue("Doctor Lab Intermediate CA", 3650, root, ca=True, path_length=0)
    _write(os.path.join(directory, "root.pem"), _pem(root[0]))
    for name in names:
        cert, key = _issue(name, 200, inter)
        _write(os.path.join(directory, f"{name}.pem"), _pem(cert))
        _write(os.path.join(directory, f"{name}.key"), _key(key), 0o600)
    _write(os.path.join(directory, "intermediate.pem"), _pem(inter[0]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
