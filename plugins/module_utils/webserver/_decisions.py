# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The webserver role's decisions, each made once: the role's tasks reach them through filters
(port443.https.webserver_input_errors, webserver_tls, webserver_vhosts) and the role's state step calls the same
functions in Python, so a converged host and a full run decide alike.

- check_input: the options the role refuses (one message each), before anything changes.
- tls_library / tls_facts: which TLS library the server uses and whether it speaks X25519MLKEM768; the public fact
  webserver_tls.
- http3: whether the server can serve HTTP/3 (Caddy always, nginx where its build has the HTTP/3 module, Apache never),
  whether UDP 443 reaches the host, and which virtual hosts ask for it; the options it refuses.
- vhost_settings: a virtual host with the role's defaults filled in (certificate and key fall back to the
  certificate role's files), whether it has its certificate (tls_ready), whether it serves HTTP/3 and the site body a
  takeover carries.

Plain Python (no Ansible imports)."""

from __future__ import annotations

import re
import typing as t

from ansible_collections.port443.https.plugins.module_utils.profiles import _mozilla_guidelines, _tls_profiles
from ansible_collections.port443.https.plugins.module_utils.webserver import _caddyfile, _servers

# Mozilla guideline versions and the profiles each has (strictest first).
GUIDELINE_PROFILES = {v: [p for p in ("modern", "intermediate", "old") if p in _mozilla_guidelines.GUIDELINES[v]["configurations"]]
                      for v in _mozilla_guidelines.VERSIONS}
MISSING_CERTIFICATE = ("fail", "http_only")
CLIENT_VERIFY = ("required", "optional")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_SAFE_DIR = re.compile(r"^(/[^/\s]+)+$")
_TRUE = ("y", "yes", "on", "1", "true", "t")


def to_bool(value: t.Any) -> bool:
    """What Ansible's bool filter makes of VALUE (the role's options are read with it)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TRUE


def to_int(value: t.Any) -> int:
    """What Jinja's int filter makes of VALUE (0 when it is no number)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError, OverflowError):
            return 0


# --- the options --------------------------------------------------------------------------------------------------

def check_input(*, server: t.Any, vhosts: t.Any, guideline: t.Any, profile: t.Any, missing_certificate: t.Any,
                stage_dir: t.Any, candidate_dir: t.Any, caddy_caddyfile: t.Any = "refuse", os_family: t.Any = "Debian",
                distribution: t.Any = None) -> list[str]:
    """Why the role refuses these options on this host, one message each (empty: it goes on). A host outside the
    Debian OS family gets that message only."""
    if os_family != "Debian":
        return [f"port443.https.webserver supports the Debian OS family only (Debian, Ubuntu); this host runs "
                f"{distribution or 'an unknown distribution'} (OS family {os_family})."]
    errors = []
    if not isinstance(vhosts, list) or not all(isinstance(v, dict) for v in vhosts):
        return ["webserver_vhosts must be a list of virtual hosts (dicts)."]
    version = str(guideline)
    profiles = GUIDELINE_PROFILES.get(version)
    found = list(dict.fromkeys([profile] + [v.get("tls_profile", profile) for v in vhosts]))
    if profiles is None:
        errors.append(f"webserver_tls_guideline must be one of {', '.join(GUIDELINE_PROFILES)}, not {guideline}.")
    elif any(p not in profiles for p in found):
        with_old = [v for v, p in GUIDELINE_PROFILES.items() if "old" in p]
        old = "" if "old" in profiles else f" The old profile exists in guideline {', '.join(with_old)}."
        errors.append(f"Mozilla guideline {version} (webserver_tls_guideline) has the profiles {', '.join(profiles)} only: "
                      f"webserver_tls_profile and each vhost tls_profile must be one of them (found "
                      f"{', '.join(map(str, found))}).{old}")
    if server not in _servers.SERVERS:
        errors.append(f"webserver_server must be one of {', '.join(_servers.NAMES)}, not {server}.")
    elif _servers.facts(server)["main_file"] and caddy_caddyfile not in _caddyfile.TAKEOVER:
        errors.append(f"webserver_caddy_caddyfile must be one of {', '.join(_caddyfile.TAKEOVER)}, not {caddy_caddyfile}.")
    if missing_certificate not in MISSING_CERTIFICATE:
        errors.append(f"webserver_missing_certificate must be fail or http_only, not {missing_certificate}.")
    bad = []
    for index, v in enumerate(vhosts):
        name, names = v.get("name"), v.get("server_names")
        if not isinstance(name, str) or not _NAME.match(name) \
                or not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names) \
                or v.get("client_verify", "required") not in CLIENT_VERIFY \
                or any(key in v and not (isinstance(v[key], str) and v[key]) for key in ("cert_file", "key_file")) \
                or not _extra_certs_ok(v.get("extra_certs", [])):
            bad.append(str(name) if isinstance(name, str) and name else f"#{index + 1}")
    if server in _servers.SERVERS and not _servers.get(server).serves_files:
        proxied = [str(v.get("name")) for v in vhosts
                   if (v.get("upstream") or v.get("backends")) and not v.get("takeover") and not v.get("root")]
        lacking = [str(v.get("name")) for v in vhosts if str(v.get("name")) not in proxied]
        if lacking:
            errors.append(f"webserver_vhosts ({', '.join(lacking)}): {server} serves no files and takes no site over: "
                          "each vhost needs upstream or backends (the members it balances), and no root or takeover.")
    if bad:
        errors.append(f"webserver_vhosts ({', '.join(bad)}): every vhost needs a file-safe name (letters, digits, _ . -) "
                      "and at least one server name; cert_file and key_file, where given, are paths; extra_certs, where "
                      "given, is a list of {cert_file, key_file} paths; client_verify is required or optional.")
    dirs = {"webserver_stage_dir": stage_dir, "webserver_candidate_dir": candidate_dir}
    bad_dirs = [f"{key}={value}" for key, value in dirs.items() if not safe_dir(value)]
    if bad_dirs:
        errors.append(f"Refused {' '.join(bad_dirs)}: webserver_stage_dir and webserver_candidate_dir must be absolute "
                      "paths without . or .. components, not /, and must not be, contain or lie inside a live web server "
                      f"configuration ({', '.join(_servers.LIVE_ROOTS)}). Nothing was changed.")
    return errors


def _extra_certs_ok(value: t.Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(e, dict) and all(isinstance(e.get(k), str) and e.get(k) for k in ("cert_file", "key_file")) for e in value)


def safe_dir(value: t.Any) -> bool:
    """An absolute directory without . or .. components, not /, and not one, inside one or around one of the live
    configuration trees."""
    path = re.sub(r"(.)/+$", r"\1", str(value))
    return bool(_SAFE_DIR.match(path)) and not re.search(r"(^|/)\.\.?(/|$)", path) and not any(
        path == root or path.startswith(root + "/") or root.startswith(path + "/") for root in _servers.LIVE_ROOTS)


# --- the TLS library ----------------------------------------------------------------------------------------------

def _version(pattern: str, text: str, fallback: str) -> str:
    match = re.search(pattern, text or "", re.M)
    return match.group(1) if match else fallback


def _at_least(version: str, minimum: str) -> bool:
    def parts(value: str) -> tuple[int, ...]:
        return tuple(int(p) for p in value.split("."))
    return parts(version) >= parts(minimum)


def tls_library(server: str, output: t.Any) -> dict[str, t.Any]:
    """The TLS library of SERVER from the output of its probe (_servers.tls_probe: the OpenSSL version of the libssl
    it links, or `caddy version; caddy build-info`), and whether it has the hybrid post-quantum group X25519MLKEM768:
    OpenSSL 3.5 or later; for Caddy, Go 1.24 or later and Caddy 2.10 or later (the first Caddy that names the group:
    an older one sets its own classical groups whatever its Go has). Output that cannot be read counts as a library
    without the group: the configuration stays valid everywhere."""
    text = output if isinstance(output, str) else ""
    if _servers.get(server).tls_library == "caddy":
        go = _version(r"^go\s+go([0-9]+\.[0-9]+)", text, "0.0")
        caddy = _version(r"^v?([0-9]+\.[0-9]+\.[0-9]+)", text, "0.0.0")
        return {"library": f"Go {go} (Caddy {caddy})", "pq": _at_least(go, "1.24") and _at_least(caddy, "2.10.0"),
                "versions": {"go": go, "caddy": caddy}}
    openssl = _version(r"OpenSSL ([0-9]+\.[0-9]+\.[0-9]+)", text, "0.0.0")
    return {"library": f"OpenSSL {openssl}", "pq": _at_least(openssl, "3.5.0"), "versions": {"openssl": openssl}}


def tls_facts(output: t.Any, *, server: str, guideline: t.Any, profile: str) -> dict[str, t.Any]:
    """The fact webserver_tls: what the role renders (guideline, profile, TLS library, post-quantum, the groups the
    server offers, whether DH parameters are written)."""
    library = tls_library(server, output)
    rendered = _tls_profiles.render(profile, server, str(guideline), pq=library["pq"])
    return {"guideline": str(guideline), "profile": profile, "library": library["library"], "pq": library["pq"],
            "groups": rendered["groups"], "dhparam": rendered["dhparam"]}


# --- HTTP/3 -------------------------------------------------------------------------------------------------------

# What the role advertises where a vhost serves HTTP/3 (nginx's header; Caddy sends its own Alt-Svc).
ALT_SVC = 'h3=":443"; ma=86400'


def http3_support(server: str, version_output: t.Any) -> bool:
    """Whether SERVER can serve HTTP/3: Caddy always, nginx where the output of its version command (nginx -V) names
    the HTTP/3 module among the build's configure arguments, Apache never. Output that cannot be read: no."""
    kind = _servers.get(server).http3
    if kind == "builtin":
        return True
    return kind == "module" and isinstance(version_output, str) and _servers.HTTP3_MODULE in version_output


def http3(vhosts: t.Any, *, server: str, version_output: t.Any, default: t.Any, udp: t.Any,
          caddy_main: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    """The HTTP/3 decision of the webserver role (webserver_vhosts as given).

    A vhost asks for HTTP/3 with http3 (default: the role's webserver_http3). It serves HTTP/3 where the server can
    (http3_support) and UDP 443 reaches the host (udp: webserver_http3_udp; the Alt-Svc header is sent only then).
    A vhost that sets http3: true where either is missing is refused (errors), never silently served over TCP only.
    Caddy's HTTP versions are one setting of the whole server: vhosts that ask differently are refused; where the
    operator's main Caddyfile imports the role's file, its global option decides (caddy_main['h3'], from
    _caddyfile.decide) and a vhost that asks otherwise is refused.

    Returns supported, udp, available (HTTP/3 may be served: the vhosts' http3 setting is anded with it), force (None,
    or what the operator's main Caddyfile serves for every site whatever the vhosts ask), errors and alt_svc."""
    supported = http3_support(server, version_output)
    udp_ok = to_bool(udp)
    vhosts = [v for v in vhosts if isinstance(v, dict)] if isinstance(vhosts, list) else []
    explicit = [v for v in vhosts if "http3" in v and to_bool(v["http3"])]
    errors = []
    names = ", ".join(str(v.get("name")) for v in explicit)
    operator = None
    if caddy_main and caddy_main.get("owner") == "operator-imports":
        operator = bool(caddy_main.get("h3", True))
    if explicit and not supported:
        why = ("Apache has no HTTP/3" if not _servers.get(server).http3 else
               f"this host's {server} is built without the HTTP/3 module ({_servers.HTTP3_MODULE} is not among the "
               f"configure arguments of {' '.join(_servers.get(server).version_command)})")
        errors.append(f"http3: true ({names}) cannot be served: {why}. Nothing was changed. Remove http3: true (the "
                      f"default, webserver_http3, turns HTTP/3 on only where the server has it), or use a server that "
                      f"has it (Caddy, or nginx built with the HTTP/3 module, as Debian 13's).")
    elif explicit and not udp_ok and operator is None:
        errors.append(f"http3: true ({names}) needs UDP 443 to reach the host, and webserver_http3_udp is false: "
                      f"without it the Alt-Svc header would send browsers to a port they cannot reach. Nothing was "
                      f"changed. Open 443/udp (port443.https.firewall with firewall_http3: true; enable_https does it "
                      f"when it manages the firewall) and set webserver_http3_udp: true, or remove http3: true.")
    wanted = [to_bool(v.get("http3", default)) for v in vhosts]
    if not errors and supported and _servers.get(server).http3 == "builtin":
        if operator is not None:
            against = [str(v.get("name")) for v, want in zip(vhosts, wanted) if "http3" in v and want != operator]
            if against:
                errors.append(f"http3 of {', '.join(against)} asks HTTP/3 {'off' if operator else 'on'}, but "
                              f"{caddy_main.get('path')} is the operator's (it imports the role's file) and its global "
                              f"options turn HTTP/3 {'on' if operator else 'off'} for every site. Nothing was changed. "
                              f"Change `servers {{ protocols ... }}` in its global options, or remove http3 from these "
                              f"vhosts.")
        elif udp_ok and len(set(wanted)) > 1:
            errors.append(f"Caddy serves HTTP/3 for all its sites or for none (the global option `servers {{ protocols "
                          f"}}`): the vhosts ask differently (on: "
                          f"{', '.join(str(v.get('name')) for v, w in zip(vhosts, wanted) if w)}; off: "
                          f"{', '.join(str(v.get('name')) for v, w in zip(vhosts, wanted) if not w)}). Nothing was "
                          f"changed. Give them the same http3 (or set webserver_http3 and drop the vhosts' http3).")
    available = operator if operator is not None else supported and udp_ok
    return {"supported": supported, "udp": udp_ok, "available": bool(available) and not errors, "force": operator,
            "errors": errors, "alt_svc": ALT_SVC}


def http3_served(vhosts: list[dict[str, t.Any]]) -> list[str]:
    """The virtual hosts (vhost_settings) that serve HTTP/3: the firewall opens 443/udp exactly when one does."""
    return [v["name"] for v in vhosts if v.get("http3")]


# --- the virtual hosts --------------------------------------------------------------------------------------------

def vhost_settings(vhost: dict[str, t.Any], *, defaults: dict[str, t.Any], missing: t.Iterable[str] | None = None,
                   takeover: dict[str, t.Any] | None = None, no_ocsp: t.Iterable[str] | None = None) -> dict[str, t.Any]:
    """A virtual host of webserver_vhosts with the role's defaults filled in. DEFAULTS: tls_profile, hsts_max_age,
    hsts_include_subdomains, hsts_preload, ocsp_stapling, http2 (the role's options), cert_file and key_file (the
    certificate role's files, '' when there are none) and probe_address (webserver_verify_address). MISSING: the
    vhosts without certificate or key on the host (tls_ready false); TAKEOVER: the sites reader's takeovers by vhost
    name (their bodies are carried); NO_OCSP: the vhosts whose certificate names no OCSP responder (the state step
    reads them): OCSP stapling stays off for them whatever was asked (ocsp_stapling_skipped), since there is nothing to
    staple and nginx would warn on every reload.

    Dual certificates: extra_certs are the further certificate and key pairs the vhost serves beside cert_file and
    key_file (an RSA certificate beside an ECDSA one; nginx and Apache pick per client): the vhost's own, else, when
    the vhost names no cert_file of its own, DEFAULTS' extra_certs (the certificate role's certificate_files.alternates).
    tls_files lists every file the vhost needs, as [what, path] pairs: the certificate check stats them all;
    cert_copies, where DEFAULTS name the server, the server's own copies of them (_servers.cert_copies)."""
    v = vhost
    stapling = to_bool(v.get("ocsp_stapling", defaults["ocsp_stapling"]))
    no_responder = v["name"] in (no_ocsp or ())
    carried = (takeover or {}).get(v.get("name")) or {}
    cert_file = v.get("cert_file") or str(defaults.get("cert_file") or "")
    key_file = v.get("key_file") or str(defaults.get("key_file") or "")
    extra = v.get("extra_certs") if "extra_certs" in v else ([] if v.get("cert_file") else defaults.get("extra_certs") or [])
    extra_certs = [{"cert_file": str(e["cert_file"]), "key_file": str(e["key_file"])} for e in extra]
    tls_files = [["cert_file", cert_file], ["key_file", key_file]] \
        + [[f"extra_certs[{i}].{key}", e[key]] for i, e in enumerate(extra_certs) for key in ("cert_file", "key_file")]
    return {
        "name": v["name"], "server_names": v["server_names"],
        "cert_file": cert_file,
        "key_file": key_file,
        "extra_certs": extra_certs,
        "tls_files": tls_files,
        # The server's own copies of them (Caddy, HAProxy), where DEFAULTS name the server.
        "cert_copies": _servers.cert_copies(defaults["server"], v["name"], tls_files) if defaults.get("server") else [],
        "tls_profile": v.get("tls_profile", defaults["tls_profile"]),
        "root": v.get("root", ""), "upstream": v.get("upstream", ""),
        # The members a load balancer spreads the vhost over (HAProxy): backends, else the one upstream.
        "backends": list(v.get("backends") or ([v["upstream"]] if v.get("upstream") else [])),
        "health_check": str(v.get("health_check") or "/"),
        "backend_ca": str(v.get("backend_ca") or "/etc/ssl/certs/ca-certificates.crt"),
        "hsts_max_age": to_int(v.get("hsts_max_age", defaults["hsts_max_age"])),
        "hsts_include_subdomains": to_bool(v.get("hsts_include_subdomains", defaults["hsts_include_subdomains"])),
        "hsts_preload": to_bool(v.get("hsts_preload", defaults["hsts_preload"])),
        "ocsp_stapling": stapling and not no_responder,
        "ocsp_stapling_skipped": stapling and no_responder,
        "http2": to_bool(v.get("http2", defaults["http2"])),
        # HTTP/3 where the vhost asks for it (default webserver_http3), the server has it and UDP 443 reaches the host
        # (http3_available: http3()['available']), over TLS only; where the operator's main Caddyfile decides, what it
        # serves (http3_force).
        "http3": ((defaults["http3_force"] if isinstance(defaults.get("http3_force"), bool) else
                   to_bool(v.get("http3", defaults.get("http3", False))) and to_bool(defaults.get("http3_available", False)))
                  and (v["name"] not in (missing or ()) or to_bool(v.get("caddy_automatic_https", False)))),
        "caddy_automatic_https": to_bool(v.get("caddy_automatic_https", False)),
        "extra_directives": v.get("extra_directives", []),
        "client_ca": str(v.get("client_ca") or ""), "client_verify": v.get("client_verify", "required"),
        "tls_ready": v["name"] not in (missing or ()),
        "takeover_body": carried.get("body", []) if isinstance(carried, dict) else [],
        "probe": {"host": v["server_names"][0], "address": defaults["probe_address"]},
    }


def vhosts_settings(vhosts: list[dict[str, t.Any]], *, defaults: dict[str, t.Any],
                    missing: t.Iterable[str] | None = None, takeover: dict[str, t.Any] | None = None,
                    no_ocsp: t.Iterable[str] | None = None) -> list[dict[str, t.Any]]:
    """vhost_settings of each virtual host, in order."""
    missing, no_ocsp = list(missing or ()), list(no_ocsp or ())
    return [vhost_settings(v, defaults=defaults, missing=missing, takeover=takeover, no_ocsp=no_ocsp) for v in vhosts]
