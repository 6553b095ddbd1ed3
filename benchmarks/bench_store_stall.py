"""The longest main-thread stall while models of every backend are stored into a cold server.

    .venv/bin/python benchmarks/bench_store_stall.py [--engines valkey,redis] [--modes plain,multi,lua]

For each engine and each way of sending the stores (``plain`` commands, each store in its own
``MULTI``/``EXEC``, each store from a Lua ``EVAL``), a fresh server is started (its workers have
imported no backend yet: the first store of each backend pays the import), and one client
stores a TORCH, an ONNX, a TF and a TFLITE model and a TorchScript script while a second
client sends ``PING`` in a loop.  The longest ``PING`` round trip bounds the longest time the
server's main thread did not answer anyone, plus this machine's scheduling noise (a PING
waits for the client and the server to be scheduled: on a loaded 2-core machine, tens of ms
while a worker imports TensorFlow on every core).  The server's own latency monitor
(``LATENCY LATEST``, threshold 1 ms) gives the longest single command (or other event) on the
main thread; a normal command takes well under a millisecond.

The page cache is warm on a machine that has imported the backends before (this benchmark's
own process builds the models with them), so a truly cold disk makes imports, and any stall
that waits for them, longer.  Absolute times on a shared machine are noise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _engines import engine_binary

from smartsim_ai.testing.servers import ServerProcess
from smartsim_ai.worker import samples

LUA_STORE = "return redis.call(unpack(ARGV))"


def store_commands() -> list[tuple[str, list[object]]]:
    """(label, command) for one store of every backend and a script."""
    torch_blob, _ = samples.torch_linear_bytes()
    onnx_blob, _ = samples.onnx_linear_regression()
    tf_blob, tf_in, tf_out, _ = samples.tf_frozen_graph()
    tflite_blob = samples.tflite_model()
    return [
        ("TORCH", ["AI.MODELSTORE", "m_torch", "TORCH", "CPU", "BLOB", torch_blob]),
        ("ONNX", ["AI.MODELSTORE", "m_onnx", "ONNX", "CPU", "BLOB", onnx_blob]),
        (
            "TF",
            [
                "AI.MODELSTORE",
                "m_tf",
                "TF",
                "CPU",
                "INPUTS",
                1,
                tf_in,
                "OUTPUTS",
                1,
                tf_out,
                "BLOB",
                tf_blob,
            ],
        ),
        ("TFLITE", ["AI.MODELSTORE", "m_tflite", "TFLITE", "CPU", "BLOB", tflite_blob]),
        ("script", ["AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT]),
    ]


class Pinger(threading.Thread):
    """PINGs the server from its own connection until stopped; keeps every round trip."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.conn = redis.Redis(port=port, socket_timeout=600)
        self.times: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            self.conn.ping()
            self.times.append(time.perf_counter() - t0)
            time.sleep(0.001)


def send(client: redis.Redis, mode: str, cmd: list[object]) -> object:
    if mode == "plain":
        return client.execute_command(*cmd)
    if mode == "multi":
        pipe = client.pipeline(transaction=True)
        pipe.execute_command(*cmd)
        return pipe.execute(raise_on_error=False)[0]
    return client.eval(LUA_STORE, 0, *cmd)


def run_one(engine: str, mode: str, commands: list[tuple[str, list[object]]]) -> dict:
    server = ServerProcess(engine_binary(engine)).start()
    try:
        client = redis.Redis(port=server.port, socket_timeout=600)
        client.config_set("latency-monitor-threshold", 1)
        pinger = Pinger(server.port)
        pinger.start()
        time.sleep(0.2)  # a few round trips before the first store
        per_store = {}
        t_all = time.perf_counter()
        for label, cmd in commands:
            t0 = time.perf_counter()
            reply = send(client, mode, cmd)
            per_store[label] = (time.perf_counter() - t0, reply)
        total = time.perf_counter() - t_all
        # a store that did not wait for its worker (MULTI, Lua) is compiled in the
        # background: keep pinging until every model runs, so that stall counts too
        if mode != "plain":
            wait_loaded(client)
        pinger.stop.set()
        pinger.join()
        events = client.execute_command("LATENCY", "LATEST")  # [name, time, latest, max]
        worst = max(events, key=lambda e: int(e[3]), default=[b"none", 0, 0, 0])
        return {
            "max_event_ms": int(worst[3]),
            "max_event": worst[0].decode(),
            "total_s": total,
            "max_ping_ms": max(pinger.times) * 1e3,
            "median_ping_ms": statistics.median(pinger.times) * 1e3,
            "pings": len(pinger.times),
            "per_store": per_store,
        }
    finally:
        server.stop()


def wait_loaded(client: redis.Redis) -> None:
    """Run the TORCH model once: it queues behind the background loads of the stores."""
    import numpy as np

    x = np.ones((1, 10), np.float32)
    client.execute_command("AI.TENSORSET", "x", "FLOAT", 1, 10, "BLOB", x.tobytes())
    client.execute_command("AI.MODELEXECUTE", "m_torch", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    client.execute_command("AI.TENSORSET", "x3", "FLOAT", 1, 3, "BLOB", x[:, :3].tobytes())
    client.execute_command("AI.MODELEXECUTE", "m_onnx", "INPUTS", 1, "x3", "OUTPUTS", 1, "y3")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engines", default="valkey,redis")
    p.add_argument("--modes", default="plain,multi,lua")
    args = p.parse_args()
    commands = store_commands()
    print(
        "| engine | stores sent | all stores (s) | longest PING (ms) | median PING (ms) | PINGs "
        "| longest main-thread event (ms, LATENCY) |"
    )
    print("|---|---|---|---|---|---|---|")
    for engine in args.engines.split(","):
        for mode in args.modes.split(","):
            r = run_one(engine, mode, commands)
            print(
                f"| {engine} | {mode} | {r['total_s']:.2f} | {r['max_ping_ms']:.1f} | "
                f"{r['median_ping_ms']:.2f} | {r['pings']} | {r['max_event_ms']} "
                f"({r['max_event']}) |",
                flush=True,
            )
            detail = ", ".join(f"{k} {t:.2f} s ({v!r:.40})" for k, (t, v) in r["per_store"].items())
            print(f"<!-- {engine} {mode}: {detail} -->", flush=True)


if __name__ == "__main__":
    main()
