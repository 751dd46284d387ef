# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Local test PKI generated with cryptography (and the openssl CLI for SHA-1, which cryptography refuses)."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
_KEYS: dict[int, rsa.RSAPrivateKey] = {}


def rsa_key(bits: int = 2048, fresh: bool = False) -> rsa.RSAPrivateKey:
    # Key generation dominates the fixture time: reuse one key per size unless a distinct key matters.
    if fresh or bits not in _KEYS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        if fresh:
            return key
        _KEYS[bits] = key
    return _KEYS[bits]


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "port443 test"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Issued:
    def __init__(self, cert, key):
        self.cert = cert
        self.key = key

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())


def issue(cn, key=None, issuer: Issued | None = None, sans=None, ca=False, not_before=None, not_after=None,
          crl_url=None, ocsp_url=None, no_san=False, serial=None, hash_alg=None, path_length=None, eku=None,
          permitted_dns=None, cert_sign=True, ca_issuers_url=None, signing_key=None, basic_constraints=True,
          extra=()) -> Issued:
    """A certificate. The keyword arguments build the attacker's and the careless CA's variants:
    path_length (CA pathlen), eku (list of OIDs instead of serverAuth), permitted_dns (name constraints),
    cert_sign=False (a CA without keyCertSign), ca_issuers_url (AIA), signing_key (sign with another key than the
    issuer's: a bad signature), basic_constraints=False (no basicConstraints at all), extra (more extension values, added last)."""
    key = key or rsa_key()
    subject = name(cn)
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer.cert.subject if issuer else subject)
               .public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(not_before or NOW - DAY)
               .not_valid_after(not_after or NOW + 365 * DAY)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
    if issuer:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
                                                      crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        if permitted_dns:
            builder = builder.add_extension(x509.NameConstraints(permitted_subtrees=[x509.DNSName(d) for d in permitted_dns],
                                                                 excluded_subtrees=None), critical=True)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku or [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        if not no_san:
            entries = []
            for san in sans or [cn]:
                try:
                    entries.append(x509.IPAddress(ipaddress.ip_address(san)))
                except ValueError:
                    entries.append(x509.DNSName(san))
            builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    if crl_url:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None, crl_issuer=None)]), critical=False)
    access = []
    if ocsp_url:
        access.append(x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)))
    if ca_issuers_url:
        access.append(x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(ca_issuers_url)))
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    for value in extra:
        builder = builder.add_extension(value, critical=isinstance(value, x509.PrecertPoison))
    cert = builder.sign(signing_key or (issuer.key if issuer else key), hash_alg or hashes.SHA256())
    return Issued(cert, key)


def sha1_leaf(directory: str, cn: str, issuer: Issued) -> Issued:
    """A SHA-1 signed leaf via the openssl CLI (cryptography no longer signs with SHA-1)."""
    key = rsa_key()
    leaf = Issued(None, key)
    paths = {n: os.path.join(directory, f"sha1-{n}.pem") for n in ("key", "csr", "ca", "cakey", "cert", "ext")}
    with open(paths["key"], "wb") as f:
        f.write(leaf.key_pem)
    with open(paths["ca"], "wb") as f:
        f.write(issuer.pem)
    with open(paths["cakey"], "wb") as f:
        f.write(issuer.key_pem)
    with open(paths["ext"], "w") as f:
        f.write(f"subjectAltName=DNS:{cn}\nbasicConstraints=critical,CA:FALSE\n")
    subprocess.run(["openssl", "req", "-new", "-key", paths["key"], "-subj", f"/CN={cn}", "-out", paths["csr"]], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", paths["csr"], "-CA", paths["ca"], "-CAkey", paths["cakey"], "-CAcreateserial",
                    "-sha1", "-days", "90", "-extfile", paths["ext"], "-out", paths["cert"]], check=True, capture_output=True)
    with open(paths["cert"], "rb") as f:
        leaf.cert = x509.load_pem_x509_certificate(f.read())
    return leaf


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def crl(issuer: Issued, revoked_serials: list[int]) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.cert.subject)
               .last_update(NOW - DAY).next_update(NOW + 7 * DAY))
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - DAY).build())
    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ocsp_index_line(cert: x509.Certificate, revoked: bool) -> str:
    exp = cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ")
    serial = format(cert.serial_number, "X")
    if len(serial) % 2:
        serial = "0" + serial
    dn = "/" + "/".join(f"{'O' if a.oid == NameOID.ORGANIZATION_NAME else 'CN'}={a.value}" for a in cert.subject)
    if revoked:
        return f"R\t{exp}\t{(NOW - DAY).strftime('%y%m%d%H%M%SZ')}\t{serial}\tunknown\t{dn}\n"
    return f"V\t{exp}\t\t{serial}\tunknown\t{dn}\n"


def ocsp_response(cert: x509.Certificate, issuer: Issued, revoked: bool) -> bytes:
    """A signed OCSP response for stapling (openssl s_server -status_file)."""
    from cryptography.x509 import ocsp

    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert, issuer=issuer.cert, algorithm=hashes.SHA1(),
        cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
        this_update=NOW - DAY, next_update=NOW + 7 * DAY,
        revocation_time=NOW - DAY if revoked else None, revocation_reason=None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.cert)
    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


# ---- Certificate Transparency: a precertificate, SCTs from test logs, the final certificate ------------------------

SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
POISON_OID_DER = bytes.fromhex("060a2b06010401d679020403")  # 1.3.6.1.4.1.11129.2.4.3


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlvs(data: bytes) -> list[bytes]:
    """The DER elements of a constructed value's content, each whole (tag, length, content)."""
    out, pos = [], 0
    while pos < len(data):
        first = data[pos + 1]
        if first < 0x80:
            length, head = first, 2
        else:
            count = first & 0x7F
            length, head = int.from_bytes(data[pos + 2:pos + 2 + count], "big"), 2 + count
        out.append(data[pos:pos + head + length])
        pos += head + length
    return out


def _content(tlv: bytes) -> bytes:
    first = tlv[1]
    return tlv[2:] if first < 0x80 else tlv[2 + (first & 0x7F):]


def tbs_without_poison(tbs: bytes) -> bytes:
    """RFC 6962 3.2: the precertificate's TBSCertificate with the poison extension removed (written here from the
    DER, independently of the code under test, which asks cryptography for the final certificate's TBS without the
    SCT list)."""
    parts = _tlvs(_content(tbs))
    for idx, part in enumerate(parts):
        if part[0] == 0xA3:
            exts = [e for e in _tlvs(_content(_tlvs(_content(part))[0])) if not _content(e).startswith(POISON_OID_DER)]
            seq = b"".join(exts)
            seq = b"\x30" + _der_len(len(seq)) + seq
            parts[idx] = b"\xa3" + _der_len(len(seq)) + seq
    body = b"".join(parts)
    return b"\x30" + _der_len(len(body)) + body


class TestLog:
    """A CT log of the lab: its key, its id (SHA-256 of the key), its entry for a log list."""

    def __init__(self, description: str, operator: str) -> None:
        self.key = ec_key()
        self.key_der = self.key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.log_id = hashlib.sha256(self.key_der).digest()
        self.entry = {"key": self.key_der, "operator": operator, "description": description}

    def sct(self, entry: bytes, timestamp_ms: int, x509_entry: bool = False) -> bytes:
        """A SerializedSCT over a precertificate entry (issuer key hash + TBS) or, x509_entry, a certificate."""
        signed = b"\x00\x00" + timestamp_ms.to_bytes(8, "big") + (b"\x00\x00" if x509_entry else b"\x00\x01") + entry + b"\x00\x00"
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return (b"\x00" + self.log_id + timestamp_ms.to_bytes(8, "big") + b"\x00\x00" + b"\x04\x03"
                + len(signature).to_bytes(2, "big") + signature)


def sct_list(scts: list[bytes]) -> bytes:
    body = b"".join(len(s).to_bytes(2, "big") + s for s in scts)
    return len(body).to_bytes(2, "big") + body


def issue_logged(cn: str, issuer: Issued, logs: list[TestLog], days: int = 90, future: bool = False,
                 tamper: bool = False, **kwargs) -> tuple[Issued, Issued]:
    """(precertificate, final certificate) the way a CA issues under CT: the precertificate with the poison, one SCT
    per log over its TBS without the poison, then the final certificate with the SCT list embedded. future dates the
    SCTs an hour ahead; tamper flips a byte of what the logs sign (bad signatures)."""
    key = rsa_key()
    serial = x509.random_serial_number()
    times = {"not_before": NOW - DAY, "not_after": NOW - DAY + days * DAY}
    pre = issue(cn, key=key, issuer=issuer, serial=serial, extra=[x509.PrecertPoison()], **times, **kwargs)
    tbs = tbs_without_poison(pre.cert.tbs_certificate_bytes)
    spki = issuer.cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    entry = hashlib.sha256(spki).digest() + len(tbs).to_bytes(3, "big") + (tbs[:-1] + bytes([tbs[-1] ^ 1]) if tamper else tbs)
    stamp = int((NOW + (3600 if future else -3600) * datetime.timedelta(seconds=1)).timestamp() * 1000)
    raw = sct_list([log.sct(entry, stamp) for log in logs])
    value = x509.UnrecognizedExtension(SCT_LIST_OID, b"\x04" + _der_len(len(raw)) + raw)
    final = issue(cn, key=key, issuer=issuer, serial=serial, extra=[value], **times, **kwargs)
    return pre, final


def big_crl(issuer: Issued, serials: range) -> bytes:
    """A CRL of many entries written as DER directly (cryptography's builder copies itself per entry: 200,000 entries
    take minutes), signed with the issuer's RSA key (sha256WithRSAEncryption)."""
    from cryptography.hazmat.primitives.asymmetric import padding

    def tlv(tag: int, body: bytes) -> bytes:
        return bytes([tag]) + _der_len(len(body)) + body

    def integer(value: int) -> bytes:
        return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))

    def utc(when: datetime.datetime) -> bytes:
        return tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode())

    alg = bytes.fromhex("300d06092a864886f70d01010b0500")
    stamp = utc(NOW - DAY)
    entries = b"".join(tlv(0x30, integer(serial) + stamp) for serial in serials)
    tbs = tlv(0x30, integer(1) + alg + issuer.cert.subject.public_bytes() + stamp + utc(NOW + 7 * DAY) + tlv(0x30, entries))
    signature = issuer.key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return tlv(0x30, tbs + alg + tlv(0x03, b"\x00" + signature))
