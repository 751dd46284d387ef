# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The webserver role's verification verdict: what is served, as port443.https.https_endpoint_info probed it, against
what the role configured, one message per virtual host that does not match (empty: everything matches).

The role's verification (tasks/verify.yml) reaches it through the filter port443.https.webserver_verify_problems.
Never fail open: a virtual host without a result, a TLS version the probe could not tell, a certificate whose names
could not be checked, or an enumeration of suites that did not finish is a problem, never a match.

Plain Python (no Ansible imports)."""

from __future__ import annotations

import typing as t

from ansible_collections.port443.https.plugins.module_utils.profiles import _tls_profiles
from ansible_collections.port443.https.plugins.module_utils.reasons import _classify


def _endpoints(results: t.Any, what: str) -> list[dict[str, t.Any]]:
    """The endpoints of a looped probe task's results (``register``'s ``results``); items without ``endpoints``
    (the probe could not run) have none."""
    if results is None:
        return []
    if not isinstance(results, list):
        raise TypeError(f"{what} must be the list of a probe task's results (register: ...; .results), "
                        f"not {type(results).__name__}")
    found = []
    for item in results:
        if isinstance(item, dict) and isinstance(item.get("endpoints"), list):
            found += [ep for ep in item["endpoints"] if isinstance(ep, dict)]
    return found


def _first(endpoints: list[dict[str, t.Any]], name: str) -> dict[str, t.Any]:
    return next((ep for ep in endpoints if ep.get("host") == name), {})


def _section(result: dict[str, t.Any], *keys: str) -> t.Any:
    value: t.Any = result
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _version_problems(versions: t.Any, profile: dict[str, t.Any]) -> list[str]:
    versions = versions if isinstance(versions, dict) else {}
    problems = []
    for version in profile["versions"]:
        state = versions.get(version)
        if state is not True:
            problems.append(f"TLS {version} {'refused' if state is False else 'not known to be accepted'} "
                            f"(profile {profile['profile']} wants {', '.join(profile['versions'])})")
    for version in profile["versions_disabled"]:
        state = versions.get(version)
        if state is not False:
            problems.append(f"TLS {version} {'accepted' if state is True else 'not known to be refused'} "
                            f"(profile {profile['profile']} turns it off)")
    return problems


def _served_problems(vhost: dict[str, t.Any], result: dict[str, t.Any], profile: dict[str, t.Any],
                     staff_only: bool) -> list[str]:
    """What the full probe found different from the settings of one virtual host."""
    name = vhost["server_names"][0]
    tcp = _section(result, "tcp", "state")
    if tcp != "open":
        return [f"port {result.get('port', 443)} is {tcp or 'not known to be open'}"]
    problems = _version_problems(_section(result, "tls", "versions"), profile)
    codes = [r.get("code") for r in result.get("reasons") or [] if isinstance(r, dict)]
    if staff_only:
        if "client_cert_required" not in codes:
            problems.append("no client certificate was demanded (client_ca with client_verify: required)")
    else:
        match = _section(result, "certificate", "hostname_match")
        if match is not True:
            problems.append(f"the certificate does not name {name}" if match is False
                            else f"whether the certificate names {name} is not known")
    redirect = _section(result, "http", "redirect")
    if not isinstance(redirect, dict) or redirect.get("ok") is not True:
        problems.append(f"no redirect from http:// to https:// (redirect: {redirect})")
    max_age = int(vhost.get("hsts_max_age") or 0)
    hsts = _section(result, "http", "hsts")
    if not staff_only and max_age != 0:
        served = hsts.get("max_age") if isinstance(hsts, dict) and hsts.get("present") else None
        if served is None or int(served) != max_age:
            problems.append(f"HSTS max-age={max_age} configured, served: {hsts}")
    return problems


def served_problems(vhosts: t.Any, probe_results: t.Any, cipher_results: t.Any = None,
                    guideline: t.Any = _tls_profiles.LATEST, client_cert: bool = False) -> list[str]:
    """One message per virtual host that serves TLS (``tls_ready``) and does not serve what was configured.

    ``vhosts``: the role's virtual hosts with its defaults filled in (server_names, tls_ready, tls_profile,
    hsts_max_age, client_ca, client_verify). ``probe_results``: the results of the role's probe (checks tcp,
    tls_versions, certificate, http, ciphers), one per TLS profile. ``cipher_results``: the ciphers check alone, where
    the full probe could not run (the role's fallback checks versions, redirect and HSTS with openssl and HTTP
    requests itself). ``client_cert``: whether the probe presented a client certificate; without one a staff-only
    virtual host (client_verify: required) must refuse it."""
    if not isinstance(vhosts, list):
        raise TypeError(f"expected the role's virtual hosts (a list), not {type(vhosts).__name__}")
    probed = _endpoints(probe_results, "probe_results")
    ciphers = _endpoints(cipher_results, "cipher_results")
    messages = []
    for vhost in vhosts:
        if not isinstance(vhost, dict) or not vhost.get("server_names"):
            raise TypeError("each virtual host must be a dict with server_names (the role's __webserver_vhosts)")
        if not vhost.get("tls_ready"):
            continue
        name = vhost["server_names"][0]
        result = _first(probed, name)
        cipher_result = result or _first(ciphers, name)
        if not cipher_result:
            messages.append(f"No cipher check result for {name}: the probe could not run.")
            continue
        profile = _tls_profiles.render(vhost["tls_profile"], "generic", guideline)
        staff_only = bool(vhost.get("client_ca")) and vhost.get("client_verify", "required") == "required" and not client_cert
        failures = [r for r in cipher_result.get("reasons") or []
                    if isinstance(r, dict) and r.get("code") in _classify.PROFILE_FAILURES]
        section = cipher_result.get("ciphers")
        if not failures and not (isinstance(section, dict) and section.get("complete") is True):
            # The ciphers check did not run to its end (the endpoint's time ran out first, or it never started):
            # what the server accepts is not known, which is no match.
            unknown = section.get("unknown") if isinstance(section, dict) else None
            failures = [{"message": "the suites and groups it accepts are not known: the ciphers check did not finish"
                                    + (f" ({'; '.join(map(str, unknown))})" if unknown else "") + "."}]
        message = ""
        problems = _served_problems(vhost, result, profile, staff_only) if result else []
        if problems:
            reasons = " / ".join(str(r.get("message")) for r in result.get("reasons") or [] if isinstance(r, dict))
            message = f"{name} serves something else than configured: {'; '.join(problems)}" \
                      + (f"; reasons: {reasons}." if reasons else ".")
        if failures:
            fix = next((str(r["fix"]) for r in failures if r.get("fix")), "")
            message += (" " if message else "") + f"{name} does not serve the rendered profile: " \
                + " / ".join(str(r.get("message")) for r in failures) + (f" Fix: {fix}" if fix else "")
        if message:
            messages.append(message)
    return messages
