"""mpirun through the local launcher, with the real Open MPI."""

from __future__ import annotations

import os

import pytest

from smartsim.settings import MpirunSettings
from smartsim.status import SmartSimStatus

pytestmark = pytest.mark.mpi

ROOT_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def mpi_settings(exp, exe, args):
    rs = exp.create_run_settings(exe, args, run_command="mpirun", run_args={"oversubscribe": None})
    if os.geteuid() == 0:
        rs.update_env(ROOT_ENV)
    return rs


def test_hello_world_mpi_four_tasks(exp, tmp_path):
    rs = mpi_settings(exp, "echo", "Hello World!")
    assert isinstance(rs, MpirunSettings)
    rs.set_tasks(4)
    model = exp.create_model("hello_world", rs, path=str(tmp_path))
    exp.start(model, block=True)
    assert exp.get_status(model) == [SmartSimStatus.STATUS_COMPLETED]
    assert (tmp_path / "hello_world.out").read_text().splitlines() == ["Hello World!"] * 4


def test_ranks_get_ssdb_and_rank_ids(exp, tmp_path):
    rs = mpi_settings(exp, "sh", ["-c", 'echo "$OMPI_COMM_WORLD_RANK $MY_VAR"'])
    rs.set_tasks(2)
    rs.update_env({"MY_VAR": "x"})
    model = exp.create_model("ranks", rs, path=str(tmp_path))
    exp.start(model)
    lines = sorted((tmp_path / "ranks.out").read_text().splitlines())
    assert lines == ["0 x", "1 x"]


def test_stop_mpirun_kills_every_rank(exp, tmp_path, procs):
    pidfile = tmp_path / "pids"
    rs = mpi_settings(exp, "sh", ["-c", f"echo $$ >> {pidfile}; exec sleep 1000"])
    rs.set_tasks(3)
    model = exp.create_model("sleepers", rs, path=str(tmp_path))
    exp.start(model, block=False)
    pids = procs.read_pids(str(pidfile), 3)
    try:
        exp.stop(model)
        assert exp.get_status(model) == [SmartSimStatus.STATUS_CANCELLED]
        assert [p for p in pids if procs.alive(p)] == []
    finally:
        procs.kill_leftovers(pids)
