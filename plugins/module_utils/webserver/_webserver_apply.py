# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The webserver role's apply step, on the host: check before any change (ports held by other processes, files the
collection did not write), stage a copy of the live tree with the change applied, validate it with the server's own
checker (a warning the change introduces is an error), swap the files in, reload, and prove the server serves the
new state (active, listening on its ports, new workers for nginx, each site's certificate on the wire). When the proof
fails, everything this run changed is put back, the server is started again with the previous tree and proven to
serve it, and the step fails naming the cause. Plain Python (no Ansible imports): the module passes its runner."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import tempfile
import time
import typing as t

from ansible_collections.port443.https.plugins.module_utils.webserver import _ports, _servers, _sites, _webserver_state

SERVERS = _servers.NAMES

Runner = t.Callable[..., t.Tuple[int, str, str]]


class ApplyError(Exception):
    """A refusal or a failure, with the message the role shows."""


# --- before any change ---------------------------------------------------------------------------------------------

def foreign_files(files: list[dict[str, t.Any]]) -> list[str]:
    """Live targets that exist, were not written by the collection and were not handed over (foreign_ok)."""
    return [f["dest"] for f in files
            if os.path.lexists(f["dest"]) and not f.get("foreign_ok") and not _sites.written_by_collection(f["dest"])]


# Who holds the ports: _ports (the state step reads the same), its error in this step's words.
def listeners(run: Runner) -> list[dict[str, t.Any]]:
    try:
        return _ports.listeners(run)
    except _ports.PortsError as exc:
        raise ApplyError(str(exc)) from None


def port_refusal(spec: dict[str, t.Any], run: Runner) -> str:
    """Why the server could not listen where its configuration asks ('' when the ports are free or its own)."""
    try:
        return _ports.port_refusal(spec, run)
    except _ports.PortsError as exc:
        raise ApplyError(str(exc)) from None


# --- validation ----------------------------------------------------------------------------------------------------

def validate_argv(server: str, root: str) -> tuple[list[str], dict[str, str]]:
    """The server's own checker (the registry's) run against the tree ROOT, and its environment."""
    try:
        return _servers.validate_argv(server, root)
    except ValueError as exc:
        raise ApplyError(str(exc).replace("webserver_server", "server")) from None


_LOG_PREFIX = re.compile(r"^(nginx:\s*)?(\[[^\]]*\]\s*)*")


def warnings_of(server: str, output: str) -> list[str]:
    """The checker's warnings that the role treats as errors (two sites claim one name or address; the patterns are
    the sites reader's), without the time stamps and pids that differ from one check to the next."""
    return list(dict.fromkeys(_LOG_PREFIX.sub("", line) for line in _sites.validator_findings(server, output)))


def check_tree(server: str, root: str, run: Runner) -> tuple[bool, str, list[str]]:
    """(valid, output, warnings) of the checker on ROOT."""
    argv, env = validate_argv(server, root)
    rc, out, err = run(argv, environ=env)
    text = (err + "\n" + out).strip()
    return rc == 0, text, warnings_of(server, text)


# --- the staged tree -----------------------------------------------------------------------------------------------

def make_stage(live_root: str, stage_base: str, files: list[dict[str, t.Any]], disable: list[str],
               modules: list[str], server: str, run: Runner) -> tuple[str, str]:
    """A private run directory in STAGE_BASE with a copy of the live tree and this run's change applied. Returns
    (run_dir, staged_root)."""
    os.makedirs(stage_base, mode=0o700, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix="run.", dir=stage_base)
    staged = os.path.join(run_dir, os.path.basename(live_root.rstrip("/")))
    rc, _out, err = run(["cp", "-a", live_root, staged])
    if rc != 0:
        raise ApplyError(f"could not copy {live_root} to the staging directory: {err.strip()}")
    for item in files:
        shutil.copyfile(item["src"], _inside(staged, live_root, item["dest"]))
    for path in disable:
        target = _inside(staged, live_root, path)
        if os.path.lexists(target):
            os.unlink(target)
    if modules:
        state = os.path.join(run_dir, "apache-state")
        os.mkdir(state)
        rc, _out, err = run(["a2enmod", "-q", *modules], environ={"APACHE_CONFDIR": staged,
                                                                  "APACHE_STATE_DIRECTORY": state})
        if rc != 0:
            raise ApplyError(f"a2enmod {' '.join(modules)} failed in the staged tree: {err.strip()}")
    if _servers.get(server).stage_rewrite:
        # Absolute paths into the live tree (include, import) point at the staged copy while it is checked.
        _sites.rewrite_paths(staged, live_root.rstrip("/") + "/", staged + "/")
    return run_dir, staged


def _inside(staged: str, live_root: str, path: str) -> str:
    rel = os.path.relpath(path, live_root)
    if rel.startswith(".."):
        raise ApplyError(f"{path} is not inside {live_root}")
    return os.path.join(staged, rel)


def live_paths(text: str, run_dir: str, staged: str, live_root: str) -> str:
    """The checker's output with the staged paths read as the live ones (the operator edits those)."""
    return text.replace(staged, live_root.rstrip("/")).replace(run_dir + "/", "")


# --- the proof ------------------------------------------------------------------------------------------------------

def service_pid(service: str, run: Runner) -> int:
    rc, out, _err = run(["systemctl", "show", "-p", "MainPID", "--value", service])
    try:
        return int(out.strip()) if rc == 0 else 0
    except ValueError:
        return 0


def children(pid: int, proc: str = "/proc") -> set[int]:
    """The direct children of PID (nginx's workers)."""
    out = set()
    if pid <= 0:
        return out
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc}/{entry}/stat", "r", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields and len(fields) > 1 and fields[1] == str(pid):
            out.add(int(entry))
    return out


def leaf_der(cert_file: str) -> bytes | None:
    try:
        with open(cert_file, "r", encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return None
    match = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S)
    return ssl.PEM_cert_to_DER_cert(match.group(0)) if match else None


def served_leaf(address: str, port: int, name: str, timeout: float = 3.0) -> tuple[bytes | None, str]:
    """(DER of the certificate served for NAME, '') or (None, why)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((address, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=name) as tls:
                return tls.getpeercert(binary_form=True), ""
    except ssl.SSLError as exc:
        return None, f"TLS failed ({exc.reason or exc})"
    except OSError as exc:
        return None, f"{exc.strerror or exc}"


def prove(server: str, service: str, ports: list[int], probes: list[dict[str, t.Any]], run: Runner,
          old_workers: set[int] | None, timeout: float, address: str = "127.0.0.1") -> list[str]:
    """What is not yet as it should be after a reload (empty: the server serves the new state). Waits up to timeout
    seconds for the server to settle."""
    deadline = time.monotonic() + timeout
    while True:
        problems = _proof_problems(server, service, ports, probes, run, old_workers, address)
        # A unit that failed or stopped does not come back by itself: no need to wait for it.
        if not problems or time.monotonic() >= deadline or problems[0].endswith(_DEAD):
            return problems
        time.sleep(0.3)


_DEAD = " (it stopped)"

# Where each server writes what made it refuse a configuration at run time (Apache's mod_ssl, nginx's master).
ERROR_LOGS = {s.name: s.error_log for s in _servers.SERVERS.values() if s.error_log}


def log_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def log_errors(path: str, offset: int) -> list[str]:
    """The emergency, alert, critical and error lines PATH got after OFFSET (the last five)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset if offset <= os.path.getsize(path) else 0)
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    lines = [line.strip() for line in text.splitlines() if re.search(r"[:\[](emerg|alert|crit|error)\]", line)]
    return lines[-5:]


def _proof_problems(server: str, service: str, ports: list[int], probes: list[dict[str, t.Any]], run: Runner,
                    old_workers: set[int] | None, address: str) -> list[str]:
    rc, active, _err = run(["systemctl", "is-active", service])
    if active.strip() in ("failed", "inactive"):
        return [f"{service} is {active.strip()}{_DEAD}"]
    if active.strip() != "active":
        return [f"{service} is {active.strip() or 'not active'} after the reload"]
    problems = []
    if old_workers is not None and server in _servers.SERVERS and _servers.get(server).proof_new_workers:
        workers = children(service_pid(service, run))
        if not workers or workers <= old_workers:
            problems.append(f"{server} still runs the workers of the previous configuration (the reload was refused)")
    try:
        found = listeners(run)
    except ApplyError as exc:
        return [str(exc)]
    mine = {item["port"] for item in found if _ports.owned_by(item, service)}
    for port in ports:
        if port not in mine:
            problems.append(f"{service} does not listen on port {port}")
    for probe in probes:
        # With dual certificates the server presents either one (the client's signature algorithms decide).
        files = [probe["cert_file"]] + list(probe.get("extra_cert_files") or []) if probe.get("cert_file") else []
        wants = [leaf_der(f) for f in files]
        got, why = served_leaf(address, 443, probe["name"])
        if got is None:
            if "CERTIFICATE_REQUIRED" in why.upper():
                continue  # a staff-only site refuses a client without a certificate: it serves TLS
            problems.append(f"https://{probe['name']}/ on {address}:443: {why}")
        elif wants and None not in wants and got not in wants:
            problems.append(f"https://{probe['name']}/ on {address}:443 serves another certificate than {' or '.join(files)}")
    return problems


def journal(service: str, since: float, run: Runner) -> str:
    rc, out, _err = run(["journalctl", "-u", service, "--since", f"@{int(since) - 1}", "-n", "15", "--no-pager", "-q",
                         "-o", "cat"])
    return " | ".join(line.strip() for line in out.splitlines() if line.strip()) if rc == 0 else ""


def same_content(src: str, dest: str) -> bool:
    """DEST is a regular file (no link) with SRC's content, root:root 0644: what the swap would write."""
    return same_text(None, dest, _webserver_state.sha1_file(src))


def same_text(text: str | None, dest: str, digest: str | None = None) -> bool:
    """DEST is a regular file (no link), root:root 0644, holding TEXT (or the content of sha1 DIGEST)."""
    want = _webserver_state.sha1_bytes(text.encode()) if text is not None else digest
    return not os.path.islink(dest) and _webserver_state.owned(dest, "root", "root", 0o644, "file") is None \
        and want is not None and want == _webserver_state.sha1_file(dest)


def stale_candidates(spec: dict[str, t.Any], files: list[dict[str, t.Any]]) -> list[str]:
    """The candidate files to write: each entry given with its text whose candidate differs (and the candidate
    directory itself when it is not root:root 0700)."""
    candidate_dir = spec["candidate_dir"]
    out = [] if _webserver_state.owned(candidate_dir, "root", "root", 0o700, "dir") is None else [candidate_dir]
    return out + [f["src"] for f in files if f["content"] is not None and not same_text(f["content"], f["src"])]


def write_candidates(spec: dict[str, t.Any], files: list[dict[str, t.Any]]) -> None:
    """The candidate directory (root:root 0700) and each entry's text in it (root:root 0644), written atomically."""
    candidate_dir = spec["candidate_dir"]
    os.makedirs(candidate_dir, mode=0o700, exist_ok=True)
    os.chown(candidate_dir, 0, 0)
    os.chmod(candidate_dir, 0o700)
    for item in files:
        if item["content"] is None or same_text(item["content"], item["src"]):
            continue
        handle, tmp = tempfile.mkstemp(dir=candidate_dir, prefix=".port443-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(item["content"])
            os.chown(tmp, 0, 0)
            os.chmod(tmp, 0o644)
            os.replace(tmp, item["src"])
        except BaseException:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            raise


# --- directories, placeholder pages, the service ------------------------------------------------------------------

def content_plan(spec: dict[str, t.Any]) -> dict[str, list[str]]:
    """The directories to create or set to root:root 0755 (``dirs``, then the content roots that do not exist), and the
    content roots that get the placeholder page: each that is (or will be) a directory without a file or link of an
    index name (``root_state``: the page never replaces anything)."""
    dirs = list(dict.fromkeys(spec.get("dirs") or []))
    roots = list(dict.fromkeys(spec.get("placeholder_roots") or [])) if spec.get("placeholder") else []
    for path in dirs:
        if os.path.lexists(path) and not os.path.isdir(path):
            raise ApplyError(f"Nothing was changed. {path} exists and is not a directory: the role needs a directory there.")
    fix = [p for p in dirs if _webserver_state.owned(p, "root", "root", 0o755, "dir") is not None]
    fix += [r for r in roots if not os.path.lexists(r) and r not in dirs]
    pages = []
    for root in roots:
        state = _webserver_state.root_state(root, _webserver_state.INDEX_NAMES)
        if (not state["exists"] or state["isdir"]) and not state["index"]:
            pages.append(os.path.join(root, "index.html"))
    return {"dirs": fix, "placeholders": pages}


def make_content(spec: dict[str, t.Any], todo: dict[str, list[str]]) -> None:
    """Create the directories (each missing level root:root 0755, as the file module does) and write the pages."""
    for path in todo["dirs"]:
        missing = []
        head = path
        while head and head != "/" and not os.path.lexists(head):
            missing.append(head)
            head = os.path.dirname(head)
        for level in reversed(missing):
            os.mkdir(level, 0o755)
        for level in reversed(missing or [path]):
            os.chown(level, 0, 0)
            os.chmod(level, 0o755)
    for page in todo["placeholders"]:
        # O_EXCL: a file that appeared since the plan is kept, never replaced.
        try:
            handle = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(spec["placeholder"])
        os.chown(page, 0, 0)
        os.chmod(page, 0o644)


def service_plan(spec: dict[str, t.Any], run: Runner) -> list[str]:
    """With ``enable``: the systemctl commands that make the service run and start at boot (start, enable)."""
    if not spec.get("enable"):
        return []
    service = spec["service"]
    _rc, active, _err = run(["systemctl", "is-active", service])
    rc, enabled, _err = run(["systemctl", "is-enabled", service])
    return (["start"] if active.strip() != "active" else []) + (["enable"] if rc != 0 or enabled.strip() != "enabled" else [])


def ensure_service(spec: dict[str, t.Any], run: Runner, commands: list[str]) -> None:
    for command in commands:
        rc, _out, err = run(["systemctl", command, spec["service"]])
        if rc != 0:
            raise ApplyError(f"systemctl {command} {spec['service']} failed: {err.strip()}")


# --- the whole step --------------------------------------------------------------------------------------------------

def files_of(spec: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The files entries as source, live destination and foreign_ok (name and rel are required)."""
    live_root = spec["live_root"].rstrip("/")
    out = []
    for index, item in enumerate(spec.get("files") or []):
        name, rel = item.get("name"), item.get("rel")
        if not isinstance(name, str) or not isinstance(rel, str) or not name or not rel or "/" in name \
                or rel.startswith("/") or ".." in rel.split("/"):
            raise ApplyError(f"files[{index}]: needs a file name 'name' and a path 'rel' inside {live_root}, got {item!r}")
        content = item.get("content")
        if content is not None and not isinstance(content, str):
            raise ApplyError(f"files[{index}]: 'content' must be the file's text, got {type(content).__name__}")
        out.append({"src": os.path.join(spec["candidate_dir"], name), "dest": os.path.join(live_root, rel),
                    "foreign_ok": bool(item.get("foreign_ok")), "content": content})
    return out


def probes_of(spec: dict[str, t.Any]) -> list[dict[str, str]]:
    """Each site with a certificate of its own: its first name and the certificate it must serve."""
    return [{"name": v["server_names"][0], "cert_file": str(v.get("cert_file") or ""),
             "extra_cert_files": [str(e.get("cert_file") or "") for e in v.get("extra_certs") or []]}
            for v in spec.get("vhosts") or []
            if v.get("tls_ready") and not v.get("caddy_automatic_https") and v.get("server_names")]


def plan(spec: dict[str, t.Any], check_mode: bool = False) -> dict[str, t.Any]:
    """What a run would change (``entries``: every file given): files that differ from their text (content) or their
    candidate, sites to disable that are still there, Apache modules not yet enabled, and whether a reload is asked
    for (a changed certificate). An entry given without its text in check mode counts as a change (its candidate may
    be left from an earlier run: the caller passes only the files that differ)."""
    live_root = spec["live_root"].rstrip("/")
    files = files_of(spec)
    for item in files:
        if item["content"] is None and not check_mode and not os.path.isfile(item["src"]):
            raise ApplyError(f"the candidate file {item['src']} is missing (render it before this step)")

    def differs(item: dict[str, t.Any]) -> bool:
        if item["content"] is not None:
            return not same_text(item["content"], item["dest"])
        return check_mode or not same_content(item["src"], item["dest"])

    return {
        "entries": files,
        "files": [f for f in files if differs(f)],
        "disable": [p for p in spec.get("disable") or [] if os.path.lexists(p)],
        "modules": [m for m in spec.get("modules") or [] if not os.path.lexists(f"{live_root}/mods-enabled/{m}.load")],
        "reload": bool(spec.get("reload")),
    }


def refusals(spec: dict[str, t.Any], todo: dict[str, t.Any], run: Runner) -> list[str]:
    """Reasons to stop before any change."""
    out = []
    foreign = foreign_files(todo["files"])
    if foreign:
        out.append(", ".join(foreign) + (" was" if len(foreign) == 1 else " were") + " not written by the collection"
                   f" (no '{_sites.OWN_MARK}' header): it is the operator's or the distribution's file and is never "
                   "replaced. Move it out of the way, or rename the collection's virtual host.")
    ports = port_refusal(spec, run)
    if ports:
        out.append(ports)
    return out


def apply(spec: dict[str, t.Any], run: Runner, check_mode: bool) -> dict[str, t.Any]:
    """Plan, refuse, stage, validate, swap, reload, prove, restore on failure. Raises ApplyError with the message
    the role shows; returns what was done."""
    server, service = spec["server"], spec["service"]
    live_root = spec["live_root"].rstrip("/")
    if spec.get("preflight"):
        refusal = port_refusal(spec, run)
        if refusal:
            raise ApplyError("Nothing was changed. " + refusal)
        return {"changed": False, "files": [], "disabled": [], "modules": [], "reloaded": False, "warnings": [],
                "proof": [], "candidates": [], "dirs": [], "placeholders": [], "service": [], "texts": {}}
    todo = plan(spec, check_mode)
    entries = todo["entries"]
    candidates = stale_candidates(spec, entries) if any(f["content"] is not None for f in entries) else []
    content = content_plan(spec)
    service_commands = service_plan(spec, run)
    result: dict[str, t.Any] = {
        "changed": False, "files": [f["dest"] for f in todo["files"]], "disabled": todo["disable"],
        "modules": todo["modules"], "reloaded": False, "warnings": [], "proof": [], "candidates": candidates,
        "dirs": content["dirs"], "placeholders": content["placeholders"], "service": service_commands,
        "texts": {f["dest"]: f["content"] for f in todo["files"] if f["content"] is not None},
    }
    config_change = bool(todo["files"] or todo["disable"] or todo["modules"])
    host_change = bool(candidates or content["dirs"] or content["placeholders"] or service_commands)
    if not config_change and not todo["reload"]:
        if host_change and not check_mode:
            if spec.get("roll_stopped"):
                raise ApplyError(spec["roll_stopped"])
            if candidates:
                write_candidates(spec, entries)
            make_content(spec, content)
            ensure_service(spec, run, service_commands)
        result["changed"] = host_change
        return result
    stop = refusals(spec, todo, run) if config_change else []
    if stop:
        raise ApplyError("Nothing was changed. " + " ".join(stop))
    if check_mode:
        # Files given without their text are the caller's compare step's to report (it passes only those that differ).
        result["changed"] = bool(host_change or todo["disable"] or todo["modules"] or todo["reload"]
                                 or any(f["content"] is not None for f in todo["files"]))
        return result
    result["changed"] = True
    if spec.get("roll_stopped"):
        raise ApplyError(spec["roll_stopped"])
    if candidates:
        write_candidates(spec, entries)
    # The directories first: a checker warns about a document root that does not exist.
    make_content(spec, content)

    started = time.time()
    _rc, active, _err = run(["systemctl", "is-active", service])
    was_active = active.strip() == "active"
    # A server that keeps its old workers when it refuses a reload (nginx) must run new ones afterwards.
    old_workers = children(service_pid(service, run)) if _servers.get(server).proof_new_workers and was_active else None
    before_ports = sorted({item["port"] for item in _safe_listeners(run)
                           if _ports.owned_by(item, service)})
    run_dir = ""
    done: list[tuple[str, str, str]] = []
    error_log = ERROR_LOGS.get(server, "")
    error_offset = log_size(error_log) if error_log else 0
    timeout = float(spec.get("prove_timeout") or 20)
    try:
        if config_change:
            run_dir, staged = make_stage(live_root, spec["stage_dir"], todo["files"], todo["disable"], todo["modules"],
                                         server, run)
            _validate(server, live_root, run_dir, staged, run, result)
            _swap(spec, todo, run_dir, staged, done)
        command = "reload" if was_active else "start"
        needs = _servers.get(server).cmdline_needs
        if was_active and needs and not _webserver_state.cmdline_names(service, needs, lambda argv, _in: run(argv)):
            # A reload re-executes the running command line, which lacks what the unit's drop-in adds.
            command = "restart"
        rc, _out, err = run(["systemctl", command, service])
        result["reloaded"] = True
        problems = [f"systemctl {command} {service} failed: {err.strip()}"] if rc != 0 else \
            prove(server, service, _ports.ports_of(spec), probes_of(spec), run, old_workers, timeout,
                  spec.get("address") or "127.0.0.1")
        result["proof"] = problems
        if problems:
            cause = _cause(spec, run, started, error_log, error_offset)
            if not done:
                raise ApplyError(f"{service} does not serve after the {command} ({'; '.join(problems)}).{cause} "
                                 "This run changed no file of its configuration (the reload was for a changed "
                                 "certificate): check the certificate and key files it serves.")
            restored = _restore(done)
            back = _restart_and_prove(service, before_ports, run, timeout)
            raise ApplyError(
                f"The new {server} configuration was not applied: after the {command}, {'; '.join(problems)}.{cause} "
                f"The previous configuration was restored ({', '.join(restored)})"
                + (f" and {service} serves it again (listening on {', '.join(map(str, before_ports)) or 'no port'})."
                   if not back else f", but {service} does not serve it either: {'; '.join(back)}."))
    finally:
        if run_dir and os.path.isdir(run_dir):
            shutil.rmtree(run_dir, ignore_errors=True)
    # Started by the reload step when it was not running; what is left is to start it at boot.
    ensure_service(spec, run, [c for c in service_commands if c != "start"])
    return result


def _safe_listeners(run: Runner) -> list[dict[str, t.Any]]:
    try:
        return listeners(run)
    except ApplyError:
        return []


def _validate(server: str, live_root: str, run_dir: str, staged: str, run: Runner, result: dict[str, t.Any]) -> None:
    ok, text, warns = check_tree(server, staged, run)
    text, warns = live_paths(text, run_dir, staged, live_root), [live_paths(w, run_dir, staged, live_root) for w in warns]
    if ok and not warns:
        return
    live_ok, live_text, live_warns = check_tree(server, live_root, run)
    if not ok and not live_ok:
        raise ApplyError(f"Nothing was changed: the live {server} configuration was already broken before this run, "
                         f"and it still is. {server} checker said: {_squash(live_text)} Fix that file (the problem "
                         "predates the run), then run again.")
    if not ok:
        raise ApplyError(f"Nothing was changed: the new {server} configuration did not validate, and the previous one "
                         f"keeps serving. {server} checker said: {_squash(text)}")
    new = [w for w in warns if w not in live_warns]
    result["warnings"] = [w for w in warns if w in live_warns]
    if new:
        raise ApplyError(f"Nothing was changed: with the new {server} configuration the checker warns: "
                         f"{'; '.join(new)}. Two sites claim the same name or address and one of them would never "
                         "answer: remove the names from the operator's site, or take the site over (vhost option "
                         "takeover), then run again.")


def _squash(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and "syntax is ok" not in line.lower()]
    return " | ".join(lines[-12:])


def _swap(spec: dict[str, t.Any], todo: dict[str, t.Any], run_dir: str, staged: str,
          done: list[tuple[str, str, str]]) -> None:
    """Apply the validated change to the live tree, recording in DONE how to undo each step."""
    live_root = spec["live_root"].rstrip("/")
    backup = os.path.join(run_dir, "backup")
    os.mkdir(backup, 0o700)
    for src, dest in _new_module_links(live_root, staged, run_dir) if todo["modules"] else []:
        shutil.copy2(src, dest, follow_symlinks=False)
        done.append(("created", dest, ""))
    for index, path in enumerate(todo["disable"]):
        saved = os.path.join(backup, f"disabled-{index}")
        shutil.copy2(path, saved, follow_symlinks=False)
        done.append(("disabled", path, saved))
        os.unlink(path)
    for index, item in enumerate(todo["files"]):
        dest = item["dest"]
        if os.path.lexists(dest):
            saved = os.path.join(backup, f"file-{index}")
            shutil.copy2(dest, saved, follow_symlinks=False)
            done.append(("replaced", dest, saved))
        else:
            done.append(("created", dest, ""))
        tmp = f"{dest}.port443-new"
        shutil.copyfile(item["src"], tmp)
        os.chown(tmp, 0, 0)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)


def _new_module_links(live_root: str, staged: str, run_dir: str) -> list[tuple[str, str]]:
    """The links a2enmod made in the staged tree (and its state files) that the live tree lacks."""
    out = []
    staged_mods = os.path.join(staged, "mods-enabled")
    for name in sorted(os.listdir(staged_mods)):
        dest = os.path.join(live_root, "mods-enabled", name)
        if not os.path.lexists(dest):
            out.append((os.path.join(staged_mods, name), dest))
    state = os.path.join(run_dir, "apache-state", "module", "enabled_by_admin")
    if os.path.isdir(state):
        os.makedirs("/var/lib/apache2/module/enabled_by_admin", exist_ok=True)
        for name in sorted(os.listdir(state)):
            dest = os.path.join("/var/lib/apache2/module/enabled_by_admin", name)
            if not os.path.exists(dest):
                out.append((os.path.join(state, name), dest))
    return out


def _restore(done: list[tuple[str, str, str]]) -> list[str]:
    """Undo DONE in reverse order; returns what was put back."""
    restored = []
    for kind, path, saved in reversed(done):
        if kind == "created":
            if os.path.lexists(path):
                os.unlink(path)
            restored.append(f"removed {path}")
        elif kind == "replaced":
            shutil.copy2(saved, f"{path}.port443-old", follow_symlinks=False)
            os.replace(f"{path}.port443-old", path)
            restored.append(f"restored {path}")
        elif kind == "disabled":
            shutil.copy2(saved, path, follow_symlinks=False)
            restored.append(f"re-enabled {path}")
    return restored


def _restart_and_prove(service: str, ports: list[int], run: Runner, timeout: float) -> list[str]:
    """Serve the restored tree: reload a server that still runs (nginx keeps its workers, Caddy its config after a
    refused reload), start one that died; then prove it is active and listens where it did before."""
    _rc, active, _err = run(["systemctl", "is-active", service])
    command = "reload" if active.strip() == "active" else "restart"
    rc, _out, err = run(["systemctl", command, service])
    if rc != 0 and command == "reload":
        rc, _out, err = run(["systemctl", "restart", service])
    if rc != 0:
        return [f"systemctl {command} {service} failed: {err.strip()}"]
    return prove("", service, ports, [], run, None, timeout)


def _cause(spec: dict[str, t.Any], run: Runner, since: float, error_log: str, error_offset: int) -> str:
    """What the host says about the failure: who holds the ports, the unit's journal since the reload, and the lines
    the server's error log got since then."""
    parts = []
    conflicts = _ports.port_conflicts(_ports.ports_of(spec), spec["service"], _safe_listeners(run))
    if conflicts:
        parts.append("; ".join(conflicts))
    log = journal(spec["service"], since, run)
    if log:
        parts.append(f"{spec['service']} said: {log}")
    errors = log_errors(error_log, error_offset) if error_log else []
    if errors:
        parts.append(f"{error_log}: " + " | ".join(errors))
    return (" " + ". ".join(parts) + ".") if parts else ""


def file_diff(dest: str, text: str, limit: int = 1 << 20) -> dict[str, str]:
    """The --diff entry of a live file and the text that replaces it (an unreadable or larger file is not shown)."""
    before = ""
    if os.path.isfile(dest):
        try:
            with open(dest, "rb") as handle:
                data = handle.read(limit + 1)
            before = "(larger than 1 MiB, not shown)\n" if len(data) > limit else data.decode("utf-8", "replace")
        except OSError as exc:
            before = f"({dest} cannot be read: {exc.strerror or exc})\n"
    return {"before_header": dest, "after_header": dest, "before": before, "after": text}
