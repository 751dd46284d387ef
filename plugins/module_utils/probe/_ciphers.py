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


# One ClientHello to send: (version, suites, groups, want_key_exchange, key type), the key type ("ECDSA", "RSA") when
# the hello offers only that type's signature algorithms (and TLS 1.3 key shares), else None.
Request = t.Tuple[str, t.List[int], t.List[int], bool, t.Optional[str]]
KEY_TYPES = tuple(_hello.KEY_TYPE_SIGNATURE_ALGORITHMS)
Plan = t.Generator[Request, _hello.Answer, t.Dict[str, t.Any]]


def _walk(unknown: list[str], what: str, version: str, offer: list[int], field: str,
          request: t.Callable[[list[int]], Request], keep_found: bool = False) -> t.Generator[Request, _hello.Answer, list[int] | None]:
    """Offer, take out the choice, offer again, until refused. Accepted codes in the order found; None when unknown.

    keep_found: the items found stay at the end of the offer (an ECDSA certificate's curve must stay offered in
    TLS 1.2, or the server has no certificate to use); the server choosing one of them again ends the loop.
    """
    found: list[int] = []
    left = list(offer)
    while left:
        answer = yield request(left + found if keep_found else left)
        if answer.refused:
            return found
        if keep_found and answer.kind == "hello" and answer.version == version and getattr(answer, field) in found:
            return found
        if answer.kind in ("hello", "hrr") and answer.version != version:
            if found:
                unknown.append(f"TLS {version} {what}: the server switched to TLS {answer.version}")
                return None
            return found  # this version is not accepted: the server answered with another one
        choice = getattr(answer, field)
        if answer.kind not in ("hello", "hrr") or choice not in left:
            why = answer.detail or answer.kind
            if answer.kind in ("hello", "hrr"):
                why = f"the server chose {choice!r}, which was not offered"
            unknown.append(f"TLS {version} {what}: {why}")
            return None
        found.append(choice)
        left.remove(choice)
    return found


def plan() -> Plan:
    """The whole enumeration of one endpoint as a generator: it yields the ClientHellos to send and receives the
    answers (so one endpoint can be driven on its own, or many at once by one event loop), and returns the ciphers
    section: per version the accepted suites (IANA names, in the order the server chose them) and whether the server
    enforces its order, the groups per version, forward secrecy and DH parameters. `complete` is False (and
    `unknown` says why) when any part did not finish; its verdicts are then partial."""
    unknown: list[str] = []
    handshakes = 0
    versions: dict[str, t.Any] = {}
    accepted: dict[str, list[int]] = {}

    def ask(version: str, suites: list[int], groups: t.Sequence[int], want_key_exchange: bool = False,
            key_type: str | None = None) -> Request:
        nonlocal handshakes
        handshakes += 1
        return (version, list(suites), list(groups), want_key_exchange, key_type)

    order_of_12 = None
    for version in reversed(_classify.TLS_VERSIONS):
        groups = _hello.TLS13_GROUPS if version == "1.3" else _hello.TLS12_GROUPS
        found = yield from _walk(unknown, "suites", version, candidates(version), "suite",
                                 lambda left, v=version, g=groups: ask(v, left, g))
        if found is None:
            versions[version] = None
            continue
        accepted[version] = found
        order = None
        if version in ("1.1", "1.0") and order_of_12 is not None and len(found) >= 2:
            # One server setting decides the order below TLS 1.3 (OpenSSL's SSL_OP_CIPHER_SERVER_PREFERENCE, Go's
            # PreferServerCipherSuites): TLS 1.0 and 1.1 take the verdict measured in TLS 1.2.
            order = order_of_12
        elif len(found) >= 2:
            # The first choice was made from an offer listing found[0] before found[1]; offer them the other way round.
            answer = yield ask(version, [found[1], found[0]], groups)
            if answer.kind in ("hello", "hrr") and answer.suite in found[:2]:
                order = answer.suite == found[0]
            else:
                unknown.append(f"TLS {version} server order: {answer.detail or answer.kind}")
            if version == "1.2":
                order_of_12 = order
        versions[version] = {"suites": [_hello.suite_name(c) for c in found], "server_order": order}
    versions = {v: versions[v] for v in _classify.TLS_VERSIONS}

    groups_by_version: dict[str, list[str] | None] = {}
    if accepted.get("1.3"):
        found = yield from _walk(unknown, "groups", "1.3", list(_hello.TLS13_GROUPS), "group",
                                 lambda left: ask("1.3", list(_hello.TLS13_SUITES), left))
        groups_by_version["1.3"] = None if found is None else [_hello.group_name(c) for c in found]
    ecdhe12 = [c for c in accepted.get("1.2") or [] if _hello.suite_info(c)["kex"] == "ECDHE"]
    if ecdhe12 and not accepted.get("1.3"):
        # The groups of TLS 1.2 only where TLS 1.3 is off: servers take both from one setting (nginx ssl_ecdh_curve,
        # Apache SSLOpenSSLConfCmd Curves, Caddy curves), and each TLS 1.2 probe costs the server a full flight.
        ecdsa_only = all(_hello.suite_info(c)["auth"] == "ECDSA" for c in ecdhe12)
        found = yield from _walk(unknown, "groups", "1.2", list(_hello.TLS12_GROUPS), "group",
                                 lambda left: ask("1.2", ecdhe12, left, want_key_exchange=True), keep_found=ecdsa_only)
        groups_by_version["1.2"] = None if found is None else [_hello.group_name(c) for c in found]

    dh = None
    for version in ("1.2", "1.1", "1.0"):
        dhe = [c for c in accepted.get(version) or [] if _hello.suite_info(c)["kex"] == "DHE"
               or _hello.suite_info(c)["kex"] == "DH" and _hello.suite_info(c)["auth"] == "anon"]
        if not dhe:
            continue
        answer = yield ask(version, dhe, _hello.TLS12_GROUPS, want_key_exchange=True)
        if answer.dh:
            dh = dh_facts(answer.dh["p"], answer.dh["g"])
        else:
            unknown.append(f"TLS {version} DH parameters: {answer.detail or answer.kind}")
        break

    key_types = yield from _key_types(unknown, accepted, ask)

    all_codes = [c for codes in accepted.values() for c in codes]
    orders = [v["server_order"] for v in versions.values() if v and v["server_order"] is not None]
    return {
        "versions": versions,
        "server_order": (any(orders) if orders else None),
        "forward_secrecy": (all(_hello.suite_info(c)["forward_secrecy"] for c in all_codes) if all_codes else None),
        "groups": groups_by_version,
        "dh": dh,
        "certificate_key_types": sorted({k for found in key_types.values() for k in found or ()}, key=KEY_TYPES.index),
        "certificate_key_types_by_version": key_types,
        "complete": not unknown,
        "unknown": unknown,
        "handshakes": handshakes,
    }


def _key_types(unknown: list[str], accepted: dict[str, list[int]],
               ask: t.Callable[..., Request]) -> t.Generator[Request, _hello.Answer, dict[str, list[str] | None]]:
    """The key types of the certificates the server presents, per TLS version it accepts (1.3, 1.2): one ClientHello
    per key type that offers only that type's signature algorithms (TLS 1.2: and only the accepted suites that
    authenticate with it). A ServerHello means the server has a certificate of that type; a refusal means it has
    none; anything else leaves the version's answer unknown (None)."""
    out: dict[str, list[str] | None] = {}
    for version in ("1.3", "1.2"):
        if not accepted.get(version):
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
            answer = yield ask(version, suites, groups, False, key_type)
            if answer.kind == "hello" and answer.version == version:
                t.cast(list, found).append(key_type)
            elif not answer.refused:
                unknown.append(f"TLS {version} {key_type} certificate: {answer.detail or answer.kind}")
                found = None
                break
        out[version] = found
    return out


_NO_TIME = "no time left in the endpoint's budget"


class Target(t.NamedTuple):
    """An endpoint to enumerate: where, which name, and its budget (what its other checks left of it)."""

    family: int
    sockaddr: tuple[t.Any, ...]
    server_name: str
    budget: _net.Budget


class _Hello(_reactor.Exchange):
    """One ClientHello: connect, send it, read the answer (AnswerParser) and close with a reset."""

    __slots__ = ("parser",)

    def __init__(self, target: Target, request: Request) -> None:
        version, suites, groups, want_kx, key_type = request
        if key_type:
            hello = _hello.client_hello(version, suites, groups, target.server_name,
                                        key_shares=_hello.key_type_shares() if version == "1.3" else None,
                                        signature_algorithms=_hello.KEY_TYPE_SIGNATURE_ALGORITHMS[key_type])
        else:
            hello = _hello.client_hello(version, suites, groups, target.server_name)
        super().__init__(target.budget, target.family, target.sockaddr, out=hello)
        self.parser = _hello.AnswerParser(want_kx)

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


def enumeration(target: Target, sections: list[dict[str, t.Any]], index: int) -> _reactor.Task:
    """The task of one endpoint: its plan's ClientHellos one after the other, each within what is left of its budget
    (which runs from its first ClientHello); the section is sections[index] at the end."""
    target.budget.resume()
    steps = plan()
    answer: _hello.Answer | None = None  # the first send starts the plan
    while True:
        try:
            request = steps.send(answer)
        except StopIteration as done:
            sections[index] = done.value
            return
        if target.budget.expired:
            answer = _hello.Answer("timeout", _NO_TIME)
        else:
            answer = yield _Hello(target, request)


def enumerate_many(targets: list[Target], max_inflight: int = 256) -> list[dict[str, t.Any]]:
    """The ciphers sections of many endpoints at once, in the probe's event loop (no thread per endpoint): each
    endpoint has at most one exchange in flight, at most max_inflight endpoints run at once (waiting for a slot does
    not count against a budget). Each exchange takes at most the budget's step, never past the budget; what is not
    finished becomes part of `unknown`."""
    sections: list[dict[str, t.Any]] = [{}] * len(targets)
    reactor = _reactor.Reactor(max_inflight)
    for index, target in enumerate(targets):
        reactor.submit(enumeration(target, sections, index))
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
    weak = [(v, c) for v, c in pairs if _hello.suite_info(c)["flags"]]
    if weak:
        flags = sorted({f for _v, c in weak for f in _hello.suite_info(c)["flags"]})
        out.append(("weak_cipher", f"{', '.join(flags)}: {_list(weak)}", None, server_fix(opts)))
    below13 = [(v, c) for v, c in pairs if v != "1.3"]
    if below13 and not any(_hello.suite_info(c)["mode"] == "AEAD" for _v, c in below13):
        out.append(("cbc_only", f"accepted below TLS 1.3: {_list(below13)}", None, server_fix(opts)))
    static = [(v, c) for v, c in pairs if _hello.suite_info(c)["forward_secrecy"] is False]
    if static:
        out.append(("no_forward_secrecy", f"static key exchange: {_list(static)}", None, server_fix(opts)))
    problems = dh_problems(section.get("dh"))
    if problems:
        known = section["dh"].get("known_group")
        out.append(("weak_dh", "; ".join(problems) + (f" ({known})" if known else ""), None, None))
    if opts.get("require_pq_kex"):
        groups13 = (section.get("groups") or {}).get("1.3")
        if groups13 is not None or not (section["versions"].get("1.3") or {}).get("suites"):
            if "X25519MLKEM768" not in (groups13 or []):
                detail = f"TLS 1.3 groups: {', '.join(groups13)}" if groups13 else "no TLS 1.3"
                out.append(("no_pq_kex", detail, None, None))
    if opts.get("tls_profile") and section.get("complete"):
        extra, missing = profile_diff(section, opts)
        if extra or missing:
            detail = f"Mozilla {opts.get('tls_guideline') or _mozilla_guidelines.LATEST} {opts['tls_profile']}: " + "; ".join(
                part for part in (f"extra: {', '.join(extra)}" if extra else "", f"missing: {', '.join(missing)}" if missing else "") if part)
            out.append(("profile_mismatch", detail, None, server_fix(opts, groups=True)))
    if not section.get("complete"):
        out.append(("cipher_enumeration_unknown", "; ".join(section.get("unknown") or ["enumeration unfinished"]), None, None))
    return out
