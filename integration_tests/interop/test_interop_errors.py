"""Bad input and failing operations raise the same exception classes in both clients.

Each case runs in the official client (its own environment) and in ours, against the same
real server; the class names of what they raise are compared.
"""

from __future__ import annotations

import numpy as np
import pytest

from smartredis import Client, Dataset

pytestmark = pytest.mark.interop

CASES = {
    "bool tensor": 'c.put_tensor("t", np.zeros(3, dtype=bool))',
    "0-d tensor": 'c.put_tensor("t", np.array(5.0))',
    "zero dim": 'c.put_tensor("t", np.zeros((2, 0)))',
    "name not str": "c.put_tensor(3, np.zeros(3))",
    "list not array": 'c.put_tensor("t", [1, 2])',
    "missing tensor": 'c.get_tensor("missing")',
    "wrong type key": 'c.get_tensor("plain")',
    "missing dataset": 'c.get_dataset("missing")',
    "delete missing dataset": 'c.delete_dataset("missing")',
    "empty dataset": 'c.put_dataset(Dataset("e"))',
    "missing list copy": 'c.copy_list("missing", "x")',
    "empty list name": 'c.copy_list("", "x")',
    "negative length": 'c.poll_list_length("L", -1, 10, 1)',
    "append non dataset": 'c.append_to_list("L", "x")',
    "bad backend": 'c.set_model("m", b"x", "CAFFE")',
    "bad device": 'c.set_model("m", b"x", "TORCH", "TPU")',
    "inputs for torch": 'c.set_model("m", b"x", "TORCH", inputs=["a"])',
    "min batch alone": 'c.set_model("m", b"x", "TORCH", min_batch_size=2)',
    "bad gpu range": 'c.set_model_multigpu("m", b"x", "TORCH", -1, 1)',
    "unknown data source": 'c.set_data_source("nope")',
    "foreign address": 'c.flush_db(["127.0.0.1:1"])',
    "cluster info standalone": 'c.get_db_cluster_info(["127.0.0.1:1"])',
    "duplicate dataset tensor": (
        'd = Dataset("d"); d.add_tensor("a", np.zeros(2)); d.add_tensor("a", np.zeros(2))'
    ),
    "missing dataset tensor": 'Dataset("d").get_tensor("a")',
    "bool metadata": 'Dataset("d").add_meta_scalar("x", True)',
    "string into scalar field": (
        'd = Dataset("d"); d.add_meta_scalar("x", 1.0); d.add_meta_string("x", "s")'
    ),
}

RUNNER = """
names = {}
for label, code in CASES.items():
    try:
        exec(code)
        names[label] = None
    except Exception as exc:
        names[label] = type(exc).__name__
dump(names)
"""


@pytest.fixture
def standalone(target):
    if target.cluster:
        pytest.skip("the cases use the standalone address rules")
    return target


def test_same_exception_classes(standalone):
    import redis

    host, port = standalone.address.split(":")
    r = redis.Redis(host=host, port=int(port))
    r.set("plain", "x")
    r.close()
    official = standalone.official(f"CASES = {CASES!r}\n" + RUNNER)
    c = Client(False, address=standalone.address)
    ours = {}
    for label, code in CASES.items():
        try:
            exec(code, {"c": c, "np": np, "Dataset": Dataset})
            ours[label] = None
        except Exception as exc:
            ours[label] = type(exc).__name__
    c.close()
    assert all(official.values()), official  # every case fails in the official client
    assert ours == official
