"""An ensemble streams to one database under key prefixes; a consumer reads every member.

Real processes launched by an Experiment, against the session's database (or the server named by
``SMARTSIM_TEST_SERVER_ADDRESS``, e.g. the original RedisAI).
"""

from __future__ import annotations

import json
import sys

import numpy as np

from smartredis import Client
from smartsim import Experiment

PRODUCER = """
import sys
import numpy as np
from smartredis import Client, Dataset

member, steps = sys.argv[1], int(sys.argv[2])
client = Client(cluster=False)
for step in range(steps):
    field = np.full((4, 4), float(step), dtype=np.float64) + float(member[-1]) / 10
    client.put_tensor(f"field_{step}", field)
    meta = Dataset(f"meta_{step}")
    meta.add_meta_string("member", member)
    meta.add_tensor("norm", np.array([np.linalg.norm(field)]))
    client.put_dataset(meta)
client.put_tensor("steps_done", np.array([steps]))
"""

CONSUMER = """
import json, os, sys
import numpy as np
from smartredis import Client

client = Client(cluster=False)
result = {}
for member in os.environ["SSKEYIN"].split(","):
    client.set_data_source(member)
    steps = int(client.get_tensor("steps_done")[0])
    last = client.get_tensor(f"field_{steps - 1}")
    meta = client.get_dataset(f"meta_{steps - 1}")
    result[member] = {
        "steps": steps,
        "last_mean": float(last.mean()),
        "member_meta": meta.get_meta_strings("member")[0],
        "norm": float(meta.get_tensor("norm")[0]),
    }
json.dump(result, open(sys.argv[1], "w"))
"""


def test_four_members_stream_and_a_consumer_reads_each(ai_server, tmp_path):
    address = ai_server.address
    (tmp_path / "producer.py").write_text(PRODUCER)
    (tmp_path / "consumer.py").write_text(CONSUMER)
    exp = Experiment("streaming", exp_path=str(tmp_path), launcher="local")
    env = {"SSDB": address}
    members = exp.create_ensemble(
        "sim",
        replicas=4,
        run_settings=exp.create_run_settings(
            sys.executable, [str(tmp_path / "producer.py")], env_vars=env
        ),
    )
    for i, member in enumerate(members):
        member.run_settings.exe_args = [str(tmp_path / "producer.py"), member.name, str(5 + i)]
    members.enable_key_prefixing()
    out = tmp_path / "result.json"
    consumer = exp.create_model(
        "consumer",
        exp.create_run_settings(
            sys.executable, [str(tmp_path / "consumer.py"), str(out)], env_vars=env
        ),
    )
    for member in members:
        consumer.register_incoming_entity(member)
    try:
        exp.start(members, block=True)
        assert set(exp.get_status(members)) == {"Completed"}
        exp.start(consumer, block=True)
        assert exp.get_status(consumer) == ["Completed"]
    finally:
        exp._control.stop_all()

    result = json.loads(out.read_text())
    assert sorted(result) == [f"sim_{i}" for i in range(4)]
    for i in range(4):
        got = result[f"sim_{i}"]
        steps = 5 + i
        expected = steps - 1 + i / 10
        assert got["steps"] == steps and got["member_meta"] == f"sim_{i}"
        assert np.isclose(got["last_mean"], expected)
        assert np.isclose(got["norm"], np.linalg.norm(np.full((4, 4), expected)))
    # every key landed under its member's prefix; nothing unprefixed
    client = Client(address=address, cluster=False)
    for i in range(4):
        assert client.key_exists(f"sim_{i}.steps_done")
    assert not client.key_exists("steps_done")
