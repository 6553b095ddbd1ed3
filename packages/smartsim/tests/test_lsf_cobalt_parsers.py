"""LSF and Cobalt parsers on documented outputs (no scheduler), the batch scripts they
generate (golden text), and the jsrun ERF file."""

from __future__ import annotations

import json

import pytest

from smartsim._core.launcher.batch import render_script
from smartsim._core.launcher.cobalt import parser as cobalt
from smartsim._core.launcher.cobalt.launcher import CobaltLauncher
from smartsim._core.launcher.lsf import parser as lsf
from smartsim._core.launcher.lsf.launcher import LSFLauncher
from smartsim._core.launcher.step import StepContext
from smartsim.error import LauncherError, SSUnsupportedError
from smartsim.settings import BsubBatchSettings, CobaltBatchSettings, JsrunSettings
from smartsim.status import SmartSimStatus as S


# ---- LSF ---------------------------------------------------------------------------------------
def test_bsub_job_id():
    assert lsf.parse_bsub("Job <12345> is submitted to queue <debug>.") == "12345"
    assert lsf.parse_bsub("Warning: ...\nJob <7> is submitted to default queue <batch>.\n") == "7"
    with pytest.raises(LauncherError, match="bsub printed no job id"):
        lsf.parse_bsub("batch: No such queue. Job not submitted.")


def test_bsub_esub_error_lines():
    output = (
        "Batch job not submitted. Please address the following and resubmit: \n"
        "--------------------------------------------------------------------\n\n"
        "**  Project not specified.  Please specify a project using the -P flag. \n\n"
        "------------------------------------------------------------------\n"
        "Request aborted by esub. Job not submitted.\n"
    )
    assert lsf.parse_bsub_error(output) == (
        "Project not specified.  Please specify a project using the -P flag."
    )
    assert lsf.parse_bsub_error("plain error\n") == "plain error"


BJOBS_JSON = {
    "COMMAND": "bjobs",
    "JOBS": 5,
    "RECORDS": [
        {"JOBID": "101", "STAT": "PEND", "EXIT_CODE": ""},
        {"JOBID": "102", "STAT": "RUN", "EXIT_CODE": ""},
        {"JOBID": "103", "STAT": "DONE", "EXIT_CODE": ""},
        {"JOBID": "104", "STAT": "EXIT", "EXIT_CODE": "3"},
        {"JOBID": "105", "ERROR": "Job <105> is not found"},
    ],
}


def test_bjobs_json_states_exit_codes_and_unknown_jobs():
    states, unknown = lsf.parse_bjobs_json(json.dumps(BJOBS_JSON))
    assert {j: s.status for j, s in states.items()} == {
        "101": S.STATUS_QUEUED,
        "102": S.STATUS_RUNNING,
        "103": S.STATUS_COMPLETED,
        "104": S.STATUS_FAILED,
    }
    assert states["103"].returncode == 0 and states["104"].returncode == 3
    assert states["102"].returncode is None and states["104"].raw == "EXIT"
    assert unknown == {"105"}


def test_bjobs_garbage_is_an_error():
    with pytest.raises(LauncherError, match="not its -json output"):
        lsf.parse_bjobs_json("LSF is down. Please wait ...")


def test_bjobs_delimited_noheader():
    out = "101|PEND\n104|EXIT\nJob <9> is not found\n"
    assert lsf.parse_bjobs_delimited(out) == {"101": "PEND", "104": "EXIT"}


JSLIST = (
    "   parent                cpus      gpus      exit  \n"
    "ID   ID       nrs    per RS    per RS    status         status\n"
    "===============================================================================\n"
    "    2    1       168         1         1         1       Complete\n"
    "   10    1       168         1         1         1       Complete\n"
    "    1    1         4   various   various         0        Running\n"
    "    4    0         1   various   various       137         Killed\n"
)


def test_jslist_steps_and_latest_id():
    steps = lsf.parse_jslist(JSLIST)
    assert steps["1"] == ("Running", 0) and steps["4"] == ("Killed", 137)
    assert lsf.max_step_id(JSLIST) == 10
    assert lsf.max_step_id(JSLIST.split("=" * 79)[0]) == 0


def test_bsub_script_golden(tmp_path):
    bs = BsubBatchSettings(nodes=2, time="01:30:00", project="CSC123", smts=4)
    bs.set_queue("debug")
    bs.add_preamble("module load gcc")
    ctx = StepContext.for_entity("ens", str(tmp_path))
    launcher = LSFLauncher.__new__(LSFLauncher)  # the hooks need no running launcher
    directives = launcher.job_directives("ens-x", _batch(ctx, bs)) + bs.format_batch_args()
    text = render_script(
        LSFLauncher.template.read_text(),
        {
            "directives": [f"#BSUB {d}" for d in directives],
            "preamble": bs.preamble,
            "steps": ["step-line &", "pids+=($!)"],
        },
    )
    assert text.splitlines()[:12] == [
        "#!/bin/bash",
        "# Written by smartsim: one LSF batch job that starts every step below and waits for them.",
        "#BSUB -J ens-x",
        f"#BSUB -o {tmp_path}/ens.out",
        f"#BSUB -e {tmp_path}/ens.err",
        f"#BSUB -cwd {tmp_path}",
        "#BSUB -nnodes 2",
        "#BSUB -W 01:30",
        "#BSUB -P CSC123",
        "#BSUB -alloc_flags smt4",
        "#BSUB -q debug",
        "module load gcc",
    ]


def _batch(ctx, bs):
    from smartsim._core.launcher.step import BatchStep

    return BatchStep("ens-x", "ens", [], ctx, {}, batch_settings=bs)


def test_erf_file_for_mpmd():
    a = JsrunSettings("/bin/app", "-x", run_args={"np": 4, "bind": "rs"}, env_vars={"A": "1"})
    b = JsrunSettings("/bin/helper")
    b.set_erf_sets({"rank": "4", "host": "2", "cpu": "{0:2}", "gpu": "{0}"})
    a.make_mpmd(b)
    a.set_mpmd_preamble(["launch_distribution : cyclic", "overlapping_rs : allow"])
    assert a.erf_text().splitlines() == [
        "launch_distribution : cyclic",
        "overlapping_rs : allow",
        "",
        "app 0 : /bin/app -x",
        "app 1 : /bin/helper",
        "",
        "4 : { host: *; cpu: * } : app 0",
        "rank: 4 : { host: 2; cpu: {0:2}; gpu: {0} } : app 1",
    ]
    assert a.mpmd_launch_command("/d/s.mpmd", ["SSDB"]) == [
        "jsrun", "--bind=rs", "-E", "A=1", "-E", "SSDB", "--erf_input", "/d/s.mpmd",
    ]  # fmt: skip
    with pytest.raises(SSUnsupportedError, match="ERF file"):
        a.launch_command()


# ---- Cobalt -----------------------------------------------------------------------------------
def test_qsub_job_id_on_the_last_line():
    assert cobalt.parse_qsub('Job routed to queue "debug-flat-quad".\n1234567\n') == "1234567"
    with pytest.raises(LauncherError, match="qsub printed no job id"):
        cobalt.parse_qsub("Not all required arguments provided: time needed")


def test_qstat_table():
    out = "JobID    State\n===============\n101      queued\n102      running\n103      user_hold\n"
    assert cobalt.parse_qstat(out) == {"101": "queued", "102": "running", "103": "user_hold"}
    assert cobalt.parse_qstat("JobID  State\n============\n") == {}
    with pytest.raises(LauncherError, match="not its job table"):
        cobalt.parse_qstat("Failed to connect to queue manager\n")


def test_cobaltlog_exit_code():
    log = (
        "Jobid: 101\n$ qsub job.sh\n"
        "Wed Dec 02 12:03:19 2026 +00:00 (UTC) submitted with cwd set to: /tmp\n"
    )
    assert cobalt.parse_cobaltlog_exit(log) is None
    log += (
        "Wed Dec 02 12:03:20 2026 +00:00 (UTC) Info: task completed normally with an exit "
        "code of 3; initiating job cleanup and removal\n"
    )
    assert cobalt.parse_cobaltlog_exit(log) == 3


def test_cobalt_directives(tmp_path):
    bs = CobaltBatchSettings(nodes=2, time="00:30:00", queue="debug-cache-quad", account="proj")
    ctx = StepContext.for_entity("ens", str(tmp_path))
    launcher = CobaltLauncher.__new__(CobaltLauncher)
    assert launcher.job_directives("ens-x", _batch(ctx, bs)) + bs.format_batch_args() == [
        "--jobname ens-x",
        f"-o {tmp_path}/ens.out",
        f"-e {tmp_path}/ens.err",
        f"--cwd {tmp_path}",
        f"--debuglog {tmp_path}/ens.cobaltlog",
        "--nodecount 2",
        "--time 00:30:00",
        "--queue debug-cache-quad",
        "--project proj",
    ]


def test_lsf_orchestrator_gives_each_shard_its_resource_set(tmp_path):
    from smartsim.database import LSFOrchestrator

    with pytest.warns(DeprecationWarning):
        orc = LSFOrchestrator(
            cpus_per_shard=3, gpus_per_shard=1, interface="lo", path=str(tmp_path)
        )
    rs = orc.entities[0].run_settings
    assert isinstance(rs, JsrunSettings)
    assert rs.launch_command()[:5] == [
        "jsrun", "--np=1", "--tasks_per_rs=1", "--cpu_per_rs=3", "--gpu_per_rs=1",
    ]  # fmt: skip
    assert orc.batch_settings.format_batch_args() == ["-nnodes 1"]
