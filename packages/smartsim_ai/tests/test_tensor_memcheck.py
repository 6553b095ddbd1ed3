"""TENSORSET under valgrind memcheck: the kept BLOB argument must not move under the tensor.

When a module command returns, Redis 7 and Valkey 8 trim every argument the module retained
whose block is more than 10% unused; the reallocation may move the bytes. A BLOB read into a
query buffer sized for an earlier, bigger argument is such an argument. jemalloc and glibc
happen to shrink those blocks in place, so only memcheck (whose realloc always moves) shows
a pointer taken before the trim: the module read freed memory and TENSORGET answered wrong
bytes (both engines showed it with the module before the fix). Real servers.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from smartsim_ai.testing.memcheck import memcheck_client
from smartsim_ai.testing.pytest_plugin import engine_binary

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed"),
]


@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_kept_blob_survives_the_servers_trim(tmp_path, engine):
    with memcheck_client(
        engine_binary(engine), tmp_path, start_timeout=120, socket_timeout=120
    ) as c:
        rng = np.random.default_rng(0)
        big, small = 1 << 20, 256 << 10
        kept = {}
        for i in range(3):
            # The 1 MB BLOB leaves the connection a 1 MB query buffer; the 256 KB BLOB after it
            # is read into that buffer and handed to the module as it is (no copy).
            c.execute_command("AI.TENSORSET", "big", "UINT8", big, "BLOB", rng.bytes(big))
            kept[f"t{i}"] = rng.bytes(small)
            c.execute_command("AI.TENSORSET", f"t{i}", "UINT8", small, "BLOB", kept[f"t{i}"])
            # The same again into a key that holds a tensor of that shape (reused in place).
            c.execute_command("AI.TENSORSET", "big", "UINT8", big, "BLOB", rng.bytes(big))
            kept["t0"] = rng.bytes(small)
            c.execute_command("AI.TENSORSET", "t0", "UINT8", small, "BLOB", kept["t0"])
        for key, data in kept.items():
            assert c.execute_command("AI.TENSORGET", key, "BLOB") == data, key
        # A DAG's own TENSORSET (its BLOB last, so it too comes straight from the query
        # buffer), persisted: the queue thread and the reply read the tensor after the trim.
        c.execute_command("AI.TENSORSET", "big", "UINT8", big, "BLOB", rng.bytes(big))
        data = rng.bytes(small)
        dag = ["AI.DAGEXECUTE", "PERSIST", 1, "x", "|>", "AI.TENSORSET", "x", "UINT8", small]
        assert c.execute_command(*dag, "BLOB", data) == [b"OK"]
        assert c.execute_command("AI.TENSORGET", "x", "BLOB") == data
