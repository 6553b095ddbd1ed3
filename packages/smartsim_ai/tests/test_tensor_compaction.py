"""Background compaction of big tensors (compact.h): a BLOB of 32 KB or more is kept in the
server's own argument string, whose block jemalloc rounds up by up to 25%; after
TENSOR_COMPACTION_DELAY ms a background thread moves such data into an exact block.

Real servers, both engines: Redis 7 (jemalloc) compacts; Valkey's embedded build (glibc
malloc, exact blocks) never has anything to gain and must leave tensors alone.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import redis

from smartsim_ai.testing.servers import ServerStartError

ENGINES = ["valkey", "redis"]


def stats(c: redis.Redis) -> dict[str, int]:
    return {k.removeprefix("ai_"): v for k, v in c.info("ai_tensor_compaction").items()}


def wait_idle(c: redis.Redis, timeout: float = 20.0) -> dict[str, int]:
    """Until no candidate or job is left; returns the counters."""
    deadline = time.monotonic() + timeout
    while (s := stats(c))["waiting"]:
        assert time.monotonic() < deadline, f"compaction still busy after {timeout}s: {s}"
        time.sleep(0.005)
    return s


def jemalloc(c: redis.Redis) -> bool:
    return c.info("memory")["mem_allocator"].startswith("jemalloc")


def tensorset(c: redis.Redis, key: str, data: bytes, *dims: int) -> None:
    c.execute_command("AI.TENSORSET", key, "UINT8", *(dims or (len(data),)), "BLOB", data)


def blob(c: redis.Redis, key: str) -> bytes:
    return c.execute_command("AI.TENSORGET", key, "BLOB")


def overhead(c: redis.Redis, key: str, nbytes: int) -> int:
    return c.memory_usage(key) - nbytes


@pytest.fixture(params=ENGINES)
def eager(request, ai_server_factory) -> redis.Redis:
    """A server that compacts as soon as it can (TENSOR_COMPACTION_DELAY 0)."""
    client = start(ai_server_factory, request.param, 0)
    yield client
    client.close()


def start(ai_server_factory, engine: str, delay: int) -> redis.Redis:
    """A server of `engine` with TENSOR_COMPACTION_DELAY `delay` (and DEBUG enabled)."""
    server = ai_server_factory(
        engine,
        module_args=["TENSOR_COMPACTION_DELAY", str(delay)],
        config={"enable-debug-command": "yes"},
    )
    return redis.Redis(host=server.host, port=server.port)


@pytest.mark.parametrize(
    ("nbytes", "dims"),
    [(32 << 10, ()), (64 << 10, ()), (64 << 10, (2, 4, 8192)), (1 << 20, ()), (16 << 20, ())],
)
def test_big_tensor_shrinks_to_its_data(eager, nbytes, dims):
    c = eager
    data = np.random.default_rng(nbytes).bytes(nbytes)
    c.set("s", data)
    string_overhead = overhead(c, "s", nbytes)
    tensorset(c, "t", data, *dims)
    digest = c.execute_command("DEBUG", "DIGEST-VALUE", "t")
    before = overhead(c, "t", nbytes)
    s = wait_idle(c)
    after = overhead(c, "t", nbytes)
    if jemalloc(c):
        # The server's block is a size class above the data (as the string's is), and that
        # step is what compaction gave back.
        assert string_overhead >= 8192, string_overhead
        assert s["compacted"] == 1 and s["freed_bytes"] >= string_overhead - 128, s
        assert 0 < after <= 128, (before, after)
    else:
        assert s["compacted"] == 0, s
        assert after == before <= string_overhead + 128, (before, string_overhead)
    # Same bytes, same shape, same digest: nothing a client can see changed.
    assert blob(c, "t") == data
    assert c.execute_command("AI.TENSORGET", "t", "META")[3] == list(dims or (nbytes,))
    assert c.execute_command("DEBUG", "DIGEST-VALUE", "t") == digest


def test_size_between_classes_is_left_alone(eager):
    """100000 B rounds to the same jemalloc class exact or not: no copy is worth making."""
    c = eager
    data = np.random.default_rng(1).bytes(100_000)
    tensorset(c, "t", data)
    before = overhead(c, "t", len(data))
    s = wait_idle(c)
    assert s["compacted"] == 0 and s["dropped"] == 0, s
    assert overhead(c, "t", len(data)) == before
    assert blob(c, "t") == data


def test_compacted_tensors_persist_copy_and_overwrite(eager):
    c = eager
    data = np.random.default_rng(2).bytes(1 << 20)
    tensorset(c, "t", data)
    wait_idle(c)
    c.copy("t", "t2")
    c.restore("t3", 0, c.dump("t"))
    assert c.execute_command("DEBUG", "RELOAD") == b"OK"  # RDB save, flush, load
    for key in ("t", "t2", "t3"):
        assert blob(c, key) == data
    # An in-place overwrite of a compacted tensor takes the new string, then compacts again.
    new = np.random.default_rng(3).bytes(1 << 20)
    tensorset(c, "t", new)
    wait_idle(c)
    assert blob(c, "t") == new and blob(c, "t2") == data
    if jemalloc(c):
        assert overhead(c, "t", len(new)) <= 128


def test_delay_spares_keys_overwritten_sooner(ai_server_factory):
    """A key overwritten many times within the delay is copied at most once per delay."""
    c = start(ai_server_factory, "redis", 500)
    rng = np.random.default_rng(4)
    versions = [rng.bytes(64 << 10) for _ in range(4)]
    pipe = c.pipeline(transaction=False)
    for i in range(400):
        pipe.execute_command("AI.TENSORSET", "t", "UINT8", 64 << 10, "BLOB", versions[i % 4])
    t0 = time.monotonic()
    pipe.execute()
    early = stats(c)
    if time.monotonic() - t0 < 0.4:  # the whole burst ran within the delay
        assert early["compacted"] == 0 and early["dropped"] == 0, early
    s = wait_idle(c)
    assert s["compacted"] + s["dropped"] <= 2, s
    assert s["compacted"] >= 1, s
    assert blob(c, "t") == versions[399 % 4]
    assert overhead(c, "t", 64 << 10) <= 128


def test_off_switch_and_bad_values(ai_server_factory):
    c = start(ai_server_factory, "redis", -1)
    data = b"\x07" * (64 << 10)
    tensorset(c, "t", data)
    before = overhead(c, "t", len(data))
    time.sleep(0.2)
    assert stats(c) == {"compacted": 0, "freed_bytes": 0, "dropped": 0, "waiting": 0}
    assert overhead(c, "t", len(data)) == before
    for bad in ("-2", "soon", "1.5"):
        with pytest.raises(ServerStartError):
            ai_server_factory(module_args=["TENSOR_COMPACTION_DELAY", bad])


def test_key_moved_on_before_its_turn(ai_server_factory):
    """Deleted, renamed, flushed, replaced by another type, or moved to another db: the
    candidate is looked up by key name and simply not found; nothing leaks."""
    m = start(ai_server_factory, "redis", 200)  # measures; `c` (closed after) works
    kw = m.connection_pool.connection_kwargs
    data = b"\x01" * (64 << 10)

    def used_after(work) -> int:
        c = redis.Redis(host=kw["host"], port=kw["port"])
        work(c)
        c.flushall()
        c.close()  # its query and reply buffers go with it
        wait_idle(m)
        return m.info("memory")["used_memory"]

    def move_keys_on(c: redis.Redis) -> None:
        for key in ("del", "ren", "str", "mv", "keep"):
            tensorset(c, key, data)
        c.delete("del")
        c.rename("ren", "renamed")
        c.delete("str")
        c.set("str", "now a string")
        c.move("mv", 1)

    def check(c: redis.Redis) -> None:
        first = stats(c)
        move_keys_on(c)
        s = {k: v - first[k] for k, v in wait_idle(c).items()}
        # "keep" is found; "renamed" and "mv" are under names or a db nobody asked about.
        assert s["compacted"] == 1, s
        assert overhead(c, "keep", len(data)) <= 128
        assert blob(c, "renamed") == data and c.get("str") == b"now a string"
        # The renamed tensor is not followed, but its stale hint does not stop it from being
        # compacted once it is written again in place (after at most two hint epochs).
        time.sleep(2 * (0.2 + 0.25))
        tensorset(c, "renamed", data)
        s = {k: v - first[k] for k, v in wait_idle(c).items()}
        assert s["compacted"] == 2 and overhead(c, "renamed", len(data)) <= 128, s
        c.select(1)
        assert blob(c, "mv") == data

    baseline = used_after(check)  # once first: db 1, buffers and allocator caches exist
    assert used_after(check) - baseline < 16 << 10


def test_concurrent_writes_deletes_and_flushes(eager):
    """The compactor races the main thread's overwrites, DEL/UNLINK, COPY and FLUSHALL
    ASYNC on big tensors: the server stays up, every surviving tensor holds the bytes last
    written to it, and memory comes back."""
    race_writes_deletes_and_flushes(eager)


def test_kept_arguments_with_valkey_io_threads(ai_server_factory):
    """Valkey 8's I/O threads read the commands and free their arguments, off the main thread;
    TENSORSET keeps big BLOB arguments (RetainString) and the compactor frees them on its own
    thread.  Valkey releases a retained argument's reference on the main thread and hands only
    the others to an I/O thread, so the same race as above must hold up with them on."""
    server = ai_server_factory(
        "valkey",
        module_args=["TENSOR_COMPACTION_DELAY", "0"],
        config={"io-threads": "2", "events-per-io-thread": "0"},  # threads on from the 1st event
    )
    c = redis.Redis(host=server.host, port=server.port)
    race_writes_deletes_and_flushes(c)
    assert c.info("stats")["io_threaded_reads_processed"] > 0  # the threads did take part
    c.close()


def race_writes_deletes_and_flushes(c: redis.Redis) -> None:
    host, port = (
        c.connection_pool.connection_kwargs["host"],
        c.connection_pool.connection_kwargs["port"],
    )
    baseline = c.info("memory")["used_memory"]
    sizes = [32 << 10, 64 << 10, 256 << 10, 1 << 20]
    errors: list[BaseException] = []
    last: dict[str, bytes] = {}
    lock = threading.Lock()

    def writer(seed: int) -> None:
        rng = np.random.default_rng(seed)
        w = redis.Redis(host=host, port=port)
        try:
            for i in range(300):
                key = f"k{seed}:{i % 7}"
                op = rng.integers(10)
                if op < 6:
                    data = rng.bytes(int(rng.choice(sizes)))
                    with lock:  # the write and its record, in the order the server sees them
                        tensorset(w, key, data)
                        last[key] = data
                elif op == 6:
                    with lock:
                        w.delete(key)
                        last.pop(key, None)
                elif op == 7:
                    with lock:
                        w.unlink(key)
                        last.pop(key, None)
                elif op == 8:
                    with lock:
                        if key in last:
                            w.copy(key, key + "c", replace=True)
                            last[key + "c"] = last[key]
                else:
                    time.sleep(0.001)  # give the compactor a turn
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            w.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert c.ping()
    wait_idle(c)
    for key, data in last.items():
        assert blob(c, key) == data, key
    if jemalloc(c):
        assert stats(c)["compacted"] > 0
    c.flushall(asynchronous=True)
    wait_idle(c)
    deadline = time.monotonic() + 10
    while c.info("memory")["used_memory"] - baseline > 256 << 10:
        assert time.monotonic() < deadline, c.info("memory")["used_memory"] - baseline
        time.sleep(0.05)


@pytest.mark.torch
def test_tensors_read_by_scripts_while_compacting(ai_server_factory):
    """Inputs of running scripts (read by a queue thread without the server lock) are lent:
    a copy made meanwhile is dropped, never swapped under the reader; results stay right."""
    from smartsim_ai.worker import samples

    c = start(ai_server_factory, "redis", 0)
    c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
    n = 1 << 18  # 1 MB of float32
    for i in range(40):
        a = np.full(n, float(i), dtype=np.float32)
        c.execute_command("AI.TENSORSET", "a", "FLOAT", n, "BLOB", a.tobytes())
        c.execute_command("AI.TENSORSET", "b", "FLOAT", n, "BLOB", a.tobytes())
        if i % 2:
            time.sleep(0.002)  # sometimes let the copy start before the run
        c.execute_command("AI.SCRIPTRUN", "s", "two_to_one", "INPUTS", "a", "b", "OUTPUTS", "out")
        out = np.frombuffer(blob(c, "out"), dtype=np.float32)
        assert out.shape == (n,) and np.all(out == 2.0 * i), i
    s = wait_idle(c)
    print("compaction counters:", s)
    assert s["compacted"] + s["dropped"] > 0, s
    assert blob(c, "a") == np.full(n, 39.0, dtype=np.float32).tobytes()


def test_compaction_is_invisible_to_clients(eager):
    """The key is not written: its TTL stays, a WATCH on it is not woken."""
    c = eager
    data = np.random.default_rng(5).bytes(64 << 10)
    tensorset(c, "t", data)
    c.pexpire("t", 60_000)
    with c.pipeline() as pipe:
        pipe.watch("t")
        wait_idle(c)
        pipe.multi()
        pipe.set("after", "1")
        assert pipe.execute() == [True]  # not aborted by the compaction
    assert 0 < c.pttl("t") <= 60_000
    assert blob(c, "t") == data
    if jemalloc(c):
        assert stats(c)["compacted"] == 1
