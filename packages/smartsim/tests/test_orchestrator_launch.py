"""The Orchestrator against real servers, launched by a real Experiment (local launcher)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis

from smartsim import Experiment
from smartsim.database import Orchestrator
from smartsim.error import SmartSimError
from smartsim.status import SmartSimStatus
from smartsim_ai.testing.pytest_plugin import engine_binary
from smartsim_ai.testing.servers import free_port


def _server_pids(db: Orchestrator) -> list[int]:
    return [int(node.state().info["pid"]) for node in db]  # type: ignore[index]


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _assert_gone(pids: list[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _running(p)], "database processes still running"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _consecutive_free_ports(n: int) -> int:
    port = free_port()
    while not all(_port_free(p) and _port_free(p + 10000) for p in range(port, port + n)):
        port = free_port()
    return port


@pytest.fixture
def exp(tmp_path: Path) -> Iterator[Experiment]:
    experiment = Experiment("orc-test", exp_path=str(tmp_path), launcher="local")
    try:
        yield experiment
    finally:
        experiment._control.stop_all()  # nothing may outlive a test, even a failing one


@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_single_shard_start_check_stop(exp: Experiment, tmp_path: Path, engine: str) -> None:
    port = free_port()
    db = exp.create_database(
        port=port,
        interface="lo",
        server=str(engine_binary(engine).path),
        threads_per_queue=2,
        path=str(tmp_path / "db"),
    )
    exp.start(db)
    addresses = db.get_address()
    assert addresses == [f"127.0.0.1:{port}"]
    assert db.hosts == ["127.0.0.1"] and db.is_active()
    assert exp.get_status(db) == [SmartSimStatus.STATUS_RUNNING]
    client = redis.Redis(port=port)
    assert client.config_get("bind")["bind"] == "127.0.0.1"
    assert client.config_get("protected-mode")["protected-mode"] == "yes"
    assert any(m[b"name"] == b"ai" for m in client.execute_command("MODULE", "LIST"))
    db.set_max_memory("200mb")
    db.set_eviction_strategy("allkeys-lru")
    db.set_max_clients(1000)
    db.set_max_message_size(2_000_000)
    db.enable_checkpoints(900)
    assert client.config_get("maxmemory")["maxmemory"] == str(200 * 1024 * 1024)
    assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
    assert client.config_get("maxclients")["maxclients"] == "1000"
    assert client.config_get("proto-max-bulk-len")["proto-max-bulk-len"] == "2000000"
    assert client.config_get("save")["save"] == "900 1"
    with pytest.raises(SmartSimError, match="refused"):
        db.set_db_conf("maxmemory-policy", "no-such-policy")
    client.close()
    assert (Path(db.path) / "smartsim_db.dat").is_file()
    pids = _server_pids(db)

    exp.stop(db)
    _assert_gone(pids)
    assert not db.is_active()
    assert _port_free(port)
    assert not (Path(db.path) / "smartsim_db.dat").exists()
    assert exp.get_status(db) == [SmartSimStatus.STATUS_CANCELLED]


def test_second_start_on_same_port_refused(exp: Experiment, tmp_path: Path) -> None:
    port = free_port()
    db = exp.create_database(port=port, interface="lo", path=str(tmp_path / "db"))
    exp.start(db)
    other = Experiment("other", exp_path=str(tmp_path), launcher="local")
    twin = other.create_database(port=port, interface="lo", path=str(tmp_path / "twin"))
    with pytest.raises(
        SmartSimError,
        match=rf"port {port} \(a listening socket of (valkey|redis)-server, pid \d+\) on "
        r"127.0.0.1 is not free",
    ):
        other.start(twin)
    with pytest.raises(SmartSimError, match="already running"):
        exp.start(db)
    assert db.is_active()
    exp.stop(db)


def test_port_taken_fails_fast_with_server_log(exp: Experiment, tmp_path: Path) -> None:
    port = free_port()
    db = exp.create_database(port=port, interface="lo", path=str(tmp_path / "db"))
    # Something takes the port between the check and the server's start: only the
    # server notices.  Simulate by listening on all interfaces after prepare_launch.
    original = db.prepare_launch
    blocker = socket.socket()

    def prepare_then_take_port() -> None:
        original()
        blocker.bind(("127.0.0.1", port))
        blocker.listen()

    db.prepare_launch = prepare_then_take_port  # type: ignore[method-assign]
    started = time.monotonic()
    try:
        with pytest.raises(SmartSimError) as info:
            exp.start(db)
    finally:
        blocker.close()
    assert time.monotonic() - started < 30  # failed fast, not at the 60 s start timeout
    message = str(info.value)
    assert "failed to start" in message
    assert "Address already in use" in message  # the server's own log line
    assert not db.is_active()


def test_module_load_failure_reported(
    exp: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "broken-ai.so"
    bad.write_bytes(b"this is not a shared object")
    bad.chmod(0o755)
    monkeypatch.setenv("SMARTSIM_AI_MODULE", str(bad))
    db = exp.create_database(port=free_port(), interface="lo", path=str(tmp_path / "db"))
    with pytest.raises(SmartSimError) as info:
        exp.start(db)
    message = str(info.value)
    assert "failed to start" in message
    assert "broken-ai.so" in message and "failed to load" in message.lower()


def test_bad_module_argument_reported(exp: Experiment, tmp_path: Path) -> None:
    db = exp.create_database(
        port=free_port(),
        interface="lo",
        path=str(tmp_path / "db"),
        module_args={"NO_SUCH_SETTING": "1"},
    )
    with pytest.raises(SmartSimError) as info:
        exp.start(db)
    message = str(info.value)
    assert "failed to start" in message
    assert "NO_SUCH_SETTING" in message  # the module's own log line names the argument


def test_restart_after_stop(exp: Experiment, tmp_path: Path) -> None:
    port = free_port()
    db = exp.create_database(port=port, interface="lo", path=str(tmp_path / "db"))
    for _ in range(2):
        exp.start(db)
        assert db.get_address() == [f"127.0.0.1:{port}"]
        assert redis.Redis(port=port).ping()
        exp.stop(db)
        assert not db.is_active()


@pytest.mark.parametrize(("engine", "method"), [("valkey", "cli"), ("redis", "python")])
def test_three_shard_cluster(
    exp: Experiment, tmp_path: Path, engine: str, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTSIM_CLUSTER_CREATE", method)  # --cluster create, or slot assignment
    port = _consecutive_free_ports(3)
    server = str(engine_binary(engine).path)
    db = exp.create_database(
        port=port, db_nodes=3, interface="lo", path=str(tmp_path / "db"), server=server
    )
    exp.start(db)
    assert db.get_address() == [f"127.0.0.1:{port + i}" for i in range(3)]
    cluster = redis.RedisCluster(host="127.0.0.1", port=port)
    for i in range(50):
        cluster.set(f"key{i}", i)
    assert [int(cluster.get(f"key{i}")) for i in range(50)] == list(range(50))
    per_node = [redis.Redis(port=port + i).dbsize() for i in range(3)]
    assert all(n > 0 for n in per_node) and sum(per_node) == 50
    assert b"cluster_size:3" in redis.Redis(port=port).execute_command("CLUSTER", "INFO")
    cluster.close()
    db.set_max_clients(500)
    assert all(
        redis.Redis(port=port + i).config_get("maxclients")["maxclients"] == "500" for i in range(3)
    )
    confs = [node.cluster_config_file for node in db]
    assert all(c.is_file() for c in confs)
    pids = _server_pids(db)
    exp.stop(db)
    _assert_gone(pids)
    assert not any(c.exists() for c in confs)


def test_killed_shard_reported_and_stop_cleans_up(
    exp: Experiment, tmp_path: Path, smartsim_log: list[str]
) -> None:
    db = exp.create_database(port=free_port(), interface="lo", path=str(tmp_path / "db"))
    exp.start(db)
    pid = _server_pids(db)[0]
    workers = [w.pid for w in psutil.Process(pid).children(recursive=True)]
    assert workers, "the ai module starts its model workers at load"
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while exp.get_status(db) != [SmartSimStatus.STATUS_FAILED] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert exp.get_status(db) == [SmartSimStatus.STATUS_FAILED]
    _assert_gone(workers)  # the shard's supervisor reaped the dead server's workers
    assert not db.is_active()
    logged = "\n".join(smartsim_log)
    assert "database shard orchestrator stopped running" in logged
    assert "'signal': 9" in logged
    report = db.shard_report()
    assert "SIGKILL" in report["orchestrator"] or "signal" in report["orchestrator"]
    exp.stop(db)
    assert not (Path(db.path) / "smartsim_db.dat").exists()
    assert not any(
        p.info["cmdline"] and str(db.ports[0]) in " ".join(p.info["cmdline"])
        for p in psutil.process_iter(["cmdline"])
    )


MODEL = textwrap.dedent(
    """
    import json, os, redis
    host, port = os.environ["SSDB"].split(",")[0].rsplit(":", 1)
    client = redis.Redis(host=host, port=int(port))
    prefix = os.environ.get("SSKEYOUT", "")
    key = f"{prefix}.result" if prefix else "result"
    client.set(key, "written by the model")
    print(json.dumps({k: os.environ.get(k) for k in ("SSDB", "SSKEYIN", "SSKEYOUT")}))
    """
)


def test_models_get_ssdb_and_prefix_variables(exp: Experiment, tmp_path: Path) -> None:
    port = free_port()
    db = exp.create_database(port=port, interface="lo", path=str(tmp_path / "db"))
    exp.start(db)
    try:
        script = tmp_path / "model.py"
        script.write_text(MODEL)
        settings = exp.create_run_settings(sys.executable, [str(script)])
        producer = exp.create_model("producer", settings, path=str(tmp_path / "producer"))
        consumer = exp.create_model("consumer", settings, path=str(tmp_path / "consumer"))
        consumer.enable_key_prefixing()
        consumer.register_incoming_entity(producer)
        for model in (producer, consumer):
            os.makedirs(model.path, exist_ok=True)
        exp.start(producer, consumer, block=True)
        assert exp.get_status(producer, consumer) == [SmartSimStatus.STATUS_COMPLETED] * 2
        seen_p = json.loads((tmp_path / "producer" / "producer.out").read_text())
        seen_c = json.loads((tmp_path / "consumer" / "consumer.out").read_text())
        assert seen_p == {"SSDB": f"127.0.0.1:{port}", "SSKEYIN": None, "SSKEYOUT": None}
        assert seen_c == {
            "SSDB": f"127.0.0.1:{port}",
            "SSKEYIN": "producer",
            "SSKEYOUT": "consumer",
        }
        client = redis.Redis(port=port)
        assert client.get("result") == b"written by the model"
        assert client.get("consumer.result") == b"written by the model"
    finally:
        exp.stop(db)


DRIVER2 = textwrap.dedent(
    """
    import json, sys
    from smartsim import Experiment
    exp = Experiment("second-driver", exp_path=sys.argv[1], launcher="local")
    db = exp.reconnect_orchestrator(sys.argv[2])
    print(json.dumps({"addresses": db.get_address(), "active": db.is_active()}))
    if sys.argv[3] == "stop":
        exp.stop(db)
    """
)


@pytest.mark.parametrize("shards", [1, 3])
def test_reconnect_from_second_driver(exp: Experiment, tmp_path: Path, shards: int) -> None:
    port = _consecutive_free_ports(shards)
    db = exp.create_database(port=port, db_nodes=shards, interface="lo", path=str(tmp_path / "db"))
    exp.start(db)
    addresses = [f"127.0.0.1:{port + i}" for i in range(shards)]
    checkpoint = Path(db.path) / "smartsim_db.dat"
    assert json.loads(checkpoint.read_text())["addresses"] == addresses
    driver = tmp_path / "driver2.py"
    driver.write_text(DRIVER2)
    (tmp_path / "d2").mkdir()
    done = subprocess.run(
        [sys.executable, str(driver), str(tmp_path / "d2"), str(checkpoint), "keep"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"addresses": addresses, "active": True}
    assert db.is_active()  # the second driver did not stop it
    pids = _server_pids(db)
    done = subprocess.run(
        [sys.executable, str(driver), str(tmp_path / "d2"), str(checkpoint), "stop"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    _assert_gone(pids)
    assert not db.is_active()
    exp.stop(db)
    with pytest.raises((SmartSimError, FileNotFoundError)):
        exp.reconnect_orchestrator(str(checkpoint))


def test_generate_moves_the_database_directory(exp: Experiment, tmp_path: Path) -> None:
    db = exp.create_database(port=free_port(), interface="lo", path=str(tmp_path / "first"))
    exp.generate(db)
    assert Path(db.path) == tmp_path / "database"
    exp.start(db)
    try:
        assert (tmp_path / "database" / "orchestrator.log").is_file()
        assert (tmp_path / "database" / "smartsim_db.dat").is_file()
        assert not (tmp_path / "first" / "orchestrator.log").exists()
    finally:
        exp.stop(db)


def test_launch_that_ends_before_the_shard_reports_fails_fast(
    exp: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shard's job that ends before the shard wrote its address (as srun does with bad
    arguments, or a cancelled batch job) fails start() with what it printed, not a timeout."""
    db = exp.create_database(port=free_port(), interface="lo", path=str(tmp_path / "db"))
    failing = tmp_path / "fails.py"
    failing.write_text("import sys\nsys.exit('srun: error: stand-in launch failure')\n")
    db.entities[0].run_settings.exe_args[0] = str(failing)  # in place of entrypoints/dbnode.py
    monkeypatch.setenv("SMARTSIM_DB_START_TIMEOUT", "600")
    with pytest.raises(SmartSimError) as info:
        exp.start(db)
    message = str(info.value)
    assert "ended (Failed) before the shard reported its address" in message
    assert "stand-in launch failure" in message and "orchestrator.err" in message


def test_unknown_interface_fails_fast(exp: Experiment, tmp_path: Path) -> None:
    db = exp.create_database(port=free_port(), interface="nosuchnic0", path=str(tmp_path / "db"))
    with pytest.raises(SmartSimError, match=r"'nosuchnic0'.*interfaces here: .*lo \(127"):
        exp.start(db)
    with pytest.raises(SmartSimError, match="never launched"):
        exp.get_status(db)  # refused before anything ran


def test_database_and_ensemble_started_together(exp: Experiment, tmp_path: Path) -> None:
    port = free_port()
    db = exp.create_database(port=port, interface="lo", path=str(tmp_path / "db"))
    script = tmp_path / "model.py"
    script.write_text(MODEL)
    settings = exp.create_run_settings(sys.executable, [str(script)])
    ens = exp.create_ensemble("ens", run_settings=settings, replicas=2, path=str(tmp_path))
    exp.generate(ens)
    try:
        exp.start(db, ens, block=True)
        assert exp.get_status(ens) == [SmartSimStatus.STATUS_COMPLETED] * 2
        client = redis.Redis(port=port)
        for member in ens:
            seen = json.loads((Path(member.path) / f"{member.name}.out").read_text())
            assert seen["SSDB"] == f"127.0.0.1:{port}"
            assert seen["SSKEYOUT"] == member.name  # ensemble members prefix their keys
            assert client.get(f"{member.name}.result") == b"written by the model"
    finally:
        exp.stop(db)
