# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Commit-confirmed apply: arm a detached restore before a change, disarm it on confirm.

The restore is a shell script (the plan's undo commands plus the previous content of every file the
backend may write) started by a transient systemd timer (``systemd-run --on-active``), or, without
systemd, by a ``setsid`` background shell. Both outlive the Ansible connection, so a change that cuts
the management connection is reverted even though no further task can run.
"""

from __future__ import annotations

import os
import shutil
import time
import typing as t

from .base import Plan, Runner, shell_quote, write_file

STATE_DIR = "/var/lib/port443-https/firewall-rollback"
UNIT = "port443-https-firewall-rollback"


def systemd_running() -> bool:
    return os.path.isdir("/run/systemd/system")


def pending(state_dir: str = STATE_DIR) -> bool:
    return os.path.exists(os.path.join(state_dir, "restore.sh"))


def build_script(plan: Plan, backup_paths: list[str], state_dir: str) -> str:
    lines = [
        "#!/bin/sh",
        "# Written by port443.https firewall_port: reverts a change that was not confirmed in time.",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "logger -t port443-https 'firewall_port: rollback timeout reached, reverting' 2>/dev/null || true",
    ]
    for i, path in enumerate(backup_paths):
        saved = os.path.join(state_dir, f"file{i}")
        if os.path.exists(path):
            lines.append(f"cp -p {shell_quote(saved)} {shell_quote(path)}")
        else:
            lines.append(f"rm -f {shell_quote(path)}")
    lines += [f"{cmd} || true" for cmd in plan.undo]
    lines.append(f"rm -rf {shell_quote(state_dir)}")
    return "\n".join(lines) + "\n"


def arm(runner: Runner, plan: Plan, backup_paths: list[str], timeout: int, which: t.Callable[[str], t.Optional[str]],
        state_dir: str = STATE_DIR) -> dict[str, t.Any]:
    """Save the previous state and start the countdown. A pending rollback keeps its older snapshot."""
    if pending(state_dir):
        # Keep the first snapshot: it is the state before the unconfirmed change; add this change's undo.
        script = os.path.join(state_dir, "restore.sh")
        with open(script) as fh:
            old = fh.read().splitlines()
        new_undo = [f"{cmd} || true" for cmd in plan.undo]
        # restore order: newest change first, then the older script body
        body = old[:4] + new_undo + old[4:]
        write_file(script, "\n".join(body) + "\n", mode=0o700)
    else:
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        for i, path in enumerate(backup_paths):
            if os.path.exists(path):
                shutil.copy2(path, os.path.join(state_dir, f"file{i}"))
        write_file(os.path.join(state_dir, "restore.sh"), build_script(plan, backup_paths, state_dir), mode=0o700)
    return start_timer(runner, timeout, which, state_dir)


def start_timer(runner: Runner, timeout: int, which: t.Callable[[str], t.Optional[str]], state_dir: str = STATE_DIR) -> dict[str, t.Any]:
    """(Re)start the countdown of a pending rollback; the window counts from now."""
    _disarm_timer(runner, which, state_dir)
    script = os.path.join(state_dir, "restore.sh")
    systemd_run = which("systemd-run")
    if systemd_run and systemd_running():
        unit = f"{UNIT}-{int(time.time() * 1000)}"
        argv = [systemd_run, f"--unit={unit}", f"--on-active={timeout}s", "--timer-property=AccuracySec=1s",
                "--collect", "/bin/sh", script]
        rc, out, err = runner(argv)
        if rc == 0:
            write_file(os.path.join(state_dir, "unit"), unit + "\n", mode=0o600)
            return {"armed": True, "method": "systemd-run", "timeout": timeout, "unit": f"{unit}.timer"}
    # No systemd: a detached shell in its own session (survives the connection dropping).
    argv = ["/bin/sh", "-c",
            f"setsid /bin/sh -c 'sleep {int(timeout)}; exec /bin/sh {script}' </dev/null >/dev/null 2>&1 & echo $! > {shell_quote(state_dir)}/pid"]
    rc, out, err = runner(argv)
    if rc != 0:
        raise RuntimeError(f"cannot arm the rollback: {(err or out).strip()}")
    return {"armed": True, "method": "setsid", "timeout": timeout}


def _disarm_timer(runner: Runner, which: t.Callable[[str], t.Optional[str]], state_dir: str) -> None:
    systemctl = which("systemctl")
    unitfile = os.path.join(state_dir, "unit")
    if os.path.exists(unitfile):
        with open(unitfile) as fh:
            unit = fh.read().strip()
        if systemctl and unit:
            runner([systemctl, "stop", f"{unit}.timer"])
        os.unlink(unitfile)
    pidfile = os.path.join(state_dir, "pid")
    if os.path.exists(pidfile):
        with open(pidfile) as fh:
            pid = fh.read().strip()
        if pid.isdigit():
            # the setsid child leads its own process group: end the group (its sleep included)
            runner(["/bin/sh", "-c", f"kill -TERM -- -{pid} 2>/dev/null || kill -TERM {pid} 2>/dev/null || true"])
        os.unlink(pidfile)


def confirm(runner: Runner, which: t.Callable[[str], t.Optional[str]], check_mode: bool, state_dir: str = STATE_DIR) -> bool:
    """Disarm a pending rollback; True when there was one."""
    if not pending(state_dir):
        return False
    if not check_mode:
        _disarm_timer(runner, which, state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
    return True
