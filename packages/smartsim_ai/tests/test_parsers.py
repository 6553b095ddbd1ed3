"""The module's pure command parsers, built alone and driven through ctypes: no server.

``src/module/commands/parse_store.c`` and ``parse_run.c`` (``parse.h``) read the arguments of
AI.MODELSTORE, AI.MODELSET, AI.SCRIPTSTORE, AI.SCRIPTSET, AI.MODELEXECUTE, AI.MODELRUN,
AI.SCRIPTEXECUTE and AI.SCRIPTRUN into a struct, or return RedisAI 1.2.7's error.  They are
compiled here with the argument helpers and ``tests/parsers/harness.c``, which stands in for the
server's strings, splits a command line on spaces and writes the error or a summary of the
parsed fields.  Every error each parser can return has a row, with RedisAI's text written out
(``test_expected_errors_are_redisai_texts`` checks them against the list of RedisAI's strings
in ``shared/reference/redisai-errors.md``); the server-side order of those checks against the
arity and the key lookup is pinned by test_redisai_errors.py.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
MODULE_SRC = HERE.parent / "src" / "module"
HARNESS = HERE / "parsers" / "harness.c"
REFERENCE = HERE.parents[3] / "shared" / "reference"
REDISAI_ERRORS = REFERENCE / "redisai-errors.md"  # every string in RedisAI 1.2.7's source
REDISAI_COMMANDS = REFERENCE / "redisai-commands.md"  # the texts built from a format, too
SOURCES = [
    "commands/parse_store.c",
    "commands/parse_run.c",
    "core/args.c",
    "core/errors.c",
    "core/alloc.c",
    "core/rm_api.c",
    "types/model.c",
    "types/device.c",
]
PARSED, ERROR, ARITY = 0, 1, 2
UNKNOWN = -1  # the model's input/output counts are not known yet


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    lib = tmp_path_factory.mktemp("parsers") / "parsers.so"
    includes = [f"-I{MODULE_SRC / layer}" for layer in ("core", "types", "commands")]
    sources = [str(MODULE_SRC / s) for s in SOURCES] + [str(HARNESS)]
    subprocess.run(
        [cc, "-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
         "-fPIC", "-shared", *includes, *sources, "-o", str(lib)],
        check=True,
    )  # fmt: skip
    dll = ctypes.CDLL(str(lib))
    dll.harness_parse.argtypes = [
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_longlong,
        ctypes.c_longlong,
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    dll.harness_parse.restype = ctypes.c_int
    return dll


def parse(
    dll: ctypes.CDLL,
    line: str | bytes,
    *,
    in_dag: bool = False,
    model: tuple[int, int] = (UNKNOWN, UNKNOWN),
) -> tuple[int, str]:
    """(PARSED/ERROR/ARITY, the summary or the error) for one space-separated command line."""
    out = ctypes.create_string_buffer(4096)
    data = line.encode() if isinstance(line, str) else line
    rc = dll.harness_parse(data, int(in_dag), model[0], model[1], out, len(out))
    assert rc != -1, f"the harness knows no parser for {line!r}"
    return rc, out.value.decode("latin-1")


# RedisAI's texts, as the server sends them ("ERR " included where RedisAI sends it).
BACKEND = "ERR unsupported backend"
INVALID_DEVICE = "ERR Invalid DEVICE"
UNSUPPORTED_DEVICE = "ERR unsupported device"
BATCHSIZE = "ERR Invalid argument for BATCHSIZE"
MINBATCHSIZE = "ERR Invalid argument for MINBATCHSIZE"
MINBATCHSIZE_WITHOUT = "ERR MINBATCHSIZE specified without BATCHSIZE"
MINBATCHTIMEOUT = "ERR Invalid argument for MINBATCHTIMEOUT"
MINBATCHTIMEOUT_WITHOUT_BATCHSIZE = "ERR MINBATCHTIMEOUT specified without BATCHSIZE"
MINBATCHTIMEOUT_WITHOUT = "ERR MINBATCHTIMEOUT specified without MINBATCHSIZE"
MISSING_BLOB = "ERR Insufficient arguments, missing model BLOB"
TF_INPUTS = "ERR INPUTS not specified for TF"
TF_OUTPUTS = "ERR OUTPUTS not specified for TF"
INPUT_COUNT_ARG = "ERR Invalid argument for input_count"
OUTPUT_COUNT_ARG = "ERR Invalid argument for output_count"
MODEL_INPUTS_ARGS = "ERR number of model inputs does not match the number of given arguments"
MODEL_OUTPUTS_ARGS = "ERR number of model outputs does not match the number of given arguments"
INPUTS_NOT_FOR_BACKEND = "ERR INPUTS argument should not be specified for this backend"
EXPECTED_BLOB = "ERR Invalid argument, expected BLOB"
TFLITE_BATCHING = "ERR Auto-batching not supported by the TFLITE backend"
TF_INOUT_MISSING = "ERR Insufficient arguments, INPUTS and OUTPUTS not specified"
INPUTS_NOT_SPECIFIED = "ERR INPUTS not specified"
OUTPUTS_NOT_SPECIFIED = "ERR OUTPUTS not specified"
MISSING_ENTRY_POINTS = "ERR Insufficient arguments, missing script entry points"
ENTRY_POINTS_NUMBER = "ERR Non numeric entry points number provided to AI.SCRIPTSTORE command"
MISSING_SOURCE = "ERR Insufficient arguments, missing script SOURCE"
INPUT_COUNT_POSITIVE = "ERR Input count must be a positive integer"
OUTPUT_COUNT_POSITIVE = "ERR Output count must be a positive integer"
INPUTS_MODEL_MISMATCH = "Number of keys given as INPUTS here does not match model definition"
OUTPUTS_MODEL_MISMATCH = "Number of keys given as OUTPUTS here does not match model definition"
ME_INPUT_KEYS = (
    "ERR number of input keys to AI.MODELEXECUTE command does not match the number of "
    "given arguments"
)
ME_OUTPUT_KEYS = (
    "ERR number of output keys to AI.MODELEXECUTE command does not match the number of "
    "given arguments"
)
TIMEOUT_MISSING = "ERR No value provided for TIMEOUT"
TIMEOUT_INVALID = "ERR Invalid value for TIMEOUT"
DAG_TIMEOUT = "ERR TIMEOUT not allowed within a DAG command"
SE_FIRST_SCOPE = "ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command"
SE_TIMEOUT_MISSING = "ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE"
SE_PARSE = "ERR Encountered problem parsing AI.SCRIPTEXECUTE"
SE_ARGS = "ERR Invalid arguments provided to AI.SCRIPTEXECUTE"
KEYS_MISSING = "ERR Missing arguments after KEYS keyword"
KEYS_COUNT = "ERR Invalid or negative value found in number of KEYS"
KEYS_MISMATCH = (
    "ERR Number of pre declared KEYS to be used in the command does not match the number of "
    "given arguments"
)


def se_unexpected(arg: str) -> str:
    return f"ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: {arg}"


def se_already(scope: str) -> str:
    return f"ERR Already Encountered {scope} scope in AI.SCRIPTEXECUTE command"


def se_count(word: str) -> str:
    return f"ERR Invalid argument for {word} count in AI.SCRIPTEXECUTE"


def se_mismatch(word: str) -> str:
    return (
        f"ERR number of {word} to AI.SCRIPTEXECUTE command does not match the number of "
        "given arguments"
    )


def invalid_argument(arg: str) -> str:
    return f"Invalid argument: {arg}"


SR_TIMEOUT_TWICE = "ERR Already encountered an TIMEOUT section in SCRIPTRUN"
SR_INPUTS_TWICE = "ERR Already encountered an INPUTS section in SCRIPTRUN"
SR_INPUTS_KEYWORD_TWICE = "ERR Already encountered an INPUTS keyword in SCRIPTRUN"
SR_OUTPUTS_TWICE = "ERR Already encountered an OUTPUTS keyword in SCRIPTRUN"
SR_VARIADIC_OUTSIDE = "ERR Encountered a variable size list of tensors outside of input section"
SR_VARIADIC_TWICE = "ERR Already encountered a variable size list of tensors"
SR_UNRECOGNIZED = "ERR Unrecongnized parameter to SCRIPTRUN"

ONE_IN_ONE_OUT = (1, 1)
TWO_IN_ONE_OUT = (2, 1)

# (command line, what the key lookup told: (in_dag, the model's counts), expected error)
ERROR_ROWS: list[tuple[str, tuple[bool, tuple[int, int]], str]] = [
    # --- AI.MODELSTORE key backend device [TAG t] [BATCHSIZE..] [INPUTS n.. OUTPUTS n..] BLOB
    ("AI.MODELSTORE x BOGUS CPU BLOB b", (False, (-1, -1)), BACKEND),
    ("AI.MODELSTORE x TORCH BAD BLOB b", (False, (-1, -1)), INVALID_DEVICE),
    ("AI.MODELSTORE x TORCH CPU:x BLOB b", (False, (-1, -1)), INVALID_DEVICE),
    ("AI.MODELSTORE x TORCH GPU:123456 BLOB b", (False, (-1, -1)), INVALID_DEVICE),
    ("AI.MODELSTORE x TORCH CPU BATCHSIZE n BLOB b", (False, (-1, -1)), BATCHSIZE),
    ("AI.MODELSTORE x TORCH CPU BATCHSIZE -1 BLOB b", (False, (-1, -1)), BATCHSIZE),
    ("AI.MODELSTORE x TORCH CPU TAG t BATCHSIZE", (False, (-1, -1)), BATCHSIZE),
    ("AI.MODELSTORE x TORCH CPU BATCHSIZE 2 MINBATCHSIZE n BLOB b", (False, (-1, -1)), MINBATCHSIZE),
    ("AI.MODELSTORE x TORCH CPU MINBATCHSIZE 2 BLOB b", (False, (-1, -1)), MINBATCHSIZE_WITHOUT),
    ("AI.MODELSTORE x TORCH CPU BATCHSIZE 2 MINBATCHSIZE 1 MINBATCHTIMEOUT n BLOB b", (False, (-1, -1)), MINBATCHTIMEOUT),
    ("AI.MODELSTORE x TORCH CPU BATCHSIZE 2 MINBATCHTIMEOUT 5 BLOB b", (False, (-1, -1)), MINBATCHTIMEOUT_WITHOUT),
    ("AI.MODELSTORE x TORCH CPU TAG t", (False, (-1, -1)), MISSING_BLOB),
    ("AI.MODELSTORE x TORCH CPU TAG t BLOB", (False, (-1, -1)), MISSING_BLOB),
    ("AI.MODELSTORE x TF CPU BLOB b", (False, (-1, -1)), TF_INPUTS),
    ("AI.MODELSTORE x TF CPU INPUTS n i BLOB b", (False, (-1, -1)), INPUT_COUNT_ARG),
    ("AI.MODELSTORE x TF CPU INPUTS 0 i BLOB b", (False, (-1, -1)), INPUT_COUNT_ARG),
    ("AI.MODELSTORE x TF CPU INPUTS 5 i j", (False, (-1, -1)), MODEL_INPUTS_ARGS),
    ("AI.MODELSTORE x TF CPU INPUTS 1 i BLOB b", (False, (-1, -1)), TF_OUTPUTS),
    ("AI.MODELSTORE x TF CPU INPUTS 1 i OUTPUTS 0 o BLOB", (False, (-1, -1)), OUTPUT_COUNT_ARG),
    ("AI.MODELSTORE x TF CPU INPUTS 1 i OUTPUTS 5 o", (False, (-1, -1)), MODEL_OUTPUTS_ARGS),
    ("AI.MODELSTORE x TF CPU INPUTS 1 i OUTPUTS 1 o", (False, (-1, -1)), EXPECTED_BLOB),
    ("AI.MODELSTORE x TORCH CPU INPUTS 1 i BLOB b", (False, (-1, -1)), INPUTS_NOT_FOR_BACKEND),
    ("AI.MODELSTORE x TORCH CPU NOTBLOB b", (False, (-1, -1)), EXPECTED_BLOB),
    # --- AI.MODELSET (deprecated): the "without" checks before each option's value
    ("AI.MODELSET x BOGUS CPU BLOB b", (False, (-1, -1)), BACKEND),
    ("AI.MODELSET x TORCH BLOB BLOB b", (False, (-1, -1)), INVALID_DEVICE),
    ("AI.MODELSET x TORCH CPU:12345678 BLOB b", (False, (-1, -1)), INVALID_DEVICE),
    ("AI.MODELSET x TFLITE CPU BATCHSIZE 2 BLOB b", (False, (-1, -1)), TFLITE_BATCHING),
    ("AI.MODELSET x TORCH CPU BATCHSIZE n BLOB b", (False, (-1, -1)), BATCHSIZE),
    ("AI.MODELSET x TORCH CPU BATCHSIZE 0 MINBATCHSIZE 2 BLOB b", (False, (-1, -1)), MINBATCHSIZE_WITHOUT),
    ("AI.MODELSET x TORCH CPU BATCHSIZE 2 MINBATCHSIZE n BLOB b", (False, (-1, -1)), MINBATCHSIZE),
    ("AI.MODELSET x TORCH CPU MINBATCHTIMEOUT 5 BLOB b", (False, (-1, -1)), MINBATCHTIMEOUT_WITHOUT_BATCHSIZE),
    ("AI.MODELSET x TORCH CPU BATCHSIZE 2 MINBATCHTIMEOUT 5 BLOB b", (False, (-1, -1)), MINBATCHTIMEOUT_WITHOUT),
    ("AI.MODELSET x TORCH CPU BATCHSIZE 2 MINBATCHSIZE 1 MINBATCHTIMEOUT n BLOB b", (False, (-1, -1)), MINBATCHTIMEOUT),
    ("AI.MODELSET x TORCH CPU", (False, (-1, -1)), MISSING_BLOB),
    ("AI.MODELSET x TORCH CPU TAG t", (False, (-1, -1)), MISSING_BLOB),
    ("AI.MODELSET x TORCH CPU b", (False, (-1, -1)), MISSING_BLOB),
    ("AI.MODELSET x TORCH CPU BLOB", (False, (-1, -1)), MISSING_BLOB),
    ("AI.MODELSET x TF CPU BLOB b", (False, (-1, -1)), TF_INOUT_MISSING),
    ("AI.MODELSET x TF CPU i BLOB b", (False, (-1, -1)), INPUTS_NOT_SPECIFIED),
    ("AI.MODELSET x TF CPU INPUTS i BLOB b", (False, (-1, -1)), OUTPUTS_NOT_SPECIFIED),
    ("AI.MODELSET x TF CPU INPUTS i OUTPUTS o", (False, (-1, -1)), MISSING_BLOB),
    ("AI.MODELSET x TORCH CPU:x BLOB b", (False, (-1, -1)), UNSUPPORTED_DEVICE),
    # --- AI.SCRIPTSTORE / AI.SCRIPTSET
    ("AI.SCRIPTSTORE x CPU TAG t SOURCE x y", (False, (-1, -1)), MISSING_ENTRY_POINTS),
    ("AI.SCRIPTSTORE x CPU ENTRY_POINTS n f SOURCE src", (False, (-1, -1)), ENTRY_POINTS_NUMBER),
    ("AI.SCRIPTSTORE x CPU ENTRY_POINTS -1 f SOURCE src", (False, (-1, -1)), ENTRY_POINTS_NUMBER),
    ("AI.SCRIPTSTORE x CPU ENTRY_POINTS 9 f SOURCE src", (False, (-1, -1)), MISSING_ENTRY_POINTS),
    ("AI.SCRIPTSTORE x CPU ENTRY_POINTS 1 f NOTSOURCE src", (False, (-1, -1)), MISSING_SOURCE),
    ("AI.SCRIPTSTORE x BOGUS ENTRY_POINTS 1 f SOURCE src", (False, (-1, -1)), UNSUPPORTED_DEVICE),
    ("AI.SCRIPTSET x CPU TAG t", (False, (-1, -1)), MISSING_SOURCE),
    ("AI.SCRIPTSET x CPU NOTSOURCE src", (False, (-1, -1)), MISSING_SOURCE),
    ("AI.SCRIPTSET x BOGUS SOURCE src", (False, (-1, -1)), UNSUPPORTED_DEVICE),
    # --- AI.MODELEXECUTE, the model has 1 input and 1 output unless said
    ("AI.MODELEXECUTE m NOTINPUTS 1 a OUTPUTS 1 b", (False, ONE_IN_ONE_OUT), INPUTS_NOT_SPECIFIED),
    ("AI.MODELEXECUTE m INPUTS n a OUTPUTS 1 b", (False, ONE_IN_ONE_OUT), INPUT_COUNT_ARG),
    ("AI.MODELEXECUTE m INPUTS 0 a OUTPUTS 1 b", (False, ONE_IN_ONE_OUT), INPUT_COUNT_POSITIVE),
    ("AI.MODELEXECUTE m INPUTS 2 a a OUTPUTS 1 b", (False, ONE_IN_ONE_OUT), INPUTS_MODEL_MISMATCH),
    ("AI.MODELEXECUTE m INPUTS 5 a a a a", (False, (5, 1)), ME_INPUT_KEYS),
    ("AI.MODELEXECUTE m INPUTS 5 a a a a", (False, (-1, -1)), ME_INPUT_KEYS),
    ("AI.MODELEXECUTE m INPUTS 1 a NOTOUTPUTS 1 b", (False, ONE_IN_ONE_OUT), OUTPUTS_NOT_SPECIFIED),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS n b", (False, ONE_IN_ONE_OUT), OUTPUT_COUNT_ARG),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 0 b", (False, ONE_IN_ONE_OUT), OUTPUT_COUNT_POSITIVE),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 2 b c", (False, ONE_IN_ONE_OUT), OUTPUTS_MODEL_MISMATCH),
    ("AI.MODELEXECUTE m INPUTS 2 a a OUTPUTS 2 b", (False, (2, 2)), ME_OUTPUT_KEYS),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b x", (False, ONE_IN_ONE_OUT), invalid_argument("x")),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b TIMEOUT", (False, ONE_IN_ONE_OUT), TIMEOUT_MISSING),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b TIMEOUT 0", (False, ONE_IN_ONE_OUT), TIMEOUT_INVALID),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b TIMEOUT x", (True, ONE_IN_ONE_OUT), TIMEOUT_INVALID),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b TIMEOUT 5 x", (False, ONE_IN_ONE_OUT), invalid_argument("x")),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 b TIMEOUT 5", (True, ONE_IN_ONE_OUT), DAG_TIMEOUT),
    # --- AI.MODELRUN (deprecated)
    ("AI.MODELRUN m TIMEOUT x INPUTS a OUTPUTS b", (False, ONE_IN_ONE_OUT), TIMEOUT_INVALID),
    ("AI.MODELRUN m TIMEOUT -5 INPUTS a OUTPUTS b", (False, ONE_IN_ONE_OUT), TIMEOUT_INVALID),
    ("AI.MODELRUN m NOTINPUTS a OUTPUTS b", (False, ONE_IN_ONE_OUT), INPUTS_NOT_SPECIFIED),
    ("AI.MODELRUN m INPUTS a a OUTPUTS b", (False, ONE_IN_ONE_OUT), INPUTS_MODEL_MISMATCH),
    ("AI.MODELRUN m TIMEOUT 5 INPUTS a", (False, ONE_IN_ONE_OUT), OUTPUTS_MODEL_MISMATCH),
    ("AI.MODELRUN m TIMEOUT 5 INPUTS a OUTPUTS b", (True, ONE_IN_ONE_OUT), DAG_TIMEOUT),
    # --- AI.SCRIPTEXECUTE
    ("AI.SCRIPTEXECUTE s ep OUTPUTS 1 b", (False, (-1, -1)), SE_FIRST_SCOPE),
    ("AI.SCRIPTEXECUTE s ep", (False, (-1, -1)), SE_FIRST_SCOPE),
    ("AI.SCRIPTEXECUTE s ep KEYS 1", (False, (-1, -1)), KEYS_MISSING),
    ("AI.SCRIPTEXECUTE s ep KEYS 0 k", (False, (-1, -1)), KEYS_COUNT),
    ("AI.SCRIPTEXECUTE s ep KEYS 3 k k", (False, (-1, -1)), KEYS_MISMATCH),
    ("AI.SCRIPTEXECUTE s ep KEYS 1 k KEYS 1 k", (False, (-1, -1)), se_already("KEYS")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a INPUTS 1 a", (False, (-1, -1)), se_already("INPUTS")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a ARGS 0 ARGS 0", (False, (-1, -1)), se_already("ARGS")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a OUTPUTS 1 b OUTPUTS 1 b", (False, (-1, -1)), se_already("OUTPUTS")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a OUTPUTS", (False, (-1, -1)), SE_ARGS),
    ("AI.SCRIPTEXECUTE s ep INPUTS n", (False, (-1, -1)), se_count("inputs")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a ARGS n", (False, (-1, -1)), se_count("keys")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a OUTPUTS n", (False, (-1, -1)), se_count("outputs")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 3 a", (False, (-1, -1)), se_mismatch("inputs")),
    ("AI.SCRIPTEXECUTE s ep INPUTS -9 a", (False, (-1, -1)), se_mismatch("inputs")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a ARGS 3 x", (False, (-1, -1)), se_mismatch("args")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a OUTPUTS 2 b", (False, (-1, -1)), se_mismatch("outputs")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a BOGUS", (False, (-1, -1)), se_unexpected("BOGUS")),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a TIMEOUT", (False, (-1, -1)), SE_TIMEOUT_MISSING),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a TIMEOUT x", (False, (-1, -1)), TIMEOUT_INVALID),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a TIMEOUT 5 x", (False, (-1, -1)), SE_PARSE),
    ("AI.SCRIPTEXECUTE s ep INPUTS 1 a TIMEOUT 5", (True, (-1, -1)), DAG_TIMEOUT),
    # --- AI.SCRIPTRUN (deprecated)
    ("AI.SCRIPTRUN s f a INPUTS a", (False, (-1, -1)), SR_UNRECOGNIZED),
    ("AI.SCRIPTRUN s f INPUTS a INPUTS a", (False, (-1, -1)), SR_INPUTS_KEYWORD_TWICE),
    ("AI.SCRIPTRUN s f INPUTS a OUTPUTS b INPUTS a", (False, (-1, -1)), SR_INPUTS_TWICE),
    ("AI.SCRIPTRUN s f INPUTS a OUTPUTS b OUTPUTS", (False, (-1, -1)), SR_OUTPUTS_TWICE),
    ("AI.SCRIPTRUN s f TIMEOUT 5 TIMEOUT 5 INPUTS a", (False, (-1, -1)), SR_TIMEOUT_TWICE),
    ("AI.SCRIPTRUN s f TIMEOUT 0 INPUTS a", (False, (-1, -1)), TIMEOUT_INVALID),
    ("AI.SCRIPTRUN s f INPUTS a TIMEOUT", (False, (-1, -1)), TIMEOUT_INVALID),
    ("AI.SCRIPTRUN s f OUTPUTS $", (False, (-1, -1)), SR_VARIADIC_OUTSIDE),
    ("AI.SCRIPTRUN s f INPUTS $ a $ a", (False, (-1, -1)), SR_VARIADIC_TWICE),
    ("AI.SCRIPTRUN s f INPUTS a TIMEOUT 5", (True, (-1, -1)), DAG_TIMEOUT),
]  # fmt: skip


@pytest.mark.parametrize(("line", "known", "expected"), ERROR_ROWS, ids=[r[0] for r in ERROR_ROWS])
def test_parse_error(
    harness: ctypes.CDLL, line: str, known: tuple[bool, tuple[int, int]], expected: str
) -> None:
    in_dag, model = known
    assert parse(harness, line, in_dag=in_dag, model=model) == (ERROR, expected)


# (command line, what the key lookup told, the fields parsed)
PARSED_ROWS: list[tuple[str, tuple[bool, tuple[int, int]], str]] = [
    ("AI.MODELSTORE x TORCH CPU BLOB b", (False, (-1, -1)),
     "backend=TORCH device=CPU tag=- batch=0 minbatch=0 minbatchtimeout=0 inputs=[] outputs=[] blob=[b]"),
    ("AI.MODELSTORE x torch gpu:1 TAG v1 BATCHSIZE 8 MINBATCHSIZE 2 MINBATCHTIMEOUT 100 BLOB p1 p2", (False, (-1, -1)),
     "backend=TORCH device=gpu:1 tag=v1 batch=8 minbatch=2 minbatchtimeout=100 inputs=[] outputs=[] blob=[p1,p2]"),
    ("AI.MODELSTORE x TF CPU INPUTS 2 a b OUTPUTS 1 c BLOB g", (False, (-1, -1)),
     "backend=TF device=CPU tag=- batch=0 minbatch=0 minbatchtimeout=0 inputs=[a,b] outputs=[c] blob=[g]"),
    ("AI.MODELSTORE x ONNX CPU BATCHSIZE 0 MINBATCHSIZE 0 BLOB b", (False, (-1, -1)),
     "backend=ONNX device=CPU tag=- batch=0 minbatch=0 minbatchtimeout=0 inputs=[] outputs=[] blob=[b]"),
    ("AI.MODELSET x TF CPU TAG t INPUTS a b OUTPUTS c BLOB g", (False, (-1, -1)),
     "backend=TF device=CPU tag=t batch=0 minbatch=0 minbatchtimeout=0 inputs=[a,b] outputs=[c] blob=[g]"),
    ("AI.MODELSET x TFLITE CPU BLOB b1 b2", (False, (-1, -1)),
     "backend=TFLITE device=CPU tag=- batch=0 minbatch=0 minbatchtimeout=0 inputs=[] outputs=[] blob=[b1,b2]"),
    ("AI.SCRIPTSTORE x CPU TAG t ENTRY_POINTS 2 f g SOURCE src", (False, (-1, -1)),
     "device=CPU tag=t entry_points=[f,g] source=src"),
    ("AI.SCRIPTSTORE x GPU:0 ENTRY_POINTS 0 SOURCE src x y", (False, (-1, -1)),
     "device=GPU:0 tag=- entry_points=[] source=src"),
    ("AI.SCRIPTSET x CPU TAG t SOURCE src", (False, (-1, -1)),
     "device=CPU tag=t entry_points=[] source=src"),
    ("AI.SCRIPTSET x CPU SOURCE src", (False, (-1, -1)),
     "device=CPU tag=- entry_points=[] source=src"),
    ("AI.MODELEXECUTE m INPUTS 2 a b OUTPUTS 1 c", (False, TWO_IN_ONE_OUT),
     "timeout=0 inputs=[a,b] outputs=[c] keys=[] args=[]"),
    ("AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 c TIMEOUT 99999999999999999", (False, (-1, -1)),
     "timeout=1000000000000 inputs=[a] outputs=[c] keys=[] args=[]"),
    ("AI.MODELRUN m TIMEOUT 7 INPUTS a b OUTPUTS c", (False, TWO_IN_ONE_OUT),
     "timeout=7 inputs=[a,b] outputs=[c] keys=[] args=[]"),
    ("AI.MODELRUN m INPUTS a b c", (True, (-1, -1)),
     "timeout=0 inputs=[a,b,c] outputs=[] keys=[] args=[]"),
    ("AI.SCRIPTEXECUTE s f KEYS 1 k INPUTS 2 a b ARGS 1 x OUTPUTS 1 c TIMEOUT 5", (False, (-1, -1)),
     "timeout=5 inputs=[a,b] outputs=[c] keys=[k] args=[x]"),
    ("AI.SCRIPTEXECUTE s f INPUTS -1 OUTPUTS 1 c", (False, (-1, -1)),
     "timeout=0 inputs=[] outputs=[c] keys=[] args=[]"),
    ("AI.SCRIPTEXECUTE s f OUTPUTS 1 c", (True, (-1, -1)),
     "timeout=0 inputs=[] outputs=[c] keys=[] args=[]"),
    ("AI.SCRIPTRUN s f INPUTS a $ b OUTPUTS c TIMEOUT 3", (False, (-1, -1)),
     "timeout=3 inputs=[a,b] outputs=[c] keys=[] args=[]"),
    ("AI.SCRIPTRUN s f", (True, (-1, -1)), "timeout=0 inputs=[] outputs=[] keys=[] args=[]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "known", "expected"), PARSED_ROWS, ids=[r[0] for r in PARSED_ROWS]
)
def test_parse_fields(
    harness: ctypes.CDLL, line: str, known: tuple[bool, tuple[int, int]], expected: str
) -> None:
    in_dag, model = known
    assert parse(harness, line, in_dag=in_dag, model=model) == (PARSED, expected)


def test_echoed_argument_control_bytes_become_spaces(harness: ctypes.CDLL) -> None:
    """A client's argument echoed in an error cannot end the RESP error line early."""
    rc, err = parse(harness, b"AI.SCRIPTEXECUTE s ep INPUTS 1 a BO\rG\nUS\x01")
    assert (rc, err) == (ERROR, se_unexpected("BO G US "))


def test_counts_near_2_63_do_not_wrap(harness: ctypes.CDLL) -> None:
    """A count that would overflow an int position is refused, not wrapped."""
    big = str(2**63 - 1)
    assert parse(harness, f"AI.MODELEXECUTE m INPUTS {big} a OUTPUTS 1 b") == (
        ERROR,
        ME_INPUT_KEYS,
    )
    assert parse(harness, f"AI.SCRIPTEXECUTE s f KEYS {big} k") == (ERROR, KEYS_MISMATCH)
    assert parse(harness, f"AI.SCRIPTSTORE x CPU ENTRY_POINTS {big} f SOURCE s") == (
        ERROR,
        MISSING_ENTRY_POINTS,
    )


def test_arity_comes_before_the_parse(harness: ctypes.CDLL) -> None:
    """The harness applies the commands' arity checks, so short lines never reach a parser."""
    assert parse(harness, "AI.MODELEXECUTE m INPUTS 1 a")[0] == ARITY
    assert parse(harness, "AI.SCRIPTSET x CPU TAG t SOURCE")[0] == ARITY


def _reference_patterns() -> list[re.Pattern[str]]:
    """RedisAI's strings as patterns.  From the table of redisai-errors.md: %s/%li stand for
    anything, and a row cut short (ending in a space) is a prefix.  From redisai-commands.md's
    quoted texts: <tok> or a final X stands for the argument echoed."""
    patterns = []
    for text in re.findall(r"^\| `(.*?)` \|", REDISAI_ERRORS.read_text(), flags=re.M):
        text = text.replace("\\|", "|")
        body = re.escape(text).replace("%s", ".*").replace("%li", ".*")
        patterns.append(re.compile(body + (".*" if text.endswith(" ") else "") + r"\Z"))
    for text in re.findall(r"`([^`]{12,})`", REDISAI_COMMANDS.read_text()):  # not `X`, `n`
        body = re.sub(r"<[a-z]+>|X$", "(.*)", text)
        if body != text:
            parts = body.split("(.*)")
            patterns.append(re.compile(".*".join(map(re.escape, parts)) + r"\Z"))
        else:
            patterns.append(re.compile(re.escape(text.removeprefix("ERR ")) + r"\Z"))
    return patterns


def test_expected_errors_are_redisai_texts() -> None:
    """Every error these rows expect is one of RedisAI 1.2.7's texts (its "ERR " aside)."""
    if not (REDISAI_ERRORS.exists() and REDISAI_COMMANDS.exists()):
        pytest.skip(f"RedisAI's reference texts are not in {REFERENCE}")
    patterns = _reference_patterns()
    assert len(patterns) > 100
    expected = {row[2] for row in ERROR_ROWS}
    missing = [
        e for e in sorted(expected) if not any(p.match(e.removeprefix("ERR ")) for p in patterns)
    ]
    assert missing == []


TOKENS = [
    "INPUTS", "OUTPUTS", "KEYS", "ARGS", "TIMEOUT", "BLOB", "TAG", "BATCHSIZE", "MINBATCHSIZE",
    "MINBATCHTIMEOUT", "ENTRY_POINTS", "SOURCE", "$", "0", "1", "2", "-1", "-9", "x", "CPU",
    "TF", "TORCH", "9223372036854775807",
]  # fmt: skip
COMMANDS = [
    "AI.MODELSTORE x", "AI.MODELSET x", "AI.SCRIPTSTORE x", "AI.SCRIPTSET x",
    "AI.MODELEXECUTE m", "AI.MODELRUN m", "AI.SCRIPTEXECUTE s f", "AI.SCRIPTRUN s f",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    command=st.sampled_from(COMMANDS),
    tokens=st.lists(st.sampled_from(TOKENS), max_size=14),
    in_dag=st.booleans(),
)
def test_any_token_soup_parses_or_errs(
    harness: ctypes.CDLL, command: str, tokens: list[str], in_dag: bool
) -> None:
    """Whatever the arguments, a parser returns a summary or one of the errors above."""
    known_errors = {row[2] for row in ERROR_ROWS}
    rc, text = parse(harness, " ".join([command, *tokens]), in_dag=in_dag)
    if rc == ERROR:
        assert text in known_errors or text.startswith(
            ("Invalid argument: ", "ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: ")
        )
    else:
        assert rc in (PARSED, ARITY)
