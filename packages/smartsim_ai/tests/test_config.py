"""AI.CONFIG, module load arguments and INFO MODULES, against real servers."""

from __future__ import annotations

import re

import pytest
import redis

from smartsim_ai.testing.servers import ServerStartError

DEFAULT_CHUNK = 511 * 1024 * 1024


def error_of(client, *args) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


def raw_info_modules(server) -> str:
    client = redis.Redis(host=server.host, port=server.port)
    client.response_callbacks.pop("INFO", None)
    try:
        return client.execute_command("INFO", "MODULES").decode()
    finally:
        client.close()


@pytest.fixture
def chunk_size_restored(ai_client):
    yield ai_client
    ai_client.execute_command("AI.CONFIG", "MODEL_CHUNK_SIZE", DEFAULT_CHUNK)


def test_model_chunk_size_get_set(chunk_size_restored):
    client = chunk_size_restored
    assert client.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE") == DEFAULT_CHUNK
    assert client.execute_command("AI.CONFIG", "model_chunk_size", 4096) == b"OK"
    assert client.execute_command("ai.config", "get", "model_chunk_size") == 4096
    assert (
        error_of(client, "AI.CONFIG", "MODEL_CHUNK_SIZE") == "MODEL_CHUNK_SIZE: missing chunk size"
    )
    for bad in (0, -5, "abc"):
        assert error_of(client, "AI.CONFIG", "MODEL_CHUNK_SIZE", bad) == (
            "MODEL_CHUNK_SIZE: invalid chunk size"
        )
    assert client.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE") == 4096


def test_backendspath(ai_server_factory, tmp_path):
    server = ai_server_factory()
    client = redis.Redis(host=server.host, port=server.port)
    default = client.execute_command("AI.CONFIG", "GET", "BACKENDSPATH").decode()
    assert default.endswith("/backends")
    assert client.execute_command("AI.CONFIG", "BACKENDSPATH", str(tmp_path)) == b"OK"
    assert client.execute_command("AI.CONFIG", "GET", "BACKENDSPATH") == str(tmp_path).encode()
    assert error_of(client, "AI.CONFIG", "BACKENDSPATH") == "BACKENDSPATH: missing path argument"


def test_loadbackend(ai_server_factory):
    server = ai_server_factory()
    client = redis.Redis(host=server.host, port=server.port)
    assert error_of(client, "AI.CONFIG", "LOADBACKEND", "TORCH") == (
        "wrong number of arguments for 'AI.CONFIG' command"
    )
    assert error_of(client, "AI.CONFIG", "LOADBACKEND", "CAFFE", "x.so") == "unsupported backend"
    assert client.execute_command("AI.CONFIG", "LOADBACKEND", "torch", "torch/x.so") == b"OK"
    # RedisAI refuses to load a backend twice
    assert error_of(client, "AI.CONFIG", "LOADBACKEND", "TORCH", "x.so") == (
        "error loading backend"
    )
    assert "ai_Torch_version" in raw_info_modules(server)


def test_config_errors(ai_client):
    assert error_of(ai_client, "AI.CONFIG") == "wrong number of arguments for 'AI.CONFIG' command"
    assert error_of(ai_client, "AI.CONFIG", "GET") == (
        "wrong number of arguments for 'AI.CONFIG' command"
    )
    assert ai_client.execute_command("AI.CONFIG", "GET", "NOSUCH") is None
    assert error_of(ai_client, "AI.CONFIG", "FROBNICATE") == "unsupported subcommand"


def test_info_modules_sections_in_redisai_order(ai_server):
    text = raw_info_modules(ai_server)
    sections = [part.splitlines()[0].strip() for part in text.split("#")[1:]]
    assert (
        sections
        == [
            "Modules",
            "ai_versions",
            "ai_git",
            "ai_load_time_configs",
            "ai_backends_info",
            "ai_cpu",
            "ai_tensor_compaction",  # ours, after RedisAI's
        ][: len(sections)]
    )
    assert len(sections) >= 7
    versions = text.split("#")[2]
    assert "ai_RedisAI_version:1.2.7" in versions
    assert "ai_low_level_API_version:1" in versions and "ai_rdb_version:4" in versions
    configs = text.split("#")[4]
    for field in (
        "ai_threads_per_queue:1",
        "ai_inter_op_parallelism:0",
        "ai_intra_op_parallelism:0",
        "ai_model_execution_timeout:5000",
        "ai_backend_memory_limit:0",
    ):
        assert field in configs
    cpu = text.split("#")[6]
    for field in (
        "ai_self_used_cpu_sys:",
        "ai_children_used_cpu_user:",
        "ai_main_thread_used_cpu_user:",
    ):
        assert field in cpu
    compaction = text.split("#")[7]
    for field in ("ai_compacted", "ai_freed_bytes", "ai_dropped", "ai_waiting"):
        # counts: the session server may have compacted big tensors of other tests
        assert re.search(rf"^{field}:\d+\r?$", compaction, re.M), field


def test_module_arguments_are_applied(ai_server_factory, tmp_path):
    server = ai_server_factory(
        module_args=[
            "BACKENDSPATH", str(tmp_path),
            "threads_per_queue", "3",
            "INTRA_OP_PARALLELISM", "2",
            "INTER_OP_PARALLELISM", "4",
            "MODEL_CHUNK_SIZE", "1000",
            "MODEL_EXECUTION_TIMEOUT", "2000",
            "BACKEND_MEMORY_LIMIT", "512",
            "ONNX", "onnx/lib.so",
        ]
    )  # fmt: skip
    client = redis.Redis(host=server.host, port=server.port)
    assert client.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE") == 1000
    assert client.execute_command("AI.CONFIG", "GET", "BACKENDSPATH") == str(tmp_path).encode()
    info = client.info("modules")
    assert info["ai_threads_per_queue"] == 3
    assert info["ai_intra_op_parallelism"] == 2
    assert info["ai_inter_op_parallelism"] == 4
    assert info["ai_model_execution_timeout"] == 2000
    assert info["ai_backend_memory_limit"] == 512
    assert "ai_onnxruntime_version" in info


@pytest.mark.parametrize(
    "args",
    [
        ["THREADS_PER_QUEUE"],  # odd count
        ["NO_SUCH_OPTION", "1"],
        ["THREADS_PER_QUEUE", "0"],
        ["MODEL_CHUNK_SIZE", "-1"],
        ["MODEL_EXECUTION_TIMEOUT", "999"],
        ["MODEL_LOAD_TIMEOUT", "-1"],
        ["INTRA_OP_PARALLELISM", "many"],
    ],
)
def test_bad_module_arguments_fail_the_load_with_a_logged_reason(ai_server_factory, args):
    server = ai_server_factory(start=False, module_args=args)
    with pytest.raises(ServerStartError):
        server.start(timeout=10)
    log = server.log_text()
    if len(args) == 1:
        assert "must be KEY VALUE pairs" in log
    else:
        assert f"ERR error processing argument: {args[0]} {args[1]}" in log
