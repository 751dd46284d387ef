# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Hand-built TLS ClientHellos and a parser for what a server answers up to ServerHelloDone (plain Python).

Nothing here completes a handshake: a ClientHello offering chosen versions, suites and groups is enough to learn
which suite and group the server picks (ServerHello, HelloRetryRequest), its finite-field or elliptic-curve
parameters (ServerKeyExchange), or its refusal (alert). No cryptography is needed on the client side, so what can be
tested does not depend on what the local TLS library still allows.
"""

from __future__ import annotations

import functools
import os
import socket
import struct
import time
import typing as t

from ansible_collections.port443.https.plugins.module_utils.host import _net

# ---- cipher suites (IANA registry, names as registered) ----------------------------------------------------------

# code -> IANA name. The suites a server may choose without a pre-shared key or SRP password: everything OpenSSL
# still knows, plus the legacy suites it no longer builds (export, RC4, DES, 3DES, IDEA, SEED, static DH) which old
# servers and other TLS libraries may still accept.
_SUITE_TABLE = """
0001 TLS_RSA_WITH_NULL_MD5
0002 TLS_RSA_WITH_NULL_SHA
0003 TLS_RSA_EXPORT_WITH_RC4_40_MD5
0004 TLS_RSA_WITH_RC4_128_MD5
0005 TLS_RSA_WITH_RC4_128_SHA
0006 TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5
0007 TLS_RSA_WITH_IDEA_CBC_SHA
0008 TLS_RSA_EXPORT_WITH_DES40_CBC_SHA
0009 TLS_RSA_WITH_DES_CBC_SHA
000A TLS_RSA_WITH_3DES_EDE_CBC_SHA
000B TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA
000C TLS_DH_DSS_WITH_DES_CBC_SHA
000D TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA
000E TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA
000F TLS_DH_RSA_WITH_DES_CBC_SHA
0010 TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA
0011 TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA
0012 TLS_DHE_DSS_WITH_DES_CBC_SHA
0013 TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA
0014 TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA
0015 TLS_DHE_RSA_WITH_DES_CBC_SHA
0016 TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA
0017 TLS_DH_anon_EXPORT_WITH_RC4_40_MD5
0018 TLS_DH_anon_WITH_RC4_128_MD5
0019 TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA
001A TLS_DH_anon_WITH_DES_CBC_SHA
001B TLS_DH_anon_WITH_3DES_EDE_CBC_SHA
002F TLS_RSA_WITH_AES_128_CBC_SHA
0030 TLS_DH_DSS_WITH_AES_128_CBC_SHA
0031 TLS_DH_RSA_WITH_AES_128_CBC_SHA
0032 TLS_DHE_DSS_WITH_AES_128_CBC_SHA
0033 TLS_DHE_RSA_WITH_AES_128_CBC_SHA
0034 TLS_DH_anon_WITH_AES_128_CBC_SHA
0035 TLS_RSA_WITH_AES_256_CBC_SHA
0036 TLS_DH_DSS_WITH_AES_256_CBC_SHA
0037 TLS_DH_RSA_WITH_AES_256_CBC_SHA
0038 TLS_DHE_DSS_WITH_AES_256_CBC_SHA
0039 TLS_DHE_RSA_WITH_AES_256_CBC_SHA
003A TLS_DH_anon_WITH_AES_256_CBC_SHA
003B TLS_RSA_WITH_NULL_SHA256
003C TLS_RSA_WITH_AES_128_CBC_SHA256
003D TLS_RSA_WITH_AES_256_CBC_SHA256
0040 TLS_DHE_DSS_WITH_AES_128_CBC_SHA256
0041 TLS_RSA_WITH_CAMELLIA_128_CBC_SHA
0044 TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA
0045 TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA
0046 TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA
0067 TLS_DHE_RSA_WITH_AES_128_CBC_SHA256
006A TLS_DHE_DSS_WITH_AES_256_CBC_SHA256
006B TLS_DHE_RSA_WITH_AES_256_CBC_SHA256
006C TLS_DH_anon_WITH_AES_128_CBC_SHA256
006D TLS_DH_anon_WITH_AES_256_CBC_SHA256
0084 TLS_RSA_WITH_CAMELLIA_256_CBC_SHA
0087 TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA
0088 TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA
0089 TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA
0096 TLS_RSA_WITH_SEED_CBC_SHA
009A TLS_DHE_RSA_WITH_SEED_CBC_SHA
009C TLS_RSA_WITH_AES_128_GCM_SHA256
009D TLS_RSA_WITH_AES_256_GCM_SHA384
009E TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
009F TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
00A2 TLS_DHE_DSS_WITH_AES_128_GCM_SHA256
00A3 TLS_DHE_DSS_WITH_AES_256_GCM_SHA384
00A6 TLS_DH_anon_WITH_AES_128_GCM_SHA256
00A7 TLS_DH_anon_WITH_AES_256_GCM_SHA384
00BA TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256
00BD TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256
00BE TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256
00BF TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256
00C0 TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256
00C3 TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256
00C4 TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256
00C5 TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256
1301 TLS_AES_128_GCM_SHA256
1302 TLS_AES_256_GCM_SHA384
1303 TLS_CHACHA20_POLY1305_SHA256
1304 TLS_AES_128_CCM_SHA256
1305 TLS_AES_128_CCM_8_SHA256
C001 TLS_ECDH_ECDSA_WITH_NULL_SHA
C002 TLS_ECDH_ECDSA_WITH_RC4_128_SHA
C003 TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA
C004 TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA
C005 TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA
C006 TLS_ECDHE_ECDSA_WITH_NULL_SHA
C007 TLS_ECDHE_ECDSA_WITH_RC4_128_SHA
C008 TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA
C009 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
C00A TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
C00B TLS_ECDH_RSA_WITH_NULL_SHA
C00C TLS_ECDH_RSA_WITH_RC4_128_SHA
C00D TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA
C00E TLS_ECDH_RSA_WITH_AES_128_CBC_SHA
C00F TLS_ECDH_RSA_WITH_AES_256_CBC_SHA
C010 TLS_ECDHE_RSA_WITH_NULL_SHA
C011 TLS_ECDHE_RSA_WITH_RC4_128_SHA
C012 TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
C013 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
C014 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
C015 TLS_ECDH_anon_WITH_NULL_SHA
C016 TLS_ECDH_anon_WITH_RC4_128_SHA
C017 TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA
C018 TLS_ECDH_anon_WITH_AES_128_CBC_SHA
C019 TLS_ECDH_anon_WITH_AES_256_CBC_SHA
C023 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
C024 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
C025 TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256
C026 TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384
C027 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
C028 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
C029 TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256
C02A TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384
C02B TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
C02C TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
C02D TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256
C02E TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384
C02F TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
C030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
C031 TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256
C032 TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384
C050 TLS_RSA_WITH_ARIA_128_GCM_SHA256
C051 TLS_RSA_WITH_ARIA_256_GCM_SHA384
C052 TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256
C053 TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384
C056 TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256
C057 TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384
C05C TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256
C05D TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384
C060 TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256
C061 TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384
C072 TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256
C073 TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384
C076 TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256
C077 TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384
C09C TLS_RSA_WITH_AES_128_CCM
C09D TLS_RSA_WITH_AES_256_CCM
C09E TLS_DHE_RSA_WITH_AES_128_CCM
C09F TLS_DHE_RSA_WITH_AES_256_CCM
C0A0 TLS_RSA_WITH_AES_128_CCM_8
C0A1 TLS_RSA_WITH_AES_256_CCM_8
C0A2 TLS_DHE_RSA_WITH_AES_128_CCM_8
C0A3 TLS_DHE_RSA_WITH_AES_256_CCM_8
C0AC TLS_ECDHE_ECDSA_WITH_AES_128_CCM
C0AD TLS_ECDHE_ECDSA_WITH_AES_256_CCM
C0AE TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
C0AF TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8
CCA8 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
CCA9 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
CCAA TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
"""

SUITES: dict[int, str] = {int(code, 16): name for code, name in (line.split() for line in _SUITE_TABLE.strip().splitlines())}
SUITE_CODES: dict[str, int] = {name: code for code, name in SUITES.items()}

TLS13_SUITES = tuple(code for code in SUITES if 0x1301 <= code <= 0x13FF)

_FLAG_WORDS = (("NULL", "NULL"), ("anon", "anon"), ("EXPORT", "export"), ("RC4", "RC4"), ("RC2", "export"),
               ("3DES", "3DES"), ("DES40", "export"), ("DES_CBC", "DES"))


@functools.lru_cache(maxsize=None)
def suite_info(code: int) -> dict[str, t.Any]:
    """Properties of a suite, read from its IANA name: kex, auth, cipher, mode (AEAD, CBC, stream, none), bits,
    flags (NULL, anon, export, RC4, DES, 3DES), forward_secrecy, tls12_only. Cached: do not change the dict."""
    name = SUITES.get(code) or f"0x{code:04X}"
    info: dict[str, t.Any] = {"code": code, "name": name, "kex": None, "auth": None, "cipher": None, "mode": None,
                              "bits": None, "flags": [], "forward_secrecy": None, "tls12_only": False, "tls13": False}
    if code not in SUITES:
        return info
    if "_WITH_" not in name:  # TLS 1.3: TLS_<AEAD>_<HASH>, key exchange and authentication chosen separately
        body = name[4:].rsplit("_", 1)[0]
        info.update(kex="any", auth="any", cipher=body, mode="AEAD", forward_secrecy=True, tls13=True,
                    bits=256 if "256" in body or "CHACHA20" in body else 128)
        return info
    left, right = name[4:].split("_WITH_", 1)
    export = "EXPORT" in left
    parts = left.replace("_EXPORT", "").split("_")
    kex = parts[0]
    auth = parts[1] if len(parts) > 1 else "RSA"
    cipher = right.rsplit("_", 1)[0] if right.rsplit("_", 1)[-1] in ("MD5", "SHA", "SHA256", "SHA384") else right
    if cipher.startswith("NULL"):
        mode, bits = "none", 0
    elif "RC4" in cipher:
        mode, bits = "stream", 40 if "_40" in cipher else 128
    elif any(word in cipher for word in ("GCM", "CCM", "POLY1305")):
        mode, bits = "AEAD", 256 if ("256" in cipher or "CHACHA20" in cipher) else 128
    else:
        mode = "CBC"
        if "3DES" in cipher:
            bits = 112
        elif "DES40" in cipher or "_40" in cipher:
            bits = 40
        elif "DES" in cipher:
            bits = 56
        else:
            bits = 256 if "256" in cipher else 128
    flags = []
    for word, flag in _FLAG_WORDS:
        if word in name and flag not in flags:
            flags.append(flag)
    if export and "export" not in flags:
        flags.append("export")
    info.update(kex=kex, auth=auth, cipher=cipher, mode=mode, bits=bits, flags=flags,
                forward_secrecy=kex in ("DHE", "ECDHE") or auth == "anon",  # anonymous DH is ephemeral, just unauthenticated
                tls12_only=mode == "AEAD" or name.endswith(("_SHA256", "_SHA384")))
    return info


def suite_name(code: int) -> str:
    return SUITES.get(code) or f"0x{code:04X}"


# ---- named groups ---------------------------------------------------------------------------------------------

# code -> IANA name (TLS Supported Groups registry).
GROUPS: dict[int, str] = {
    0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1", 0x001D: "x25519", 0x001E: "x448",
    0x001F: "brainpoolP256r1tls13", 0x0020: "brainpoolP384r1tls13", 0x0021: "brainpoolP512r1tls13",
    0x001A: "brainpoolP256r1", 0x001B: "brainpoolP384r1", 0x001C: "brainpoolP512r1",
    0x0100: "ffdhe2048", 0x0101: "ffdhe3072", 0x0102: "ffdhe4096", 0x0103: "ffdhe6144", 0x0104: "ffdhe8192",
    0x11EB: "SecP256r1MLKEM768", 0x11EC: "X25519MLKEM768", 0x11ED: "SecP384r1MLKEM1024",
}
GROUP_CODES: dict[str, int] = {name: code for code, name in GROUPS.items()}
X25519MLKEM768 = 0x11EC

# Groups a TLS 1.2 server may pick for ECDHE (the curves of RFC 8422 and RFC 7027).
TLS12_GROUPS = (0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x001A, 0x001B, 0x001C)
# Groups a TLS 1.3 server may pick.
TLS13_GROUPS = (0x11EC, 0x11EB, 0x11ED, 0x001D, 0x0017, 0x0018, 0x0019, 0x001E, 0x001F, 0x0020, 0x0021,
                0x0100, 0x0101, 0x0102, 0x0103, 0x0104)

# OpenSSL's group names (as in Mozilla's tls_curves and server configurations) -> IANA names.
OPENSSL_GROUP_NAMES = {"prime256v1": "secp256r1", "P-256": "secp256r1", "P-384": "secp384r1", "P-521": "secp521r1",
                       "X25519": "x25519", "X448": "x448"}


def group_name(code: int) -> str:
    return GROUPS.get(code) or f"0x{code:04X}"


def iana_group(name: str) -> str:
    """The IANA name of a group given by its OpenSSL or IANA name (case as registered)."""
    if name in OPENSSL_GROUP_NAMES:
        return OPENSSL_GROUP_NAMES[name]
    for known in GROUP_CODES:
        if known.lower() == name.lower():
            return known
    return name


# ---- ClientHello --------------------------------------------------------------------------------------------------

VERSION_CODES = {"1.0": 0x0301, "1.1": 0x0302, "1.2": 0x0303, "1.3": 0x0304}
VERSION_NAMES = {code: name for name, code in VERSION_CODES.items()}
VERSION_NAMES[0x0300] = "SSLv3"

# signature_algorithms: ECDSA, RSA-PSS, RSA PKCS#1, EdDSA, and SHA-1 variants last so old servers find one.
SIGNATURE_ALGORITHMS = (0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B,
                        0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0203, 0x0201, 0x0202)


# The signature algorithms of one key type: a ClientHello that offers only these gets a ServerHello only from a server
# with a certificate of that type (TLS 1.3 picks the certificate by them; TLS 1.2 by them and the suite's
# authentication). RSA: RSA-PSS (rsae, then pss) and PKCS#1; ECDSA: the three NIST curves' and SHA-1.
KEY_TYPE_SIGNATURE_ALGORITHMS = {
    "ECDSA": (0x0403, 0x0503, 0x0603, 0x0203),
    "RSA": (0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B, 0x0401, 0x0501, 0x0601, 0x0201),
}
# TLS 1.3 key shares a key-type hello carries, so that the server answers with a ServerHello (it picks its certificate
# before it), never a HelloRetryRequest: X25519 (any 32 bytes are a public key) and secp256r1 (its generator point,
# a valid public key). The probe never completes the handshake, so no secret is derived from them.
_P256_G = bytes.fromhex("04"
                        "6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"
                        "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5")
KEY_TYPE_GROUPS = (0x001D, 0x0017)


def key_type_shares() -> dict[int, bytes]:
    """The key shares of a key-type ClientHello (KEY_TYPE_GROUPS), the X25519 one fresh each time."""
    return {0x001D: os.urandom(32), 0x0017: _P256_G}


def _u8(data: bytes) -> bytes:
    return len(data).to_bytes(1, "big") + data


def _u16(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def _ext(kind: int, body: bytes) -> bytes:
    return kind.to_bytes(2, "big") + _u16(body)


def _codes(values: t.Sequence[int]) -> bytes:
    return struct.pack(f">{len(values)}H", *values)


def client_hello(version: str, suites: t.Sequence[int], groups: t.Sequence[int] = (), server_name: str | None = None,
                 key_shares: t.Mapping[int, bytes] | None = None, signature_algorithms: t.Sequence[int] = SIGNATURE_ALGORITHMS,
                 random: bytes | None = None, session_id: bytes | None = None,
                 extensions: t.Sequence[tuple[int, bytes]] = ()) -> bytes:
    """One TLS record holding a ClientHello that offers exactly `version` ("1.0" to "1.3"), `suites` in this order
    and `groups` (supported_groups; for TLS 1.3 also key_share, with the shares given, possibly none: the server
    then answers with a HelloRetryRequest naming the group it picked, which is all a probe needs).

    extensions: more (type, body) pairs, sent last (signed_certificate_timestamp for the CT check).

    The record is built once per offer and cached; each call puts a fresh random (and TLS 1.3 session id) in it."""
    if key_shares or random is not None or session_id is not None or tuple(signature_algorithms) != SIGNATURE_ALGORITHMS \
            or extensions:
        return _client_hello(version, suites, groups, server_name, key_shares, signature_algorithms, random, session_id,
                             extensions)
    template = _template(version, tuple(suites), tuple(groups), server_name)
    out = bytearray(template)
    out[11:43] = os.urandom(32)
    if version == "1.3":
        out[44:76] = os.urandom(32)
    return bytes(out)


@functools.lru_cache(maxsize=256)
def _template(version: str, suites: tuple[int, ...], groups: tuple[int, ...], server_name: str | None) -> bytes:
    return _client_hello(version, suites, groups, server_name, None, SIGNATURE_ALGORITHMS, bytes(32),
                         bytes(32) if version == "1.3" else b"")


def _client_hello(version: str, suites: t.Sequence[int], groups: t.Sequence[int], server_name: str | None,
                  key_shares: t.Mapping[int, bytes] | None, signature_algorithms: t.Sequence[int],
                  random: bytes | None, session_id: bytes | None, extensions: t.Sequence[tuple[int, bytes]] = ()) -> bytes:
    if version not in VERSION_CODES:
        raise ValueError(f"unknown TLS version {version!r}")
    tls13 = version == "1.3"
    exts = []
    if server_name and not _is_ip_literal(server_name):
        host = server_name.rstrip(".").encode("idna")
        exts.append(_ext(0x0000, _u16(b"\x00" + _u16(host))))
    exts.append(_ext(0xFF01, b"\x00"))  # renegotiation_info (empty): what every modern client sends
    if groups:
        exts.append(_ext(0x000A, _u16(_codes(list(groups)))))
        exts.append(_ext(0x000B, _u8(b"\x00")))  # ec_point_formats: uncompressed
    if version in ("1.2", "1.3"):
        exts.append(_ext(0x000D, _u16(_codes(list(signature_algorithms)))))
    exts.append(_ext(0x0017, b""))  # extended_master_secret
    if tls13:
        exts.append(_ext(0x002B, _u8(_codes([0x0304]))))  # supported_versions: 1.3 only
        exts.append(_ext(0x002D, _u8(b"\x01")))  # psk_key_exchange_modes: psk_dhe_ke (required with key_share)
        shares = b"".join(code.to_bytes(2, "big") + _u16(value) for code, value in (key_shares or {}).items())
        exts.append(_ext(0x0033, _u16(shares)))
    exts += [_ext(kind, body) for kind, body in extensions]
    legacy = 0x0303 if tls13 else VERSION_CODES[version]
    sid = session_id if session_id is not None else (os.urandom(32) if tls13 else b"")
    body = (legacy.to_bytes(2, "big") + (random or os.urandom(32)) + _u8(sid) + _u16(_codes(list(suites))) + b"\x01\x00"
            + _u16(b"".join(exts)))
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + len(handshake).to_bytes(2, "big") + handshake


def _is_ip_literal(name: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name.strip("[]"))
    except (OSError, ValueError):
        return False
    return True


# ---- the server's answer ------------------------------------------------------------------------------------------

# The random of a HelloRetryRequest (RFC 8446 4.1.3): SHA-256("HelloRetryRequest").
HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")

ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 40: "handshake_failure",
          42: "bad_certificate", 43: "unsupported_certificate", 47: "illegal_parameter", 48: "unknown_ca",
          50: "decode_error", 51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
          80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
          110: "unsupported_extension", 112: "unrecognized_name", 116: "certificate_required", 120: "no_application_protocol"}


class ParseError(ValueError):
    """The bytes are not a well-formed TLS answer."""


class Answer:
    """What the server answered to one ClientHello.

    kind: "hello" (ServerHello), "hrr" (HelloRetryRequest), "alert", "closed" (the connection ended without a
    ServerHello), "timeout", "error" (connect or socket error), "garbage" (not TLS, or not parseable).
    """

    def __init__(self, kind: str, detail: str | None = None) -> None:
        self.kind = kind
        self.detail = detail
        self.version: str | None = None  # negotiated version (supported_versions for TLS 1.3)
        self.suite: int | None = None
        self.group: int | None = None  # TLS 1.3 key_share / HRR selected_group, TLS 1.2 ServerKeyExchange named curve
        self.alert: int | None = None
        self.dh: dict[str, int] | None = None  # {"p": ..., "g": ...} from a DHE ServerKeyExchange
        self.extensions: list[int] = []
        self.extension_data: dict[int, bytes] = {}  # ServerHello extensions by type (their bodies)
        self.compression: int | None = None

    @property
    def refused(self) -> bool:
        """The server declined the offer (an alert, or it closed the connection without choosing anything)."""
        return self.kind in ("alert", "closed")

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return (f"Answer({self.kind}, version={self.version}, suite={suite_name(self.suite) if self.suite is not None else None}, "
                f"group={group_name(self.group) if self.group is not None else None}, alert={self.alert}, detail={self.detail})")


class Reader:
    """Reassembles handshake messages from TLS records (one message may span records, one record may hold several)."""

    def __init__(self) -> None:
        self.buffer = b""
        self.handshake = b""
        self.alert: tuple[int, int] | None = None

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Add bytes; return the complete handshake messages (type, body) now available."""
        self.buffer += data
        messages = []
        while len(self.buffer) >= 5:
            ctype, major, length = self.buffer[0], self.buffer[1], int.from_bytes(self.buffer[3:5], "big")
            if ctype not in (20, 21, 22, 23) or major != 3 or length > 18432:
                raise ParseError(f"not a TLS record (first bytes {self.buffer[:5].hex()})")
            if len(self.buffer) < 5 + length:
                break
            payload, self.buffer = self.buffer[5:5 + length], self.buffer[5 + length:]
            if ctype == 21:
                if len(payload) < 2:
                    raise ParseError("truncated alert")
                self.alert = (payload[0], payload[1])
                return messages
            if ctype == 22:
                self.handshake += payload
                while len(self.handshake) >= 4:
                    mlen = int.from_bytes(self.handshake[1:4], "big")
                    if len(self.handshake) < 4 + mlen:
                        break
                    messages.append((self.handshake[0], self.handshake[4:4 + mlen]))
                    self.handshake = self.handshake[4 + mlen:]
        return messages


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ParseError("truncated message")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def num(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vec(self, n: int) -> bytes:
        return self.take(self.num(n))

    @property
    def left(self) -> int:
        return len(self.data) - self.pos


def parse_server_hello(body: bytes, answer: Answer) -> None:
    """Fill answer from a ServerHello body (kind hello or hrr, version, suite, group, extensions)."""
    cur = _Cursor(body)
    legacy = cur.num(2)
    random = cur.take(32)
    cur.vec(1)  # session id
    answer.suite = cur.num(2)
    answer.compression = cur.num(1)
    answer.kind = "hrr" if random == HRR_RANDOM else "hello"
    version = legacy
    if cur.left:
        exts = _Cursor(cur.vec(2))
        while exts.left:
            kind = exts.num(2)
            data = exts.vec(2)
            answer.extensions.append(kind)
            answer.extension_data[kind] = data
            if kind == 0x002B and len(data) == 2:
                version = int.from_bytes(data, "big")
            elif kind == 0x0033 and len(data) >= 2:
                answer.group = int.from_bytes(data[:2], "big")
    if version not in VERSION_NAMES:
        raise ParseError(f"unknown version 0x{version:04X} in ServerHello")
    answer.version = VERSION_NAMES[version]


def parse_server_key_exchange(body: bytes, kex: str | None, answer: Answer) -> None:
    """Read the DH parameters (p, g) of a DHE ServerKeyExchange, or the named curve of an ECDHE one."""
    cur = _Cursor(body)
    if kex in ("DHE", "DH"):
        p = int.from_bytes(cur.vec(2), "big")
        g = int.from_bytes(cur.vec(2), "big")
        cur.vec(2)  # the server's public value
        answer.dh = {"p": p, "g": g}
    elif kex in ("ECDHE", "ECDH"):
        if cur.num(1) != 3:
            raise ParseError("ServerKeyExchange with explicit curve parameters")
        answer.group = cur.num(2)


class AnswerParser:
    """Incremental reading of the server's answer to one ClientHello: feed() the bytes as they come; it returns the
    Answer once it is complete, else None. end() gives the Answer when the connection ends or the time is up.

    Complete means the ServerHello (or HelloRetryRequest), or with want_key_exchange the ServerKeyExchange /
    ServerHelloDone of a TLS <= 1.2 handshake.
    """

    def __init__(self, want_key_exchange: bool = False, limit: int = 262144) -> None:
        self.want_key_exchange = want_key_exchange
        self.limit = limit
        self.reader = Reader()
        self.answer: Answer | None = None
        self.received = 0
        self.kex: str | None = None

    def feed(self, data: bytes) -> Answer | None:
        self.received += len(data)
        if self.received > self.limit:
            return Answer("garbage", f"more than {self.limit} bytes before the handshake messages ended")
        try:
            for mtype, body in self.reader.feed(data):
                if self.answer is None:
                    if mtype != 2:
                        raise ParseError(f"handshake message {mtype} before the ServerHello")
                    answer = self.answer = Answer("hello")
                    parse_server_hello(body, answer)
                    if answer.kind == "hrr" or not self.want_key_exchange or answer.version == "1.3":
                        return answer
                    if not _has_key_exchange(answer.suite):
                        return answer  # no ServerKeyExchange to wait for (static RSA, static DH)
                    self.kex = suite_info(answer.suite)["kex"] if answer.suite is not None else None
                elif mtype == 12:
                    parse_server_key_exchange(body, self.kex, self.answer)
                    return self.answer
                elif mtype == 14:
                    return self.answer
        except ParseError as exc:
            return Answer("garbage", str(exc))
        alert = self.reader.alert
        if alert is not None:
            if self.answer is not None:
                return _incomplete(self.answer)
            out = Answer("alert", f"alert {ALERTS.get(alert[1], alert[1])}")
            out.alert = alert[1]
            return out
        return None

    def end(self, kind: str, detail: str) -> Answer:
        """The answer when no more bytes come: kind "closed" (EOF, reset) or "timeout"."""
        if self.answer is not None:
            return _incomplete(self.answer)
        return Answer(kind, detail)


def _has_key_exchange(code: int | None) -> bool:
    """The suite's key exchange sends a ServerKeyExchange: ephemeral (DHE, ECDHE) or anonymous (DH_anon, ECDH_anon)."""
    info = suite_info(code) if code is not None else {}
    return info.get("kex") in ("DHE", "ECDHE") or info.get("auth") == "anon"


def _incomplete(answer: Answer) -> Answer:
    """A ServerHello came, but the ServerKeyExchange asked for did not: the suite is known, its parameters are not."""
    answer.detail = "the ServerKeyExchange did not arrive"
    return answer


def parse_bytes(data: bytes, want_key_exchange: bool = False) -> Answer:
    """Parse a recorded server answer (bytes as received, then the end of the connection), as the probe reads one."""
    parser = AnswerParser(want_key_exchange)
    for pos in range(0, len(data), 16384):
        answer = parser.feed(data[pos:pos + 16384])
        if answer is not None:
            return answer
    return parser.end("closed", "the server closed the connection without an answer")


def ask(sock: socket.socket, hello: bytes, timeout: float, want_key_exchange: bool = False) -> Answer:
    """Send one ClientHello over a connected socket and read the answer within `timeout` (blocking; the socket is
    closed here, with a reset: nothing more is said, and no TIME_WAIT is left behind). kind "timeout" when no
    complete answer came in time, "closed" when the connection ended (EOF, reset) without one."""
    parser = AnswerParser(want_key_exchange)
    deadline = time.monotonic() + timeout
    answer: Answer | None = None
    try:
        sock.settimeout(timeout)
        sock.sendall(hello)
        while answer is None:
            left = deadline - time.monotonic()
            if left <= 0:
                answer = parser.end("timeout", f"no complete answer within {timeout:g}s")
                break
            sock.settimeout(left)
            data = sock.recv(16384)
            answer = parser.feed(data) if data else parser.end("closed", "the server closed the connection without an answer")
    except (socket.timeout, TimeoutError):
        answer = parser.end("timeout", f"no complete answer within {timeout:g}s")
    except OSError as exc:
        answer = parser.end("closed", f"connection reset ({exc.strerror or exc})")
    finally:
        _net.close_with_reset(sock)
    return answer
