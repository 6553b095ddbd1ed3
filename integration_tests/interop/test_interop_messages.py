"""What users see, against the official client's real output: warnings on stderr, the log
set-up lines, error messages that name what users type.

Each case runs the same script under the official client (its own environment) and under
ours, in separate processes, against the same real server; outputs are compared after the
documented normalisations (times, upstream's C++ source locations, the pip distribution name;
see "What users see" in packages/smartredis_py/README.md).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from integration_tests.interop.conftest import official_environment

pytestmark = pytest.mark.interop

CPP_LOCATION = re.compile(r'^File "[^"]+", line \d+, in SmartRedis library\n', re.M)
TIME = re.compile(r"@\d\d-\d\d-\d\d:")


def run(which: str, code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` (``smartredis`` imported as ``*``) with the official client or ours."""
    if which == "official":
        python, base = os.environ["SMARTREDIS_OFFICIAL_PYTHON"], official_environment()
    else:
        python = sys.executable
        base = {k: v for k, v in os.environ.items() if not k.startswith(("SSKEY", "SSDB", "SR_"))}
    script = "import sys, json\nfrom smartredis import *\n" + textwrap.dedent(code)
    proc = subprocess.run(
        [python, "-c", script],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"{which} client failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def both(code: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, ...]:
    return run("official", code, env), run("ours", code, env)


BATCHING = """
model = b"not a model: the warning comes before the server sees it, in both clients"
CASES = [
    ("set_model", ("m", model, "TORCH", "CPU"), dict(batch_size=4, min_batch_size=2)),
    ("set_model", ("m", model, "TORCH", "CPU"),
     dict(batch_size=4, min_batch_size=2, min_batch_timeout=10)),
    ("set_model", ("m", model, "TORCH", "CPU"), dict(batch_size=4)),
    ("set_model", ("m", model, "TORCH", "CPU"), dict(min_batch_size=2)),
    ("set_model", ("m", model, "TORCH", "CPU"), dict(batch_size=4, min_batch_timeout=10)),
    ("set_model_multigpu", ("m", model, "TORCH", 0, 2), dict(batch_size=4, min_batch_size=2)),
    ("set_model_from_file", ("m", MODEL_FILE, "TORCH", "CPU"), dict(batch_size=4, min_batch_size=2)),
    ("set_model_from_file_multigpu", ("m", MODEL_FILE, "TORCH", 0, 2),
     dict(batch_size=4, min_batch_size=2)),
]
c = Client(False, address=ADDRESS)
results = []
for method, args, kwargs in CASES:
    sys.stderr.write(f"<{method} {sorted(kwargs.items())}>")
    sys.stderr.flush()
    try:
        getattr(c, method)(*args, **kwargs)
        results.append(None)
    except Exception as exc:
        results.append([type(exc).__name__, str(exc)])
    sys.stderr.write("</>\\n")
    sys.stderr.flush()
print(json.dumps(results))
"""


@pytest.mark.slow  # a CPU-only server takes ~15 s to refuse the first GPU model
def test_batching_warning_and_errors_match_the_official_client(valkey_ai_server, tmp_path):
    model_file = tmp_path / "model.pt"
    model_file.write_bytes(b"not a model")
    code = f"ADDRESS = {valkey_ai_server.address!r}\nMODEL_FILE = {str(model_file)!r}\n" + BATCHING
    official, ours = both(code, {"SR_LOG_LEVEL": "QUIET"})
    warning = (
        "WARNING: min_batch_timeout was not set when a non-zero min_batch_size was selected. \n"
        "Setting a small value (~10ms) for min_batch_timeout may improve performance\n"
    )
    assert official.stderr.count(warning) == 4  # the cases with a min_batch_size, no timeout
    assert ours.stderr == official.stderr
    official_results = json.loads(official.stdout)
    ours_results = json.loads(ours.stdout)
    for theirs, mine in zip(official_results, ours_results, strict=True):
        if theirs is None:
            assert mine is None
            continue
        assert mine is not None and mine[0] == theirs[0]
        # same text once upstream's C++ source location line is taken out
        assert mine[1] == CPP_LOCATION.sub("", theirs[1])
    assert official_results[-1][1].startswith("Client.set_model_from_file_multigpu execution")


LOG_SETUP = """
import os
if ADDRESS:
    Client(False, address=ADDRESS)
else:
    Dataset("d")
log_data("ctx", LLInfo, "after")
"""


@pytest.mark.parametrize(
    "env",
    [{}, {"SR_LOG_LEVEL": "info"}, {"SR_LOG_LEVEL": "QUIET"}],
    ids=["nothing set", "level set", "quiet"],
)
@pytest.mark.parametrize("first", ["Client", "Dataset"])
def test_log_setup_lines_match_the_official_client(env, first, valkey_ai_server):
    address = valkey_ai_server.address if first == "Client" else ""
    official, ours = both(f"ADDRESS = {address!r}\n" + LOG_SETUP, env)
    assert TIME.sub("@T:", ours.stdout) == TIME.sub("@T:", official.stdout)
    assert ours.stderr == official.stderr == ""
    if not env:
        assert "Environment variable SR_LOG_LEVEL is not set. Defaulting to INFO" in ours.stdout


def test_log_setup_line_in_the_log_file_matches_the_official_client(tmp_path):
    outputs = []
    for which in ("official", "ours"):
        path = tmp_path / f"{which}.log"
        proc = run(which, 'Dataset("d")\nlog_data("ctx", LLInfo, "x")', {"SR_LOG_FILE": str(path)})
        assert proc.stdout == ""
        outputs.append(TIME.sub("@T:", path.read_text()))
    assert outputs[1] == outputs[0]
    assert "SR_LOG_LEVEL is not set" in outputs[0]


XARRAY = """
if NO_XARRAY:
    sys.modules["xarray"] = None  # as if it were not installed (the official env has none)
try:
    DatasetConverter.transform_to_xarray(Dataset("d"))
    print(json.dumps(None))
except Exception as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
"""


def test_missing_xarray_message_matches_the_official_client():
    quiet = {"SR_LOG_LEVEL": "QUIET"}
    official = json.loads(run("official", "NO_XARRAY = True\n" + XARRAY, quiet).stdout)
    ours = json.loads(run("ours", "NO_XARRAY = True\n" + XARRAY, quiet).stdout)
    assert official[0] == ours[0] == "RedisRuntimeError"
    assert "`pip install smartredis[xarray]`" in official[1]
    # the one documented difference: the distribution that installs this client
    assert ours[1] == official[1].replace("smartredis[xarray]", "smartredis_py[xarray]")


@pytest.mark.parametrize("first", ["Client", "Dataset"])
def test_error_of_an_unknown_log_level_matches_the_official_client(first, valkey_ai_server):
    make = (
        f"Client(False, address={valkey_ai_server.address!r})"
        if first == "Client"
        else "Dataset('d')"
    )
    code = f"""
try:
    {make}
except Exception as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
"""
    env = {"SR_LOG_LEVEL": "LOUD"}
    # the result is the last line: upstream logs its exception before (we do not: README)
    official, ours = (json.loads(p.stdout.splitlines()[-1]) for p in both(code, env))
    assert (
        ours[0]
        == official[0]
        == ("RedisConnectionError" if first == "Client" else "RedisRuntimeError")
    )
    first_line = official[1].split("\n")[0]
    assert first_line == "Unrecognized logging level: loud"
    assert ours[1].startswith(
        first_line + " (SR_LOG_LEVEL must be one of QUIET, INFO, DEBUG, DEVELOPER)"
    )
    # a Client's error ends, in both, with the address it was built for
    assert ours[1].splitlines()[1:] == official[1].splitlines()[1:]


DTYPES = """
import numpy as np
from smartredis.util import Dtypes
out = {}
for name in ["float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16",
             "uint32", "uint64", "bool", "complex64"]:
    row = []
    for f in (Dtypes.tensor_from_numpy, Dtypes.metadata_from_numpy):
        try:
            row.append(f(np.zeros(1, dtype=name)))
        except TypeError as exc:
            row.append("TypeError: " + str(exc))
    out[name] = row
for name in ["DOUBLE", "FLOAT", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
             "INT32", "INT64", "STRING", "BOOL"]:
    try:
        out[name] = Dtypes.from_string(name).__name__
    except TypeError as exc:
        out[name] = "TypeError: " + str(exc)
print(json.dumps(out))
"""


def test_util_dtypes_match_the_official_client():
    quiet = {"SR_LOG_LEVEL": "QUIET"}
    official, ours = (json.loads(p.stdout) for p in both(DTYPES, quiet))
    assert official.pop("FLOAT") == "float64"  # upstream's bug, not copied (README)
    assert ours.pop("FLOAT") == "float32"
    assert ours == official


def test_scripts_see_the_official_package(tmp_path: Path):
    """The official runs above really use the official wheel (not ours via PYTHONPATH)."""
    proc = run("official", "import smartredis.smartredisPy\nprint(smartredis.__file__)")
    assert ".venv-official" in proc.stdout or "site-packages" in proc.stdout


OBJECT_ERRORS = """
import numpy as np
d = Dataset("d")
d.add_meta_string("s", "x")
cfg = ConfigOptions.create_from_environment("")
CASES = {
    "missing dataset tensor": lambda: d.get_tensor("a"),
    # (get_tensor_dims of a missing tensor: upstream leaks "_Map_base::at", README bug 10)
    "missing field": lambda: d.get_meta_scalars("m"),
    "missing option": lambda: cfg.get_integer_option("NOPE_NOT_SET"),
}
out = {}
for label, call in CASES.items():
    try:
        call()
        out[label] = None
    except Exception as exc:
        out[label] = [type(exc).__name__] + CPP_LOCATION.sub("", str(exc)).split("\\n")
print(json.dumps(out))
"""


def test_dataset_and_config_errors_name_the_method_as_the_official_client():
    code = f"import re\nCPP_LOCATION = re.compile({CPP_LOCATION.pattern!r}, re.M)\n"
    official, ours = (
        json.loads(p.stdout) for p in both(code + OBJECT_ERRORS, {"SR_LOG_LEVEL": "QUIET"})
    )
    for label, theirs in official.items():
        mine = ours[label]
        # class and "<Class>.<method> execution failed" as upstream (a ConfigOptions is
        # "_ManagedConfigOptions<hex>" there: upstream names its factory-made subclass)
        assert mine[0] == theirs[0], label
        assert mine[1].split(".", 1)[1] == theirs[1].split(".", 1)[1], label
        assert mine[1].split(".", 1)[0] in theirs[1].split(".", 1)[0], label
    assert ours["missing dataset tensor"] == official["missing dataset tensor"]
