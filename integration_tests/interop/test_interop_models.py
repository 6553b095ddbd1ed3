"""Models and scripts set by one client and run by the other, standalone and cluster.

In a cluster this checks the per-shard prefix bytes and the ``.TMP`` protocol against the
official client.  Skipped ONLY while the server answers ``unknown command`` for the model
or script commands (the engine's execution layer is a separate part); they turn on by
themselves once it is there.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

pytestmark = [pytest.mark.interop, pytest.mark.torch]

SCRIPT = "def triple(x):\n    return x * 3\n\ndef add(a, b):\n    return a + b\n"


def model_file(tmp_path) -> str:
    import torch

    class Double(torch.nn.Module):
        def forward(self, x):
            return x * 2

    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(Double()), buffer)
    path = tmp_path / "double.pt"
    path.write_bytes(buffer.getvalue())
    return str(path)


def require(client, *commands: str) -> None:
    """Skip while the server does not know a command (``COMMAND INFO``: nothing runs)."""
    for command in commands:
        reply = client._executor.nodes[0].call(["COMMAND", "INFO", command])
        if not reply or reply[0] is None:
            pytest.skip(f"the server does not implement {command} yet (unknown command)")


def test_model_set_by_official_run_by_ours_and_back(target, tmp_path):
    c = target.ours()
    require(c, "AI.MODELSTORE", "AI.MODELEXECUTE")
    path = model_file(tmp_path)
    target.official(f'c.set_model_from_file("m_off", {path!r}, "TORCH", "CPU")')
    for i in range(4):
        c.put_tensor(f"x{i}", np.full(3, i, dtype=np.float32))
        c.run_model("m_off", f"x{i}", f"y{i}")
        np.testing.assert_array_equal(c.get_tensor(f"y{i}"), np.full(3, 2 * i))
    assert c.get_model("m_off") == open(path, "rb").read()
    c.set_model_from_file("m_ours", path, "TORCH", "CPU")
    result = target.official(
        """
        out = []
        for i in range(4):
            c.put_tensor(f"a{i}", np.full(2, i + 1, dtype=np.float32))
            c.run_model("m_ours", f"a{i}", f"b{i}")
            out.append(c.get_tensor(f"b{i}").tolist())
        dump([out, c.model_exists("m_ours")])
        """
    )
    assert result == [[[2.0 * (i + 1)] * 2 for i in range(4)], True]
    c.delete_model("m_ours")
    assert target.official('dump(c.model_exists("m_ours"))') is False


def test_script_set_by_official_run_by_ours_and_back(target):
    c = target.ours()
    require(c, "AI.SCRIPTSET", "AI.SCRIPTRUN")
    target.official(f"c.set_script('s_off', {SCRIPT!r})")
    c.put_tensor("x", np.arange(3, dtype=np.float32))
    c.run_script("s_off", "triple", "x", "y")
    np.testing.assert_array_equal(c.get_tensor("y"), np.arange(3) * 3)
    assert c.get_script("s_off") == SCRIPT
    c.set_script("s_ours", SCRIPT)
    result = target.official(
        """
        c.put_tensor("a", np.ones(2, dtype=np.float32))
        c.put_tensor("b", np.ones(2, dtype=np.float32))
        c.run_script("s_ours", "add", ["a", "b"], ["c"])
        dump([c.get_tensor("c").tolist(), c.get_script("s_ours")])
        """
    )
    assert result == [[2.0, 2.0], SCRIPT]
