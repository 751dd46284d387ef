# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Read-only state of the webserver role on a host: everything the role's full path would change, compared with
what is there. Plain Python (no Ansible imports): the host side (inspect) runs inside the webserver_state module,
the controller side (compare_files) in its action plugin, which takes the role's decisions from _decisions.

The rule is one-sided: a check may report drift that the full path then finds converged (it costs time), but it
must never report converged where the full path would change something. Whatever a check cannot be sure about is
drift."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import stat
import typing as t

from ansible_collections.port443.https.plugins.module_utils.certificate import _x509
from ansible_collections.port443.https.plugins.module_utils.host import _files
from ansible_collections.port443.https.plugins.module_utils.host import _os
from ansible_collections.port443.https.plugins.module_utils.host import _packages
from ansible_collections.port443.https.plugins.module_utils.probe import _revocation
from ansible_collections.port443.https.plugins.module_utils.webserver import _caddyfile
from ansible_collections.port443.https.plugins.module_utils.webserver import _ports
from ansible_collections.port443.https.plugins.module_utils.webserver import _servers
from ansible_collections.port443.https.plugins.module_utils.webserver import _sites

INDEX_NAMES = _servers.INDEX_NAMES


def sha1_bytes(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # noqa: S324 - the checksum Ansible's copy/template compare with


def sha1_file(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return sha1_bytes(handle.read())
    except OSError:
        return None


# How commands run: (argv, stdin text or None) -> (rc, stdout, stderr). The module passes AnsibleModule.run_command.
Runner = t.Callable[[t.List[str], t.Optional[str]], t.Tuple[int, str, str]]


def owned(path: str, owner: str, group: str, mode: int, kind: str) -> str | None:
    """None when path is a kind ('dir'/'file') owned by owner:group with mode (symlinks followed, as the file,
    copy and template modules do for these paths), else what differs."""
    try:
        st = os.stat(path)
    except OSError:
        return f"{path} is missing"
    if kind == "dir" and not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory"
    if kind == "file" and not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    try:
        if pwd.getpwuid(st.st_uid).pw_name != owner or grp.getgrgid(st.st_gid).gr_name != group:
            return f"{path} is not owned by {owner}:{group}"
    except KeyError:
        return f"{path} has an owner without a name"
    if stat.S_IMODE(st.st_mode) != mode:
        return f"{path} has mode {stat.S_IMODE(st.st_mode):04o}, not {mode:04o}"
    return None


def packages_missing(names: list[str], run: Runner) -> list[str]:
    """The packages dpkg does not list as installed, as the collection's one reader (host/_packages) says."""
    return _packages.missing(lambda argv: run(argv, None), names)


def tls_probe(server: str, run: Runner) -> str:
    """The output of the server's TLS library probe (_servers.tls_probe), as the role's tls_library.yml reads it ('' when
    the probe cannot run); the decision is _decisions.tls_library's."""
    _rc, out, _err = run(_servers.tls_probe(server), None)
    return out


def placeholder_needed(roots: list[str], index_names: t.Iterable[str] = INDEX_NAMES) -> list[str]:
    """Content roots where the role would create the root or write its placeholder page."""
    needed = []
    for root in roots:
        if not os.path.lexists(root):
            needed.append(root)
        elif os.path.isdir(root):
            # A name that exists only as a dangling link is no index here (drift: the full path decides).
            if not any(os.path.exists(os.path.join(root, name)) for name in index_names):
                needed.append(root)
    return needed


def root_state(root: str, index_names: t.Iterable[str] = INDEX_NAMES) -> dict[str, bool]:
    """What the full path's placeholder step reads of a content root (content.yml): whether it exists, is a directory,
    and holds a file or link of one of the index names (a link counts as it is, as a directory listing shows it)."""
    exists = os.path.lexists(root)
    isdir = exists and os.path.isdir(root)
    return {"exists": exists, "isdir": isdir,
            "index": isdir and any(os.path.lexists(os.path.join(root, name)) for name in index_names)}


def read_client_ca(value: str) -> tuple[str | None, str]:
    """The PEM text of a client_ca option (content or host path), trimmed as the role trims it; None when unreadable."""
    if "-----BEGIN" in value:
        return value.strip(), ""
    try:
        with open(value, "rb") as handle:
            return handle.read().decode("utf-8").strip(), ""
    except OSError as exc:
        return None, _files.why_unreadable(value, exc)
    except UnicodeDecodeError:
        return None, f"{value!r} is not text (PEM)"


def client_ca_copy(ca_dir: str, name: str, pem: str) -> str:
    """Where the role keeps a vhost's client CA: named after the vhost and the content's hash."""
    return f"{ca_dir}/{name}-{hashlib.sha256(pem.encode('utf-8')).hexdigest()[:16]}.pem"


def client_ca_problem(pem: str | None, run: Runner) -> str | None:
    """None when the full path would accept this client CA (PEM certificates that parse, no private key)."""
    if pem is None:
        return "unreadable"
    if "-----BEGIN CERTIFICATE-----" not in pem or "PRIVATE KEY" in pem:
        return "not a PEM certificate"
    rc, _out, err = run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", "/dev/stdin", "-out", "/dev/null"], pem + "\n")
    return None if rc == 0 else f"does not parse: {err.strip()}"


# A vhost's section in a configuration the role rendered starts with "# --- NAME: TLS profile ..."; a line of it that
# names a certificate (nginx), turns TLS on (Apache), opens an https:// site block (Caddy) or is a crt-list entry
# (HAProxy: a certificate path and its options in brackets) means it serves TLS.
_SECTION = re.compile(r"(?m)^# --- ([A-Za-z0-9_.-]+): ")
_TLS_LINE = re.compile(r"(?m)^(\s*ssl_certificate\s|\s*SSLEngine\s+on\b|https://|/\S+\s+\[)")


def tls_served(text: str) -> list[str]:
    """Names of the virtual hosts that a configuration rendered by the role serves over TLS (in file order)."""
    starts = list(_SECTION.finditer(text))
    names = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        if _TLS_LINE.search(text, match.end(), end) and match.group(1) not in names:
            names.append(match.group(1))
    return names


def tls_served_files(paths: list[str]) -> list[str]:
    """tls_served over the live configuration files the role wrote (a file that is not there serves nothing)."""
    names: list[str] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except FileNotFoundError:
            continue
        names += [name for name in tls_served(text) if name not in names]
    return names


def file_state(path: str) -> dict[str, t.Any]:
    """Content checksum and owner/group/mode of a file the role writes (exists false when it is not a regular file)."""
    try:
        st = os.stat(path)
    except OSError:
        return {"exists": False}
    if not stat.S_ISREG(st.st_mode):
        return {"exists": False}
    try:
        owner, group = pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        owner, group = "", ""
    return {"exists": True, "checksum": sha1_file(path), "owner": owner, "group": group,
            "mode": f"{stat.S_IMODE(st.st_mode):04o}"}


def service_state(service: str, run: Runner) -> str | None:
    """None when systemd runs the service and starts it at boot, else what differs."""
    _rc, active, _err = run(["systemctl", "is-active", service], None)
    if active.strip() != "active":
        return f"{service} is {active.strip() or 'unknown'}"
    rc, enabled, _err = run(["systemctl", "is-enabled", service], None)
    if rc != 0 or enabled.strip() != "enabled":
        return f"{service} is {enabled.strip() or 'not enabled'} at boot"
    return None


def cmdline_names(service: str, path: str, run: Runner, proc: str = "/proc") -> bool:
    """True when the main process of SERVICE runs with PATH among its arguments (a reload re-executes that command
    line: a path a drop-in added takes a restart)."""
    rc, out, _err = run(["systemctl", "show", "-p", "MainPID", "--value", service], None)
    try:
        with open(f"{proc}/{int(out.strip())}/cmdline", "rb") as handle:
            return path in handle.read().decode("utf-8", "replace").split("\0")
    except (OSError, ValueError):
        return False


def names_ocsp(cert_file: str) -> bool:
    """Whether the certificate in cert_file (its first one, PEM) names an OCSP responder (AIA). A file that cannot be
    read or parsed counts as naming one: the user's choice then stands, and the server's checker judges the file."""
    if not _x509.HAS_CRYPTOGRAPHY:
        return True
    try:
        with open(cert_file, "rb") as handle:
            certs = _x509.load_pem_list(handle.read())
    except (OSError, ValueError):
        return True
    return not certs or bool(_revocation.ocsp_urls(certs[0]))


def inspect(spec: dict[str, t.Any], run: Runner) -> dict[str, t.Any]:
    """Everything the host can tell about the role's state. spec keys: see the webserver_state module's options."""
    drift: list[str] = []
    # The host's OS family and distribution from its os-release: the role needs no fact gathering.
    result: dict[str, t.Any] = {"os": _os.read()}

    missing_packages = packages_missing(spec.get("packages") or [], run)
    result["missing_packages"] = missing_packages
    if missing_packages:
        drift.append("packages not installed: " + ", ".join(missing_packages))

    result["tls_probe"] = tls_probe(spec["server"], run)
    version_command = list(_servers.get(spec["server"]).version_command)
    if version_command:
        # The role's apply.yml reads it (and fails when it fails): nginx prints its version on stderr.
        rc, _out, err = run(version_command, None)
        result["version"] = err if rc == 0 else ""
        result["version_failed"] = rc != 0
        if rc != 0:
            drift.append(f"{' '.join(version_command)} failed")

    # Certificate and key of each vhost that brings its own (the role's vhosts.yml stats these paths).
    missing = []
    # Whether each of those files exists, vhost by vhost in the spec's order: the full path reads it from here.
    result["cert_files"] = []
    for vhost in spec.get("vhost_certs") or []:
        paths = [path for _what, path in vhost["files"]] if "files" in vhost else [vhost[key] for key in ("cert_file", "key_file")]
        found = [os.path.exists(path) for path in paths]
        result["cert_files"].append(found)
        if not all(found):
            missing.append(vhost["name"])
    result["missing"] = sorted(set(missing), key=missing.index)
    # The vhosts whose certificate names no OCSP responder: the role never turns OCSP stapling on for them.
    result["no_ocsp"] = [v["name"] for v in spec.get("vhost_certs") or [] if v["name"] not in missing and not names_ocsp(v["cert_file"])]
    # The vhosts the live configuration serves over TLS now: a missing certificate must not turn them into HTTP only.
    result["tls_served"] = tls_served_files(spec.get("live_conf") or [])

    for path in spec.get("dirs") or []:
        problem = owned(path, "root", "root", 0o755, "dir")
        if problem:
            drift.append(problem)
    for root in placeholder_needed(spec.get("content_roots") or [], spec.get("index_names") or INDEX_NAMES):
        drift.append(f"{root} needs its placeholder page")
    result["roots"] = {root: root_state(root, spec.get("index_names") or INDEX_NAMES) for root in spec.get("content_roots") or []}

    # The server's own copies of keys and certificates (Caddy runs as its own user, HAProxy reads a crt-list of them):
    # each vhost's cert_copies, the list the role's copy task loops over.
    copy_dir = spec.get("cert_copy_dir") or ""
    copy_owner = _servers.get(spec["server"]).cert_copy_owner
    if copy_dir:
        problem = owned(copy_dir, copy_owner, copy_owner, 0o700, "dir")
        if problem:
            drift.append(problem)
        for vhost in spec.get("vhost_certs") or []:
            if vhost["name"] in missing or not vhost.get("own"):
                continue
            for copy in vhost.get("copies") or []:
                problem = owned(copy["dest"], copy_owner, copy_owner, 0o600, "file")
                if problem or sha1_file(copy["dest"]) != sha1_file(copy["src"]) or sha1_file(copy["dest"]) is None:
                    drift.append(problem or f"{copy['dest']} differs from {copy['src']}")

    client_cas = {}
    ca_dir = spec.get("client_ca_dir") or ""
    for vhost in spec.get("client_cas") or []:
        pem, error = read_client_ca(vhost["client_ca"])
        problem = client_ca_problem(pem, run)
        if problem:
            # The full path refuses it with its own message.
            drift.append(f"client_ca of {vhost['name']}: {error or problem}")
            continue
        copy = client_ca_copy(ca_dir, vhost["name"], pem)
        client_cas[vhost["name"]] = copy
        copied = file_state(copy)
        if not copied.get("exists") or copied["checksum"] != sha1_bytes((pem + "\n").encode("utf-8")) \
                or (copied["owner"], copied["group"], copied["mode"]) != ("root", "root", "0644"):
            drift.append(f"{copy} differs")
    if spec.get("client_cas"):
        problem = owned(ca_dir, "root", "root", 0o755, "dir")
        if problem:
            drift.append(problem)
    result["client_ca_files"] = client_cas

    caddyfile = spec.get("caddyfile")
    if caddyfile:
        try:
            decision = _caddyfile.inspect(caddyfile["path"], caddyfile["site_file"], caddyfile["takeover"],
                                          bool(caddyfile.get("http2", True)), run)
        except (OSError, ValueError) as exc:
            decision = {"write": False, "foreign_ok": False, "refusal": f"{caddyfile['path']}: {exc}"}
        result["caddyfile"] = decision
        if decision["refusal"]:
            drift.append(decision["refusal"])
        elif decision["write"] and decision["owner"] != "collection":
            drift.append(f"{caddyfile['path']} is {decision['owner']}: the role takes it over")

    result["files"] = {path: file_state(path) for path in spec.get("files") or []}
    candidate_dir = spec.get("candidate_dir") or ""
    if candidate_dir:
        problem = owned(candidate_dir, "root", "root", 0o700, "dir")
        if problem:
            drift.append(problem)

    default_site = spec.get("default_site") or ""
    if default_site and os.path.lexists(default_site):
        drift.append(f"{default_site} is there")
    # Which modules are needed is decided by the caller (proxy modules depend on the carried site bodies).
    result["modules_present"] = {path: os.path.lexists(path) for path in spec.get("modules") or []}
    result["takeover"] = {}
    if spec.get("sites") is not None:
        drift += sites_state(spec["server"], spec["sites"].get("vhosts") or [], run, result)

    # Another process on port 80 or 443 (another web server, a proxy, a forgotten test server) would make the reload
    # fail: the full path stops before any change with this refusal ('' when the ports are free or the server's).
    if spec.get("service"):
        try:
            result["port_refusal"] = _ports.port_refusal({"service": spec["service"], "ports": [80, 443]},
                                                         lambda argv: run(argv, None))
        except _ports.PortsError as exc:
            result["port_refusal"] = str(exc)
    problem = service_state(spec["service"], run) if spec.get("service") else "no service named"
    if problem:
        drift.append(problem)
    elif spec.get("cmdline_needs") and not cmdline_names(spec["service"], spec["cmdline_needs"], run):
        drift.append(f"{spec['service']} runs without {spec['cmdline_needs']} on its command line (a restart is due)")
    for unit in spec.get("unit_services") or []:
        problem = service_state(unit, run)
        if problem:
            drift.append(problem)
    result["drift"] = drift
    return result


def sites_state(server: str, vhosts: list[dict[str, t.Any]], run: Runner, result: dict[str, t.Any]) -> list[str]:
    """Drift from the sites the server already serves (the role's sites.yml refuses or takes them over): a conflict
    or a refused takeover (the full path fails with its message), a link in sites-enabled/ still to remove, or a
    configuration that cannot be read. Sets result['takeover'] (the carried bodies the templates render) and
    result['sites'] (the whole decision, or the error that stopped the read)."""
    try:
        found = _sites.collect(server, run)
    except _sites.SitesError as exc:
        result["sites"] = {"error": f"The sites of {server} could not be read: {exc}"}
        return [f"the sites of {server} could not be read: {exc}"]
    decided = _sites.plan(server, found["sites"], vhosts)
    result["takeover"] = decided["takeover"]
    # The whole decision, as the webserver_sites_info module returns it: the full path reads it from here.
    result["sites"] = decided
    drift = [f"refused: {message}" for message in decided["conflicts"] + decided["refusals"]]
    return drift + [f"takeover pending: {link} is still enabled" for link in decided["disable"]]


def compare_files(expected: dict[str, str], observed: dict[str, dict[str, t.Any]]) -> list[str]:
    """Drift of the files the role renders: expected maps each path to its rendered text, observed is file_state
    of each path (root:root 0644)."""
    drift = []
    for path, text in expected.items():
        state = observed.get(path) or {"exists": False}
        if not state.get("exists"):
            drift.append(f"{path} is missing")
        elif state.get("checksum") != sha1_bytes(text.encode("utf-8")):
            drift.append(f"{path} differs from the rendered configuration")
        elif (state.get("owner"), state.get("group"), state.get("mode")) != ("root", "root", "0644"):
            drift.append(f"{path} is not root:root 0644")
    return drift
