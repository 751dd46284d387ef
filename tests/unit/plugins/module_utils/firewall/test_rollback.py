# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The commit-confirmed rollback as a state machine: generations, the lock, stale and due state.

The generated shell scripts really run here (``/bin/sh``), on files in a temporary directory."""
from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from ansible_collections.port443.https.plugins.module_utils.firewall import rollback
from ansible_collections.port443.https.plugins.module_utils.firewall.base import Plan


@pytest.fixture
def rb(tmp_path, monkeypatch):
    """Rollback paths under tmp_path; timers are recorded, never started."""
    monkeypatch.setattr(rollback, "STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(rollback, "LOCK_PATH", str(tmp_path / "fw.lock"))
    monkeypatch.setattr(rollback, "RUN_MARK", str(tmp_path / "run" / "mark"))
    monkeypatch.setattr(rollback, "systemd_running", lambda: False)
    boot = tmp_path / "boot_id"
    boot.write_text("boot-1\n")
    monkeypatch.setattr(rollback, "BOOT_ID", str(boot))

    class Env:
        state = tmp_path / "state"
        log = tmp_path / "undo.log"
        file = tmp_path / "rules.v4"
        calls: list[list[str]] = []

        def runner(self, argv, data=None):
            self.calls.append(list(argv))
            if argv[0] == "/usr/bin/env":  # a due rollback run by the next module run: really run it
                proc = subprocess.run(argv, capture_output=True, text=True, check=False)
                return proc.returncode, proc.stdout, proc.stderr
            return 0, "", ""

        def plan(self, name):
            plan = Plan()
            plan.undo = [f"echo {name} >> {self.log}"]
            return plan

        def change(self, name, content, timeout=30):
            """One run: arm, apply (write the file), seal, restart the timer."""
            info = rollback.arm(self.runner, self.plan(name), [str(self.file)], timeout, lambda n: "/usr/bin/" + n)
            self.file.write_text(content)
            rollback.seal([str(self.file)], info["generation"])
            rollback.start_timer(self.runner, timeout, lambda n: "/usr/bin/" + n, info["generation"])
            return info

        def fire(self, gen):
            """The timer of one generation fires."""
            return subprocess.run(rollback.timer_command(str(self.state / "run.sh"), gen), capture_output=True, text=True,
                                  check=True)

    env = Env()
    env.calls = []
    env.file.write_text("v0")
    return env


def test_each_generation_restores_the_state_its_run_started_from(rb):
    assert rb.change("undo-1", "v1")["generation"] == 1
    info = rb.change("undo-2", "v2")
    assert info["generation"] == 2 and info["stacked_on"] == [1]
    assert (rb.state / "gen-1" / "file0").read_text() == "v0"
    assert (rb.state / "gen-2" / "file0").read_text() == "v1"  # its own start, not the first run's
    rb.fire(2)
    assert rb.file.read_text() == "v1" and rb.log.read_text() == "undo-2\n"
    assert rollback.generations() == [1]
    rb.fire(1)
    assert rb.file.read_text() == "v0" and rb.log.read_text() == "undo-2\nundo-1\n"
    assert not rb.state.exists() and not os.path.exists(rollback.RUN_MARK)


def test_an_older_generation_firing_unwinds_the_newer_ones_first(rb):
    rb.change("undo-1", "v1")
    rb.change("undo-2", "v2")
    rb.fire(1)
    assert rb.file.read_text() == "v0" and rb.log.read_text() == "undo-2\nundo-1\n"
    assert not rb.state.exists()
    rb.fire(2)  # its timer fires later: nothing left to do
    assert rb.log.read_text() == "undo-2\nundo-1\n"


def test_a_file_changed_after_the_run_is_left_as_it_is(rb):
    rb.change("undo-1", "v1")
    rb.file.write_text("edited by hand after the run")
    rb.fire(1)
    assert rb.file.read_text() == "edited by hand after the run"
    assert rb.log.read_text() == "undo-1\n"  # the live change is still reverted


def test_a_file_the_run_created_is_removed_unless_changed(rb):
    rb.file.unlink()
    rb.change("undo-1", "created")
    rb.fire(1)
    assert not rb.file.exists()


def test_stale_state_after_a_reboot_is_moved_aside_and_never_reused(rb):
    rb.change("undo-1", "v1")
    os.unlink(rollback.RUN_MARK)  # /run is emptied at boot; the timer died with the reboot
    assert rollback.is_stale()
    assert rb.fire(1).returncode == 0 and rb.file.read_text() == "v1"  # a stray timer does nothing with stale state
    info = rollback.settle(rb.runner, lambda n: "/usr/bin/" + n, check_mode=True)
    assert info["stale"] and rb.state.exists()  # check mode only reports
    info = rollback.settle(rb.runner, lambda n: "/usr/bin/" + n, check_mode=False)
    assert info["stale"] and info["generations"] == 1 and "never ran" in info["message"]
    assert not rb.state.exists() and (rb.state.parent / "state.stale" / "gen-1" / "file0").read_text() == "v0"
    # the next armed run snapshots what is there now
    assert rb.change("undo-2", "v2")["generation"] == 1
    assert (rb.state / "gen-1" / "file0").read_text() == "v1"
    rb.fire(1)
    assert rb.file.read_text() == "v1" and rb.log.read_text() == "undo-2\n"


def test_a_new_boot_id_makes_the_state_stale(rb):
    rb.change("undo-1", "v1")
    assert not rollback.is_stale()
    with open(rollback.BOOT_ID, "w") as fh:
        fh.write("boot-2\n")
    assert rollback.is_stale()


def test_a_due_generation_is_reverted_by_the_next_run(rb):
    rb.change("undo-1", "v1", timeout=5)
    assert rollback.settle(rb.runner, lambda n: "/usr/bin/" + n, False)["pending"]
    info = rollback.settle(rb.runner, lambda n: "/usr/bin/" + n, False, now=time.time() + 10)
    assert info["expired"] and rb.file.read_text() == "v0" and rb.log.read_text() == "undo-1\n"
    assert not rb.state.exists()
    assert rollback.settle(rb.runner, lambda n: "/usr/bin/" + n, False) == {}


def test_confirm_disarms_every_generation(rb):
    rb.change("undo-1", "v1")
    rb.change("undo-2", "v2")
    assert rollback.confirm(rb.runner, lambda n: "/usr/bin/" + n, check_mode=True) == 2 and rb.state.exists()
    assert rollback.confirm(rb.runner, lambda n: "/usr/bin/" + n, check_mode=False) == 2
    assert not rb.state.exists() and not os.path.exists(rollback.RUN_MARK)
    assert rollback.confirm(rb.runner, lambda n: "/usr/bin/" + n, check_mode=False) == 0
    rb.fire(1)
    assert rb.file.read_text() == "v2" and not rb.log.exists()


def test_the_timer_runs_a_restore_per_generation(rb, monkeypatch):
    monkeypatch.setattr(rollback, "systemd_running", lambda: True)
    info = rb.change("undo-1", "v1")
    units = [c for c in rb.calls if c[0] == "/usr/bin/systemd-run"]
    assert len(units) == 2 and units[-1][-5:] == rollback.timer_command(str(rb.state / "run.sh"), 1)
    assert "--on-active=30s" in units[-1]
    assert ["/usr/bin/systemctl", "stop", units[0][1][len("--unit="):] + ".timer"] in rb.calls  # restarted, not doubled
    assert info["generation"] == 1


def test_a_second_run_waits_for_the_lock_then_fails_naming_the_holder(rb):
    with rollback.Lock():
        with pytest.raises(rollback.RollbackError, match=f"holds .*pid {os.getpid()}.* nothing was changed"):
            rollback.Lock(wait=0.3).acquire()
    with rollback.Lock(wait=0.3) as lock:
        assert lock.waited < 0.3


def test_a_restore_waits_while_a_run_holds_the_lock(rb):
    rb.change("undo-1", "v1")
    lock = rollback.Lock().acquire()
    fired = threading.Thread(target=rb.fire, args=(1,))
    fired.start()
    time.sleep(0.5)
    assert rb.file.read_text() == "v1" and not rb.log.exists()  # waiting, not racing the run
    lock.release()
    fired.join(10)
    assert rb.file.read_text() == "v0" and rb.log.read_text() == "undo-1\n"


def test_check_mode_creates_no_lock_file(rb):
    with rollback.Lock(create=False) as lock:
        assert lock.fh is None
    assert not os.path.exists(rollback.LOCK_PATH)
