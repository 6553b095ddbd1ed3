"""TORCH models saved with torch.export.save (.pt2): format detection, outputs equal to the
same model as TorchScript, input shape errors, and the load-time refusal of archives that would
run code (the worker's backend, in-process: no server)."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import zipfile

import numpy as np
import pytest

from smartsim_ai.worker import samples
from smartsim_ai.worker.backends import BackendError, Options, pt2check

torch = pytest.importorskip("torch")
from smartsim_ai.worker.backends import torch as torch_backend  # noqa: E402
from smartsim_ai.worker.backends import torch_export  # noqa: E402


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    """The backend turns autograd off for the whole process (a worker only infers); here it
    runs inside pytest, whose next test in this process may train a model."""
    enabled = torch.is_grad_enabled()
    yield
    torch.set_grad_enabled(enabled)


pytestmark = pytest.mark.torch
SENTINEL = "SMARTSIM_AI_PT2_PAYLOAD_RAN"


def load(blob: bytes):  # type: ignore[no-untyped-def]
    return torch_backend.load(blob, "CPU", [], [], Options())


@pytest.fixture(scope="module")
def cnn_pair() -> tuple[object, bytes, bytes]:
    module = samples.torch_cnn_module()
    return module, samples.torch_cnn_bytes(), samples.torch_cnn_export_bytes()


@pytest.fixture(scope="module")
def two_out() -> bytes:
    class Two(torch.nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return a + b, a * b

    return samples.torch_export_bytes(Two(), (torch.ones(2, 3), torch.ones(2, 3)))


def rebuild(blob: bytes, edit: dict[str, bytes | None]) -> bytes:
    """The archive with records replaced (bytes), removed (None) or added."""
    src = zipfile.ZipFile(io.BytesIO(blob))
    prefix = src.namelist()[0].split("/")[0] + "/"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name in src.namelist():
            short = name[len(prefix) :]
            if short in edit:
                continue
            dst.writestr(name, src.read(name))
        for short, data in edit.items():
            if data is not None:
                dst.writestr(prefix + short, data)
    return out.getvalue()


def edit_program(blob: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    record = zipfile.ZipFile(io.BytesIO(blob))
    name = next(n for n in record.namelist() if n.endswith("models/model.json"))
    program = json.loads(record.read(name))
    change(program)
    return rebuild(blob, {"models/model.json": json.dumps(program).encode()})


def test_format_is_told_from_the_bytes(cnn_pair) -> None:
    module, script_blob, export_blob = cnn_pair
    assert torch_export.is_exported_program(export_blob)
    assert not torch_export.is_exported_program(script_blob)
    assert not torch_export.is_exported_program(b"not a model")
    scripted, exported = load(script_blob), load(export_blob)
    assert isinstance(exported, torch_export.ExportedModel)
    assert isinstance(scripted, torch_backend.TorchModel)
    assert exported.inputs == scripted.inputs == ["x"]
    assert exported.outputs == scripted.outputs == [""]
    x = np.random.default_rng(0).random((5, 1, 28, 28), dtype=np.float32)
    (got_script,) = scripted.run([x])
    (got_export,) = exported.run([x])
    expected = module(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got_export, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got_export, got_script, rtol=1e-5, atol=1e-7)


def test_several_inputs_and_outputs(two_out) -> None:
    model = load(two_out)
    assert model.inputs == ["a", "b"] and model.outputs == ["", ""]
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    s, p = model.run([a, a + 1])
    np.testing.assert_array_equal(s, a + a + 1)
    np.testing.assert_array_equal(p, a * (a + 1))


def test_non_tensor_inputs_are_refused_at_load() -> None:
    class Scaled(torch.nn.Module):
        def forward(self, x: torch.Tensor, n: int) -> torch.Tensor:
            return x * n

    blob = samples.torch_export_bytes(Scaled(), (torch.ones(2, 3), 3), batch_dim=False)
    with pytest.raises(BackendError, match=r"non-tensor input \(3\)"):
        load(blob)


def test_fixed_shapes_say_which_dimension_and_why(cnn_pair) -> None:
    fixed = load(samples.torch_cnn_export_bytes(batch_dim=False))  # traced on a batch of 2
    with pytest.raises(BackendError) as info:
        fixed.run([np.zeros((3, 1, 28, 28), np.float32)])
    message = str(info.value)
    assert "input 0 ('x')" in message and "dim 0 fixed at 2" in message
    assert "BATCHSIZE" in message and "torch.export.Dim" in message
    dynamic = load(cnn_pair[2])
    for shape in [(1, 1, 28, 28), (7, 1, 28, 28)]:
        assert dynamic.run([np.zeros(shape, np.float32)])[0].shape == (shape[0], 10)
    with pytest.raises(BackendError, match=r"dim 3 fixed at 28, got shape \[2, 1, 28, 29\]$"):
        dynamic.run([np.zeros((2, 1, 28, 29), np.float32)])
    with pytest.raises(BackendError, match=r"dim 0 in \[0, 1024\]"):
        dynamic.run([np.zeros((1025, 1, 28, 28), np.float32)])
    with pytest.raises(BackendError, match="has 4 dimensions"):
        dynamic.run([np.zeros((28, 28), np.float32)])
    unbounded = load(
        samples.torch_export_bytes(cnn_pair[0], (torch.zeros(2, 1, 28, 28),), max_batch=None)
    )
    assert unbounded.run([np.zeros((2000, 1, 28, 28), np.float32)])[0].shape == (2000, 10)


def test_damaged_archives_fail_like_torchscript_ones(cnn_pair) -> None:
    _, script_blob, export_blob = cnn_pair
    for blob in (export_blob[: len(export_blob) // 2], export_blob[:-30]):
        with pytest.raises(BackendError) as info:
            load(blob)
        assert "\n" not in str(info.value) and str(info.value)
    with pytest.raises(BackendError) as script_error:
        load(script_blob[:-30])
    with pytest.raises(BackendError) as export_error:
        load(export_blob[:-30])
    # torch's own reader text, on one line, as for a damaged TorchScript archive
    for error in (script_error, export_error):
        assert re.match(r"(PytorchStreamReader|istream reader) failed", str(error.value))
    broken = rebuild(export_blob, {"models/model.json": b"{not json"})
    with pytest.raises(BackendError, match=r"models/model\.json is not valid JSON"):
        load(broken)


# ---------------------------------------------------------------------------------------------
# Archives that would run code in the worker with torch.export.load


def refused(blob: bytes, match: str) -> None:
    os.environ.pop(SENTINEL, None)
    with pytest.raises(BackendError, match=match) as info:
        load(blob)
    assert "refused" in str(info.value) or "files" in str(info.value)
    assert SENTINEL not in os.environ, "the payload ran"


def _payload() -> str:
    return f"__import__('os').environ.__setitem__('{SENTINEL}', '1')"


class Payload:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (exec, (f"import os; os.environ['{SENTINEL}'] = '1'",))


def test_pickled_sample_inputs_are_never_read(cnn_pair) -> None:
    saved = io.BytesIO()
    torch.save(Payload(), saved)
    blob = rebuild(cnn_pair[2], {"data/sample_inputs/model.pt": saved.getvalue()})
    # torch's own loader runs it (its safe load fails, then it retries with weights_only=False)
    os.environ.pop(SENTINEL, None)
    with pytest.raises(Exception):  # noqa: B017 (after the payload ran: not a tuple)
        torch.export.load(io.BytesIO(blob))
    assert os.environ.pop(SENTINEL, None) == "1"
    # the backend never unpickles the sample inputs
    model = load(blob)
    assert SENTINEL not in os.environ
    assert model.run([np.zeros((1, 1, 28, 28), np.float32)])[0].shape == (1, 10)


def test_pickled_weights_are_refused(cnn_pair) -> None:
    blob = cnn_pair[2]
    archive = zipfile.ZipFile(io.BytesIO(blob))
    name = next(n for n in archive.namelist() if n.endswith("model_weights_config.json"))
    config = json.loads(archive.read(name))
    first = next(iter(config["config"]))
    config["config"][first]["use_pickle"] = True
    edited = rebuild(blob, {"data/weights/model_weights_config.json": json.dumps(config).encode()})
    refused(edited, "as a pickle")


def test_weights_without_data_are_refused(cnn_pair) -> None:
    # torch would allocate a zero-filled tensor of the declared size (here 4 TB)
    blob = cnn_pair[2]
    archive = zipfile.ZipFile(io.BytesIO(blob))
    name = next(n for n in archive.namelist() if n.endswith("model_weights_config.json"))
    config = json.loads(archive.read(name))
    meta = next(iter(config["config"].values()))
    meta["tensor_meta"]["sizes"] = [{"as_int": 10**12}]
    edited = rebuild(
        blob,
        {
            "data/weights/model_weights_config.json": json.dumps(config).encode(),
            f"data/weights/{meta['path_name']}": b"",
        },
    )
    refused(edited, "of 1000000000000 elements with no data")


def test_native_code_and_unknown_records_are_refused(cnn_pair) -> None:
    blob = cnn_pair[2]
    refused(rebuild(blob, {"data/aotinductor/model/x.so": b"\x7fELF"}), "AOTInductor")
    refused(rebuild(blob, {"serialized_exported_program.json": b"{}"}), "records")
    refused(rebuild(blob, {"data/constants/opaque_obj_0": pickle.dumps(Payload())}), "records")


def test_code_in_shape_expressions_is_refused(cnn_pair) -> None:
    def change(program: dict) -> None:
        values = program["graph_module"]["graph"]["tensor_values"]
        values["x"]["sizes"][0]["as_expr"]["expr_str"] = _payload()

    refused(edit_program(cnn_pair[2], change), "shape expression with code")


def test_code_in_names_is_refused(cnn_pair) -> None:
    def placeholder(program: dict) -> None:
        spec = program["graph_module"]["signature"]["input_specs"][-1]
        spec["user_input"]["arg"]["as_tensor"]["name"] = f"x={_payload()}"

    refused(edit_program(cnn_pair[2], placeholder), "has name")

    def arg_names(program: dict) -> None:
        signature = program["graph_module"]["module_call_graph"][0]["signature"]
        signature["forward_arg_names"] = [f"x={_payload()}"]

    refused(edit_program(cnn_pair[2], arg_names), "has forward_arg_names")


def test_guard_code_is_dropped_not_run(cnn_pair) -> None:
    def change(program: dict) -> None:
        program["guards_code"] = [_payload()]

    os.environ.pop(SENTINEL, None)
    model = load(edit_program(cnn_pair[2], change))
    assert model.run([np.zeros((2, 1, 28, 28), np.float32)])[0].shape == (2, 10)
    assert SENTINEL not in os.environ


@pytest.mark.parametrize(
    ("target", "match"),
    [
        ("torch.os.system", "not an aten/prims operator"),
        ("builtins.exec", "not an aten/prims operator"),
        ("torch.ops.redis.execute.default", "not an aten/prims operator"),
        ("torch.ops.aten.from_file.default", "not an aten/prims operator"),
        ("_operator.setitem", "not an aten/prims operator"),
        ("#ext:op", "not an aten/prims operator"),
    ],
)
def test_targets_outside_aten_are_refused(cnn_pair, target: str, match: str) -> None:
    def change(program: dict) -> None:
        program["graph_module"]["graph"]["nodes"][0]["target"] = target

    refused(edit_program(cnn_pair[2], change), match)


def test_loaded_graph_is_checked_too() -> None:
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    graph.output(graph.call_function(os.getcwd, ()))
    with pytest.raises(BackendError, match="not an aten/prims operator"):
        pt2check.check_graph(torch.fx.GraphModule(torch.nn.Module(), graph))
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    graph.output(graph.call_function(torch.ops.aten.relu.default, (x,)))
    pt2check.check_graph(torch.fx.GraphModule(torch.nn.Module(), graph))
