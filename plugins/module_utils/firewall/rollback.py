# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Commit-confirmed apply: arm a detached restore before a change, disarm it on confirm.

Every run that changes something with a rollback armed adds one *generation* to the state directory: the
previous content of the files the backend may write (taken when that run starts), the undo commands of
its live change, the checksums of those files when the run ended, and a timer of its own (a transient
systemd timer, ``systemd-run --on-active``, or without systemd a ``setsid`` background shell; both
outlive the Ansible connection). When a generation's timer fires, ``run.sh`` reverts the generations
from the newest down to that one, newest first, so each one finds the state its run left and puts back
the state its run started from. A file changed after its run ended (by anything else) is left as it is
and the fact is logged: a rollback never destroys a later change. ``confirm`` disarms every generation.

Races: every ``firewall_port`` run holds an exclusive lock (``flock`` on ``LOCK_PATH``) from reading the
firewall to the end of its change, and ``run.sh`` takes the same lock, so overlapping runs wait for each
other and a restore never runs in the middle of a change.

Stale state: the state directory (``/var/lib``) survives a reboot, the timers do not. Each set of
generations belongs to a session whose token is also kept in ``/run`` (emptied at boot) and whose boot
id is recorded; when either differs, the state is stale: the next run moves it aside (never reusing its
snapshots), reports it, and leaves the firewall as the boot loaded it. A generation whose deadline has
passed while its timer could not run (the restore waits for the lock the run holds) is reverted by that
run first, as the timer would have done.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import time
import typing as t
import uuid

from .base import Plan, Runner, Which, shell_quote, write_file

STATE_DIR = "/var/lib/port443-https/firewall-rollback"
LOCK_PATH = "/var/lib/port443-https/firewall.lock"
RUN_MARK = "/run/port443-https-firewall-rollback"
BOOT_ID = "/proc/sys/kernel/random/boot_id"
UNIT = "port443-https-firewall-rollback"
LOCK_WAIT = 120

HELD: list[Lock] = []  # locks taken with acquire() stay referenced (and held) until released or the process exits


class RollbackError(RuntimeError):
    """A rollback problem the user must see as one clear message."""


def systemd_running() -> bool:
    return os.path.isdir("/run/systemd/system")


def _read(path: str) -> str:
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return ""


def _digest(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except FileNotFoundError:
        return "absent"


# -- the lock ----------------------------------------------------------------------------------------------
class Lock:
    """Exclusive ``flock`` held for a whole run; waits up to ``wait`` seconds, then fails naming the holder."""

    def __init__(self, path: str = "", wait: float = LOCK_WAIT, create: bool = True) -> None:
        self.path = path or LOCK_PATH  # read at call time, so tests can point it elsewhere
        self.wait = wait
        self.create = create
        self.fh: t.Optional[t.IO[str]] = None
        self.waited = 0.0

    def acquire(self) -> Lock:
        """Take the lock (released by ``release()`` or when the process exits)."""
        if not self.create and not os.path.exists(self.path):
            return self  # check mode on a host where no run ever locked: nothing to wait for, nothing created
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        fh = open(self.path, "a+")
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    fh.close()
                    raise
                if time.monotonic() - start >= self.wait:
                    fh.seek(0)
                    holder = fh.read().strip() or "unknown"
                    fh.close()
                    raise RollbackError(
                        f"another firewall_port run (or a rollback restoring) holds {self.path} ({holder}) for more than"
                        f" {int(self.wait)} s: nothing was changed; run again when it has finished") from None
                time.sleep(0.2)
        self.waited = round(time.monotonic() - start, 1)
        if self.create:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
            fh.flush()
        self.fh = fh
        HELD.append(self)
        return self

    def __enter__(self) -> Lock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        if self in HELD:
            HELD.remove(self)
        if self.fh is not None:
            self.fh.close()  # closing releases the flock
            self.fh = None


# -- state -------------------------------------------------------------------------------------------------
def generations(state_dir: str = "") -> list[int]:
    state_dir = state_dir or STATE_DIR
    try:
        names = os.listdir(state_dir)
    except FileNotFoundError:
        return []
    return sorted(int(n[4:]) for n in names if n.startswith("gen-") and n[4:].isdigit())


def pending(state_dir: str = "") -> bool:
    state_dir = state_dir or STATE_DIR
    return bool(generations(state_dir))


def _gen_dir(state_dir: str, gen: int) -> str:
    return os.path.join(state_dir, f"gen-{gen}")


def is_stale(state_dir: str = "", run_mark: str = "", boot_id: str = "") -> bool:
    """The generations were armed before the last boot: their timers are gone."""
    state_dir = state_dir or STATE_DIR
    run_mark = run_mark or RUN_MARK
    boot_id = boot_id or BOOT_ID
    token = _read(os.path.join(state_dir, "session"))
    if not token or _read(run_mark) != token:
        return True
    recorded = _read(os.path.join(state_dir, "boot_id"))
    return bool(recorded) and recorded != _read(boot_id)


def run_script(state_dir: str, lock_path: str, run_mark: str) -> str:
    """The restore entry point the timers start: ``run.sh GEN`` reverts generations newest first down to GEN."""
    st, mark = shell_quote(state_dir), shell_quote(run_mark)
    return "\n".join([
        "#!/bin/sh",
        "# Written by port443.https firewall_port: reverts unconfirmed changes, newest first, down to generation $1.",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        f"STATE={st}",
        f"exec 9>>{shell_quote(lock_path)}",
        "# a firewall_port run that reverts a due generation already holds the lock",
        '[ -n "$PORT443_ROLLBACK_LOCKED" ] || flock 9 2>/dev/null || true',
        '[ -d "$STATE/gen-$1" ] || exit 0',
        "# armed before a reboot: the next firewall_port run reports it; nothing is reverted from stale snapshots",
        f'[ "$(cat "$STATE/session" 2>/dev/null)" = "$(cat {mark} 2>/dev/null)" ] || exit 0',
        "logger -t port443-https \"firewall_port: rollback of generation $1 (timeout reached), reverting\" 2>/dev/null || true",
        "for g in $(ls \"$STATE\" | sed -n 's/^gen-\\([0-9][0-9]*\\)$/\\1/p' | sort -rn); do",
        '  [ "$g" -ge "$1" ] || break',
        '  if [ "$g" != "$1" ]; then',
        '    [ -f "$STATE/gen-$g/unit" ] && systemctl stop "$(cat "$STATE/gen-$g/unit").timer" 2>/dev/null',
        '    [ -f "$STATE/gen-$g/pid" ] && kill -TERM -- "-$(cat "$STATE/gen-$g/pid")" 2>/dev/null',
        "  fi",
        '  /bin/sh "$STATE/gen-$g/restore.sh"',
        '  rm -rf "$STATE/gen-$g"',
        "done",
        f'ls "$STATE" | grep -q "^gen-" || {{ rm -rf "$STATE"; rm -f {mark}; }}',
        "",
    ])


def build_script(plan: Plan, backup_paths: list[str], gen_dir: str, existed: t.Optional[list[bool]] = None) -> str:
    """One generation's restore: the previous files (unless changed after the run) and the undo commands."""
    lines = [
        "#!/bin/sh",
        "# Written by port443.https firewall_port: puts back the state the run that armed this generation started from.",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        'digest() { if [ -e "$1" ]; then sha256sum < "$1" | cut -c1-64; else echo absent; fi; }',
    ]
    for i, path in enumerate(backup_paths):
        saved = shell_quote(os.path.join(gen_dir, f"file{i}"))
        after = shell_quote(os.path.join(gen_dir, f"after{i}"))
        qpath = shell_quote(path)
        was = existed[i] if existed is not None else os.path.exists(path)
        action = f"cp -p {saved} {qpath}" if was else f"rm -f {qpath}"
        lines.append(f'if [ ! -f {after} ] || [ "$(digest {qpath})" = "$(cat {after})" ]; then {action}; else '
                     f"logger -t port443-https {shell_quote(f'firewall_port rollback: {path} changed after the run that armed it; left as it is')}"
                     " 2>/dev/null || true; fi")
    lines += [f"{cmd} || true" for cmd in plan.undo]
    return "\n".join(lines) + "\n"


# -- settle what an earlier run left ----------------------------------------------------------------------------
def settle(runner: Runner, which: Which, check_mode: bool, state_dir: str = "", run_mark: str = "",
           boot_id: str = "", now: t.Optional[float] = None) -> dict[str, t.Any]:
    """Deal with generations of earlier runs before this run reads the firewall (the caller holds the lock).

    Stale generations (armed before a reboot) are moved aside to ``<state_dir>.stale`` and never reused;
    generations whose deadline has passed are reverted now, as their timer would have done.
    Returns what was found and done (empty when nothing was pending).
    """
    state_dir = state_dir or STATE_DIR
    run_mark = run_mark or RUN_MARK
    boot_id = boot_id or BOOT_ID
    gens = generations(state_dir)
    if not gens:
        if os.path.isdir(state_dir) and not check_mode:
            shutil.rmtree(state_dir, ignore_errors=True)  # a leftover without generations (an interrupted arm)
        return {}
    armed_at = _read(os.path.join(_gen_dir(state_dir, gens[0]), "armed_at")) or "unknown"
    if is_stale(state_dir, run_mark, boot_id):
        info = {"stale": True, "generations": len(gens), "armed_at": armed_at, "moved_to": state_dir + ".stale",
                "message": (f"a rollback armed at {armed_at} never ran: the host restarted before it was confirmed or due,"
                            " so its change stays as the boot loaded it; its snapshots are not reused"
                            f" (kept in {state_dir}.stale for inspection)")}
        if not check_mode:
            systemctl = which("systemctl")
            for gen in gens:  # transient units do not survive a reboot; stop them in case the marker alone was lost
                unit = _read(os.path.join(_gen_dir(state_dir, gen), "unit"))
                if systemctl and unit:
                    runner([systemctl, "stop", f"{unit}.timer"])
            shutil.rmtree(state_dir + ".stale", ignore_errors=True)
            os.replace(state_dir, state_dir + ".stale")
        return info
    now = time.time() if now is None else now
    # a margin of 2 s: a timer firing now waits for our lock, and would revert what this run is about to build on
    due = [g for g in gens if float(_read(os.path.join(_gen_dir(state_dir, g), "deadline")) or "inf") <= now + 2]
    if due:
        info = {"expired": True, "generations": len(gens), "armed_at": armed_at,
                "message": (f"a rollback armed at {armed_at} reached its deadline before this run: its unconfirmed"
                            " changes (and any stacked on them) were reverted first, as its timer would have done")}
        if check_mode:
            info["message"] = info["message"].replace("were reverted first", "are due to be reverted (not run in check mode)")
        else:
            rc, out, err = runner(["/usr/bin/env", "PORT443_ROLLBACK_LOCKED=1", "/bin/sh", os.path.join(state_dir, "run.sh"),
                                   str(due[0])])
            if rc != 0:
                raise RollbackError(f"the due rollback failed: {(err or out).strip()}")
        return info
    deadline = min(float(_read(os.path.join(_gen_dir(state_dir, g), "deadline")) or "inf") for g in gens)
    return {"pending": True, "generations": len(gens), "armed_at": armed_at, "due_in": max(0, int(deadline - now))}


# -- arm, restart, confirm --------------------------------------------------------------------------------------
def arm(runner: Runner, plan: Plan, backup_paths: list[str], timeout: int, which: Which, state_dir: str = "",
        lock_path: str = "", run_mark: str = "", boot_id: str = "") -> dict[str, t.Any]:
    """Add this run's generation (snapshots taken now) and start its countdown; returns the rollback info."""
    state_dir = state_dir or STATE_DIR
    lock_path = lock_path or LOCK_PATH
    run_mark = run_mark or RUN_MARK
    boot_id = boot_id or BOOT_ID
    gens = generations(state_dir)
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    if not gens:
        token = uuid.uuid4().hex
        write_file(run_mark, token + "\n", mode=0o600)
        write_file(os.path.join(state_dir, "session"), token + "\n", mode=0o600)
        write_file(os.path.join(state_dir, "boot_id"), _read(boot_id) + "\n", mode=0o600)
    write_file(os.path.join(state_dir, "run.sh"), run_script(state_dir, lock_path, run_mark), mode=0o700)
    gen = (gens[-1] + 1) if gens else 1
    gdir = _gen_dir(state_dir, gen)
    os.makedirs(gdir, mode=0o700)
    for i, path in enumerate(backup_paths):
        if os.path.exists(path):
            shutil.copy2(path, os.path.join(gdir, f"file{i}"))
    write_file(os.path.join(gdir, "armed_at"), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n", mode=0o600)
    write_file(os.path.join(gdir, "restore.sh"), build_script(plan, backup_paths, gdir), mode=0o700)
    info = start_timer(runner, timeout, which, gen, state_dir)
    info["generation"] = gen
    if gens:
        info["stacked_on"] = gens
    return info


def seal(backup_paths: list[str], gen: int, state_dir: str = "") -> None:
    """Record what this run left in each file: the restore puts a file back only while it still holds that."""
    state_dir = state_dir or STATE_DIR
    gdir = _gen_dir(state_dir, gen)
    for i, path in enumerate(backup_paths):
        write_file(os.path.join(gdir, f"after{i}"), _digest(path) + "\n", mode=0o600)


def start_timer(runner: Runner, timeout: int, which: Which, gen: int, state_dir: str = "") -> dict[str, t.Any]:
    """(Re)start the countdown of one generation; the window counts from now."""
    state_dir = state_dir or STATE_DIR
    gdir = _gen_dir(state_dir, gen)
    _disarm_timer(runner, which, gdir)
    script = os.path.join(state_dir, "run.sh")
    write_file(os.path.join(gdir, "deadline"), f"{time.time() + timeout:.0f}\n", mode=0o600)
    systemd_run = which("systemd-run")
    if systemd_run and systemd_running():
        unit = f"{UNIT}-{int(time.time() * 1000)}"
        argv = [systemd_run, f"--unit={unit}", f"--on-active={timeout}s", "--timer-property=AccuracySec=1s",
                "--collect"] + timer_command(script, gen)
        rc, out, err = runner(argv)
        if rc == 0:
            write_file(os.path.join(gdir, "unit"), unit + "\n", mode=0o600)
            return {"armed": True, "method": "systemd-run", "timeout": timeout, "unit": f"{unit}.timer"}
    # No systemd: a detached shell in its own session (survives the connection dropping).
    argv = ["/bin/sh", "-c",
            f"setsid /bin/sh -c 'sleep {int(timeout)}; test ! -f {script} || exec /bin/sh {script} {gen}' </dev/null >/dev/null 2>&1 &"
            f" echo $! > {shell_quote(gdir)}/pid"]
    rc, out, err = runner(argv)
    if rc != 0:
        raise RollbackError(f"cannot arm the rollback: {(err or out).strip()}")
    return {"armed": True, "method": "setsid", "timeout": timeout}


def timer_command(script: str, gen: int) -> list[str]:
    """What a timer runs: the restore entry point, when a confirm or a restore has not removed it meanwhile."""
    return ["/bin/sh", "-c", 'test ! -f "$0" || exec /bin/sh "$0" "$1"', script, str(gen)]


def _disarm_timer(runner: Runner, which: Which, gdir: str) -> None:
    systemctl = which("systemctl")
    unitfile = os.path.join(gdir, "unit")
    unit = _read(unitfile)
    if unit:
        if systemctl:
            runner([systemctl, "stop", f"{unit}.timer"])
        os.unlink(unitfile)
    pidfile = os.path.join(gdir, "pid")
    pid = _read(pidfile)
    if os.path.exists(pidfile):
        if pid.isdigit():
            # the setsid child leads its own process group: end the group (its sleep included)
            runner(["/bin/sh", "-c", f"kill -TERM -- -{pid} 2>/dev/null || kill -TERM {pid} 2>/dev/null || true"])
        os.unlink(pidfile)


def confirm(runner: Runner, which: Which, check_mode: bool, state_dir: str = "", run_mark: str = "") -> int:
    """Disarm every pending generation (the caller has settled stale and due ones); returns how many there were."""
    state_dir = state_dir or STATE_DIR
    run_mark = run_mark or RUN_MARK
    gens = generations(state_dir)
    if gens and not check_mode:
        for gen in gens:
            _disarm_timer(runner, which, _gen_dir(state_dir, gen))
        shutil.rmtree(state_dir, ignore_errors=True)
        if os.path.exists(run_mark):
            os.unlink(run_mark)
    return len(gens)
