"""The Slurm launcher on the real multi-node test cluster (marker ``slurm``).

Steps in an allocation (srun, MPMD, mpirun, srun -n across nodes), batch ensembles and
batch models, stop(), a driver interrupted by SIGINT, a failing or hanging status command,
and a job Slurm refuses.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from smartsim import Experiment
from smartsim.error import AllocationError, SmartSimError
from smartsim.settings import SrunSettings
from smartsim.status import SmartSimStatus as S
from smartsim.wlm import slurm

pytestmark = [pytest.mark.slurm, pytest.mark.timeout(300)]

ROOT_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}

MPI_PROGRAM = r"""
#include <stdio.h>
#include <unistd.h>
/* Open MPI's ABI, declared here: no MPI headers are needed, only libmpi.so.40 */
extern char ompi_mpi_comm_world[], ompi_mpi_int[], ompi_mpi_op_sum[];
int MPI_Init(int *argc, char ***argv);
int MPI_Comm_rank(void *comm, int *rank);
int MPI_Comm_size(void *comm, int *size);
int MPI_Allreduce(const void *in, void *out, int count, void *type, void *op, void *comm);
int MPI_Finalize(void);
int main(int argc, char **argv) {
    int rank, size, sum = 0;
    char host[256];
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(ompi_mpi_comm_world, &rank);
    MPI_Comm_size(ompi_mpi_comm_world, &size);
    MPI_Allreduce(&rank, &sum, 1, ompi_mpi_int, ompi_mpi_op_sum, ompi_mpi_comm_world);
    gethostname(host, sizeof host);
    printf("rank %d of %d on %s sum %d\n", rank, size, host, sum);
    MPI_Finalize();
    return 0;
}
"""


def squeue(*args: str) -> str:
    return subprocess.run(
        ["squeue", "-h", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def queued_ids() -> set[str]:
    return set(squeue("-o", "%i").split())


def _cmdline(pid: int) -> str | None:
    """The command line of a live process (None for a zombie or a process that is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def processes_with(marker: str, cluster=None) -> list[str]:
    """Live processes whose command line contains ``marker``: on the cluster's nodes
    (``ip netns pids``) when ``cluster`` is given, else anywhere on this machine."""
    if cluster is not None:
        pids = [p for node in cluster.nodes for p in cluster.node_pids(node)]
    else:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    found = []
    for pid in pids:
        cmd = _cmdline(pid)
        if cmd is not None and marker in cmd:
            found.append(f"{pid}: {cmd}")
    return found


def sleepers(marker: str, cluster) -> list[str]:
    """The ``sleep <marker>`` programs themselves on the nodes (not the sruns around them)."""
    found = processes_with(f"sleep {marker}", cluster)
    return [p for p in found if os.path.basename(p.split(": ", 1)[1].split()[0]) == "sleep"]


def wait_for(predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached within {timeout} s")


@pytest.fixture
def exp(tmp_path, slurm_cluster):
    e = Experiment("slurm-test", exp_path=str(tmp_path), launcher="slurm")
    yield e
    e._control.stop_all()
    e._control.close()


@pytest.fixture(scope="module")
def alloc(slurm_cluster):
    """Two nodes, two CPUs each, for the step tests."""
    job = slurm.get_allocation(nodes=2, time="00:30:00", options={"ntasks-per-node": 2})
    yield job
    slurm.release_allocation(job)


@pytest.fixture(scope="module")
def mpi_hello(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("mpi") / "hello"
    src = path.with_suffix(".c")
    src.write_text(MPI_PROGRAM)
    subprocess.run(["cc", "-o", str(path), str(src), "-l:libmpi.so.40"], check=True)
    return str(path)


# ---- steps in an allocation ---------------------------------------------------------------
def test_model_in_allocation(exp, alloc, tmp_path):
    hosts = slurm.get_hosts(alloc)
    assert len(hosts) == 2
    rs = exp.create_run_settings(
        "sh",
        ["-c", 'echo "$(hostname) $SLURM_PROCID $MY_VAR $SSKEYOUT"'],
        run_command="srun",
        alloc=alloc,
        env_vars={"MY_VAR": "x,y"},
    )
    assert isinstance(rs, SrunSettings)
    rs.set_nodes(2)
    rs.set_tasks(2)
    model = exp.create_model("hosts", rs, path=str(tmp_path), enable_key_prefixing=True)
    failing = exp.create_model(
        "failing",
        exp.create_run_settings("sh", ["-c", "exit 3"], run_command="srun", alloc=alloc),
        path=str(tmp_path),
    )
    exp.start(model, failing, block=True)
    assert exp.get_status(model, failing) == [S.STATUS_COMPLETED, S.STATUS_FAILED]
    assert exp._control.jobs.get_job("hosts").returncode == 0
    assert exp._control.jobs.get_job("failing").returncode == 3
    lines = (tmp_path / "hosts.out").read_text().splitlines()
    assert sorted(line.split()[1] for line in lines) == ["0", "1"]
    assert {line.split()[0] for line in lines} == set(hosts)
    assert all(line.endswith(" x,y hosts") for line in lines)
    assert alloc in exp.summary()


def test_auto_run_command_and_mpmd_in_the_drivers_allocation(exp, alloc, tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", alloc)
    first = exp.create_run_settings("sh", ["-c", "echo A $(hostname)"], run_command="auto")
    assert isinstance(first, SrunSettings)
    first.set_nodes(1)
    second = exp.create_run_settings("sh", ["-c", "echo B $(hostname)"])
    second.set_nodes(1)
    first.make_mpmd(second)
    model = exp.create_model("mpmd", first, path=str(tmp_path))
    exp.start(model)
    assert exp.get_status(model) == [S.STATUS_COMPLETED], (tmp_path / "mpmd.err").read_text()
    words = sorted(line.split()[0] for line in (tmp_path / "mpmd.out").read_text().splitlines())
    assert words == ["A", "B"]


def test_stop_a_running_step(exp, alloc, tmp_path, slurm_cluster):
    marker = f"{1000 + uuid.uuid4().int % 10000}"
    rs = exp.create_run_settings("sleep", [marker], run_command="srun", alloc=alloc)
    model = exp.create_model("sleeper", rs, path=str(tmp_path))
    exp.start(model, block=False)
    wait_for(lambda: "sleeper" in squeue("-s", "-o", "%j"), what="the step to run")
    exp.stop(model)
    assert exp.get_status(model) == [S.STATUS_CANCELLED]
    wait_for(lambda: "sleeper" not in squeue("-s", "-o", "%j"), 30, "the step to leave squeue")
    assert processes_with(f"sleep {marker}", slurm_cluster) == []


def test_stopped_step_gets_sigterm_before_it_is_killed(exp, alloc, tmp_path, slurm_cluster):
    """A plain ``scancel`` of a step SIGKILLs its tasks; stop() sends SIGTERM first, so a
    task can clean up (Ray removes its temp dirs, a database saves)."""
    script = tmp_path / "trap.sh"
    done = tmp_path / "cleaned-up"
    script.write_text(f"trap 'echo bye > {done}; exit 0' TERM\nwhile true; do sleep 0.2; done\n")
    rs = exp.create_run_settings("bash", [str(script)], run_command="srun", alloc=alloc)
    model = exp.create_model("trapper", rs, path=str(tmp_path))
    exp.start(model, block=False)
    wait_for(lambda: "trapper" in squeue("-s", "-o", "%j"), what="the step to run")
    time.sleep(1)  # bash has set its trap
    exp.stop(model)
    assert exp.get_status(model) == [S.STATUS_CANCELLED]
    assert done.read_text() == "bye\n"


# ---- MPI across two nodes ------------------------------------------------------------------
def _mpi_lines(path) -> list[str]:
    return sorted(path.read_text().splitlines())


def test_mpirun_across_two_nodes_inside_the_allocation(
    exp, alloc, tmp_path, monkeypatch, mpi_hello
):
    hosts = slurm.get_hosts(alloc)
    # what salloc's shell would have: Open MPI finds the nodes through these variables
    monkeypatch.setenv("SLURM_JOB_ID", alloc)
    monkeypatch.setenv("SLURM_JOBID", alloc)
    monkeypatch.setenv("SLURM_NODELIST", ",".join(hosts))
    monkeypatch.setenv("SLURM_JOB_NODELIST", ",".join(hosts))
    monkeypatch.setenv("SLURM_TASKS_PER_NODE", "2(x2)")
    monkeypatch.setenv("SLURM_NNODES", "2")
    monkeypatch.setenv("SLURM_JOB_NUM_NODES", "2")
    rs = exp.create_run_settings(mpi_hello, run_command="mpirun", env_vars=ROOT_ENV)
    rs.set_tasks(4)
    model = exp.create_model("mpi", rs, path=str(tmp_path))
    exp.start(model)
    assert exp.get_status(model) == [S.STATUS_COMPLETED], (tmp_path / "mpi.err").read_text()
    lines = _mpi_lines(tmp_path / "mpi.out")
    assert len(lines) == 4 and all(line.endswith("sum 6") for line in lines)
    assert {line.split()[5] for line in lines} == set(hosts)


def test_mpirun_in_a_batch_job_across_two_nodes(exp, tmp_path, mpi_hello):
    rs = exp.create_run_settings(mpi_hello, run_command="mpirun", env_vars=ROOT_ENV)
    rs.set_tasks(4)
    bs = exp.create_batch_settings(nodes=2, time="00:05:00", batch_args={"ntasks-per-node": 2})
    model = exp.create_model("mpib", rs, path=str(tmp_path), batch_settings=bs)
    exp.start(model)
    assert exp.get_status(model) == [S.STATUS_COMPLETED], (tmp_path / "mpib.err").read_text()
    lines = _mpi_lines(tmp_path / "mpib.out")
    assert len(lines) == 4 and all(line.endswith("sum 6") for line in lines)
    assert len({line.split()[5] for line in lines}) == 2


def test_srun_n_across_two_nodes(exp, alloc, tmp_path, mpi_hello):
    # srun starts Open MPI programs only through PMIx, whose plugin needs libpmix.so
    # (Debian's libpmix-dev): where it cannot load, the ranks come from Slurm alone
    probe = subprocess.run(
        ["srun", f"--jobid={alloc}", "--mpi=pmix", "-n1", "true"], capture_output=True, timeout=60
    )
    if probe.returncode == 0:
        rs = exp.create_run_settings(
            mpi_hello, run_command="srun", alloc=alloc, run_args={"mpi": "pmix"}
        )
    else:
        rs = exp.create_run_settings(
            "sh",
            ["-c", 'echo "rank $SLURM_PROCID of $SLURM_NTASKS on $(hostname) sum 6"'],
            run_command="srun",
            alloc=alloc,
        )
    rs.set_nodes(2)
    rs.set_tasks(4)
    model = exp.create_model("srunmpi", rs, path=str(tmp_path))
    exp.start(model)
    assert exp.get_status(model) == [S.STATUS_COMPLETED], (tmp_path / "srunmpi.err").read_text()
    lines = _mpi_lines(tmp_path / "srunmpi.out")
    assert sorted(line.split()[1] for line in lines) == ["0", "1", "2", "3"]
    assert {line.split()[5] for line in lines} == set(slurm.get_hosts(alloc))


# ---- batch jobs ---------------------------------------------------------------------------
def test_batch_ensemble_of_four_spread_over_nodes(exp, tmp_path):
    bs = exp.create_batch_settings(nodes=2, time="00:05:00", batch_args={"ntasks-per-node": 2})
    rs = exp.create_run_settings(
        "sh", ["-c", "hostname; sleep 2; echo $SSKEYOUT"], run_command="srun"
    )
    rs.set_nodes(1)
    rs.set_tasks(1)
    rs.set("exact")  # only the CPU it asks for: the four members run side by side
    ens = exp.create_ensemble("ens", batch_settings=bs, run_settings=rs, replicas=4)
    exp.generate(ens)
    exp.start(ens, block=True)
    assert exp.get_status(ens) == [S.STATUS_COMPLETED]
    assert exp.get_status(ens.entities[0]) == [S.STATUS_COMPLETED]
    hosts = set()
    for member in ens.entities:
        out = open(os.path.join(member.path, f"{member.name}.out")).read().split()
        assert out[1] == member.name
        hosts.add(out[0])
    assert len(hosts) == 2
    job = exp._control.jobs.get_job("ens")
    assert job is not None and job.current.job_id.isdigit() and job.returncode == 0
    assert job.current.job_id not in queued_ids()


def test_single_batch_model_both_ways(exp, tmp_path):
    bs = exp.create_batch_settings(nodes=1, time="00:05:00")
    rs = exp.create_run_settings("sh", ["-c", "echo one"], run_command="srun")
    model = exp.create_model("one", rs, path=str(tmp_path), batch_settings=bs)  # 0.5+
    single = exp.create_ensemble("single", batch_settings=bs, path=str(tmp_path))  # 0.4
    single.add_model(exp.create_model("member", rs, path=str(tmp_path)))
    bad = exp.create_model(
        "bad",
        exp.create_run_settings("sh", ["-c", "exit 3"], run_command="srun"),
        path=str(tmp_path),
        batch_settings=bs,
    )
    exp.start(model, single, bad)
    assert exp.get_status(model, single, bad) == [
        S.STATUS_COMPLETED,
        S.STATUS_COMPLETED,
        S.STATUS_FAILED,
    ]
    assert (tmp_path / "one.out").read_text() == "one\n"
    assert (tmp_path / "member.out").read_text() == "one\n"
    assert exp._control.jobs.get_job("bad").returncode == 3


def test_stop_a_running_batch_job(exp, tmp_path, slurm_cluster):
    marker = f"{1000 + uuid.uuid4().int % 10000}"
    bs = exp.create_batch_settings(nodes=1, time="00:05:00", batch_args={"ntasks": 2})
    # --exact: a step gets only the CPUs it asks for, so both run side by side
    rs = exp.create_run_settings(
        "sleep", [marker], run_command="srun", run_args={"ntasks": 1, "exact": None}
    )
    ens = exp.create_ensemble(
        "sleepers", batch_settings=bs, run_settings=rs, replicas=2, path=str(tmp_path)
    )
    exp.start(ens, block=False)
    wait_for(lambda: exp.get_status(ens) == [S.STATUS_RUNNING], what="the job to run")
    wait_for(
        lambda: len(sleepers(marker, slurm_cluster)) == 2,
        what="both steps to start",
    )
    job_id = exp._control.jobs.get_job("sleepers").current.job_id
    exp.stop(ens)
    assert exp.get_status(ens) == [S.STATUS_CANCELLED]
    assert job_id not in queued_ids()
    assert processes_with(f"sleep {marker}", slurm_cluster) == []


# ---- the driver interrupted ------------------------------------------------------------------
DRIVER = textwrap.dedent(
    """
    import sys, time
    from smartsim import Experiment

    workdir, alloc, marker, mode = sys.argv[1:5]
    exp = Experiment("drv", exp_path=workdir, launcher="slurm")
    bs = exp.create_batch_settings(nodes=1, time="00:05:00", batch_args={"ntasks": 2})
    rs = exp.create_run_settings(
        "sleep", [marker], run_command="srun", run_args={"ntasks": 1, "exact": None}
    )
    ens = exp.create_ensemble("batched", batch_settings=bs, run_settings=rs, replicas=2)
    step = exp.create_model(
        "step",
        exp.create_run_settings(
            "sleep", [marker], run_command="srun", alloc=alloc, run_args={"nodes": 1, "ntasks": 1}
        ),
    )
    exp.generate(ens, step)
    print("starting", flush=True)
    exp.start(ens, step, block=mode == "block")  # Ctrl-C here, or in the sleep below
    time.sleep(1000)
    """
)


@pytest.mark.parametrize(
    "mode,sig",
    [("block", signal.SIGINT), ("nonblock", signal.SIGINT), ("nonblock", signal.SIGTERM)],
)
def test_interrupted_driver_cancels_every_job_and_step(slurm_cluster, alloc, tmp_path, mode, sig):
    marker = f"{1000 + uuid.uuid4().int % 10000}"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    driver = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), alloc, marker, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = driver.stdout.readline()
        assert line.startswith("starting"), driver.stderr.read()
        wait_for(
            lambda: len(sleepers(marker, slurm_cluster)) == 3,
            what="both sleepers of the batch job and the step",
        )
        # this test's batch job: other tests (under xdist) may run batch jobs at the same time
        jobs = [
            f[0]
            for f in (j.split() for j in squeue("-o", "%i %j %Z").splitlines())
            if len(f) > 2 and f[1].startswith("batched-") and f[2].startswith(str(tmp_path))
        ]
        assert len(jobs) == 1, squeue("-o", "%i %j %Z")
        driver.send_signal(sig)
        _, err = driver.communicate(timeout=120)
        assert driver.returncode != 0
        if sig == signal.SIGINT:
            assert "KeyboardInterrupt" in err
        # a cancelled job or step may show (completing) for a moment after scancel returns
        wait_for(lambda: jobs[0] not in queued_ids(), timeout=30, what="the batch job gone")
        wait_for(
            lambda: "step-" not in squeue("-s", "-j", alloc, "-o", "%j"),
            timeout=30,
            what="the step in the allocation gone",
        )
        assert processes_with(f"sleep {marker}", slurm_cluster) == []
    finally:
        if driver.poll() is None:  # a failed check: let the driver clean up before killing it
            driver.send_signal(signal.SIGTERM)
            try:
                driver.wait(timeout=60)
            except subprocess.TimeoutExpired:
                driver.kill()
                driver.wait()


# ---- a broken status command, a refused job ------------------------------------------------------
def _stand_in(directory, name: str, body: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize(
    "mode,command,body,expected",
    [
        (
            "sacct",
            "sacct",
            "echo 'sacct: error: Problem talking to the database' >&2\nexit 1\n",
            "sacct failed 2 times (exit 1: sacct: error: Problem talking to the database",
        ),
        ("sacct", "sacct", "sleep 1000\n", "sacct failed 2 times (timed out after 1 s"),
        ("squeue", "squeue", "sleep 1000\n", "squeue failed 2 times (timed out after 1 s"),
    ],
    ids=["sacct-fails", "sacct-hangs", "squeue-hangs"],
)
def test_broken_status_command_gives_a_clear_error(
    slurm_cluster, tmp_path, monkeypatch, mode, command, body, expected
):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stand_in(bin_dir, command, body)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("SMARTSIM_SLURM_STATUS", mode)
    monkeypatch.setenv("SMARTSIM_WLM_TIMEOUT", "1")
    monkeypatch.setenv("SMARTSIM_WLM_TRIES", "2")
    monkeypatch.setenv("SMARTSIM_WLM_POLL_INTERVAL", "0.2")
    exp = Experiment("broken", exp_path=str(tmp_path), launcher="slurm")
    bs = exp.create_batch_settings(nodes=1, time="00:05:00")
    rs = exp.create_run_settings("sleep", ["30"], run_command="srun")
    model = exp.create_model("waits", rs, path=str(tmp_path), batch_settings=bs)
    try:
        with pytest.raises(SmartSimError) as err:
            exp.start(model, block=True)
        assert expected in str(err.value)
        assert exp.get_status(model) == [S.STATUS_FAILED]
        job_id = exp._control.jobs.get_job("waits").current.job_id
    finally:
        monkeypatch.setenv("PATH", os.environ["PATH"].split(":", 1)[1])
        exp._control.stop_all()  # the job is still cancelled
        exp._control.close()
    wait_for(lambda: job_id not in queued_ids(), 60, "the job to be cancelled")


def test_bad_partition_surfaces_slurms_message(exp, tmp_path):
    bs = exp.create_batch_settings(nodes=1, time="00:05:00", queue="nope")
    rs = exp.create_run_settings("true", run_command="srun")
    ens = exp.create_ensemble(
        "refused", batch_settings=bs, run_settings=rs, replicas=2, path=str(tmp_path)
    )
    with pytest.raises(SmartSimError) as err:
        exp.start(ens)
    text = str(err.value)
    assert "Ensemble 'refused'" in text and "Invalid partition name specified" in text
    with pytest.raises(AllocationError, match=r"(?i)invalid partition"):
        slurm.get_allocation(nodes=1, options={"partition": "nope"}, timeout=60)


def test_status_source_follows_the_clusters_accounting(exp, slurm_cluster):
    assert exp._control.launcher.status_mode() == (
        "sacct" if slurm_cluster.accounting else "squeue"
    )


def test_a_job_slurmctld_forgot_is_read_from_the_completion_records(exp, tmp_path):
    bs = exp.create_batch_settings(nodes=1, time="00:05:00")
    bad = exp.create_model(
        "bad",
        exp.create_run_settings("sh", ["-c", "exit 4"], run_command=""),
        path=str(tmp_path),
        batch_settings=bs,
    )
    exp.start(bad)
    job_id = exp._control.jobs.get_job("bad").current.job_id
    # what the squeue mode does once the job is older than MinJobAge and squeue forgot it
    state = exp._control.launcher._left_queue([job_id])[job_id]
    assert (state.status, state.returncode) == (S.STATUS_FAILED, 4)
    unknown = exp._control.launcher._left_queue(["999999"])["999999"]
    assert unknown.status == S.STATUS_COMPLETED and "no accounting" in unknown.reason


def test_allocation_helpers(slurm_cluster):
    assert slurm.get_default_partition() == "debug"
    assert slurm.validate(nodes=1, ppn=1)
    assert not slurm.validate(nodes=100, ppn=1)
    with pytest.raises(Exception, match="does not exist"):
        slurm.validate(partition="nope")


HET_DRIVER = textwrap.dedent(
    """
    import sys
    from smartsim import Experiment

    exp = Experiment("het", exp_path=sys.argv[1], launcher="slurm")
    models = []
    for group in (0, 1):
        rs = exp.create_run_settings("hostname", run_command="srun")
        rs.set_het_group(group)
        models.append(exp.create_model(f"g{group}", rs, path=sys.argv[1]))
    exp.start(*models)
    print(*exp.get_status(*models))
    """
)


def test_het_groups_in_a_heterogeneous_allocation(slurm_cluster, tmp_path):
    # Slurm schedules heterogeneous jobs in its backfill cycle only (up to bf_interval, 30 s
    # here), and marks the nodes "planned" until the next cycle.
    script = tmp_path / "het.py"
    script.write_text(HET_DRIVER)
    result = subprocess.run(
        ["salloc", "-N1", ":", "-N1", sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.stdout.split() == ["Completed", "Completed"], result.stderr
    hosts = [(tmp_path / f"g{g}.out").read_text().strip() for g in (0, 1)]
    assert hosts[0] != hosts[1] and set(hosts) <= set(slurm_cluster.nodes)
