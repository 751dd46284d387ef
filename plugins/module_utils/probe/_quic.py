# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""HTTP/3 reachability without a QUIC library (plain Python): a long-header packet with a reserved version draws a
Version Negotiation packet from any QUIC server (RFC 9000 section 6, RFC 8999 section 6), which proves that UDP
reaches it and lists the versions it speaks. Where the optional aioquic library is importable, a real QUIC
handshake (ALPN h3) reads the certificate chain served over QUIC, to compare with the one served over TCP.

The exchange is a connected UDP socket in the calling thread (the probe's TLS phase, a worker): the packet is sent,
then sent again after a third and two thirds of the step (UDP loses datagrams), and the answer awaited until the
step ends. The reactor (_reactor) is not used: its exchanges are TCP connects, and this is one datagram exchange
per endpoint at the end of its TLS phase, within the same budget.

What an answer means (state):
  answered  a valid Version Negotiation packet: it echoes our connection IDs, lists at least one version and not
            the reserved one we sent
  invalid   something answered, but not that (garbage, short, another packet type, wrong connection IDs)
  refused   an ICMP port unreachable came back: nothing listens on the UDP port
  silent    nothing came back within the step (a firewall drops it, or nothing listens and no ICMP comes back)
  error     the socket could not be used (no route, address family not available)
"""

from __future__ import annotations

import errno
import hashlib
import os
import select
import socket
import time
import typing as t

try:
    from aioquic.quic import events as _quic_events
    from aioquic.quic.configuration import QuicConfiguration as _QuicConfiguration
    from aioquic.quic.connection import QuicConnection as _QuicConnection
    HAS_AIOQUIC = True
    AIOQUIC_IMPORT_ERROR: str | None = None
except ImportError as _exc:  # optional: without it the chain over QUIC is not compared (and the result says so)
    HAS_AIOQUIC = False
    AIOQUIC_IMPORT_ERROR = str(_exc)

VERSION_1 = 0x00000001
VERSION_2 = 0x6B3343CF
# The datagram size every QUIC server must answer with Version Negotiation (RFC 9000 section 14.1: smaller
# datagrams carrying an Initial may be dropped; section 6.1: a server need not answer a smaller one).
DATAGRAM_SIZE = 1200
# Connection ID lengths: QUIC v1 allows at most 20 bytes and a client's first Destination Connection ID has at
# least 8 (RFC 9000 sections 7.2 and 17.2); both are random within that range, never empty, so the echo proves
# the answer is to this packet.
CID_MIN, CID_MAX = 8, 20
SENDS = 3  # the packet is sent at 0, 1/3 and 2/3 of the step


# ---- versions -------------------------------------------------------------------------------------------------------

def is_reserved(version: int) -> bool:
    """A version of the 0x?a?a?a?a pattern, reserved to exercise version negotiation (RFC 9000 section 15)."""
    return version & 0x0F0F0F0F == 0x0A0A0A0A


def classify_version(version: int) -> dict[str, str]:
    """{hex, name, kind} of a version number: kind standard (v1, v2), draft (IETF drafts 0xff0000xx), reserved
    (greasing, 0x?a?a?a?a) or other (vendor versions such as Google QUIC)."""
    hexa = f"0x{version:08x}"
    if version == VERSION_1:
        return {"hex": hexa, "name": "v1", "kind": "standard"}
    if version == VERSION_2:
        return {"hex": hexa, "name": "v2", "kind": "standard"}
    if version & 0xFFFFFF00 == 0xFF000000:
        return {"hex": hexa, "name": f"draft-{version & 0xFF}", "kind": "draft"}
    if is_reserved(version):
        return {"hex": hexa, "name": "reserved", "kind": "reserved"}
    return {"hex": hexa, "name": "other", "kind": "other"}


# ---- the packet and its answer --------------------------------------------------------------------------------------

class Probe(t.NamedTuple):
    """One probe packet and what its answer must echo."""

    datagram: bytes
    version: int
    dcid: bytes
    scid: bytes


def build_probe(random: t.Callable[[int], bytes] = os.urandom) -> Probe:
    """A 1200-byte datagram: a long-header packet shaped like a QUIC v1 Initial (fixed bit set, type Initial, empty
    token, a Length that covers the rest) so that servers which parse the v1 header before looking at the version
    still read it, with a random reserved version and random connection IDs."""
    rnd = random(4)
    version = int.from_bytes(rnd, "big") & 0xF0F0F0F0 | 0x0A0A0A0A
    lens = random(2)
    dcid = random(CID_MIN + lens[0] % (CID_MAX - CID_MIN + 1))
    scid = random(CID_MIN + lens[1] % (CID_MAX - CID_MIN + 1))
    first = 0xC0 | (random(1)[0] & 0x0F)  # long header, fixed bit, type Initial (00), random low bits
    head = bytes([first]) + version.to_bytes(4, "big") + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid + b"\x00"
    rest = DATAGRAM_SIZE - len(head) - 2  # a 2-byte variable-length integer holds the Length
    datagram = head + (0x4000 | rest).to_bytes(2, "big") + random(rest)
    return Probe(datagram, version, dcid, scid)


class Answer(t.NamedTuple):
    """What one datagram says: the versions of a valid Version Negotiation packet, or why it is not one."""

    versions: list[int] | None
    error: str | None


def parse_answer(data: bytes, probe: Probe) -> Answer:
    """Validate every byte of a datagram against the Version Negotiation packet that answers probe (RFC 8999
    section 6, RFC 9000 section 17.2.1): long header, version 0, Destination Connection ID = our Source
    Connection ID and Source Connection ID = our Destination Connection ID, then a whole number of 4-byte
    versions, at least one, and not the version we sent (RFC 9000 section 6.2: such a packet is discarded)."""
    if len(data) < 7:
        return Answer(None, f"{len(data)}-byte datagram, too short for a QUIC long header")
    if not data[0] & 0x80:
        return Answer(None, f"not a QUIC long header (first byte 0x{data[0]:02x})")
    version = int.from_bytes(data[1:5], "big")
    if version != 0:
        return Answer(None, f"a long-header packet of version 0x{version:08x}, not Version Negotiation (version 0)")
    pos = 5
    cids = []
    for which in ("Destination", "Source"):
        length = data[pos]
        pos += 1
        if pos + length > len(data):
            return Answer(None, f"Version Negotiation with a truncated {which} Connection ID ({length} bytes announced)")
        cids.append(data[pos:pos + length])
        pos += length
    if cids[0] != probe.scid or cids[1] != probe.dcid:
        return Answer(None, "Version Negotiation whose connection IDs do not echo the probe's "
                      f"(Destination {cids[0].hex() or 'empty'}, Source {cids[1].hex() or 'empty'}): not an answer to this packet")
    body = data[pos:]
    if not body:
        return Answer(None, "Version Negotiation that lists no version")
    if len(body) % 4:
        return Answer(None, f"Version Negotiation with a version list of {len(body)} bytes (not a multiple of 4)")
    versions = [int.from_bytes(body[i:i + 4], "big") for i in range(0, len(body), 4)]
    if probe.version in versions:
        return Answer(None, f"Version Negotiation that lists the version the probe sent (0x{probe.version:08x})")
    return Answer(versions, None)


# ---- the exchange ---------------------------------------------------------------------------------------------------

def match_answer(data: bytes, probes: t.Sequence[Probe]) -> Answer:
    """parse_answer against every probe sent so far: valid when it answers one of them; otherwise the error of the
    newest probe whose connection IDs it echoes (such as a list that names that probe's version), else the newest's."""
    errors = []
    for probe in reversed(probes):
        answer = parse_answer(data, probe)
        if answer.versions is not None:
            return answer
        errors.append(answer)
    echoed = [a for a in errors if "do not echo" not in t.cast(str, a.error)]
    return (echoed or errors)[0]


def exchange(family: int, sockaddr: tuple[t.Any, ...], timeout: float, new_probe: t.Callable[[], Probe] = build_probe,
             sends: int = SENDS) -> dict[str, t.Any]:
    """Send a probe to sockaddr over UDP (a new one at each third of timeout: new connection IDs and another reserved
    version, so a server that happens to grease with the version of one answers the next) and wait at most timeout
    for an answer to any of them.

    {state, versions, latency_ms, sent, error, answer} (see the module text for the states); versions is the list
    of classify_version() dicts of a valid answer, answer the first bytes (hex) of an invalid one."""
    probes: list[Probe] = []
    out: dict[str, t.Any] = {"state": None, "versions": None, "latency_ms": None, "sent": 0, "error": None, "answer": None}
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError as exc:
        out.update(state="error", error=f"no UDP socket: {exc}")
        return out
    started = time.monotonic()
    deadline = started + timeout
    sends_at = [started + timeout * i / sends for i in range(sends)]
    last_sent = started
    invalid: tuple[str, bytes] | None = None
    try:
        sock.setblocking(False)
        # Connected: only datagrams from the server's address come back, and an ICMP port unreachable becomes
        # ECONNREFUSED on the next receive.
        sock.connect(sockaddr)
        while True:
            now = time.monotonic()
            while sends_at and sends_at[0] <= now:
                sends_at.pop(0)
                probes.append(new_probe())
                try:
                    sock.send(probes[-1].datagram)
                except ConnectionRefusedError:
                    out.update(state="refused", error="ICMP port unreachable: nothing listens on this UDP port")
                    return out
                last_sent = now
                out["sent"] += 1
            if now >= deadline:
                break
            wait = min([deadline] + sends_at[:1]) - now
            readable, _w, _x = select.select([sock], [], [], max(0.0, wait))
            if not readable:
                continue
            try:
                data = sock.recv(65535)
            except ConnectionRefusedError:
                out.update(state="refused", error="ICMP port unreachable: nothing listens on this UDP port")
                return out
            except BlockingIOError:
                continue
            answer = match_answer(data, probes)
            if answer.versions is not None:
                out.update(state="answered", versions=[classify_version(v) for v in answer.versions],
                           latency_ms=round((time.monotonic() - last_sent) * 1000, 2))
                return out
            if invalid is None:
                invalid = (t.cast(str, answer.error), data)
    except OSError as exc:
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EACCES, errno.EPERM):
            out.update(state="silent", error=f"the datagram was refused on the way: {exc}")
        else:
            out.update(state="error", error=str(exc))
        return out
    finally:
        sock.close()
    if invalid is not None:
        out.update(state="invalid", error=invalid[0], answer=invalid[1][:32].hex())
    else:
        out.update(state="silent", error=f"no answer to {out['sent']} datagram(s) within {timeout:g}s")
    return out


# ---- the handshake (optional aioquic) -------------------------------------------------------------------------------

def handshake(family: int, sockaddr: tuple[t.Any, ...], server_name: str, timeout: float) -> dict[str, t.Any]:
    """A QUIC handshake with ALPN h3 through aioquic: {done, version, alpn, chain_der, error}. done is None when it
    could not be tried (aioquic missing), False when it failed or timed out (error says which)."""
    out: dict[str, t.Any] = {"done": None, "version": None, "alpn": None, "chain_der": [], "error": None}
    if not HAS_AIOQUIC:
        out["error"] = f"the Python library aioquic is not installed on the probing host ({AIOQUIC_IMPORT_ERROR})"
        return out
    import ssl

    from cryptography.hazmat.primitives.serialization import Encoding

    config = _QuicConfiguration(is_client=True, alpn_protocols=["h3"], verify_mode=ssl.CERT_NONE, server_name=server_name)
    conn = _QuicConnection(configuration=config)
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.connect(sockaddr)
    except OSError as exc:
        out.update(done=False, error=f"no UDP socket: {exc}")
        return out
    deadline = time.monotonic() + timeout
    peer = sockaddr
    try:
        conn.connect(peer, now=time.monotonic())
        while True:
            now = time.monotonic()
            for data, _addr in conn.datagrams_to_send(now=now):
                sock.send(data)
            event = conn.next_event()
            while event is not None:
                if isinstance(event, _quic_events.HandshakeCompleted):
                    tls = getattr(conn, "tls", None)
                    leaf = getattr(tls, "_peer_certificate", None)
                    rest = getattr(tls, "_peer_certificate_chain", None) or []
                    if leaf is None:
                        out.update(done=True, error="the handshake completed, but this aioquic version does not expose "
                                   "the server's certificate")
                    else:
                        out.update(done=True, chain_der=[c.public_bytes(Encoding.DER) for c in [leaf] + list(rest)])
                    out.update(alpn=event.alpn_protocol, version=_version_name(getattr(conn, "_version", None)))
                    conn.close()
                    for data, _addr in conn.datagrams_to_send(now=time.monotonic()):
                        sock.send(data)
                    return out
                if isinstance(event, _quic_events.ConnectionTerminated):
                    out.update(done=False, error=f"the server closed the connection (error 0x{event.error_code:x}"
                               + (f": {event.reason_phrase}" if event.reason_phrase else "") + ")")
                    return out
                event = conn.next_event()
            if now >= deadline:
                out.update(done=False, error=f"the QUIC handshake did not complete within {timeout:g}s")
                return out
            timer = conn.get_timer()
            wait = deadline - now if timer is None else min(deadline, timer) - now
            readable, _w, _x = select.select([sock], [], [], max(0.0, wait))
            now = time.monotonic()
            if readable:
                try:
                    data = sock.recv(65535)
                except ConnectionRefusedError:
                    out.update(done=False, error="ICMP port unreachable: nothing listens on this UDP port")
                    return out
                except BlockingIOError:
                    continue
                conn.receive_datagram(data, peer, now=now)
            elif timer is not None and timer <= now:
                conn.handle_timer(now=now)
    except OSError as exc:
        out.update(done=False, error=str(exc))
        return out
    except Exception as exc:  # pylint: disable=broad-except  # the library's own failures are the handshake's result
        out.update(done=False, error=f"aioquic: {type(exc).__name__}: {exc}")
        return out
    finally:
        sock.close()


def _version_name(version: t.Any) -> str | None:
    return classify_version(int(version))["name"] if isinstance(version, int) else None


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def compare_chains(tcp_chain: list[bytes], quic_chain: list[bytes], tcp_complete: bool = True) -> tuple[bool, str | None]:
    """(same, what differs) between the chain served over TCP and over QUIC, leaf first. With only the TCP leaf
    known (tcp_complete false) only the leaves are compared."""
    if not tcp_chain or not quic_chain:
        return False, "a chain is empty"
    if tcp_chain[0] != quic_chain[0]:
        return False, (f"the leaf differs: TCP serves sha256 {fingerprint(tcp_chain[0])[:16]}, "
                       f"QUIC serves sha256 {fingerprint(quic_chain[0])[:16]}")
    if tcp_complete and tcp_chain != quic_chain:
        return False, (f"the same leaf, but another chain: {len(tcp_chain)} certificate(s) over TCP, "
                       f"{len(quic_chain)} over QUIC")
    return True, None


# ---- the check: what the probe runs and how it judges it ------------------------------------------------------------

# verdict of the http3 section:
#   served       a QUIC server answers with a standard version (v1 or v2)
#   old_versions a QUIC server answers, with draft or vendor versions only (h3_versions)
#   not_served   nothing answers on the UDP port and nothing advertises HTTP/3: clients never try it (no finding)
#   unreachable  HTTP/3 is advertised and nothing answers (h3_unreachable)
#   invalid      something answers, not with Version Negotiation (h3_invalid_response)
#   unknown      no verdict (no time left in the endpoint's budget, or the UDP socket could not be used)
VERDICTS = ("served", "old_versions", "not_served", "unreachable", "invalid", "unknown")


def target_port(alt_svc: dict[str, t.Any] | None, server_name: str, port: int) -> int:
    """The UDP port to probe: the first h3 alternative on the same host (an empty host, or the server name), else the
    endpoint's own port (HTTP/3 runs on the TCP port's number by convention)."""
    for entry in (alt_svc or {}).get("h3") or []:
        if entry.get("host") in (None, server_name.strip("[]").lower().rstrip(".")):
            return int(entry["port"])
    return port


class Outcome(t.NamedTuple):
    """The http3 section of an endpoint result, its findings (code, detail, severity or None), and whether the
    check ran out of time before its verdict (the caller's deadline_exceeded)."""

    section: dict[str, t.Any]
    findings: list[tuple[str, str, str | None]]
    unfinished: bool


def check(family: int, sockaddr: tuple[t.Any, ...], server_name: str, port: int, alt_svc: dict[str, t.Any] | None,
          budget: t.Any, tcp_chain: list[bytes] | None = None, tcp_complete: bool = True,
          exchange_fn: t.Callable[..., dict[str, t.Any]] | None = None,
          handshake_fn: t.Callable[..., dict[str, t.Any]] | None = None) -> Outcome:
    """The http3 check of one endpoint within what is left of its budget (a host._net.Budget): the Version
    Negotiation exchange on the UDP port, the verdict against the Alt-Svc advertisement (alt_svc: parse_alt_svc of
    the HTTPS answer, None when there was no answer), then, with aioquic, the handshake and the chain comparison."""
    exchange_fn = exchange_fn or exchange
    handshake_fn = handshake_fn or handshake
    advertised = None if alt_svc is None else bool(alt_svc.get("h3"))
    udp_port = target_port(alt_svc, server_name, port)
    section: dict[str, t.Any] = {
        "verdict": "unknown", "advertised": advertised, "alt_svc": alt_svc, "port": udp_port, "udp": None,
        "handshake": None, "chain_compared": False, "chain_same": None, "chain_note": None,
    }
    findings: list[tuple[str, str, str | None]] = []
    if budget.expired:
        section["chain_note"] = "not compared: no time left for the UDP probe"
        return Outcome(section, findings, True)
    step = budget.step()
    addr = (sockaddr[0], udp_port) + tuple(sockaddr[2:])
    udp = exchange_fn(family, addr, step)
    section["udp"] = udp
    where = f"UDP {udp_port}"
    advert = _advert_text(alt_svc)
    state = udp["state"]
    if state == "silent" and budget.expired and step < budget.cap:
        # Cut short by the endpoint's budget, not a full wait: no verdict.
        section["chain_note"] = "not compared: no time left for the UDP probe"
        return Outcome(section, findings, True)
    if state in ("silent", "refused"):
        if advertised:
            section["verdict"] = "unreachable"
            findings.append(("h3_unreachable", f"{advert}; {where}: {udp['error']}", None))
        else:
            section["verdict"] = "not_served"
        section["chain_note"] = "not compared: no QUIC server answered"
        return Outcome(section, findings, False)
    if state == "invalid":
        section["verdict"] = "invalid"
        findings.append(("h3_invalid_response", f"{where}: {udp['error']} (first bytes {udp['answer']})"
                         + (f"; {advert}" if advertised else ""), "critical" if advertised else None))
        section["chain_note"] = "not compared: the UDP answer is not QUIC"
        return Outcome(section, findings, False)
    if state != "answered":
        if advertised:
            findings.append(("h3_unreachable", f"{advert}; {where}: the probe could not send: {udp['error']}", None))
        section["chain_note"] = f"not compared: {udp['error']}"
        return Outcome(section, findings, False)
    standard = [v["name"] for v in udp["versions"] if v["kind"] == "standard"]
    if not standard:
        section["verdict"] = "old_versions"
        names = ", ".join(f"{v['name']} ({v['hex']})" for v in udp["versions"] if v["kind"] != "reserved")
        findings.append(("h3_versions", f"{where} offers {names or 'reserved versions only'}", None))
        section["chain_note"] = "not compared: the server speaks no QUIC version a client library speaks"
        return Outcome(section, findings, False)
    section["verdict"] = "served"
    _compare(section, findings, family, addr, server_name, budget, tcp_chain, tcp_complete, handshake_fn)
    return Outcome(section, findings, False)


def _compare(section: dict[str, t.Any], findings: list[tuple[str, str, str | None]], family: int,
             addr: tuple[t.Any, ...], server_name: str, budget: t.Any, tcp_chain: list[bytes] | None,
             tcp_complete: bool, handshake_fn: t.Callable[..., dict[str, t.Any]]) -> None:
    """The handshake over QUIC and the comparison of its chain with the TCP one (fills section in place)."""
    if not HAS_AIOQUIC and handshake_fn is handshake:
        section["chain_note"] = ("not compared: the Python library aioquic is not installed on the probing host "
                                 "(pip install aioquic to compare the certificate served over QUIC)")
        return
    if not tcp_chain:
        section["chain_note"] = "not compared: no certificate was read over TCP (no TLS handshake)"
        return
    if budget.expired:
        section["chain_note"] = "not compared: no time left for the QUIC handshake"
        return
    hs = handshake_fn(family, addr, server_name, budget.step())
    chain = hs.pop("chain_der", []) or []
    hs["leaf_sha256"] = fingerprint(chain[0]) if chain else None
    hs["chain_length"] = len(chain)
    section["handshake"] = hs
    if not hs.get("done") or not chain:
        section["chain_note"] = f"not compared: {hs.get('error') or 'the QUIC handshake gave no certificate'}"
        return
    same, what = compare_chains(tcp_chain, chain, tcp_complete)
    section.update(chain_compared=True, chain_same=same)
    if not tcp_complete:
        section["chain_note"] = "only the leaf compared (the TCP chain beyond the leaf is not readable on this Python)"
    if not same:
        section["chain_note"] = what
        findings.append(("h3_chain_differs", f"UDP {addr[1]}: {what}", None))


def _advert_text(alt_svc: dict[str, t.Any] | None) -> str:
    entries = (alt_svc or {}).get("h3") or []
    shown = ", ".join(f'{e["protocol"]}="{e["host"] or ""}:{e["port"]}"' for e in entries[:3])
    return f"Alt-Svc advertises {shown}" if shown else "no Alt-Svc h3"
