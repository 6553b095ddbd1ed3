"""smartsim.ml against a real database: the training-data path and the framework wrappers.

Producers are real processes (an Ensemble launched by an Experiment) uploading while a real
torch or Keras model trains on what they upload; freeze_model's graph runs in the database's TF
backend and must give Keras' own output.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from smartsim.ml import DataDownloader, DataInfo, StaticDataDownloader, TrainingDataUploader


@pytest.fixture
def address(valkey_ai_client, valkey_ai_server):
    return valkey_ai_server.address


def _upload(address, n_batches, rank=None, list_name="training_data", classes=None, size=8):
    up = TrainingDataUploader(
        list_name=list_name, cluster=False, address=address, rank=rank, num_classes=classes
    )
    up.publish_info()
    rng = np.random.default_rng(rank or 0)
    for _ in range(n_batches):
        x = rng.normal(size=(size, 3)).astype(np.float32)
        y = (np.arange(size) % (classes or 1000)).astype(np.float32)
        up.put_batch(x, y)
    return up


def test_names_and_info_of_smartsim_0_4_and_later(address):
    up = TrainingDataUploader("mylist", "xs", "ys", num_classes=4, cluster=False, address=address)
    assert (up.name, up.sample_prefix, up.target_prefix) == ("mylist", "xs", "ys")
    assert (up.list_name, up.sample_name, up.target_name) == ("mylist", "xs", "ys")
    up.publish_info()
    up.put_batch(np.ones((4, 2), np.float32), np.array([0, 1, 2, 3], np.float32))
    info = DataInfo("mylist")
    from smartredis import Client

    info.download(Client(address=address, cluster=False))
    assert (info.sample_name, info.target_name, info.num_classes) == ("xs", "ys", 4)
    with pytest.raises(ValueError, match="either"):
        TrainingDataUploader("a", list_name="b", cluster=False, address=address)


def test_static_downloader_serves_every_sample_once_per_epoch(address):
    _upload(address, n_batches=5, size=8)  # 40 samples
    down = StaticDataDownloader(batch_size=10, cluster=False, address=address)
    assert len(down) == 4
    seen = np.concatenate([x for x, _ in down])
    assert seen.shape == (40, 3)
    assert len({tuple(r) for r in seen.tolist()}) == 40


def test_replicas_split_the_batches(address):
    _upload(address, n_batches=6, size=4)
    parts = [
        DataDownloader(
            "training_data",
            batch_size=2,
            dynamic=False,
            cluster=False,
            address=address,
            replica_rank=r,
            num_replicas=3,
        )
        for r in range(3)
    ]
    assert [p.num_samples for p in parts] == [8, 8, 8]
    rows = [tuple(r) for p in parts for r in p.samples.tolist()]
    assert len(set(rows)) == 24


def test_dynamic_downloader_picks_up_new_batches_each_epoch(address):
    up = _upload(address, n_batches=2, size=5)
    down = DataDownloader(
        "training_data", batch_size=5, dynamic=True, cluster=False, address=address
    )
    assert sum(1 for _ in down) == 2
    up.put_batch(np.zeros((5, 3), np.float32), np.zeros(5, np.float32))
    assert sum(1 for _ in down) == 3


def test_num_classes_gives_one_hot_targets(address):
    _upload(address, n_batches=1, size=6, classes=3)
    _, y = next(
        iter(StaticDataDownloader(batch_size=6, cluster=False, address=address, shuffle=False))
    )
    assert y.shape == (6, 3)
    assert np.array_equal(y.argmax(axis=1), np.arange(6) % 3)


def test_no_data_is_a_clear_timeout_not_a_hang(address):
    with pytest.raises(TimeoutError, match=r"no training data after 0.5 s: list 'nothing'"):
        DataDownloader(
            "nothing", batch_size=4, cluster=False, address=address, data_init_timeout=0.5
        )


def test_producers_in_an_ensemble_are_read_through_their_prefixes(address, monkeypatch):
    for member in ("sim_0", "sim_1"):
        monkeypatch.setenv("SSKEYOUT", member)
        _upload(address, n_batches=2, size=4, rank=0)
    monkeypatch.delenv("SSKEYOUT")
    down = StaticDataDownloader(
        batch_size=4, cluster=False, address=address, producer_prefixes=["sim_0", "sim_1"]
    )
    assert down.num_samples == 16
    monkeypatch.setenv("SSKEYIN", "sim_1")
    assert StaticDataDownloader(batch_size=4, cluster=False, address=address).num_samples == 8


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_smartsim_and_smartsim_ml_import_no_framework():
    out = _run("""
        import sys, smartsim, smartsim.ml
        print(sorted(m for m in ("torch", "tensorflow", "keras", "onnx") if m in sys.modules))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "blocked", "hint"),
    [
        ("smartsim.ml.torch", "torch", "pip install torch"),
        ("smartsim.ml.tf", "tensorflow", "pip install tensorflow-cpu"),
    ],
)
def test_wrapper_without_its_framework_says_what_to_install(module, blocked, hint):
    out = _run(f"""
        import sys
        sys.modules[{blocked!r}] = None  # as if not installed
        import {module}
    """)
    assert out.returncode != 0
    assert f"{module} needs {blocked}, which is not installed here: `{hint}`" in out.stderr


PRODUCER = """
import sys, time
import numpy as np
from smartsim.ml import TrainingDataUploader

rank = int(sys.argv[1])
up = TrainingDataUploader(list_name="training_data", cluster=False, rank=rank)
up.publish_info()
rng = np.random.default_rng(rank)
w = np.array([[2.0], [-3.0], [0.5]], np.float32)


def upload(n):
    for _ in range(n):
        x = rng.normal(size=(32, 3)).astype(np.float32)
        up.put_batch(x, (x @ w + 1.0).astype(np.float32))


upload(int(sys.argv[2]))
# the rest once the trainer says it trains (so the test sees data arrive during training)
if len(sys.argv) > 3 and up.client.poll_tensor("training", 50, 1200):
    upload(int(sys.argv[3]))
"""


@pytest.mark.torch
@pytest.mark.slow
def test_torch_model_trains_while_an_ensemble_uploads(exp, tmp_path, address, monkeypatch):
    import torch

    from smartsim.ml.torch import DataLoader, DynamicDataGenerator

    monkeypatch.setenv("SSDB", address)
    (tmp_path / "producer.py").write_text(PRODUCER)
    settings = exp.create_run_settings(
        sys.executable, [str(tmp_path / "producer.py"), "0", "10", "30"]
    )
    ensemble = exp.create_ensemble("sims", replicas=2, run_settings=settings)
    ensemble.enable_key_prefixing()  # each member writes under its own name (SSKEYOUT)
    exp.start(ensemble, block=False)
    data = DynamicDataGenerator(
        batch_size=32,
        cluster=False,
        address=address,
        producer_prefixes=[m.name for m in ensemble.entities],
    )
    loader = DataLoader(data, num_workers=2)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses, batches = [], []
    for epoch_index in range(6):
        if epoch_index == 1:  # the producers upload the rest now; wait until it is all there
            from smartredis import Client

            client = Client(address=address, cluster=False)
            client.put_tensor("training", np.ones(1))
            for member in ensemble.entities:
                assert client.poll_list_length(f"{member.name}.training_data", 40, 50, 1200)
        epoch = []
        for x, y in loader:
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            epoch.append(loss.item())
        losses.append(float(np.mean(epoch)))
        batches.append(len(epoch))
    exp.stop(ensemble)
    assert losses[-1] < losses[0] / 4, losses
    # the batches uploaded during training reached the DataLoader's workers
    assert batches[0] <= 20 and batches[1:] == [80] * 5, batches


@pytest.mark.tf
@pytest.mark.slow
def test_keras_model_trains_while_simulations_upload(exp, tmp_path, address, monkeypatch):
    import tensorflow as tf

    from smartsim.ml.tf import DynamicDataGenerator

    monkeypatch.setenv("SSDB", address)
    (tmp_path / "producer.py").write_text(PRODUCER)
    sims = [
        exp.create_model(
            f"sim_{rank}",
            exp.create_run_settings(
                sys.executable, [str(tmp_path / "producer.py"), str(rank), "30"]
            ),
        )
        for rank in range(2)
    ]
    exp.start(*sims, block=False)
    data = DynamicDataGenerator(batch_size=32, cluster=False, address=address)
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer=tf.keras.optimizers.SGD(0.05), loss="mse")
    history = model.fit(data, epochs=6, verbose=0)
    exp.stop(*sims)
    loss = history.history["loss"]
    assert loss[-1] < loss[0] / 4, loss


@pytest.mark.tf
def test_freeze_model_runs_in_the_database_like_keras(tmp_path, address):
    import tensorflow as tf

    from smartredis import Client
    from smartsim.ml.tf import freeze_model, serialize_model

    tf.random.set_seed(1)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((28, 28, 1)),
            tf.keras.layers.Conv2D(4, 3, activation="relu"),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path, inputs, outputs = freeze_model(model, str(tmp_path), "cnn")
    assert path.endswith("cnn.pb")
    client = Client(address=address, cluster=False)
    client.set_model_from_file("cnn", path, "TF", device="CPU", inputs=inputs, outputs=outputs)
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    client.put_tensor("x", x)
    client.run_model("cnn", inputs=["x"], outputs=["y"])
    expected = model(x, training=False).numpy()
    np.testing.assert_allclose(client.get_tensor("y"), expected, rtol=1e-5, atol=1e-6)

    blob, inputs2, outputs2 = serialize_model(model)
    assert (inputs2, outputs2) == (inputs, outputs)
    client.set_model("cnn2", blob, "TF", device="CPU", inputs=inputs2, outputs=outputs2)
    client.run_model("cnn2", inputs=["x"], outputs=["y2"])
    np.testing.assert_allclose(client.get_tensor("y2"), expected, rtol=1e-5, atol=1e-6)
