"""Slurm's output parsed with no Slurm (captured text in, ids/states/hosts out)."""

from __future__ import annotations

import pytest

from smartsim._core.launcher.slurm import parser
from smartsim.error import LauncherError
from smartsim.status import SmartSimStatus as S


def test_sbatch_and_salloc_ids():
    assert parser.parse_sbatch_output("1234\n") == "1234"
    assert parser.parse_sbatch_output("77;cluster\n") == "77"
    assert parser.parse_salloc_output("salloc: Granted job allocation 9\n") == "9"
    assert (
        parser.parse_salloc_output(
            "salloc: Pending job allocation 31\nsalloc: job 31 queued and waiting for resources"
        )
        == "31"
    )
    with pytest.raises(LauncherError, match="no job id"):
        parser.parse_sbatch_output("sbatch: error: Batch job submission failed\n")
    with pytest.raises(LauncherError, match="no job id"):
        parser.parse_salloc_output("salloc: error: invalid partition specified: nope\n")


@pytest.mark.parametrize(
    "text,code", [("0:0", 0), ("2:0", 2), ("0:15", -15), ("1:9", 1), ("3", 3), ("", None)]
)
def test_exit_codes(text, code):
    assert parser.parse_exit_code(text) == code


def test_sacct_allocation_lines():
    out = (
        "101|COMPLETED|0:0|None\n"
        "101.batch|COMPLETED|0:0|\n"
        "102|FAILED|3:0|NonZeroExitCode\n"
        "103|CANCELLED by 0|0:15|None\n"
        "104|PENDING|0:0|Resources\n"
    )
    states = parser.parse_sacct(out)
    assert set(states) == {"101", "102", "103", "104"}
    assert (states["101"].status, states["101"].returncode) == (S.STATUS_COMPLETED, 0)
    assert (states["102"].status, states["102"].returncode) == (S.STATUS_FAILED, 3)
    assert states["102"].reason == "NonZeroExitCode"
    assert (states["103"].status, states["103"].returncode) == (S.STATUS_CANCELLED, -15)
    assert (states["104"].status, states["104"].reason) == (S.STATUS_QUEUED, "Resources")
    assert states["101"].reason == ""


def test_squeue_format_fields_padded():
    out = (
        "55                                      |RUNNING                 |0           |None"
        "                                        |\n"
        "56                                      |COMPLETED               |0           |None|\n"
        "57                                      |FAILED                  |768         "
        "|NonZeroExitCode|\n"
        "59                                      |FAILED                  |9           |None|\n"
        "60                                      |CANCELLED               |15          |None|\n"
        "58                                      |PENDING                 |0           "
        "|Resources|\n"
    )
    states = parser.parse_squeue(out)
    assert states["55"].status is S.STATUS_RUNNING
    assert (states["56"].status, states["56"].returncode) == (S.STATUS_COMPLETED, 0)
    assert (states["57"].status, states["57"].returncode) == (S.STATUS_FAILED, 3)
    assert (states["59"].status, states["59"].returncode) == (S.STATUS_FAILED, -9)
    assert (states["60"].status, states["60"].returncode) == (S.STATUS_CANCELLED, -15)
    assert states["58"].reason == "Resources"


def test_step_names_and_ids():
    out = "12.0|ens_0-abc\n12.1|ens_1-abd\n13.extern|extern\n"
    assert parser.parse_step_names(out) == {
        "ens_0-abc": "12.0",
        "ens_1-abd": "12.1",
        "extern": "13.extern",
    }
    assert parser.parse_squeue_ids("5\n6\n\n") == {"5", "6"}


def test_config_and_job_fields():
    config = parser.parse_scontrol_config(
        "Configuration data as of 2026-12-02T07:00:00\n"
        "AccountingStorageType   = accounting_storage/none\n"
        "JobCompType             = jobcomp/filetxt\n"
    )
    assert config["AccountingStorageType"] == "accounting_storage/none"
    assert config["JobCompType"] == "jobcomp/filetxt"
    fields = parser.parse_scontrol_fields(
        "JobId=7 JobName=x\n   JobState=RUNNING Reason=None\n   NodeList=n[1-2]\n"
    )
    assert fields["JobState"] == "RUNNING"
    assert fields["NodeList"] == "n[1-2]"


def test_partitions_and_nodes():
    assert parser.parse_default_partition("long\ndebug*\n") == "debug"
    with pytest.raises(LauncherError, match="no default partition"):
        parser.parse_default_partition("a\nb\n")
    assert parser.parse_sinfo_nodes("n1|2|idle\nn2|2|mix\nbad\n") == [
        ("n1", 2, "idle"),
        ("n2", 2, "mix"),
    ]


@pytest.mark.parametrize(
    "text,hosts",
    [
        ("n1", ["n1"]),
        ("n[1-3]", ["n1", "n2", "n3"]),
        ("n[1-2,5],gpu01", ["n1", "n2", "n5", "gpu01"]),
        ("nid[008-010]", ["nid008", "nid009", "nid010"]),
        ("r[1-2]c[1-2]", ["r1c1", "r1c2", "r2c1", "r2c2"]),
        ("a,b", ["a", "b"]),
    ],
)
def test_hostlist_expansion(text, hosts):
    assert parser.expand_hostlist(text) == hosts


def test_hostlist_bad_range():
    with pytest.raises(ValueError, match="bad range"):
        parser.expand_hostlist("n[a-b]")
