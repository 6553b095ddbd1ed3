"""The launcher layer shared by the workload managers, with stand-in commands (no scheduler):
the command runner (timeouts, bounded retries), the poller (one call per poll), the batch
script template, job names, and the errors for bad input."""

from __future__ import annotations

import stat
import textwrap
import time

import pytest

from smartsim import Experiment
from smartsim._core.launcher.batch import JobState, render_script
from smartsim._core.launcher.poller import StatusPoller
from smartsim._core.launcher.shell import CommandRunner, RetryPolicy
from smartsim._core.launcher.slurm.launcher import SlurmLauncher
from smartsim._core.launcher.step import StepContext, job_name
from smartsim.error import LauncherError, ShellError, SmartSimError
from smartsim.settings import SbatchSettings, SrunSettings
from smartsim.status import SmartSimStatus as S


def script(path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


# ---- the command runner ------------------------------------------------------------------
def test_failing_command_gives_up_after_n_tries(tmp_path):
    cmd = script(
        tmp_path / "sacct", "echo 'sacct: error: slurmdbd: connection refused' >&2\nexit 1\n"
    )
    runner = CommandRunner("slurm", RetryPolicy(timeout=10, tries=3, backoff=0.01))
    with pytest.raises(ShellError) as err:
        runner.run([cmd, "-j", "1"], "asking sacct for job states")
    text = str(err.value)
    assert "asking sacct for job states: sacct failed 3 times" in text
    assert "connection refused" in text
    assert "SMARTSIM_WLM_TRIES" in text
    assert runner.calls["sacct"] == 3


def test_hanging_command_is_killed_with_its_children(tmp_path, procs):
    pidfile = tmp_path / "pid"
    cmd = script(tmp_path / "squeue", f"sleep 1000 &\necho $! > {pidfile}\nwait\n")
    runner = CommandRunner("slurm", RetryPolicy(timeout=0.5, tries=2, backoff=0.01))
    with pytest.raises(ShellError, match=r"squeue failed 2 times \(timed out after 0.5 s"):
        runner.run([cmd], "asking squeue for job states")
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 30  # SIGKILL was sent; under load it may take a moment
    while procs.alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not procs.alive(child)
    assert runner.calls["squeue"] == 2


def test_a_second_try_can_succeed(tmp_path):
    flag = tmp_path / "flag"
    cmd = script(
        tmp_path / "sacct",
        f"if [ -e {flag} ]; then echo '5|RUNNING|0:0|None'; exit 0; fi\ntouch {flag}\nexit 1\n",
    )
    runner = CommandRunner("slurm", RetryPolicy(timeout=10, tries=3, backoff=0.01))
    assert runner.run([cmd], "status").stdout.strip() == "5|RUNNING|0:0|None"
    assert runner.calls["sacct"] == 2


def test_accepted_output_and_missing_command(tmp_path):
    cmd = script(
        tmp_path / "scancel",
        "echo 'scancel: error: Job/step already completing or completed' >&2\nexit 1\n",
    )
    runner = CommandRunner("slurm", RetryPolicy(timeout=10, tries=3, backoff=0.01))
    runner.run([cmd, "7"], "cancel", accept=("already completing or completed",))
    assert runner.calls["scancel"] == 1
    with pytest.raises(ShellError, match="was not found"):
        runner.run([str(tmp_path / "nope")], "status")


def test_policy_from_environment(monkeypatch):
    monkeypatch.setenv("SMARTSIM_WLM_TIMEOUT", "2.5")
    monkeypatch.setenv("SMARTSIM_WLM_TRIES", "4")
    policy = RetryPolicy.from_env()
    assert (policy.timeout, policy.tries) == (2.5, 4)
    assert policy.once().tries == 1


# ---- the poller --------------------------------------------------------------------------
def test_one_query_per_poll_for_every_job():
    calls: list[list[str]] = []
    updates: dict[str, JobState | None] = {}

    def query(ids):
        calls.append(list(ids))
        return {
            i: JobState(S.STATUS_COMPLETED if int(i) % 2 else S.STATUS_RUNNING, "x") for i in ids
        }

    def on_update(job_id, state):
        updates[job_id] = state
        return state is not None and state.status is S.STATUS_COMPLETED

    poller = StatusPoller(query, on_update, lambda ids, exc: None, interval=3600)
    for i in range(200):
        poller.add(str(i))
    poller.poll_once()
    assert len(calls) == 1 and len(calls[0]) == 200
    assert len(updates) == 200
    assert sorted(poller.live(), key=int) == [str(i) for i in range(0, 200, 2)]
    poller.poll_once()
    assert len(calls) == 2 and len(calls[1]) == 100
    poller.close()


def test_poller_gives_up_once_the_runner_does():
    given_up: list[tuple[list[str], Exception]] = []

    def query(ids):
        raise ShellError("asking sacct for job states: sacct failed 3 times (exit 1: boom)")

    poller = StatusPoller(query, lambda j, s: False, lambda ids, e: given_up.append((ids, e)), 3600)
    poller.add("1")
    poller.add("2")
    poller.poll_once()
    assert given_up and sorted(given_up[0][0]) == ["1", "2"]
    assert "sacct failed 3 times" in str(given_up[0][1])
    assert poller.live() == []
    poller.close()


# ---- batch scripts and names ---------------------------------------------------------------
def test_render_script_drops_empty_sections_and_fails_on_unknown_names():
    tmpl = "#!/bin/bash\n$directives\n$preamble\necho $name $$HOME\n"
    text = render_script(tmpl, {"directives": ["#X -a"], "preamble": [], "name": "n"})
    assert text == "#!/bin/bash\n#X -a\necho n $HOME\n"
    with pytest.raises(LauncherError, match=r"no value for \$name"):
        render_script(tmpl, {"directives": [], "preamble": []})


def test_sbatch_script_golden(tmp_path):
    launcher = SlurmLauncher()
    try:
        members = []
        for i in range(2):
            rs = SrunSettings("/bin/echo", [f"hi {i}"], run_args={"nodes": 1, "ntasks": 1})
            rs.update_env({"A": "1"})
            ctx = StepContext.for_entity(
                f"m{i}", str(tmp_path), {"SSKEYOUT": f"m{i}"}, in_batch=True
            )
            members.append(launcher.create_step(f"m{i}", rs, ctx))
        bs = SbatchSettings(nodes=2, time="00:05:00", batch_args={"partition": "debug"})
        bs.add_preamble(["module load x"])
        ctx = StepContext.for_entity("ens", str(tmp_path))
        step = launcher.create_batch_step("ens", bs, members, ctx)
    finally:
        launcher.close()
    p = str(tmp_path)
    name = step.name
    assert name.startswith("ens-") and len(name) <= 64
    assert step.command == ["sbatch", "--parsable", f"{p}/ens.batch.sh"]
    expected = f"""#!/bin/bash
# Written by smartsim: one batch job that starts every step below and waits for them.
#SBATCH --job-name={name}
#SBATCH --output={p}/ens.out
#SBATCH --error={p}/ens.err
#SBATCH --chdir={p}
#SBATCH --partition=debug
#SBATCH --nodes=2
#SBATCH --time=00:05:00
module load x
pids=()
(cd {p} && exec env A=1 SSKEYOUT=m0 srun --nodes=1 --ntasks=1 /bin/echo 'hi 0') > {p}/m0.out 2> {p}/m0.err &
pids+=($!)
(cd {p} && exec env A=1 SSKEYOUT=m1 srun --nodes=1 --ntasks=1 /bin/echo 'hi 1') > {p}/m1.out 2> {p}/m1.err &
pids+=($!)
rc=0
for pid in "${{pids[@]}}"; do
  wait "$pid" || rc=$?
done
exit $rc
"""
    assert open(step.script).read() == expected


def test_job_names_are_unique_short_and_safe():
    names = {job_name("a very long entity name/with odd chars " * 4, 64) for _ in range(1000)}
    assert len(names) == 1000
    assert all(len(n) <= 64 and all(c.isalnum() or c in "_.-" for c in n) for n in names)
    with pytest.raises(ValueError):
        job_name("x", 5)


# ---- errors for bad input ----------------------------------------------------------------------
def test_srun_outside_an_allocation_without_alloc(tmp_path, monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    exp = Experiment("e", exp_path=str(tmp_path), launcher="slurm")
    model = exp.create_model(
        "m", exp.create_run_settings("true", run_command="srun"), path=str(tmp_path)
    )
    with pytest.raises(SmartSimError, match="srun needs an allocation to run m") as err:
        exp.start(model)
    assert "get_allocation" in str(err.value)
    with pytest.raises(SmartSimError, match="never launched"):
        exp.get_status(model)


def test_het_group_needs_a_heterogeneous_allocation(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "1")
    monkeypatch.delenv("SLURM_HET_SIZE", raising=False)
    exp = Experiment("e", exp_path=str(tmp_path), launcher="slurm")
    rs = exp.create_run_settings("true", run_command="srun")
    rs.set_het_group(1)
    model = exp.create_model("m", rs, path=str(tmp_path))
    with pytest.raises(SmartSimError, match="not heterogeneous"):
        exp.start(model)
    monkeypatch.setenv("SLURM_HET_SIZE", "1")
    with pytest.raises(SmartSimError, match="het-group 1 does not exist"):
        exp.start(model)


def test_batch_settings_on_the_local_launcher(tmp_path):
    exp = Experiment("e", exp_path=str(tmp_path), launcher="local")
    rs = exp.create_run_settings("true")
    model = exp.create_model("m", rs, path=str(tmp_path), batch_settings=SbatchSettings(nodes=1))
    with pytest.raises(SmartSimError, match="Model 'm' has batch_settings, but the local"):
        exp.start(model)
    ens = exp.create_ensemble(
        "e", batch_settings=SbatchSettings(nodes=1), run_settings=rs, replicas=2
    )
    with pytest.raises(SmartSimError, match="Ensemble 'e' has batch_settings"):
        exp.start(ens)
    with pytest.raises(TypeError, match="must be a BatchSettings"):
        exp.create_model("m2", rs, batch_settings="sbatch")  # type: ignore[arg-type]
