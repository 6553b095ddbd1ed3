"""Multi-GPU key naming and GPU choice (pure; no GPU needed)."""

import pytest

from smartredis._client.models import check_backend, check_device, check_gpus, gpu_keys, pick_gpu


def test_gpu_copies_cover_the_gpus_run_model_multigpu_picks():
    keys = gpu_keys("mm", 1, 3)
    assert keys == [("mm.GPU:1", "GPU:1"), ("mm.GPU:2", "GPU:2"), ("mm.GPU:3", "GPU:3")]
    # upstream stores only mm.GPU:1 and mm.GPU:2 (range(first, num)) yet picks GPU:3 here
    assert pick_gpu(5, 1, 3) == 3
    assert {pick_gpu(o, 1, 3) for o in range(-6, 6)} == {1, 2, 3}


def test_argument_checks():
    assert check_backend("torch") == "TORCH"
    assert check_device("gpu:1") == "GPU:1"
    with pytest.raises(TypeError):
        check_backend("caffe")
    with pytest.raises(TypeError):
        check_device("tpu")
    with pytest.raises(ValueError):
        check_gpus(-1, 1)
    with pytest.raises(ValueError):
        check_gpus(0, 0)
    with pytest.raises(TypeError):
        check_gpus(0, True)
