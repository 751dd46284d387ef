# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Multi-vantage verification (plain Python): which vantage point probes which endpoints, and the merge of their
results into one endpoint x vantage matrix whose differences are classified.

A vantage point is "controller" (the Ansible controller) or an inventory host the probe is delegated to.

* ``plan`` assigns endpoints to vantage points: mode ``all`` gives every vantage every endpoint (the matrix), mode
  ``shard`` splits the list round-robin (a large fleet probed from several hosts, each endpoint once). It also
  chooses, per vantage, the play host that drives its probe task, so the probes of different vantages run in
  parallel (one task on several play hosts, each delegating to its vantage).
* ``merge`` turns the registered probe results into one flat list (each item carries ``source``, its vantage) and
  adds what the comparison shows: open from one vantage and timed out from another (``vantage_filtered``: a host
  firewall, security group or upstream filter), refused (``vantage_refused``), another certificate or no TLS
  (``vantage_answer_differs``: a proxy or load balancer in between). A vantage whose probe did not run or did not
  return every planned endpoint gives each of its endpoints a critical ``vantage_missing``: never fail open.
* ``matrix`` groups a flat list with ``source`` into rows (used by the report as well).
"""

from __future__ import annotations

import typing as t

from ansible_collections.port443.https.plugins.module_utils.reasons import _classify

CONTROLLER = "controller"
MODES = ("all", "shard")
# Codes added by the comparison (the registry in _classify holds their texts).
CODES = ("vantage_filtered", "vantage_refused", "vantage_answer_differs", "vantage_missing")


class VantageInputError(ValueError):
    """Bad input: the message names the option."""


def vantages_of(value: t.Any, option: str = "verify_https_vantages") -> list[str]:
    """The vantage list, validated: non-empty, names as strings, no duplicates."""
    if value is None:
        return [CONTROLLER]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise VantageInputError(f"{option}: expected a non-empty list of vantage points ('{CONTROLLER}' or inventory host names), got {value!r}"[:300])
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise VantageInputError(f"{option}: {item!r} is not a vantage point ('{CONTROLLER}' or an inventory host name)"[:300])
        name = item.strip()
        if name in out:
            raise VantageInputError(f"{option}: {name!r} is listed twice")
        out.append(name)
    return out


def endpoint_key(ep: t.Any) -> tuple[str, int, str]:
    """(host, port, server_name) of an endpoint or a result: the identity rows are grouped by."""
    if not isinstance(ep, dict):
        ep = {"host": ep}
    host = str(ep.get("host") or "")
    try:
        port = int(ep.get("port") or 443)
    except (TypeError, ValueError):
        port = 0
    return host, port, str(ep.get("server_name") or host)


def plan(endpoints: t.Any, vantages: t.Any, drivers: t.Any, mode: str = "all") -> dict[str, t.Any]:
    """Which vantage probes which endpoints, and which play host runs each vantage's probe task.

    ``drivers`` are the play's hosts in order; vantage i is driven by drivers[i % len(drivers)], so with at least as
    many play hosts as vantages every vantage probes in parallel (a host driving several loops over them)."""
    names = vantages_of(vantages)
    if mode not in MODES:
        raise VantageInputError(f"verify_https_vantage_mode: {mode!r} is not one of {', '.join(MODES)}")
    if not isinstance(endpoints, (list, tuple)):
        raise VantageInputError(f"endpoints: expected a list, got {type(endpoints).__name__}")
    if not isinstance(drivers, (list, tuple)) or not drivers:
        raise VantageInputError("drivers: the play has no host to run the probe tasks from")
    eps = [dict(ep) if isinstance(ep, dict) else {"host": ep} for ep in endpoints]
    per: dict[str, list[dict[str, t.Any]]] = {name: [] for name in names}
    for idx, ep in enumerate(eps):
        if mode == "all":
            for name in names:
                per[name].append(ep)
        else:
            per[names[idx % len(names)]].append(ep)
    driving: dict[str, list[str]] = {}
    for idx, name in enumerate(names):
        if per[name]:
            driving.setdefault(str(drivers[idx % len(drivers)]), []).append(name)
    return {
        "mode": mode,
        "vantages": names,
        "endpoints": per,
        "drivers": driving,
        "connect": {name: ("localhost" if name == CONTROLLER else name) for name in names},
        # One controller-only view keeps the single-vantage report exactly as before (no "from" on every row).
        "label": names != [CONTROLLER],
    }


def _failure_text(item: dict[str, t.Any]) -> str:
    if item.get("unreachable"):
        return f"the vantage host was unreachable: {item.get('msg') or 'no message'}"
    if item.get("skipped"):
        return "the probe task was skipped"
    if item.get("failed"):
        return f"the probe task failed: {item.get('msg') or 'no message'}"
    return "the probe returned no endpoint results"


def _missing(ep: dict[str, t.Any], vantage: str, why: str) -> dict[str, t.Any]:
    host, port, server_name = endpoint_key(ep)
    return {
        "host": host, "port": port, "server_name": server_name, "address": ep.get("address"),
        "status": "critical", "tcp": None, "tls": None, "certificate": None, "http": None, "http3": None,
        "reasons": [_classify.reason("vantage_missing", f"from {vantage}: {why}")],
    }


def _tcp(res: dict[str, t.Any]) -> str | None:
    tcp = res.get("tcp")
    return tcp.get("state") if isinstance(tcp, dict) else None


def _codes(res: dict[str, t.Any]) -> list[str]:
    return [str(r.get("code")) for r in res.get("reasons") or [] if isinstance(r, dict)]


def _served(res: dict[str, t.Any]) -> str | None:
    """What a TLS client sees: the leaf's fingerprint, 'no TLS' when TCP opens but TLS fails, None when unknown."""
    if _tcp(res) != "open":
        return None
    if any(code in _classify.TLS_FAILURES for code in _codes(res)):
        return "no TLS"
    cert = res.get("certificate")
    if isinstance(cert, dict) and cert.get("fingerprint_sha256"):
        return str(cert["fingerprint_sha256"])
    return None


def _short(served: str) -> str:
    return served if served == "no TLS" else f"certificate sha256 {served[:16]}"


def _add(res: dict[str, t.Any], reason: dict[str, str]) -> None:
    res["reasons"] = list(res.get("reasons") or []) + [reason]
    res["status"] = max(_classify.effective_status(res), reason["severity"], key=_classify.SEVERITIES.index)


def _classify_row(cells: list[tuple[str, dict[str, t.Any]]]) -> None:
    """Add the vantage_* reasons to the cells of one endpoint seen from several vantages (in place)."""
    open_from = [v for v, res in cells if _tcp(res) == "open"]
    if open_from:
        for vantage, res in cells:
            state = _tcp(res)
            if state == "filtered":
                _add(res, _classify.reason("vantage_filtered", f"open from {', '.join(open_from)}, timed out from {vantage}"))
            elif state == "closed":
                _add(res, _classify.reason("vantage_refused", f"open from {', '.join(open_from)}, refused from {vantage}"))
    seen = [(v, _served(res), res) for v, res in cells]
    seen = [(v, s, res) for v, s, res in seen if s is not None]
    if len({item[1] for item in seen}) > 1:
        ref_vantage, ref = seen[0][0], seen[0][1]
        for vantage, served, res in seen[1:]:
            if served != ref:
                _add(res, _classify.reason(
                    "vantage_answer_differs", f"{vantage} sees {_short(served)}, {ref_vantage} sees {_short(ref)}"))


def _loop_items(probes: t.Any) -> list[dict[str, t.Any]]:
    """Registered loop results (possibly from several driver hosts, possibly a registered dict with 'results')."""
    if isinstance(probes, dict):
        probes = probes.get("results", [probes])
    if not isinstance(probes, (list, tuple)):
        raise VantageInputError(f"probes: expected the registered results of the probe task, got {type(probes).__name__}")
    out = []
    for item in probes:
        if isinstance(item, dict) and isinstance(item.get("results"), list):
            out.extend(i for i in item["results"] if isinstance(i, dict))
        elif isinstance(item, dict):
            out.append(item)
    return out


def merge(probes: t.Any, planned: t.Any) -> dict[str, t.Any]:
    """The flat result list (every planned endpoint x vantage, in plan order) with the comparison's reasons, and
    the matrix. ``probes``: the registered loop items of the probe task ({item: vantage, endpoints: [...]})."""
    if not isinstance(planned, dict) or not isinstance(planned.get("endpoints"), dict):
        raise VantageInputError("plan: expected the output of the vantage_plan filter")
    by_vantage: dict[str, dict[str, t.Any]] = {}
    for item in _loop_items(probes):
        # A registered loop item carries its value under the loop variable's name (loop_control.loop_var).
        name = item.get(item.get("ansible_loop_var") or "item")
        if isinstance(name, str) and name not in by_vantage:
            by_vantage[name] = item
    flat: list[dict[str, t.Any]] = []
    rows: dict[tuple[str, int, str], list[tuple[str, dict[str, t.Any]]]] = {}
    for vantage in planned.get("vantages") or []:
        wanted = planned["endpoints"].get(vantage) or []
        if not wanted:
            continue
        item = by_vantage.get(vantage) or {}
        got = item.get("endpoints")
        ok = (isinstance(got, list) and len(got) == len(wanted) and not item.get("failed") and not item.get("unreachable")
              and all(isinstance(r, dict) and endpoint_key(r)[:2] == endpoint_key(w)[:2] for r, w in zip(got, wanted)))
        if ok:
            results = [dict(r) for r in got]
        else:
            why = _failure_text(item) if not isinstance(got, list) or item.get("failed") or item.get("unreachable") else (
                f"the probe returned {len(got)} result(s) for {len(wanted)} planned endpoint(s)")
            results = [_missing(w, vantage, why) for w in wanted]
        for res in results:
            if planned.get("label", True):
                res["source"] = vantage
            flat.append(res)
            rows.setdefault(endpoint_key(res), []).append((vantage, res))
    for cells in rows.values():
        if len(cells) > 1:
            _classify_row(cells)
    return {"endpoints": flat, "matrix": matrix(flat)}


def matrix(results: t.Any) -> dict[str, t.Any]:
    """Group a flat result list by endpoint: {vantages, rows: [{endpoint, host, port, server_name, status, cells,
    findings, differs}], differences}. Results without ``source`` are the controller's view."""
    if not isinstance(results, (list, tuple)):
        raise VantageInputError(f"results: expected a list of endpoint results, got {type(results).__name__}")
    vantages: list[str] = []
    rows: dict[tuple[str, int, str], dict[str, t.Any]] = {}
    for res in results:
        if not isinstance(res, dict):
            continue
        vantage = str(res.get("source") or CONTROLLER)
        if vantage not in vantages:
            vantages.append(vantage)
        key = endpoint_key(res)
        host, port, server_name = key
        row = rows.setdefault(key, {
            "endpoint": f"{host}:{port}" + (f" ({server_name})" if server_name != host else ""),
            "host": host, "port": port, "server_name": server_name, "status": "ok", "cells": {}, "findings": [],
        })
        status = _classify.effective_status(res)
        codes = _codes(res)
        served = _served(res)
        row["cells"][vantage] = {
            "status": status,
            "tcp": _tcp(res),
            "tls": (res.get("tls") or {}).get("negotiated") if isinstance(res.get("tls"), dict) else None,
            "certificate": None if served is None or served == "no TLS" else served[:16],
            # The http3 check's verdict from this vantage (UDP may be filtered on one path only); None without it.
            "http3": (res.get("http3") or {}).get("verdict") if isinstance(res.get("http3"), dict) else None,
            "codes": codes,
        }
        row["status"] = max(row["status"], status, key=_classify.SEVERITIES.index)
        for code in codes:
            if code in CODES and code not in row["findings"]:
                row["findings"].append(code)
    out_rows = list(rows.values())
    for row in out_rows:
        row["differs"] = differs(list(row["cells"].values()))
    return {
        "vantages": vantages,
        "rows": out_rows,
        # Seen differently: a comparison finding, or cells that disagree in anything (a warning from one vantage and
        # a critical from another with the same certificate is a difference too: another trust store, an HTTP answer
        # that depends on the path, a revocation responder one vantage cannot reach).
        "differences": sum(1 for row in out_rows if row["findings"] or row["differs"]),
    }


# What a matrix row compares between its cells: the cell's field for each aspect (reasons: the codes other than the
# comparison's own, which are findings already).
ASPECTS = (("status", "status"), ("tcp", "tcp"), ("tls", "tls"), ("certificate", "certificate"), ("http3", "http3"),
           ("reasons", "codes"))


def differs(cells: list[dict[str, t.Any]]) -> list[str]:
    """The aspects in which the cells of one endpoint disagree (empty with fewer than two cells)."""
    out = []
    for aspect, field in ASPECTS:
        if field == "codes":
            values = {tuple(sorted(set(c["codes"]) - set(CODES))) for c in cells}
        else:
            values = {c.get(field) for c in cells}
        if len(values) > 1:
            out.append(aspect)
    return out
