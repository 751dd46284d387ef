# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""A thin DNS client in plain Python: queries (UDP, TCP when truncated), RFC 2136 updates signed with TSIG
(RFC 8945), and the answers the ACME tasks need (SOA, NS, A/AAAA, TXT, CAA).

No dnspython: the collection needs a handful of record types and one kind of update, and a dependency on the
managed hosts (or the controller) would cost more than these few hundred lines."""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import random
import re
import socket
import struct
import time
import typing as t

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "TXT": 16, "AAAA": 28, "CAA": 257, "TSIG": 250}
CLASS_IN, CLASS_NONE, CLASS_ANY = 1, 254, 255
OPCODE_QUERY, OPCODE_UPDATE = 0, 5
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN",
          7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE"}
TSIG_ERRORS = {16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 22: "BADTRUNC"}
ALGORITHMS = {"hmac-md5": ("hmac-md5.sig-alg.reg.int", hashlib.md5), "hmac-sha1": ("hmac-sha1", hashlib.sha1),
              "hmac-sha224": ("hmac-sha224", hashlib.sha224), "hmac-sha256": ("hmac-sha256", hashlib.sha256),
              "hmac-sha384": ("hmac-sha384", hashlib.sha384), "hmac-sha512": ("hmac-sha512", hashlib.sha512)}
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


class DNSError(Exception):
    """A DNS exchange failed; the message says which server and why."""


class Key(t.NamedTuple):
    name: str
    secret: bytes
    algorithm: str = "hmac-sha256"


def make_key(name: str, secret_b64: str, algorithm: str) -> Key:
    """A TSIG key from its name, base64 secret and algorithm; ValueError names what is wrong."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    if not name or not valid_name(name):
        raise ValueError(f"key name {name!r} is not a DNS name")
    try:
        secret = base64.b64decode(secret_b64.strip(), validate=True)
    except (ValueError, TypeError):
        raise ValueError("the secret is not base64 (copy the secret of the key statement, e.g. from tsig-keygen)") from None
    if not secret:
        raise ValueError("the secret is empty")
    return Key(absolute(name), secret, algorithm)


def absolute(name: str) -> str:
    """The name in lower case without the trailing dot (the form used for comparisons)."""
    return name.strip().rstrip(".").lower()


def valid_name(name: str, wildcard: bool = False) -> bool:
    """A DNS name of letters, digits, hyphens and underscores; '*.' in front only when wildcard is allowed."""
    name = absolute(name)
    if wildcard and name.startswith("*."):
        name = name[2:]
    return 0 < len(name) <= 253 and all(_LABEL.match(label) for label in name.split("."))


def base_name(name: str) -> str:
    """The name without a leading wildcard label: where its _acme-challenge record and CAA set live."""
    name = absolute(name)
    return name[2:] if name.startswith("*.") else name


def encode_name(name: str) -> bytes:
    out = b""
    for label in [label for label in absolute(name).split(".") if label]:
        raw = label.encode("idna") if not label.isascii() else label.encode("ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def decode_name(msg: bytes, offset: int) -> tuple[str, int]:
    """The name at offset (following compression pointers) and the offset after it."""
    labels: list[str] = []
    end = None
    seen = 0
    while True:
        if offset >= len(msg):
            raise DNSError("malformed answer: a name runs past the end of the message")
        length = msg[offset]
        if length & 0xC0 == 0xC0:
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | msg[offset + 1]
            seen += 1
            if seen > 64:
                raise DNSError("malformed answer: compression pointer loop")
            continue
        offset += 1
        if length == 0:
            break
        labels.append(msg[offset:offset + length].decode("ascii", "replace").lower())
        offset += length
    return ".".join(labels), (end if end is not None else offset)


class Record(t.NamedTuple):
    name: str
    rtype: int
    rclass: int
    ttl: int
    rdata: bytes
    offset: int  # where rdata starts in the message (names inside rdata may point back)


class Answer(t.NamedTuple):
    rcode: int
    flags: int
    answer: list
    authority: list
    additional: list
    raw: bytes

    @property
    def aa(self) -> bool:
        return bool(self.flags & 0x0400)


def _header(qid: int, flags: int, counts: tuple[int, int, int, int]) -> bytes:
    return struct.pack("!HHHHHH", qid, flags, *counts)


def _rr(name: str, rtype: int, rclass: int, ttl: int, rdata: bytes) -> bytes:
    return encode_name(name) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def txt_rdata(value: str) -> bytes:
    raw = value.encode("utf-8")
    return b"".join(bytes([len(raw[i:i + 255])]) + raw[i:i + 255] for i in range(0, max(len(raw), 1), 255))


def build_query(qname: str, rtype: str, qid: int) -> bytes:
    # RD set: a recursive resolver answers for any name, an authoritative server ignores the bit.
    return _header(qid, 0x0100, (1, 0, 0, 0)) + encode_name(qname) + struct.pack("!HH", TYPES[rtype], CLASS_IN)


def build_update(zone: str, add: list[tuple[str, str, int]], delete: list[tuple[str, str]], qid: int) -> bytes:
    """RFC 2136 update of TXT records: add (name, value, ttl) and delete exactly (name, value), nothing else."""
    updates = [_rr(name, TYPES["TXT"], CLASS_NONE, 0, txt_rdata(value)) for name, value in delete]
    updates += [_rr(name, TYPES["TXT"], CLASS_IN, ttl, txt_rdata(value)) for name, value, ttl in add]
    return (_header(qid, OPCODE_UPDATE << 11, (1, 0, len(updates), 0))
            + encode_name(zone) + struct.pack("!HH", TYPES["SOA"], CLASS_IN) + b"".join(updates))


def _tsig_variables(key: Key, time_signed: int, fudge: int, error: int = 0, other: bytes = b"") -> bytes:
    return (encode_name(key.name) + struct.pack("!HI", CLASS_ANY, 0) + encode_name(ALGORITHMS[key.algorithm][0])
            + struct.pack("!HIHHH", time_signed >> 32, time_signed & 0xFFFFFFFF, fudge, error, len(other)) + other)


def sign(message: bytes, key: Key, now: int | None = None, fudge: int = 300) -> tuple[bytes, bytes]:
    """The message with a TSIG record appended (RFC 8945 section 4.3), and the MAC (to check the answer)."""
    time_signed = int(time.time()) if now is None else now
    digest = ALGORITHMS[key.algorithm][1]
    mac = hmac.new(key.secret, message + _tsig_variables(key, time_signed, fudge), digest).digest()
    qid = struct.unpack("!H", message[:2])[0]
    rdata = (encode_name(ALGORITHMS[key.algorithm][0])
             + struct.pack("!HIHH", time_signed >> 32, time_signed & 0xFFFFFFFF, fudge, len(mac)) + mac
             + struct.pack("!HHH", qid, 0, 0))
    arcount = struct.unpack("!H", message[10:12])[0] + 1
    signed = message[:10] + struct.pack("!H", arcount) + message[12:] + _rr(key.name, TYPES["TSIG"], CLASS_ANY, 0, rdata)
    return signed, mac


def parse(msg: bytes) -> Answer:
    if len(msg) < 12:
        raise DNSError("malformed answer: shorter than a DNS header")
    _qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    offset = 12
    for _question in range(qd):
        _name, offset = decode_name(msg, offset)
        offset += 4
    sections: list[list[Record]] = [[], [], []]
    for index, count in enumerate((an, ns, ar)):
        for _record in range(count):
            name, offset = decode_name(msg, offset)
            if offset + 10 > len(msg):
                raise DNSError("malformed answer: a record runs past the end of the message")
            rtype, rclass, ttl, length = struct.unpack("!HHIH", msg[offset:offset + 10])
            offset += 10
            sections[index].append(Record(name, rtype, rclass, ttl, msg[offset:offset + length], offset))
            offset += length
    return Answer(flags & 0x000F, flags, sections[0], sections[1], sections[2], msg)


def verify_answer(answer: Answer, key: Key, request_mac: bytes) -> None:
    """Check the TSIG record of a signed answer; DNSError names a rejected key (BADKEY, BADSIG, BADTIME)."""
    tsig = [rec for rec in answer.additional if rec.rtype == TYPES["TSIG"]]
    if not tsig:
        if answer.rcode == 9:
            raise DNSError("NOTAUTH: the server does not accept the key (unknown key name or algorithm)")
        raise DNSError("the answer is not signed (the server ignored the TSIG key)")
    rec = tsig[-1]
    _alg, pos = decode_name(answer.raw, rec.offset)
    hi, lo, fudge, mac_size = struct.unpack("!HIHH", answer.raw[pos:pos + 10])
    pos += 10
    mac = answer.raw[pos:pos + mac_size]
    pos += mac_size
    orig_id, error, other_len = struct.unpack("!HHH", answer.raw[pos:pos + 6])
    other = answer.raw[pos + 6:pos + 6 + other_len]
    if error:
        raise DNSError(f"{TSIG_ERRORS.get(error, error)}: the server rejected the key"
                       + (" (the clocks differ by more than 5 minutes)" if error == 18 else ""))
    # The MAC covers the request MAC, the answer without its TSIG record (original id, one record fewer) and the
    # TSIG variables (RFC 8945 section 4.3.3).
    tsig_start = rec.offset - 10 - len(encode_name(rec.name))
    body = answer.raw[:tsig_start]
    arcount = struct.unpack("!H", body[10:12])[0] - 1
    body = struct.pack("!H", orig_id) + body[2:10] + struct.pack("!H", arcount) + body[12:]
    variables = _tsig_variables(key, (hi << 32) | lo, fudge, error, other)
    expected = hmac.new(key.secret, struct.pack("!H", len(request_mac)) + request_mac + body + variables,
                        ALGORITHMS[key.algorithm][1]).digest()
    if not hmac.compare_digest(mac, expected):
        raise DNSError("the answer's TSIG signature does not match the key (answer forged or key mismatch)")


class Transport:
    """Sends one message to server:port; tests replace exchange() with canned answers."""

    def __init__(self, timeout: float = 5.0, tries: int = 2):
        self.timeout = timeout
        self.tries = tries

    def exchange(self, message: bytes, server: str, port: int = 53) -> bytes:
        last: Exception | None = None
        for _attempt in range(self.tries):
            try:
                raw = self._udp(message, server, port)
                if struct.unpack("!H", raw[2:4])[0] & 0x0200:  # truncated: ask again over TCP
                    raw = self._tcp(message, server, port)
                return raw
            except (OSError, socket.timeout) as exc:
                last = exc
        raise DNSError(f"no answer from {server} port {port}: {last}")

    def _udp(self, message: bytes, server: str, port: int) -> bytes:
        family = socket.AF_INET6 if ":" in server else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(self.timeout)
            sock.connect((server, port))
            sock.send(message)
            deadline = time.monotonic() + self.timeout
            while True:
                raw = sock.recv(65535)
                if raw[:2] == message[:2]:
                    return raw
                if time.monotonic() > deadline:
                    raise socket.timeout("timed out")

    def _tcp(self, message: bytes, server: str, port: int) -> bytes:
        with socket.create_connection((server, port), timeout=self.timeout) as sock:
            sock.sendall(struct.pack("!H", len(message)) + message)
            head = _recv_exact(sock, 2)
            return _recv_exact(sock, struct.unpack("!H", head)[0])


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def system_resolvers(path: str = "/etc/resolv.conf") -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            found = [line.split()[1] for line in handle if line.startswith("nameserver") and len(line.split()) > 1]
    except OSError:
        found = []
    return [addr.split("%")[0] for addr in found] or ["127.0.0.1"]


def resolve_host(server: str) -> str:
    """An IP address for server (an IP address or a host name of the system resolver)."""
    try:
        return str(ipaddress.ip_address(server))
    except ValueError:
        pass
    try:
        return socket.getaddrinfo(server, 53, type=socket.SOCK_DGRAM)[0][4][0]
    except (OSError, IndexError) as exc:
        raise DNSError(f"cannot resolve the DNS server name {server}: {exc}") from None


class Client:
    """Queries and updates against DNS servers, through a Transport."""

    def __init__(self, transport: Transport | None = None):
        self.transport = transport or Transport()

    def _id(self) -> int:
        return random.SystemRandom().randrange(0, 65536)

    def query(self, server: str, qname: str, rtype: str, port: int = 53) -> Answer:
        answer = parse(self.transport.exchange(build_query(qname, rtype, self._id()), server, port))
        if answer.rcode not in (0, 3):
            raise DNSError(f"{server} answered {RCODES.get(answer.rcode, answer.rcode)} for {qname} {rtype}")
        return answer

    def records(self, server: str, qname: str, rtype: str, port: int = 53) -> list[Record]:
        """The answer's records of that type for qname (after a CNAME chain inside the same answer)."""
        answer = self.query(server, qname, rtype, port)
        wanted = {absolute(qname)}
        for rec in answer.answer:
            if rec.rtype == TYPES["CNAME"] and rec.name in wanted:
                wanted.add(decode_name(answer.raw, rec.offset)[0])
        return [rec for rec in answer.answer if rec.rtype == TYPES[rtype] and rec.name in wanted]

    def txt(self, server: str, qname: str, port: int = 53) -> list[str]:
        return [txt_value(rec.rdata) for rec in self.records(server, qname, "TXT", port)]

    def caa(self, server: str, qname: str, port: int = 53) -> list[tuple[int, str, str]]:
        return [caa_value(rec.rdata) for rec in self.records(server, qname, "CAA", port)]

    def addresses(self, server: str, qname: str, port: int = 53) -> list[str]:
        found = []
        for rtype in ("A", "AAAA"):
            for rec in self.records(server, qname, rtype, port):
                found.append(str(ipaddress.ip_address(rec.rdata)))
        return found

    def find_zone(self, server: str, name: str, port: int = 53) -> tuple[str, str]:
        """The zone that holds name and its primary server (SOA MNAME): the closest enclosing SOA."""
        labels = base_name(name).split(".")
        for index in range(len(labels)):
            candidate = ".".join(labels[index:])
            answer = self.query(server, candidate, "SOA", port)
            soa = [rec for rec in answer.answer if rec.rtype == TYPES["SOA"] and rec.name == candidate]
            if soa:
                return candidate, decode_name(answer.raw, soa[0].offset)[0]
        raise DNSError(f"{server} knows no zone that holds {name}")

    def nameservers(self, server: str, zone: str, port: int = 53) -> list[str]:
        answer = self.query(server, zone, "NS", port)
        return sorted(decode_name(answer.raw, rec.offset)[0] for rec in answer.answer if rec.rtype == TYPES["NS"])

    def update(self, server: str, zone: str, key: Key, add: list[tuple[str, str, int]],
               delete: list[tuple[str, str]], port: int = 53) -> None:
        """Send one signed update; DNSError says why the server refused it."""
        message, mac = sign(build_update(zone, add, delete, self._id()), key)
        answer = parse(self.transport.exchange(message, server, port))
        if answer.rcode == 0:
            verify_answer(answer, key, mac)
            return
        tsig_problem = ""
        try:
            verify_answer(answer, key, mac)
        except DNSError as exc:
            tsig_problem = f" ({exc})"
        rcode = RCODES.get(answer.rcode, str(answer.rcode))
        hint = {"REFUSED": "the zone's update policy does not allow this key to change these records",
                "NOTAUTH": "the key is not accepted (check key_name, key_secret and key_algorithm) or the server is "
                           "not authoritative for the zone",
                "NOTZONE": "a record lies outside the zone", "NOTIMP": "the server does not take dynamic updates",
                "SERVFAIL": "the server failed to apply the update"}.get(rcode, "the update was refused")
        raise DNSError(f"{server} answered {rcode} to the update of zone {zone}: {hint}{tsig_problem}")


def txt_value(rdata: bytes) -> str:
    parts, pos = [], 0
    while pos < len(rdata):
        length = rdata[pos]
        parts.append(rdata[pos + 1:pos + 1 + length])
        pos += 1 + length
    return b"".join(parts).decode("utf-8", "replace")


def caa_value(rdata: bytes) -> tuple[int, str, str]:
    flags, tag_len = rdata[0], rdata[1]
    tag = rdata[2:2 + tag_len].decode("ascii", "replace").lower()
    return flags, tag, rdata[2 + tag_len:].decode("utf-8", "replace")


def probe_value() -> str:
    return "port443-preflight-" + base64.b32encode(os.urandom(10)).decode("ascii").lower()


def validate_names(names: list[str], challenge: str) -> list[str]:
    """What is wrong with the names of a certificate order, one message per name (empty: all fine)."""
    problems = []
    if not names:
        problems.append("names: the list is empty; give at least one DNS name")
    seen: set[str] = set()
    for index, name in enumerate(names):
        label = f"names[{index}] {name!r}"
        try:
            ipaddress.ip_address(str(name).strip())
            if challenge == "dns-01":
                problems.append(f"{label}: an IP address cannot be validated through DNS-01 (use http-01, or a name)")
            continue
        except ValueError:
            pass
        if "*" in name and not (name.startswith("*.") and "*" not in name[2:]):
            problems.append(f"{label}: a wildcard must be the whole leftmost label, as in *.example.com")
        elif not valid_name(name, wildcard=True):
            problems.append(f"{label}: not a DNS name (labels of letters, digits and hyphens, 63 characters at most)")
        elif name.startswith("*.") and challenge != "dns-01":
            problems.append(f"{label}: a wildcard certificate can only be validated through DNS-01 (challenge dns-01)")
        elif name.startswith("*.") and "." not in name[2:]:
            problems.append(f"{label}: a wildcard directly below a top-level domain is never issued")
        elif absolute(name) in seen:
            problems.append(f"{label}: listed twice")
        seen.add(absolute(name))
    return problems


def caa_verdict(records: list[tuple[int, str, str]], wildcard: bool, identities: list[str]) -> str | None:
    """None when the relevant CAA set (RFC 8659) lets one of identities issue, else why not."""
    known = {"issue", "issuewild", "iodef", "issuemail", "contactemail", "contactphone"}
    for flags, tag, _value in records:
        if flags & 0x80 and tag not in known:
            return f"a critical CAA property {tag!r} that no CA may ignore"
    issue = [value for _f, tag, value in records if tag == "issue"]
    issuewild = [value for _f, tag, value in records if tag == "issuewild"]
    properties = issuewild if wildcard and issuewild else issue
    if not properties:
        return None
    wanted = {absolute(identity) for identity in identities}
    allowed = [value.split(";")[0].strip().lower() for value in properties]
    if wanted & set(allowed):
        return None
    listed = ", ".join(repr(value) for value in properties)
    return f"CAA {'issuewild' if properties is issuewild else 'issue'} allows only {listed}"


def caa_check(client: Client, resolver: str, name: str, identities: list[str], port: int = 53) -> dict[str, t.Any]:
    """Climb from the name towards the root (RFC 8659 section 3): the first name with CAA records decides."""
    base = base_name(name)
    labels = base.split(".")
    for index in range(len(labels) - 1):
        candidate = ".".join(labels[index:])
        records = client.caa(resolver, candidate, port)
        if records:
            return {"domain": candidate, "records": [f"{f} {tag} \"{value}\"" for f, tag, value in records],
                    "problem": caa_verdict(records, absolute(name).startswith("*."), identities)}
    return {"domain": None, "records": [], "problem": None}


def authoritative_servers(client: Client, server: str, zone: str, port: int = 53) -> list[tuple[str, str]]:
    """(name, address) of every NS of the zone, addresses from the same server (glue) or the system resolver."""
    found = []
    for ns in client.nameservers(server, zone, port):
        addresses = client.addresses(server, ns, port)
        if not addresses:
            addresses = [resolve_host(ns)]
        found += [(ns, addr) for addr in addresses]
    if not found:
        raise DNSError(f"{server} lists no NS records for the zone {zone}")
    return found


def pending(client: Client, servers: list[tuple[str, str]], wanted: dict[str, list[str]], present: bool,
            port: int = 53) -> list[str]:
    """Which servers do not yet answer with (present) or without (absent) the TXT values."""
    lagging = []
    for ns, addr in servers:
        for name, values in wanted.items():
            try:
                served = set(client.txt(addr, name, port))
            except DNSError as exc:
                lagging.append(f"{ns} ({addr}): {exc}")
                continue
            missing = [v for v in values if (v in served) != present]
            if missing:
                lagging.append(f"{ns} ({addr}) {'lacks' if present else 'still serves'} {name} TXT {missing[0]!r}")
    return lagging
