"""Settings are pure data: formatting, set_* methods, MPMD, factories and bad input."""

from __future__ import annotations

import os
import shutil

import pytest

from smartsim.error import SmartSimError, SSConfigError, SSUnsupportedError
from smartsim.settings import (
    AprunSettings,
    BsubBatchSettings,
    CobaltBatchSettings,
    JsrunSettings,
    MpiexecSettings,
    MpirunSettings,
    OrterunSettings,
    QsubBatchSettings,
    RunSettings,
    SbatchSettings,
    SrunSettings,
    create_batch_settings,
    create_run_settings,
)


def test_run_settings_is_pure_data_no_path_lookup():
    rs = RunSettings("definitely-not-a-binary-xyz", "a 'b c'", env_vars={"A": 1})
    assert rs.exe == ["definitely-not-a-binary-xyz"]
    assert rs.exe_args == ["a", "b c"]
    assert rs.run_command is None
    assert rs.launch_command() == ["definitely-not-a-binary-xyz", "a", "b c"]
    assert rs.format_env_vars() == ["A=1"]


def test_run_settings_arg_handling():
    rs = RunSettings("prog", ["x"])
    rs.add_exe_args("--flag value")
    rs.add_exe_args(["y"])
    assert rs.exe_args == ["x", "--flag", "value", "y"]
    with pytest.raises(TypeError, match="list of str"):
        rs.add_exe_args(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        RunSettings("")
    with pytest.raises(TypeError, match="run_args"):
        RunSettings("prog", run_args=["not", "a", "dict"])  # type: ignore[arg-type]
    rs.update_env({"K": "v"})
    assert rs.env_vars == {"K": "v"}
    with pytest.raises(TypeError):
        rs.update_env({"K": object()})  # type: ignore[dict-item]


def test_base_run_settings_rejects_run_command_options():
    rs = RunSettings("prog")
    for call in (rs.set_tasks, rs.set_tasks_per_node, rs.set_cpus_per_task):
        with pytest.raises(SSUnsupportedError, match="run_args"):
            call(2)
    with pytest.raises(SSUnsupportedError):
        rs.make_mpmd(RunSettings("other"))


def test_unknown_run_command_passes_args_literally():
    rs = RunSettings("prog", ["a"], run_command="mylauncher", run_args={"-k": "v", "--flag": None})
    assert rs.launch_command() == ["mylauncher", "-k", "v", "--flag", "prog", "a"]


@pytest.mark.parametrize(
    "cls,cmd",
    [(MpirunSettings, "mpirun"), (MpiexecSettings, "mpiexec"), (OrterunSettings, "orterun")],
)
def test_openmpi_formatting(cls, cmd):
    rs = cls("prog", "arg", env_vars={"A": "1", "FROM_DRIVER": None})
    rs.set_tasks(4)
    rs.set_task_map("ppr:1:node")
    rs.set_tasks_per_node(2)
    rs.set_cpus_per_task(3)
    rs.set_hostlist(["n1", "n2"])
    rs.set_verbose_launch(True)
    assert rs.run_command == cmd
    assert rs.format_run_args() == [
        "-n",
        "4",
        "--map-by",
        "ppr:1:node",
        "--npernode",
        "2",
        "--cpus-per-proc",
        "3",
        "--host",
        "n1,n2",
        "--verbose",
    ]
    presets = [x for k in ("PATH", "LD_LIBRARY_PATH", "PYTHONPATH") if k in os.environ
               for x in ("-x", k)]  # fmt: skip
    assert rs.format_env_vars() == presets + ["-x", "A=1", "-x", "FROM_DRIVER"]
    cmdline = rs.launch_command(["SSDB", "A"])
    assert cmdline[0] == cmd
    assert cmdline[-2:] == ["prog", "arg"]
    assert cmdline.count("-x") == 3 + len(presets) // 2 and "SSDB" in cmdline
    with pytest.raises(ValueError):
        rs.set_tasks(0)
    with pytest.raises(TypeError):
        rs.set_tasks("4")  # type: ignore[arg-type]


def test_mpirun_mpmd():
    a = MpirunSettings("a", "1")
    a.set_tasks(2)
    b = MpirunSettings("b", "2")
    b.set_tasks(1)
    a.make_mpmd(b)
    # each app context forwards the driver's PATH/LD_LIBRARY_PATH/PYTHONPATH (as 0.4 did)
    p = [x for k in ("PATH", "LD_LIBRARY_PATH", "PYTHONPATH") if k in os.environ for x in ("-x", k)]
    assert a.launch_command() == ["mpirun", "-n", "2", *p, "a", "1", ":", "-n", "1", *p, "b", "2"]
    with pytest.raises(TypeError):
        a.make_mpmd(SrunSettings("c"))  # type: ignore[arg-type]


def test_srun_formatting_and_env():
    rs = SrunSettings("prog", env_vars={"A": "1", "LIST": "x,y"}, alloc="1234")
    rs.set_nodes(2)
    rs.set_tasks(8)
    rs.set_tasks_per_node(4)
    rs.set_cpus_per_task(2)
    rs.set_hostlist("node1")
    rs.set_excluded_hosts(["node3", "node4"])
    rs.set_walltime("00:10:00")
    rs.run_args["v"] = None
    assert rs.format_run_args() == [
        "--nodes=2",
        "--ntasks=8",
        "--ntasks-per-node=4",
        "--cpus-per-task=2",
        "--nodelist=node1",
        "--exclude=node3,node4",
        "--time=00:10:00",
        "-v",
    ]
    export, comma = rs.format_env_vars()
    assert export == "PATH,LD_LIBRARY_PATH,PYTHONPATH,A=1,LIST"
    assert comma == ["LIST=x,y"]
    assert rs.alloc == "1234"
    other = SrunSettings("two")
    rs.make_mpmd(other)
    assert rs.launch_command().count(":") == 1


def test_aprun_formatting():
    rs = AprunSettings("prog", env_vars={"A": "1"})
    rs.set_tasks(4)
    rs.set_tasks_per_node(2)
    rs.set_cpus_per_task(1)
    rs.set_hostlist(["a", "b"])
    rs.set_walltime(60)
    assert rs.format_run_args() == [
        "--pes=4",
        "--pes-per-node=2",
        "--cpus-per-pe=1",
        "--node-list=a,b",
        "-t",
        "60",
    ]
    assert rs.format_env_vars() == ["-e", "A=1"]
    assert rs.launch_command()[:1] == ["aprun"]


def test_jsrun_formatting():
    rs = JsrunSettings("prog", env_vars={"A": "1"})
    rs.set_num_rs(4)
    rs.set_cpus_per_rs(2)
    rs.set_gpus_per_rs(1)
    rs.set_rs_per_host(2)
    rs.set_tasks(8)
    rs.set_tasks_per_rs(2)
    rs.set_binding("packed:2")
    assert rs.format_run_args() == [
        "--nrs=4",
        "--cpu_per_rs=2",
        "--gpu_per_rs=1",
        "--rs_per_host=2",
        "--np=8",
        "--tasks_per_rs=2",
        "--bind=packed:2",
    ]
    assert rs.format_env_vars() == ["-E", "A=1"]
    rs.set_individual_output()
    assert rs.run_args["stdio_mode"] == "individual"
    with pytest.raises(SSUnsupportedError):
        rs.set_hostlist("a")
    rs.make_mpmd(JsrunSettings("other"))
    with pytest.raises(SSUnsupportedError, match="ERF"):
        rs.launch_command()


def test_sbatch_formatting():
    bs = SbatchSettings(nodes=2, time="01:00:00", account="acct", batch_args={"exclusive": None})
    bs.set_partition("debug")
    bs.set_cpus_per_task(4)
    bs.add_preamble(["module load x", "export Y=1"])
    assert bs.batch_cmd == "sbatch"
    assert bs.format_batch_args() == [
        "--exclusive",
        "--nodes=2",
        "--time=01:00:00",
        "--account=acct",
        "--partition=debug",
        "--cpus-per-task=4",
    ]
    assert bs.preamble == ["module load x", "export Y=1"]
    with pytest.raises(TypeError):
        SbatchSettings(bogus=1)


def test_qsub_formatting():
    bs = QsubBatchSettings(
        nodes=4, ncpus=16, time="02:00:00", queue="q", account="A1", resources={"mem": "10gb"}
    )
    assert bs.format_batch_args() == [
        "-l select=4:ncpus=16",
        "-l place=scatter",
        "-l walltime=02:00:00",
        "-l mem=10gb",
        "-q q",
        "-A A1",
    ]
    custom = QsubBatchSettings(resources={"select": "2:ngpus=1", "place": "pack"})
    assert custom.format_batch_args()[:2] == ["-l select=2:ngpus=1", "-l place=pack"]
    with pytest.raises(SmartSimError, match="nodes"):
        QsubBatchSettings().format_batch_args()


def test_bsub_formatting():
    bs = BsubBatchSettings(nodes=2, time="01:30:00", project="P1", smts=4)
    bs.set_queue("batch")
    assert bs.format_batch_args() == [
        "-nnodes 2",
        "-W 01:30",
        "-P P1",
        "-alloc_flags smt4",
        "-q batch",
    ]
    bs.set_expert_mode_req("rusage[mem=1]", 8)
    assert "-nnodes 2" not in bs.format_batch_args()
    with pytest.raises(ValueError, match="hh:mm"):
        bs.set_walltime("90 minutes")


def test_cobalt_formatting():
    bs = CobaltBatchSettings(nodes=3, time="00:30:00", queue="debug", account="proj")
    bs.set_tasks(12)
    bs.set_hostlist(["n1", "n2"])
    assert bs.format_batch_args() == [
        "--nodecount 3",
        "--time 00:30:00",
        "--queue debug",
        "--project proj",
        "--proccount 12",
        "--attrs location=n1,n2",
    ]


def test_create_run_settings_resolves_and_picks_class():
    rs = create_run_settings("local", "echo", "hi")
    assert type(rs) is RunSettings and rs.run_command is None
    assert rs.exe_path == shutil.which("echo")
    assert isinstance(create_run_settings("local", "echo", run_command="mpirun"), MpirunSettings)
    assert isinstance(create_run_settings("slurm", "echo", run_command="srun"), SrunSettings)
    assert isinstance(create_run_settings("pbs", "echo", run_command="aprun"), AprunSettings)
    assert isinstance(create_run_settings("lsf", "echo", run_command="jsrun"), JsrunSettings)
    odd = create_run_settings("local", "echo", run_command="my_launcher", run_args={"x": "1"})
    assert type(odd) is RunSettings and odd.run_command == "my_launcher"


def test_create_run_settings_auto_on_wlm_uses_preference_order():
    rs = create_run_settings("slurm", "echo", run_command="auto")
    expected = "srun" if shutil.which("srun") else "mpirun"
    assert rs.run_command == expected


def test_create_run_settings_errors(tmp_path):
    with pytest.raises(SSConfigError, match="could not locate"):
        create_run_settings("local", "no-such-binary-xyz")
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(SSConfigError, match="not executable"):
        create_run_settings("local", str(script))
    os.chmod(script, 0o755)
    assert create_run_settings("local", str(script)).exe_path == str(script)
    with pytest.raises(SSUnsupportedError, match="launcher"):
        create_run_settings("nope", "echo")


def test_create_batch_settings():
    assert isinstance(create_batch_settings("slurm", nodes=2), SbatchSettings)
    assert isinstance(create_batch_settings("pbs", nodes=2), QsubBatchSettings)
    assert isinstance(create_batch_settings("lsf", nodes=2, time="01:00"), BsubBatchSettings)
    assert isinstance(create_batch_settings("cobalt", nodes=2), CobaltBatchSettings)
    with pytest.raises(SmartSimError, match="no batch system"):
        create_batch_settings("local")
