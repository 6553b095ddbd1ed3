"""The README's CNN inference and SVD flows, from our client and from the official one.

Standalone and on the 3-shard cluster: an MNIST-size TorchScript CNN and an SVD script stored by
one client, run by both, with results checked against torch run locally.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.interop, pytest.mark.torch]

SVD_SCRIPT = (
    "def svd(field):\n"
    "    u, s, vh = torch.linalg.svd(field, full_matrices=False)\n"
    "    return u, s, vh\n"
)


def cnn():
    from smartsim_ai.worker import samples

    net = samples.torch_mnist_module()
    return net, samples.torch_script_bytes(net)


def test_cnn_stored_by_each_client_runs_from_both(target, tmp_path):
    import torch

    net, blob = cnn()
    path = tmp_path / "cnn.pt"
    path.write_bytes(blob)
    images = np.random.default_rng(1).random((8, 1, 28, 28), dtype=np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(images)).numpy()
    target.save("images", images)
    ours = target.ours()
    ours.set_model("cnn_ours", blob, "TORCH", "CPU")
    target.official(f'c.set_model_from_file("cnn_off", {str(path)!r}, "TORCH", "CPU")')
    for model in ("cnn_ours", "cnn_off"):
        ours.put_tensor("img_ours", images)
        ours.run_model(model, ["img_ours"], [f"scores_{model}"])
        np.testing.assert_allclose(ours.get_tensor(f"scores_{model}"), expected, atol=1e-5)
        target.official(
            f"""
            c.put_tensor("img_off", load("images"))
            c.run_model({model!r}, ["img_off"], ["off_{model}"])
            save("off_{model}", c.get_tensor("off_{model}"))
            """
        )
        np.testing.assert_allclose(target.load(f"off_{model}"), expected, atol=1e-5)


def test_svd_script_stored_by_each_client_runs_from_both(target):
    field = np.random.default_rng(2).standard_normal((24, 12)).astype(np.float32)
    target.save("field", field)
    ours = target.ours()
    ours.set_script("svd_ours", SVD_SCRIPT)
    target.official(f"c.set_script('svd_off', {SVD_SCRIPT!r})")
    for script in ("svd_ours", "svd_off"):
        ours.put_tensor("f_ours", field)
        ours.run_script(script, "svd", ["f_ours"], ["u1", "s1", "v1"])
        u, s, v = (ours.get_tensor(k) for k in ("u1", "s1", "v1"))
        np.testing.assert_allclose(u @ np.diag(s) @ v, field, atol=1e-4)
        target.official(
            f"""
            c.put_tensor("f_off", load("field"))
            c.run_script({script!r}, "svd", ["f_off"], ["u2", "s2", "v2"])
            save("s2", c.get_tensor("s2"))
            """
        )
        np.testing.assert_allclose(
            target.load("s2"), np.linalg.svd(field, compute_uv=False), rtol=1e-4
        )


def keys_on_every_shard(target, stem: str) -> list[str]:
    """One key name per primary of the database (its hash slot owner), in shard order."""
    if not target.cluster:
        return [f"{stem}_0"]
    from redis.cluster import RedisCluster

    host, _, port = target.address.rpartition(":")
    conn = RedisCluster(host=host, port=int(port))
    try:
        owners = {n.name for n in conn.get_primaries()}
        found: dict[str, str] = {}
        for i in range(1000):
            key = f"{stem}_{i}"
            found.setdefault(conn.get_node_from_key(key).name, key)
            if len(found) == len(owners):
                break
    finally:
        conn.close()
    assert set(found) == owners, f"no key found for every shard: {found}"
    return [found[name] for name in sorted(found)]


def svd(field):
    u, s, vh = torch.linalg.svd(field, full_matrices=False)  # noqa: F821 (TorchScript)
    return u, s, vh


def test_cnn_and_svd_with_data_on_every_shard_from_both(target, tmp_path):
    """Inputs and outputs on each shard in turn, so the CNN and the SVD (stored with
    ``set_function`` by each client) run wherever the data lives."""
    import torch

    net, blob = cnn()
    (tmp_path / "cnn.pt").write_bytes(blob)
    rng = np.random.default_rng(3)
    images = rng.random((4, 1, 28, 28), dtype=np.float32)
    field = rng.standard_normal((16, 10)).astype(np.float32)
    with torch.no_grad():
        scores = net(torch.from_numpy(images)).numpy()
    singular = np.linalg.svd(field, compute_uv=False)
    target.save("images", images)
    target.save("field", field)
    # the official client's environment has no torch: the function only names it
    (tmp_path / "svd_function.py").write_text(
        "def svd(field):\n"
        "    u, s, vh = torch.linalg.svd(field, full_matrices=False)  # noqa: F821\n"
        "    return u, s, vh\n"
    )
    inputs = keys_on_every_shard(target, "in")
    outputs = keys_on_every_shard(target, "out")
    assert len(inputs) == (3 if target.cluster else 1)
    ours = target.ours()
    ours.set_model("cnn_ours", blob, "TORCH", "CPU")
    ours.set_function("svd_ours", svd)
    target.official(
        f"""
        c.set_model_from_file("cnn_off", {str(tmp_path / "cnn.pt")!r}, "TORCH", "CPU")
        sys.path.insert(0, OUT)  # set_function sends the source: it must be in a file
        from svd_function import svd
        c.set_function("svd_off", svd)
        """
    )
    for model, script in (("cnn_ours", "svd_ours"), ("cnn_off", "svd_off")):
        for key_in, key_out in zip(inputs, outputs[1:] + outputs[:1]):  # other shard out
            ours.put_tensor(key_in, images)
            ours.run_model(model, [key_in], [key_out])
            np.testing.assert_allclose(ours.get_tensor(key_out), scores, atol=1e-5)
            ours.put_tensor(key_in, field)
            ours.run_script(script, "svd", [key_in], [key_out, f"{key_out}_s", f"{key_out}_v"])
            np.testing.assert_allclose(ours.get_tensor(f"{key_out}_s"), singular, rtol=1e-4)
        got = target.official(
            f"""
            result = {{}}
            for key_in, key_out in zip({inputs!r}, {outputs[1:] + outputs[:1]!r}):
                c.put_tensor(key_in, load("images"))
                c.run_model({model!r}, [key_in], [key_out])
                save("scores_" + key_in, c.get_tensor(key_out))
                c.put_tensor(key_in, load("field"))
                c.run_script({script!r}, "svd", [key_in], [key_out, key_out + "_s", key_out + "_v"])
                save("s_" + key_in, c.get_tensor(key_out + "_s"))
                result[key_in] = True
            dump(result)
            """
        )
        assert sorted(got) == sorted(inputs)
        for key_in in inputs:
            np.testing.assert_allclose(target.load(f"scores_{key_in}"), scores, atol=1e-5)
            np.testing.assert_allclose(target.load(f"s_{key_in}"), singular, rtol=1e-4)
