"""PBS Pro, PALS and Grid Engine specifics: parsers on captured output, the stand-ins'
refusals, job-name limits of old PBS servers, steps inside an allocation (aprun, PALS
mpiexec), qsub flavour detection, run_command="auto" and the settings. The end-to-end
batch tests shared with the other launchers are in ``test_wlm_batch_standins.py``."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from smartsim import Experiment
from smartsim._core.launcher import detect_launcher
from smartsim._core.launcher.pbs import parser as pbs_parser
from smartsim._core.launcher.pbs.launcher import short_job_name
from smartsim._core.launcher.sge import parser as sge_parser
from smartsim.error import LauncherError, SmartSimError
from smartsim.settings import create_run_settings
from smartsim.settings.pals import PalsMpiexecSettings
from smartsim.settings.sge import SgeQsubBatchSettings
from smartsim.status import SmartSimStatus as S

PBS_JSON = """{
    "timestamp":1700000000,
    "pbs_version":"2022.1.3",
    "pbs_server":"pbs01",
    "Jobs":{
        "10.pbs01":{"Job_Name":"a","job_state":"R","substate":42,"comment":"Job run at x"},
        "11.pbs01":{"Job_Name":"b","job_state":"F","substate":92,"Exit_status":0},
        "12.pbs01":{"Job_Name":"c","job_state":"F","substate":92,"Exit_status":3},
        "13.pbs01":{"Job_Name":"d","job_state":"F","substate":91,"Exit_status":271},
        "14.pbs01":{"Job_Name":"e","job_state":"F","substate":92,"Exit_status":265},
        "15.pbs01":{"Job_Name":"f","job_state":"F","substate":91},
        "16.pbs01":{"Job_Name":"g","job_state":"F","substate":93,"Exit_status":-29},
        "17.pbs01":{"Job_Name":"h","job_state":"H","substate":20},
        "18.pbs01":{"Job_Name":"i","job_state":"Q","substate":10}
    }
}"""

PBS_TEXT = """Job Id: 10.pbs01
    Job_Name = a
    job_state = F
    substate = 92
    Exit_status = 2
    Variable_List = PBS_O_HOME=/home/u,PBS_O_PATH=/usr/bin:/bin,
\tPBS_O_WORKDIR=/home/u

Job Id: 11.pbs01
    Job_Name = b
    job_state = R
"""


def test_pbs_qstat_json_states_and_exit_codes():
    states = pbs_parser.parse_qstat_json(PBS_JSON)
    got = {j: (s.status, s.returncode) for j, s in states.items()}
    assert got == {
        "10.pbs01": (S.STATUS_RUNNING, None),
        "11.pbs01": (S.STATUS_COMPLETED, 0),
        "12.pbs01": (S.STATUS_FAILED, 3),
        "13.pbs01": (S.STATUS_CANCELLED, -15),  # deleted: 256 + SIGTERM
        "14.pbs01": (S.STATUS_FAILED, -9),  # killed by a signal, not deleted
        "15.pbs01": (S.STATUS_CANCELLED, None),  # deleted before it ran
        "16.pbs01": (S.STATUS_FAILED, None),
        "17.pbs01": (S.STATUS_PAUSED, None),
        "18.pbs01": (S.STATUS_QUEUED, None),
    }
    assert "walltime" in states["16.pbs01"].reason
    assert pbs_parser.parse_qstat_json('{"timestamp":1,"pbs_version":"x"}') == {}
    with pytest.raises(LauncherError, match="not JSON"):
        pbs_parser.parse_qstat_json("Segmentation fault")


def test_pbs_qstat_text_and_small_outputs():
    states = pbs_parser.parse_qstat_full(PBS_TEXT)
    assert states["10.pbs01"].returncode == 2 and states["10.pbs01"].status == S.STATUS_FAILED
    assert states["11.pbs01"].status == S.STATUS_RUNNING
    with pytest.raises(LauncherError, match="Job Id"):
        pbs_parser.parse_qstat_full("garbage\n")
    assert pbs_parser.parse_qsub_output("4242.pbs01.example.org\n") == "4242.pbs01.example.org"
    with pytest.raises(LauncherError, match="no job id"):
        pbs_parser.parse_qsub_output("qsub: would exceed queue limit\n")
    assert pbs_parser.parse_version("pbs_version = 19.1.3") == (19, 1)
    assert pbs_parser.parse_version("Cobalt 1.0") is None
    assert pbs_parser.unknown_jobs("qstat: Unknown Job Id 7.pbs01\n") == {"7.pbs01"}


SGE_XML = """<?xml version='1.0'?>
<job_info  xmlns:xsd="http://arc.liv.ac.uk/repos/darcs/sge/source/dist/util/resources/schemas/qstat/qstat.xsd">
  <queue_info>
    <job_list state="running">
      <JB_job_number>5</JB_job_number><JB_name>a</JB_name><state>r</state>
    </job_list>
    <job_list state="running">
      <JB_job_number>6</JB_job_number><JB_name>b</JB_name><state>dr</state>
    </job_list>
  </queue_info>
  <job_info>
    <job_list state="pending">
      <JB_job_number>7</JB_job_number><JB_name>c</JB_name><state>qw</state>
    </job_list>
    <job_list state="pending">
      <JB_job_number>8</JB_job_number><JB_name>d</JB_name><state>hqw</state>
    </job_list>
    <job_list state="pending">
      <JB_job_number>9</JB_job_number><JB_name>e</JB_name><state>Eqw</state>
    </job_list>
  </job_info>
</job_info>"""

SGE_ACCT = """==============================================================
qname        all.q
jobnumber    5
failed       0
exit_status  0
==============================================================
qname        all.q
jobnumber    6
failed       100 : assumedly after job
exit_status  137
==============================================================
jobnumber    7
failed       0
exit_status  4
==============================================================
jobnumber    8
failed       26  : opening input/output file
exit_status  0
"""


def test_sge_parsers():
    states = {j: s.status for j, s in sge_parser.parse_qstat_xml(SGE_XML).items()}
    assert states == {
        "5": S.STATUS_RUNNING,
        "6": S.STATUS_RUNNING,
        "7": S.STATUS_QUEUED,
        "8": S.STATUS_PAUSED,
        "9": S.STATUS_FAILED,
    }
    with pytest.raises(LauncherError, match="not XML"):
        sge_parser.parse_qstat_xml("Segmentation fault")
    acct = {j: (s.status, s.returncode) for j, s in sge_parser.parse_qacct(SGE_ACCT).items()}
    assert acct == {
        "5": (S.STATUS_COMPLETED, 0),
        "6": (S.STATUS_CANCELLED, -9),
        "7": (S.STATUS_FAILED, 4),
        "8": (S.STATUS_FAILED, 0),
    }
    assert sge_parser.parse_qsub_output('Your job 12 ("x") has been submitted\n') == "12"
    assert sge_parser.parse_qsub_output("13\n") == "13"


# ---- the stand-ins refuse what the real tools refuse --------------------------------------------
def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60)


def test_pbs_standin_refusals(standin_wlm, tmp_path, monkeypatch):
    standin_wlm("pbs")
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "j.sh"
    script.write_text("#!/bin/bash\n#PBS -l select=1:ncpus=1\ntrue\n")
    unknown_queue = _run("qsub", "-q", "nope", str(script))
    assert (unknown_queue.returncode, unknown_queue.stderr) == (170, "qsub: Unknown queue\n")
    assert _run("qsub", "-N", "x" * 16, str(script)).returncode == 0  # a current server
    monkeypatch.setenv("STANDIN_PBS_VERSION", "12.2.1")
    too_long = _run("qsub", "-N", "x" * 16, str(script))
    assert too_long.returncode == 2 and "qsub: illegal -N value" in too_long.stderr
    assert _run("qsub", "-N", "x" * 15, str(script)).returncode == 0
    bad_select = _run("qsub", "-l", "select=2:ncpus=", str(script))
    assert bad_select.returncode != 0 and "Resource_List" in bad_select.stderr + "illegal"
    unknown = _run("qstat", "-f", "-F", "json", "-x", "99.pbs-standin")
    assert unknown.returncode == 153 and "Unknown Job Id 99.pbs-standin" in unknown.stderr


def test_sge_standin_refusals(standin_wlm, tmp_path, monkeypatch):
    standin_wlm("sge")
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "j.sh"
    script.write_text("#!/bin/bash\ntrue\n")
    assert "unknown queue" in _run("qsub", "-q", "nope", str(script)).stderr
    assert "parallel environment" in _run("qsub", "-pe", "foo", "2", str(script)).stderr
    assert "must not contain" in _run("qsub", "-N", "a:b", str(script)).stderr
    assert 'job "99" does not exist' in _run("qdel", "99").stderr


# ---- job names within an old server's 15 characters -------------------------------------------
def test_short_job_names_are_unique_and_start_with_a_letter():
    names = [short_job_name("ensemble_member_long", 15) for _ in range(500)]
    assert len(set(names)) == 500
    assert all(len(n) <= 15 and n[0].isalpha() for n in names)
    assert short_job_name("0db", 15)[0].isalpha()


def test_old_pbs_server_gets_15_character_names(standin_wlm, tmp_path, monkeypatch):
    standin = standin_wlm("pbs")
    monkeypatch.setenv("STANDIN_PBS_VERSION", "12.2.1")
    monkeypatch.setenv("SMARTSIM_WLM_POLL_INTERVAL", "0.1")
    monkeypatch.chdir(tmp_path)
    exp = Experiment("names", exp_path=str(tmp_path), launcher="pbs")
    bs = exp.create_batch_settings(nodes=1)
    rs = exp.create_run_settings("true", run_command="")
    models = [
        exp.create_model(f"simulation_member_{i}", rs, path=str(tmp_path), batch_settings=bs)
        for i in range(4)
    ]
    try:
        exp.start(*models)
        assert exp.get_status(*models) == [S.STATUS_COMPLETED] * 4
        names = [j["name"] for j in standin.jobs()]
        assert len(set(names)) == 4 and all(len(n) <= 15 for n in names)
    finally:
        exp._control.close()


# ---- steps inside an allocation ----------------------------------------------------------------
def test_aprun_and_pals_mpiexec_inside_a_batch_job(standin_wlm, tmp_path, monkeypatch):
    standin_wlm("pbs")
    monkeypatch.setenv("SMARTSIM_WLM_POLL_INTERVAL", "0.1")
    monkeypatch.chdir(tmp_path)
    out = {}
    for launcher, run_command in (("pbs", "aprun"), ("pals", "mpiexec")):
        exp = Experiment(launcher, exp_path=str(tmp_path), launcher=launcher)
        rs = exp.create_run_settings(
            "sh", ["-c", "echo rank ${ALPS_APP_PE:-$PALS_RANKID} $GREETING"], run_command="auto"
        )
        assert rs.run_command == run_command
        rs.set_tasks(3)
        rs.update_env({"GREETING": "hi"})
        model = exp.create_model(
            f"m_{launcher}", rs, path=str(tmp_path), batch_settings=exp.create_batch_settings()
        )
        try:
            exp.start(model)
            assert exp.get_status(model) == [S.STATUS_COMPLETED]
        finally:
            exp._control.close()
        out[launcher] = sorted((tmp_path / f"m_{launcher}.out").read_text().splitlines())
    assert out["pbs"] == ["rank 0 hi", "rank 1 hi", "rank 2 hi"]
    assert out["pals"] == out["pbs"]


def test_pals_settings_format():
    rs = create_run_settings("pals", "echo", ["x"], run_command="mpiexec")
    assert isinstance(rs, PalsMpiexecSettings)
    rs.set_tasks(8)
    rs.set_tasks_per_node(4)
    rs.set_cpu_binding_type("depth")
    rs.set_hostlist(["n1", "n2"])
    rs.update_env({"A": "1", "B": None})
    command = rs.launch_command(["SSDB"])
    assert command[:9] == [
        "mpiexec",
        "--np",
        "8",
        "--ppn",
        "4",
        "--cpu-bind",
        "depth",
        "--hosts",
        "n1,n2",
    ]
    assert command[9:13] == ["--env", "A=1", "--envlist", "B"]


def test_steps_needing_an_allocation_say_so(standin_wlm, tmp_path, monkeypatch):
    standin_wlm("pbs")
    monkeypatch.delenv("PBS_JOBID", raising=False)
    exp = Experiment("alloc", exp_path=str(tmp_path), launcher="pals")
    model = exp.create_model("m", exp.create_run_settings("true"), path=str(tmp_path))
    try:
        with pytest.raises(SmartSimError, match="needs a PBS job"):
            exp.start(model)
    finally:
        exp._control.close()


# ---- detection -----------------------------------------------------------------------------------
@pytest.mark.parametrize("wlm", ["pbs", "sge"])
def test_detect_launcher_and_auto_run_command(standin_wlm, wlm, monkeypatch):
    standin_wlm(wlm)
    monkeypatch.setenv("PATH", os.environ["PATH"])  # the stand-in's bin first, then the rest
    assert detect_launcher() == wlm
    assert Experiment("auto", launcher="auto").launcher == wlm
    expected = {"pbs": "aprun", "sge": "mpirun"}[wlm]
    assert create_run_settings(wlm, "echo", run_command="auto").run_command == expected


# ---- SGE settings ---------------------------------------------------------------------------------
def test_sge_batch_settings_format():
    bs = SgeQsubBatchSettings(nodes=2, ncpus=4, pe_type="mpi", time="01:00:00", queue="all.q")
    bs.set_account("proj")
    bs.set_resource("mem_free", "2G")
    assert bs.format_batch_args() == [
        "-pe mpi 8",
        "-l h_rt=01:00:00",
        "-l mem_free=2G",
        "-q all.q",
        "-A proj",
    ]
    with pytest.raises(SmartSimError, match="parallel environment"):
        SgeQsubBatchSettings(nodes=2).format_batch_args()
    assert SgeQsubBatchSettings().format_batch_args() == []


def test_sge_parallel_environment_reaches_the_job(standin_wlm, tmp_path, monkeypatch):
    standin_wlm("sge")
    monkeypatch.setenv("SMARTSIM_WLM_POLL_INTERVAL", "0.1")
    monkeypatch.chdir(tmp_path)
    exp = Experiment("pe", exp_path=str(tmp_path), launcher="sge")
    bs = exp.create_batch_settings(nodes=2, ncpus=2, pe_type="mpi", time="00:05:00")
    rs = exp.create_run_settings("sh", ["-c", "echo $PE $NSLOTS; cat $PE_HOSTFILE"], run_command="")
    model = exp.create_model("m", rs, path=str(tmp_path), batch_settings=bs)
    try:
        exp.start(model)
    finally:
        exp._control.close()
    lines = (tmp_path / "m.out").read_text().splitlines()
    assert lines[0] == "mpi 4" and lines[1].split()[1] == "4"


def test_a_deleted_pending_sge_job_is_cancelled_by_stop(standin_wlm, tmp_path, monkeypatch):
    standin = standin_wlm("sge")
    monkeypatch.setenv("SMARTSIM_WLM_POLL_INTERVAL", "0.1")
    monkeypatch.setenv("STANDIN_WLM_QUEUE_SECONDS", "60")
    monkeypatch.chdir(tmp_path)
    exp = Experiment("pending", exp_path=str(tmp_path), launcher="sge")
    model = exp.create_model(
        "m", exp.create_run_settings("true", run_command=""), path=str(tmp_path),
        batch_settings=exp.create_batch_settings(),
    )  # fmt: skip
    try:
        exp.start(model, block=False)
        deadline = time.monotonic() + 30
        while exp.get_status(model) != [S.STATUS_QUEUED] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert exp.get_status(model) == [S.STATUS_QUEUED]
        exp.stop(model)
        assert exp.get_status(model) == [S.STATUS_CANCELLED]
        assert standin.jobs()[0]["start_time"] is None
    finally:
        exp._control.close()
    assert not Path(tmp_path / "m.out").exists() or Path(tmp_path / "m.out").read_text() == ""
