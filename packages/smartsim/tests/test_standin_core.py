"""The stand-in scheduler core (tests/standin_wlm/core.py) through its toy scheduler: jobs
really run as their own process group, move through the states, can be held, deleted and
lost, and every injected fault behaves as documented."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest


def run(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)


def wait_state(toy, seq: int, state: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = toy.job(seq)
        if job and job["state"] == state:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {seq} not {state} within {timeout} s: {toy.job(seq)}")


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "job.sh"
    path.write_text(f"#!/bin/bash\n{body}\n")
    return str(path)


def test_a_job_runs_in_its_own_session_with_the_scheduler_environment(
    standin_wlm, tmp_path, monkeypatch
):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    body = 'echo "$TOY_JOBID $TOY_JOBNAME $(ps -o sid= $$) $$"; echo err >&2; exit 7'
    done = run("toysub", "-N", "first", script(tmp_path, body))
    assert done.returncode == 0 and done.stdout == "1\n"
    job = wait_state(toy, 1, "finished")
    assert job["returncode"] == 7 and job["signal"] is None
    jobid, name, sid, pid = (tmp_path / "first.o1").read_text().split("\n")[0].split()
    assert (jobid, name) == ("1", "first") and sid == pid == str(job["pgid"])
    assert "err" in (tmp_path / "first.o1").read_text()  # stderr joined
    assert toy.calls("toysub") == [["toysub", "-N", "first", str(tmp_path / "job.sh")]]
    assert run("toystat", "1").stdout == "1 finished 7 None\n"


def test_the_script_is_copied_at_submit_time(standin_wlm, tmp_path, monkeypatch):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_WLM_QUEUE_SECONDS", "0.5")
    path = script(tmp_path, "exit 0")
    assert run("toysub", path).returncode == 0
    Path(path).write_text("exit 9\n")
    assert wait_state(toy, 1, "finished")["returncode"] == 0


def test_queued_held_released_running_exiting_finished(standin_wlm, tmp_path, monkeypatch):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_WLM_QUEUE_SECONDS", "0.3")
    monkeypatch.setenv("STANDIN_WLM_EXIT_SECONDS", "0.5")
    flag = tmp_path / "go"
    path = script(tmp_path, f"while [ ! -e {flag} ]; do sleep 0.02; done")
    run("toysub", "-h", path)
    assert toy.job(1)["state"] == "held"
    time.sleep(0.5)
    assert toy.job(1)["state"] == "held"  # a hold outlasts the queue time
    run("toyrls", "1")
    wait_state(toy, 1, "running")
    flag.touch()
    wait_state(toy, 1, "exiting")
    assert wait_state(toy, 1, "finished")["returncode"] == 0
    states = {run("toystat", "1").stdout.split()[1]}
    assert states == {"finished"}


def test_delete_terms_the_whole_group_then_kills_it(standin_wlm, tmp_path, monkeypatch, procs):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_WLM_KILL_DELAY", "0.5")
    pids = tmp_path / "pids"
    body = f"trap '' TERM; (trap '' TERM; echo $BASHPID >> {pids}; sleep 1000) & echo $$ >> {pids}; wait"
    run("toysub", script(tmp_path, body))
    child, shell = sorted(procs.read_pids(str(pids), 2))[:2]
    start = time.monotonic()
    assert run("toydel", "1").returncode == 0
    job = wait_state(toy, 1, "finished")
    assert time.monotonic() - start >= 0.4  # TERM was ignored: KILL came after the delay
    assert job["signal"] == 9 and job["returncode"] is None
    assert not procs.alive(child) and not procs.alive(shell)
    assert "Job has finished" in run("toydel", "1").stderr


def test_a_job_deleted_while_queued_never_runs(standin_wlm, tmp_path, monkeypatch):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANDIN_WLM_QUEUE_SECONDS", "30")
    marker = tmp_path / "ran"
    run("toysub", script(tmp_path, f"touch {marker}"))
    run("toydel", "1")
    job = wait_state(toy, 1, "finished")
    assert job["start_time"] is None and not marker.exists()


def test_a_job_ends_with_its_leftover_processes(standin_wlm, tmp_path, monkeypatch, procs):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    pids = tmp_path / "pids"
    run("toysub", script(tmp_path, f"sleep 1000 & echo $! > {pids}; exit 0"))
    orphan = procs.read_pids(str(pids), 1)[0]
    wait_state(toy, 1, "finished")
    deadline = time.monotonic() + 5
    while procs.alive(orphan) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not procs.alive(orphan)


def test_ranks_inside_a_job(standin_wlm, tmp_path, monkeypatch):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    run(
        "toysub", "-o", str(tmp_path / "o"), script(tmp_path, "toyrun -n 3 sh -c 'echo r$TOY_RANK'")
    )
    assert wait_state(toy, 1, "finished")["returncode"] == 0
    assert sorted((tmp_path / "o").read_text().split()) == ["r0", "r1", "r2"]
    assert run("toyrun", "true").stderr == "toyrun: not inside a job\n"


def test_fail_fault_prints_the_tools_error_for_the_next_n_calls(standin_wlm, tmp_path):
    toy = standin_wlm("toy")
    toy.fault("toystat", "fail", times=2)
    first, second, third = (run("toystat") for _ in range(3))
    assert first.returncode == second.returncode == 2
    assert "cannot connect to toy server" in first.stderr
    assert third.returncode == 0
    assert len(toy.calls("toystat")) == 3


def test_hang_fault_hangs_until_killed(standin_wlm):
    toy = standin_wlm("toy")
    toy.fault("toystat", "hang")
    with pytest.raises(subprocess.TimeoutExpired):
        run("toystat", timeout=1)


def test_garbage_fault_and_faults_from_the_environment(standin_wlm, monkeypatch):
    standin_wlm("toy")
    monkeypatch.setenv("STANDIN_WLM_FAULTS", "toystat=garbage")
    done = run("toystat")
    assert done.returncode == 0 and "Segmentation fault" in done.stdout


def test_lose_on_submit_prints_an_id_the_scheduler_then_denies(standin_wlm, tmp_path, monkeypatch):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "ran"
    toy.fault("toysub", "lose", times=1)
    assert run("toysub", script(tmp_path, f"touch {marker}")).stdout == "1\n"
    denied = run("toystat", "1")
    assert denied.returncode == 1 and "Unknown Job Id 1" in denied.stderr
    time.sleep(0.3)
    assert not marker.exists()


def test_lose_on_status_forgets_running_jobs_and_kills_them(
    standin_wlm, tmp_path, monkeypatch, procs
):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    pids = tmp_path / "pids"
    run("toysub", script(tmp_path, f"echo $$ > {pids}; exec sleep 1000"))
    pid = procs.read_pids(str(pids), 1)[0]
    toy.fault("toystat", "lose", times=1)
    assert run("toystat").stdout == ""
    assert "Unknown Job Id 1" in run("toystat", "1").stderr
    deadline = time.monotonic() + 5
    while procs.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not procs.alive(pid)


def test_close_kills_what_still_runs(standin_wlm, tmp_path, monkeypatch, procs):
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    pids = tmp_path / "pids"
    run("toysub", script(tmp_path, f"echo $$ > {pids}; exec sleep 1000"))
    pid = procs.read_pids(str(pids), 1)[0]
    # the script may run before its supervisor has recorded the job's process group
    recorded = time.monotonic() + 10
    while not any(j.get("pgid") for j in toy.store.jobs()) and time.monotonic() < recorded:
        time.sleep(0.02)
    assert pid in toy.close()
    deadline = time.monotonic() + 5
    while procs.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not procs.alive(pid)
    assert os.environ["STANDIN_WLM_DIR"] == str(toy.store.root)


@pytest.mark.parametrize("how", ["delete", "end"])
def test_processes_in_their_own_group_go_with_the_job(
    standin_wlm, tmp_path, monkeypatch, procs, how
):
    """Open MPI puts its ranks in process groups of their own; the job's session still
    holds them, and deleting or ending the job takes them too."""
    toy = standin_wlm("toy")
    monkeypatch.chdir(tmp_path)
    pids = tmp_path / "pids"
    ending = "wait" if how == "delete" else "exit 0"
    run("toysub", script(tmp_path, f"set -m; sleep 1000 & echo $! > {pids}; {ending}"))
    child = procs.read_pids(str(pids), 1)[0]
    assert os.getpgid(child) == child  # its own group, the job's session
    if how == "delete":
        run("toydel", "1")
    wait_state(toy, 1, "finished")
    deadline = time.monotonic() + 5
    while procs.alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not procs.alive(child)
