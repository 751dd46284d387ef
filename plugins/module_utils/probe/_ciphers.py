# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The ciphers check: which suites, groups and Diffie-Hellman parameters a server accepts, per TLS version,
found with hand-built ClientHellos (_hello), and the findings about them (plain Python, no Ansible imports).

Enumeration works the way sslyze and testssl.sh do it: offer every candidate suite of a version, take out the one
the server picks, offer the rest again, until the server refuses. Groups the same way. Whether the server enforces
its own order: offer two accepted suites in the other order. For DHE, the prime and generator of the
ServerKeyExchange are checked (size, primality, safe prime, known RFC 7919 / RFC 3526 group).
"""

from __future__ import annotations

import collections
import copy
import functools
import hashlib
import random
import typing as t

from ansible_collections.port443.https.plugins.module_utils.probe import _hello, _reactor
from ansible_collections.port443.https.plugins.module_utils.host import _net
from ansible_collections.port443.https.plugins.module_utils.profiles import _mozilla_guidelines, _tls_profiles
from ansible_collections.port443.https.plugins.module_utils.reasons import _classify

# The options of the ciphers check (documented once in the port443.https._ciphers doc fragment).
ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "tls_profile": {"type": "str", "choices": list(_tls_profiles.PROFILE_NAMES)},
    "tls_guideline": {"type": "str", "default": _mozilla_guidelines.LATEST},
    "tls_pq": {"type": "bool", "default": True},
    "require_pq_kex": {"type": "bool", "default": False},
}


class CipherInputError(ValueError):
    """Bad input: the message names the option and the value."""


def check_options(opts: dict[str, t.Any]) -> None:
    """tls_profile and tls_guideline must name a profile of a carried guideline version."""
    profile = opts.get("tls_profile")
    if profile is not None and profile not in _tls_profiles.PROFILE_NAMES:
        raise CipherInputError(f"tls_profile: {profile!r} is not one of {', '.join(_tls_profiles.PROFILE_NAMES)}")
    guideline = opts.get("tls_guideline")
    if guideline is not None and str(guideline) not in _mozilla_guidelines.VERSIONS:
        raise CipherInputError(f"tls_guideline: {guideline!r} is not a carried Mozilla guideline version "
                               f"(choose from {', '.join(_mozilla_guidelines.VERSIONS)})")
    for key in ("tls_pq", "require_pq_kex"):
        if opts.get(key) is not None and not isinstance(opts[key], bool):
            raise CipherInputError(f"{key}: {opts[key]!r} is not a boolean")


# ---- Diffie-Hellman parameters ------------------------------------------------------------------------------------

# SHA-256 of the big-endian prime -> name, for the groups of RFC 7919 (ffdhe) and RFC 3526 (MODP), all safe primes
# with generator 2 (digests computed from OpenSSL's built-in copies of the groups; tests/unit checks them).
KNOWN_GROUPS = {
    "9cd3b7f336872f46c09428d1bbc19877a4d440512cda8d1c1cf0cd6e33698966": "ffdhe2048",
    "0eaf67db3a839156d5013494a5318a772b5697d270d721f37f092efc69ea5a17": "ffdhe3072",
    "4648414224ac881b3d0dc59b466f96d06a558278776807797ecf1f66ff397b3e": "ffdhe4096",
    "227ac9066b3ddd9e193670cda2388fa884f65ba0cf98b742d1fe77a6687c79c7": "ffdhe6144",
    "770b14efaf6f049929c523113b3fa99a8d11dab1b18af3609590122075d19833": "ffdhe8192",
    "64fcc83ec403930bf18393dbc883ccaa1fbb08ac876f77f7aa99748ca945019b": "modp_1536",
    "d66436f79bbd6b2e38c0ffbd079be904d2641415e2e67140e09448be9a60890e": "modp_2048",
    "48cf8b092fbce4359d9871abf74f98e25b6163379eaa15cd9087e800c6d1c55c": "modp_3072",
    "4ee95187682bcb230ad26a95205f6920e84708f6251b3894329b09ec23919e33": "modp_4096",
    "d1bfe6d0925ce7e4da262b62861514a7755e35831e429f343e7b864848657efd": "modp_6144",
    "39ab4feab950a3128fb71accb9fc3965d857012e081998a85996e3ea8b3c3bcf": "modp_8192",
}

_SMALL_PRIMES = tuple(n for n in range(3, 2000, 2) if all(n % d for d in range(3, int(n ** 0.5) + 1, 2)))


@functools.lru_cache(maxsize=64)
def is_probable_prime(n: int, rounds: int = 32) -> bool:
    """Miller-Rabin with `rounds` random bases (error below 4^-rounds), after trial division by small primes."""
    if n < 2:
        return False
    if n in (2, 3):
        return True
    if n % 2 == 0:
        return False
    for p in _SMALL_PRIMES:
        if n == p:
            return True
        if n % p == 0:
            return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    rng = random.SystemRandom()
    for _round in range(rounds):
        a = rng.randrange(2, n - 1)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _r in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def dh_facts(p: int, g: int) -> dict[str, t.Any]:
    """bits, prime, safe_prime ((p-1)/2 prime as well), known_group (RFC 7919 / RFC 3526 name or None), generator."""
    digest = hashlib.sha256(p.to_bytes((p.bit_length() + 7) // 8 or 1, "big")).hexdigest()
    known = KNOWN_GROUPS.get(digest)
    if known:
        prime = safe = True
    else:
        prime = is_probable_prime(p)
        safe = prime and is_probable_prime((p - 1) // 2)
    return {"bits": p.bit_length(), "prime": prime, "safe_prime": safe, "known_group": known, "generator": g}


def dh_problems(dh: dict[str, t.Any] | None) -> list[str]:
    if not dh:
        return []
    out = []
    if dh["bits"] < 2048:
        out.append(f"{dh['bits']}-bit group (below 2048)")
    if not dh["prime"]:
        out.append("the modulus p is not prime")
    elif not dh["safe_prime"]:
        out.append("p is not a safe prime ((p-1)/2 is composite: small-subgroup attacks)")
    if dh.get("generator") is not None and not 1 < dh["generator"] < (1 << dh["bits"]) - 1:
        out.append(f"degenerate generator {dh['generator']}")
    return out


# ---- enumeration --------------------------------------------------------------------------------------------------

def candidates(version: str) -> list[int]:
    """The suites offered for a version: TLS 1.3 suites for 1.3; for 1.2 every other suite; below, those not tied to 1.2."""
    return list(_candidates(version))


@functools.lru_cache(maxsize=None)
def _candidates(version: str) -> tuple[int, ...]:
    if version == "1.3":
        return _hello.TLS13_SUITES
    return tuple(code for code in _hello.SUITES if code not in _hello.TLS13_SUITES
                 and (version == "1.2" or not _hello.suite_info(code)["tls12_only"]))


# One ClientHello to send: (version, suites, groups, want_key_exchange).
Request = t.Tuple[str, t.List[int], t.List[int], bool]
Plan = t.Generator[Request, _hello.Answer, t.Any]

# The alerts that decline an offer: the server read the ClientHello and found nothing in it to agree on (no shared
# suite or group, not this version): handshake_failure, illegal_parameter, decode_error, protocol_version,
# insufficient_security, internal_error (OpenSSL 3 sends it for TLS 1.0 and 1.1 when they are enabled but its
# security level leaves no signature for them), missing_extension, unsupported_extension. Other alerts
# (close_notify, user_canceled, unrecognized_name, ...) say nothing about the offer, and neither does a connection
# closed or reset without an alert: a connection limiter in front of the server (nginx limit_conn, fail2ban, a load
# balancer) does exactly that once it has had enough.
REFUSALS = frozenset((40, 47, 50, 70, 71, 80, 109, 110))

# A close that the server confirms: an offer it answered before is answered again, and this one is closed again.
# Servers that close (or reset) instead of sending an alert decline that way; a limiter closes the control as well.
_CLOSED_TWICE = "refused"


def refused(answer: _hello.Answer) -> bool:
    """The server declined the offer: a refusal alert, or a close it repeated while answering a known offer."""
    return answer.kind == _CLOSED_TWICE or answer.kind == "alert" and answer.alert in REFUSALS


class Asker:
    """The ClientHellos of one endpoint's enumeration: counts them, remembers an offer the server answered (the
    control), and checks every close or reset with it (offer()); what did not finish goes to `unknown`."""

    def __init__(self, versions: t.Mapping[str, bool | None] | None) -> None:
        self.unknown: list[str] = []
        self.handshakes = 0
        # The TLS phase's verdicts per version: True accepted, False refused, None unknown or not asked.
        self.versions = dict(versions or {})
        # An offer the server answered: until one is, the first offer of a version the TLS phase saw accepted.
        self.control: Request | None = None
        for version in reversed(_classify.TLS_VERSIONS):
            if self.versions.get(version) and self.control is None:
                self.control = _first_offer(version)
        self.control_answered = False
        # The server stopped answering (an offer it answered before went unanswered): nothing more is asked.
        self.gone: str | None = None

    def skip(self, what: str) -> bool:
        """True (and `what` is unknown) when the server stopped answering: asking more would only feed a limiter."""
        if self.gone:
            self.unknown.append(f"{what}: not asked, {self.gone}")
        return bool(self.gone)

    def ask(self, version: str, suites: t.Sequence[int], groups: t.Sequence[int], want_key_exchange: bool = False) -> Request:
        self.handshakes += 1
        return (version, list(suites), list(groups), want_key_exchange)

    def offer(self, request: Request) -> t.Generator[Request, _hello.Answer, _hello.Answer]:
        """Send one offer; a close or reset without an answer is checked before it counts as a refusal. The control
        offer goes out: unanswered (closed, reset, stalled), the close is no verdict (a limiter, or the server stopped
        answering); answered, the offer goes out again, and only a second close is the server declining it."""
        answer = yield request
        if answer.kind in ("hello", "hrr"):
            if not self.control_answered:
                self.control, self.control_answered = request, True
            return answer
        if answer.kind != "closed":
            return answer
        why = answer.detail or "the server closed the connection without an answer"
        if self.control is None:
            return _hello.Answer("closed", f"{why}, and no offer was answered before to tell a refusal from a connection limiter")
        check = yield self.ask(*self.control)
        if check.kind not in ("hello", "hrr"):
            self.gone = "the server stopped answering an offer it answered before"
            return _hello.Answer("closed", f"{why}, and so was an offer it answered before ({check.detail or check.kind}): "
                                           "a connection limiter, or the server stopped answering")
        self.control_answered = True
        again = yield self.ask(*request)
        if again.kind == "closed":
            return _hello.Answer(_CLOSED_TWICE, "closed twice while an offer it answers was answered in between")
        return again


def _first_offer(version: str) -> Request:
    return (version, candidates(version), list(_groups_for(version)), False)


def _groups_for(version: str) -> tuple[int, ...]:
    return _hello.TLS13_GROUPS if version == "1.3" else _hello.TLS12_GROUPS


def _walk(asker: Asker, what: str, version: str, offer: list[int], field: str,
          request: t.Callable[[list[int]], Request], keep_found: bool = False) -> t.Generator[Request, _hello.Answer, list[int] | None]:
    """Offer, take out the choice, offer again, until refused. Accepted codes in the order found; None when unknown.

    keep_found: the items found stay at the end of the offer (an ECDSA certificate's curve must stay offered in
    TLS 1.2, or the server has no certificate to use); the server choosing one of them again ends the loop.
    """
    found: list[int] = []
    left = list(offer)
    if asker.skip(f"TLS {version} {what}"):
        return None
    while left:
        answer = yield from asker.offer(request(left + found if keep_found else left))
        if refused(answer):
            return found
        if keep_found and answer.kind == "hello" and answer.version == version and getattr(answer, field) in found:
            return found
        if answer.kind in ("hello", "hrr") and answer.version != version:
            if found:
                asker.unknown.append(f"TLS {version} {what}: the server switched to TLS {answer.version}")
                return None
            return found  # this version is not accepted: the server answered with another one
        choice = getattr(answer, field)
        if answer.kind not in ("hello", "hrr") or choice not in left:
            why = answer.detail or answer.kind
            if answer.kind == "alert":
                why = f"{answer.detail}, which is no refusal of the offer"
            elif answer.kind in ("hello", "hrr"):
                why = f"the server chose {choice!r}, which was not offered"
            asker.unknown.append(f"TLS {version} {what}: {why}")
            return None
        found.append(choice)
        left.remove(choice)
    return found


def version_accepted(asker: Asker, version: str) -> t.Generator[Request, _hello.Answer, tuple[bool | None, str | None]]:
    """Whether the server accepts `version`, from one ClientHello offering every suite and group of that version (no
    handshake is completed: its ServerHello, or its refusal, is the answer). (True, None) accepted; (False, None)
    refused (a refusal alert, a ServerHello of another version, or a close the asker confirmed); (None, why)
    unknown (no answer in time, a close nothing confirmed, an alert that is no refusal, an unreadable answer; or not
    asked, once the server stopped answering an offer it answered before)."""
    if asker.gone:
        return None, f"not asked: {asker.gone}"
    answer = yield from asker.offer(_first_offer(version))
    if answer.kind in ("hello", "hrr"):
        return answer.version == version, None
    if refused(answer):
        return False, None
    if answer.kind == "alert":
        return None, f"{answer.detail}, which is no refusal of the offer"
    return None, answer.detail or answer.kind


def plan(versions: t.Mapping[str, bool | None] | None = None) -> Plan:
    """The whole enumeration of one endpoint as a generator: it yields the ClientHellos to send and receives the
    answers (so one endpoint can be driven on its own, or many at once by one event loop), and returns the ciphers
    section: per version the accepted suites (IANA names, in the order the server chose them) and whether the server
    enforces its order, the groups per version, forward secrecy and DH parameters. `complete` is False (and
    `unknown` says why) when any part did not finish; its verdicts are then partial.

    versions: what the TLS phase found per version (True accepted). A version it saw accepted whose every suite is
    declined here is unknown, not refused: the answers contradict each other.

    The parts per version (lane()) do not depend on each other; then comes what needs them all (rest())."""
    asker = Asker(versions)
    lanes = {}
    for version in reversed(_classify.TLS_VERSIONS):
        lanes[version] = yield from lane(asker, version)
    return (yield from rest(asker, lanes))


def lane(asker: Asker, version: str) -> Plan:
    """One version's part: its suites, its server order (TLS 1.3 and 1.2), and for TLS 1.3 its groups.
    {"found": codes or None (unknown), "order": True/False/None, "groups": codes or None} (groups for 1.3 only)."""
    ask, unknown = asker.ask, asker.unknown
    groups = _groups_for(version)
    found = yield from _walk(asker, "suites", version, candidates(version), "suite", lambda left: ask(version, left, groups))
    if found and version != "1.3":
        # A server with two certificates may pick one from the suites offered before it picks a suite (HAProxy 2.6
        # takes the ECDSA one while any ECDSA suite is offered, known to it or not): the suites that authenticate with
        # a key type none of the found ones uses are offered once more on their own.
        for key_type in KEY_TYPES:
            if any(_hello.suite_info(c)["auth"] == key_type for c in found):
                continue
            alone = [c for c in candidates(version) if _hello.suite_info(c)["auth"] == key_type]
            more = yield from _walk(asker, f"{key_type} suites", version, alone, "suite", lambda left: ask(version, left, groups))
            if more is None:
                found = None
                break
            found += more
    if found == [] and asker.versions.get(version):
        unknown.append(f"TLS {version} suites: every offer was declined, yet the TLS handshake of the version check was accepted")
        found = None
    out: dict[str, t.Any] = {"found": found, "order": None, "groups": None}
    if not found:
        return out
    if version in ("1.3", "1.2") and len(found) >= 2 and not asker.skip(f"TLS {version} server order"):
        # The first choice was made from an offer listing found[0] before found[1]; offer them the other way round.
        answer = yield ask(version, [found[1], found[0]], groups)
        if answer.kind in ("hello", "hrr") and answer.suite in found[:2]:
            out["order"] = answer.suite == found[0]
        else:
            unknown.append(f"TLS {version} server order: {answer.detail or answer.kind}")
    if version == "1.3":
        groups13 = yield from _walk(asker, "groups", "1.3", list(_hello.TLS13_GROUPS), "group",
                                    lambda left: ask("1.3", list(_hello.TLS13_SUITES), left))
        if groups13 == []:
            # The suites were chosen from offers carrying these very groups: a group was agreed then.
            unknown.append("TLS 1.3 groups: every group was declined, yet TLS 1.3 suites were accepted")
            groups13 = None
        out["groups"] = groups13
    return out


def rest(asker: Asker, lanes: dict[str, dict[str, t.Any]]) -> Plan:
    """What needs every version's part: the order of TLS 1.1 and 1.0, the TLS 1.2 groups where TLS 1.3 is off, the
    DH parameters; then the section."""
    ask, unknown = asker.ask, asker.unknown
    accepted = {v: lanes[v]["found"] for v in _classify.TLS_VERSIONS if lanes[v]["found"]}
    order_of_12 = lanes["1.2"]["order"]
    for version in ("1.1", "1.0"):
        found = accepted.get(version) or []
        if len(found) < 2:
            continue
        if order_of_12 is not None:
            # One server setting decides the order below TLS 1.3 (OpenSSL's SSL_OP_CIPHER_SERVER_PREFERENCE, Go's
            # PreferServerCipherSuites): TLS 1.0 and 1.1 take the verdict measured in TLS 1.2.
            lanes[version]["order"] = order_of_12
        elif not asker.skip(f"TLS {version} server order"):
            answer = yield ask(version, [found[1], found[0]], _hello.TLS12_GROUPS)
            if answer.kind in ("hello", "hrr") and answer.suite in found[:2]:
                lanes[version]["order"] = answer.suite == found[0]
            else:
                unknown.append(f"TLS {version} server order: {answer.detail or answer.kind}")
    versions_out: dict[str, t.Any] = {}
    for version in _classify.TLS_VERSIONS:
        got = lanes[version]["found"]
        versions_out[version] = None if got is None else {"suites": [_hello.suite_name(c) for c in got], "server_order": lanes[version]["order"]}

    groups_by_version: dict[str, list[str] | None] = {}
    if accepted.get("1.3"):
        groups13 = lanes["1.3"]["groups"]
        groups_by_version["1.3"] = None if groups13 is None else [_hello.group_name(c) for c in groups13]
    ecdhe12 = [c for c in accepted.get("1.2") or [] if _hello.suite_info(c)["kex"] == "ECDHE"]
    if ecdhe12 and not accepted.get("1.3"):
        # The groups of TLS 1.2 only where TLS 1.3 is off: servers take both from one setting (nginx ssl_ecdh_curve,
        # Apache SSLOpenSSLConfCmd Curves, Caddy curves), and each TLS 1.2 probe costs the server a full flight.
        ecdsa_only = all(_hello.suite_info(c)["auth"] == "ECDSA" for c in ecdhe12)
        found = yield from _walk(asker, "groups", "1.2", list(_hello.TLS12_GROUPS), "group",
                                 lambda left: ask("1.2", ecdhe12, left, want_key_exchange=True), keep_found=ecdsa_only)
        if found == []:
            unknown.append("TLS 1.2 groups: every group was declined, yet ECDHE suites were accepted")
            found = None
        groups_by_version["1.2"] = None if found is None else [_hello.group_name(c) for c in found]

    dh = None
    for version in ("1.2", "1.1", "1.0"):
        dhe = _dhe_suites(accepted.get(version) or [])
        if not dhe:
            continue
        if asker.skip(f"TLS {version} DH parameters"):
            break
        answer = yield ask(version, dhe, _hello.TLS12_GROUPS, want_key_exchange=True)
        if answer.dh:
            dh = dh_facts(answer.dh["p"], answer.dh["g"])
        else:
            unknown.append(f"TLS {version} DH parameters: {answer.detail or answer.kind}")
        break

    key_types = yield from _key_types(asker, accepted)

    all_codes = [c for codes in accepted.values() for c in codes]
    orders = [v["server_order"] for v in versions_out.values() if v and v["server_order"] is not None]
    return {
        "versions": versions_out,
        "server_order": (any(orders) if orders else None),
        "forward_secrecy": (all(_hello.suite_info(c)["forward_secrecy"] for c in all_codes) if all_codes else None),
        "groups": groups_by_version,
        "dh": dh,
        "certificate_key_types": sorted({k for found in key_types.values() for k in found or ()}, key=KEY_TYPES.index),
        "certificate_key_types_by_version": key_types,
        "complete": not unknown,
        "unknown": unknown,
        "handshakes": asker.handshakes,
    }


# The key types asked for (certificate_key_types): a ClientHello offering only one type's signature algorithms.
KEY_TYPES = tuple(_hello.KEY_TYPE_SIGNATURE_ALGORITHMS)


def _key_types(asker: Asker, accepted: dict[str, list[int]]) -> t.Generator[t.Any, _hello.Answer, dict[str, list[str] | None]]:
    """The key types of the certificates the server presents, per TLS version it accepts (1.3, 1.2): one ClientHello
    per key type that offers only that type's signature algorithms (TLS 1.2: and only the accepted suites that
    authenticate with it; TLS 1.3: with key shares, so the answer is a ServerHello). A ServerHello means the server has
    a certificate of that type; a refusal means it has none; anything else leaves the version's answer unknown (None).
    These requests carry the key type as a fifth element (_Hello builds their ClientHello)."""
    out: dict[str, list[str] | None] = {}
    for version in ("1.3", "1.2"):
        if not accepted.get(version) or asker.skip(f"TLS {version} certificate key types"):
            continue
        found: list[str] | None = []
        for key_type in KEY_TYPES:
            if version == "1.3":
                suites, groups = list(_hello.TLS13_SUITES), list(_hello.KEY_TYPE_GROUPS)
            else:
                suites = [c for c in accepted[version] if _hello.suite_info(c)["auth"] == key_type]
                groups = list(_hello.TLS12_GROUPS)
                if not suites:
                    continue  # no accepted suite authenticates with this key type: the server has no such certificate
            asker.handshakes += 1
            answer = yield (version, suites, groups, False, key_type)
            if answer.kind == "hello" and answer.version == version:
                t.cast(list, found).append(key_type)
            elif not refused(answer):
                asker.unknown.append(f"TLS {version} {key_type} certificate: {answer.detail or answer.kind}")
                found = None
                break
        out[version] = found
    return out


def _dhe_suites(codes: t.Iterable[int]) -> list[int]:
    return [c for c in codes if _hello.suite_info(c)["kex"] == "DHE"
            or _hello.suite_info(c)["kex"] == "DH" and _hello.suite_info(c)["auth"] == "anon"]


# ---- one server, many names ---------------------------------------------------------------------------------------

def fingerprint_offers(section: dict[str, t.Any]) -> list[Request]:
    """The offers that tell whether another name of the same server (same address, same certificate) is served what
    this complete section found, without enumerating it again. Per version: every candidate (the server's first
    choice, or its refusal), every candidate it did not accept (must be declined: no extra suite), and the accepted
    ones in reverse order (the choice shows the order it follows and the end of the list); the same for the groups;
    and the DH parameters. About half the ClientHellos of a full enumeration, and the TLS 1.2 ones that cost the
    server a signature fewer still."""
    offers: list[Request] = []
    for version in reversed(_classify.TLS_VERSIONS):
        groups = list(_groups_for(version))
        found = [_hello.SUITE_CODES[n] for n in (section["versions"][version] or {}).get("suites") or []]
        offers.append((version, candidates(version), groups, False))
        rest = [c for c in candidates(version) if c not in found]
        if found and rest:
            offers.append((version, rest, groups, False))
        if len(found) >= 2:
            offers.append((version, found[::-1], groups, False))
    for version, suites, want_kx in (("1.3", list(_hello.TLS13_SUITES), False),
                                     ("1.2", [_hello.SUITE_CODES[n] for n in (section["versions"]["1.2"] or {}).get("suites") or []
                                              if _hello.suite_info(_hello.SUITE_CODES[n])["kex"] == "ECDHE"], True)):
        found = [_hello.GROUP_CODES[n] for n in (section.get("groups") or {}).get(version) or []]
        if not found:
            continue
        rest = [g for g in _groups_for(version) if g not in found]
        if rest:
            offers.append((version, suites, rest, want_kx))
        if len(found) >= 2:
            offers.append((version, suites, found[::-1], want_kx))
    if section.get("dh"):
        for version in ("1.2", "1.1", "1.0"):
            dhe = _dhe_suites(_hello.SUITE_CODES[n] for n in (section["versions"][version] or {}).get("suites") or [])
            if dhe:
                offers.append((version, dhe, list(_hello.TLS12_GROUPS), True))
                break
    return offers


def _print(answer: _hello.Answer) -> tuple[t.Any, ...] | None:
    """What one answer says, for comparing two names; None when it says nothing (no answer, a close)."""
    if answer.kind == "alert" and answer.alert in REFUSALS:
        return ("alert", answer.alert)
    if answer.kind in ("hello", "hrr"):
        dh = hashlib.sha256(f"{answer.dh['p']}/{answer.dh['g']}".encode()).hexdigest() if answer.dh else None
        return (answer.kind, answer.version, answer.suite, answer.group, dh)
    return None


def fingerprint(offers: list[Request]) -> Plan:
    """Send each offer; the list of what the answers say (None where one said nothing)."""
    out = []
    for request in offers:
        out.append(_print((yield request)))
    return out


_NO_TIME = "no time left in the endpoint's budget"


class Target(t.NamedTuple):
    """An endpoint to enumerate: where, which name, and its budget (what its other checks left of it); what its TLS
    phase found per version (True accepted) and the SHA-256 of the certificate it was served."""

    family: int
    sockaddr: tuple[t.Any, ...]
    server_name: str
    budget: _net.Budget
    versions: t.Optional[t.Mapping[str, t.Optional[bool]]] = None
    certificate: t.Optional[str] = None


def hello_bytes(request: Request, server_name: str | None) -> bytes:
    """The ClientHello record of one request (a key-type request carries a fifth item: its key type)."""
    version, suites, groups = request[:3]
    key_type = request[4] if len(request) > 4 else None  # type: ignore[misc]
    if key_type:
        return _hello.client_hello(version, suites, groups, server_name,
                                   key_shares=_hello.key_type_shares() if version == "1.3" else None,
                                   signature_algorithms=_hello.KEY_TYPE_SIGNATURE_ALGORITHMS[key_type])
    return _hello.client_hello(version, suites, groups, server_name)


class _Hello(_reactor.Exchange):
    """One ClientHello: connect, send it, read the answer (AnswerParser) and close with a reset."""

    __slots__ = ("parser",)

    def __init__(self, target: Target, request: Request) -> None:
        super().__init__(target.budget, target.family, target.sockaddr, out=hello_bytes(request, target.server_name))
        self.parser = _hello.AnswerParser(request[3])

    def readable(self) -> _hello.Answer | None:
        try:
            data = self.sock.recv(16384)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as exc:
            return self.parser.end("closed", f"connection reset ({exc})")
        return self.parser.feed(data) if data else self.parser.end("closed", "the server closed the connection without an answer")

    def failed(self, phase: str, error: OSError) -> _hello.Answer:
        return _hello.Answer("error", f"send: {error}" if phase == "send" else f"connect: {error.strerror}")

    def timed_out(self, phase: str) -> _hello.Answer:
        return self.parser.end("timeout", "no complete answer in time")


def drive(target: Target, steps: Plan) -> t.Generator[_reactor.Exchange, _hello.Answer, t.Any]:
    """Run a plan's ClientHellos one after the other, each within what is left of the target's budget; its result."""
    answer: _hello.Answer | None = None  # the first send starts the plan
    while True:
        try:
            request = steps.send(answer)
        except StopIteration as done:
            return done.value
        if target.budget.expired:
            answer = _hello.Answer("timeout", _NO_TIME)
        else:
            answer = yield _Hello(target, request)


Then = t.Callable[[t.Dict[str, t.Any]], t.Generator[_reactor.Exchange, _hello.Answer, None]]


def submit(reactor: _reactor.Reactor, key: t.Any, target: Target, then: Then) -> None:
    """Submit the enumeration of one endpoint as one task of its destination's key (one connection at a time; the
    versions side by side were measured slower against single-threaded servers and no faster against nginx); the
    task runs `then(section)` (more exchanges, or storing the section) at its end."""
    def task() -> _reactor.Task:
        target.budget.resume()
        section = yield from drive(target, plan(target.versions))
        yield from then(section)
    reactor.submit(task(), key)


def _store(sections: list[dict[str, t.Any]], index: int, sent: int = 0) -> Then:
    def then(section: dict[str, t.Any]) -> t.Generator[_reactor.Exchange, _hello.Answer, None]:
        section["handshakes"] += sent
        sections[index] = section
        yield from ()
    return then


def enumeration(target: Target, sections: list[dict[str, t.Any]], index: int) -> _reactor.Task:
    """The task of one endpoint: its plan's ClientHellos one after the other, each within what is left of its budget
    (which runs from its first ClientHello); the section is sections[index] at the end."""
    target.budget.resume()
    sections[index] = yield from drive(target, plan(target.versions))


# After this many names of one server whose full enumeration did not finish for a reason of the server's (no
# answer in time, closed or reset connections, answers that contradict each other), its other names are not asked:
# they would take their whole budget each, one after the other, to learn the same. Names whose enumeration only ran
# out of their own budget do not count.
MAX_UNFINISHED_NAMES = 2


class _Names:
    """The names of one destination (address and port) served the same certificate. The first is enumerated in
    full; then each other name sends the fingerprint offers of that result (fingerprint_offers) and gets a copy of
    it (with `same_as` naming the first) when every answer is the same as the first name's, else its own full
    enumeration. A name whose configuration differs (another suite, group, order, DH group, version) answers one of
    these offers differently; what they cannot see is a name that lacks a suite the first name accepts which is
    neither the first nor the last it chooses."""

    def __init__(self, reactor: _reactor.Reactor, key: t.Any, targets: list[Target], sections: list[dict[str, t.Any]],
                 indices: list[int]) -> None:
        self.reactor, self.key, self.targets, self.sections = reactor, key, targets, sections
        self.waiting = collections.deque(indices)
        self.unfinished: list[str] = []

    def start(self) -> None:
        if not self.waiting:
            return
        if len(self.unfinished) >= MAX_UNFINISHED_NAMES:
            for index in self.waiting:
                self.sections[index] = _not_asked(self.unfinished)
            self.waiting.clear()
            return
        index = self.waiting.popleft()
        submit(self.reactor, self.key, self.targets[index], functools.partial(self._first, index))

    def _first(self, index: int, section: dict[str, t.Any]) -> t.Generator[_reactor.Exchange, _hello.Answer, None]:
        """The first name's section is in: the next name is enumerated in full when it did not finish, else the
        fingerprint is taken and every other name is asked it."""
        target = self.targets[index]
        self.sections[index] = section
        if not section["complete"]:
            if any(_NO_TIME not in why for why in section["unknown"]):
                self.unfinished.append(f"{target.server_name} ({'; '.join(section['unknown'])})")
            self.start()
            return
        if not self.waiting:
            return
        offers = fingerprint_offers(section)
        prints = yield from drive(target, fingerprint(offers))
        section["handshakes"] += len(offers)
        shared = None if None in prints else (target.server_name, section, offers, prints)
        while self.waiting:
            self.reactor.submit(self._other(self.waiting.popleft(), shared), self.key)

    def _other(self, index: int, shared: tuple[str, dict[str, t.Any], list[Request], list[t.Any]] | None) -> _reactor.Task:
        target = self.targets[index]
        target.budget.resume()
        sent = 0
        if shared is not None:
            name, section, offers, prints = shared
            mine = yield from drive(target, fingerprint(offers))
            if mine == prints:
                self.sections[index] = dict(copy.deepcopy(section), same_as=name, handshakes=len(offers))
                return
            sent = len(offers)
        submit(self.reactor, self.key, target, _store(self.sections, index, sent))


def _not_asked(unfinished: list[str]) -> dict[str, t.Any]:
    return {"versions": {v: None for v in _classify.TLS_VERSIONS}, "server_order": None, "forward_secrecy": None, "groups": {},
            "dh": None, "complete": False, "handshakes": 0,
            "unknown": [f"not enumerated: the enumerations of {' and of '.join(unfinished)} at the same address did not finish"]}


def enumerate_many(targets: list[Target], max_inflight: int = 256, share: bool = True) -> list[dict[str, t.Any]]:
    """The ciphers sections of many endpoints at once, in the probe's event loop (no thread per endpoint): each
    endpoint has at most one exchange in flight, at most max_inflight endpoints run at once, and at most
    _reactor.PER_DESTINATION of one destination (waiting for a slot does not count against a budget). With share,
    the names of one destination served the same certificate are enumerated once and confirmed (_Names). Each
    exchange takes at most the budget's step, never past the budget; what is not finished becomes part of `unknown`."""
    sections: list[dict[str, t.Any]] = [{}] * len(targets)
    reactor = _reactor.Reactor(max_inflight)
    names: dict[tuple[t.Any, ...], list[int]] = {}
    for index, target in enumerate(targets):
        key = _reactor.destination(target.family, target.sockaddr)
        if share:
            names.setdefault((key, target.certificate), []).append(index)
        else:
            submit(reactor, key, target, _store(sections, index))
    for (key, _certificate), indices in names.items():
        _Names(reactor, key, targets, sections, indices).start()
    reactor.run()
    return sections


# ---- findings -----------------------------------------------------------------------------------------------------

def _codes_of(section: dict[str, t.Any], versions: t.Iterable[str] = _classify.TLS_VERSIONS) -> list[tuple[str, int]]:
    out = []
    for version in versions:
        entry = section["versions"].get(version)
        for name in (entry or {}).get("suites") or []:
            out.append((version, _hello.SUITE_CODES.get(name, -1)))
    return out


def _list(pairs: list[tuple[str, int]], limit: int = 8) -> str:
    names: dict[int, list[str]] = {}
    for version, code in pairs:
        names.setdefault(code, []).append(version)
    items = [f"{_hello.suite_name(code)} (TLS {', '.join(vs)})" for code, vs in names.items()]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def profile_data(opts: dict[str, t.Any]) -> dict[str, t.Any]:
    guideline = str(opts.get("tls_guideline") or _mozilla_guidelines.LATEST)
    return _mozilla_guidelines.GUIDELINES[guideline]["configurations"][opts.get("tls_profile") or "intermediate"]


def server_fix(opts: dict[str, t.Any], suites: bool = True, groups: bool = False) -> str:
    """The settings of the chosen (or intermediate) profile, per server, to paste into the configuration."""
    data = profile_data(opts)
    name = f"Mozilla {opts.get('tls_guideline') or _mozilla_guidelines.LATEST} {opts.get('tls_profile') or 'intermediate'}"
    openssl = ":".join(data["ciphers"]["openssl"])
    parts = []
    if suites:
        if openssl:
            parts.append(f"nginx: ssl_ciphers {openssl}; Apache: SSLCipherSuite {openssl}; "
                         f"Caddy: ciphers {' '.join(data['ciphers']['iana'])}")
        else:
            parts.append("no TLS 1.2 suites at all (TLS 1.3 only): nginx ssl_protocols TLSv1.3; Apache SSLProtocol -all +TLSv1.3; "
                         "Caddy protocols tls1.3")
    if groups:
        curves = _expected_groups(opts)
        parts.append(f"nginx: ssl_ecdh_curve {':'.join(_openssl_group(g) for g in curves)}; "
                     f"Apache: SSLOpenSSLConfCmd Curves {':'.join(_openssl_group(g) for g in curves)}; "
                     f"Caddy: curves {' '.join(g.lower() for g in curves)}")
    return f"{name}: " + " | ".join(parts) + "."


def _openssl_group(name: str) -> str:
    return {"secp256r1": "prime256v1", "x25519": "X25519", "x448": "X448"}.get(name, name)


def _expected_groups(opts: dict[str, t.Any]) -> list[str]:
    groups = [_hello.iana_group(g) for g in profile_data(opts)["tls_curves"]]
    if opts.get("tls_pq") is False:
        groups = [g for g in groups if "MLKEM" not in g]
    return groups


def profile_diff(section: dict[str, t.Any], opts: dict[str, t.Any]) -> tuple[list[str], list[str]]:
    """(extra, missing): what the server accepts beyond the chosen profile, and what of it the server lacks."""
    data = profile_data(opts)
    extra: list[str] = []
    missing: list[str] = []
    want_versions = [v.replace("TLSv", "") for v in data["tls_versions"]]
    have = [v for v in _classify.TLS_VERSIONS if (section["versions"].get(v) or {}).get("suites")]
    extra += [f"TLS {v}" for v in have if v not in want_versions]
    missing += [f"TLS {v}" for v in want_versions if v not in have]

    want12 = list(data["ciphers"]["iana"])
    got12 = _codes_of(section, [v for v in _classify.TLS_VERSIONS if v != "1.3"])
    extra_suites = {_hello.suite_name(c) for _v, c in got12} - set(want12)
    extra += sorted(extra_suites)
    if "1.2" in have:
        auths = {_hello.suite_info(c)["auth"] for _v, c in got12}
        names12 = set(section["versions"]["1.2"]["suites"])
        missing += [s for s in want12 if s not in names12 and _hello.suite_info(_hello.SUITE_CODES.get(s, -1))["auth"] in auths]
    if "1.3" in have:
        got13 = section["versions"]["1.3"]["suites"]
        extra += [s for s in got13 if s not in data["ciphersuites"]]
        missing += [s for s in data["ciphersuites"] if s not in got13]

    want_groups = _expected_groups(opts)
    for version in ("1.3", "1.2"):
        got = (section.get("groups") or {}).get(version)
        if version not in have or got is None:
            continue
        expect = want_groups if version == "1.3" else [g for g in want_groups if "MLKEM" not in g]
        extra += [f"group {g} (TLS {version})" for g in got if g not in expect]
        missing += [f"group {g} (TLS {version})" for g in expect if g not in got]
    return extra, missing


def findings(section: dict[str, t.Any], opts: dict[str, t.Any]) -> list[tuple[str, str, str | None, str | None]]:
    """(code, detail, severity or None for the default, fix detail) for one endpoint's ciphers section."""
    out: list[tuple[str, str, str | None, str | None]] = []
    pairs = _codes_of(section)
    # What was found accepted is a finding even when the rest is unknown; what was not found (no AEAD suite, no
    # post-quantum group, a profile's missing items) is one only when the enumeration finished.
    complete = bool(section.get("complete"))
    weak = [(v, c) for v, c in pairs if _hello.suite_info(c)["flags"]]
    if weak:
        flags = sorted({f for _v, c in weak for f in _hello.suite_info(c)["flags"]})
        out.append(("weak_cipher", f"{', '.join(flags)}: {_list(weak)}", None, server_fix(opts)))
    below13 = [(v, c) for v, c in pairs if v != "1.3"]
    if complete and below13 and not any(_hello.suite_info(c)["mode"] == "AEAD" for _v, c in below13):
        out.append(("cbc_only", f"accepted below TLS 1.3: {_list(below13)}", None, server_fix(opts)))
    static = [(v, c) for v, c in pairs if _hello.suite_info(c)["forward_secrecy"] is False]
    if static:
        out.append(("no_forward_secrecy", f"static key exchange: {_list(static)}", None, server_fix(opts)))
    problems = dh_problems(section.get("dh"))
    if problems:
        known = section["dh"].get("known_group")
        out.append(("weak_dh", "; ".join(problems) + (f" ({known})" if known else ""), None, None))
    if opts.get("require_pq_kex") and complete:
        groups13 = (section.get("groups") or {}).get("1.3")
        if groups13 is not None or not (section["versions"].get("1.3") or {}).get("suites"):
            if "X25519MLKEM768" not in (groups13 or []):
                detail = f"TLS 1.3 groups: {', '.join(groups13)}" if groups13 else "no TLS 1.3"
                out.append(("no_pq_kex", detail, None, None))
    if opts.get("tls_profile") and complete:
        extra, missing = profile_diff(section, opts)
        if extra or missing:
            detail = f"Mozilla {opts.get('tls_guideline') or _mozilla_guidelines.LATEST} {opts['tls_profile']}: " + "; ".join(
                part for part in (f"extra: {', '.join(extra)}" if extra else "", f"missing: {', '.join(missing)}" if missing else "") if part)
            out.append(("profile_mismatch", detail, None, server_fix(opts, groups=True)))
    if not complete:
        out.append(("cipher_enumeration_unknown", "; ".join(section.get("unknown") or ["enumeration unfinished"]), None, None))
    return out
