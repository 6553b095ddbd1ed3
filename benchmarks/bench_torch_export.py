"""TORCH models as torch.export programs (.pt2) against the same model as TorchScript.

The small CNN of ``samples.torch_cnn_module`` (1x28x28 images, 10 classes), saved both ways,
side by side in one run (ratios are the figures; no targets are asserted):

1. in-process, the worker's backend (``backends.torch.load`` / ``run``): load time in a fresh
   interpreter (the first load of a format imports its loader: torch.jit vs torch.export's
   deserializer and sympy), load time once warm, and run latency at batch 1 and 16;
2. through the server: AI.MODELSTORE time (the first store of each format in a fresh worker
   and warm ones) and AI.MODELEXECUTE latency, interleaved.

Run: .venv/bin/python benchmarks/bench_torch_export.py [--quick] [--engine valkey|redis]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np
import redis

from smartsim_ai.testing.pytest_plugin import engine_binary
from smartsim_ai.testing.servers import ServerProcess
from smartsim_ai.worker import samples
from smartsim_ai.worker.backends import Options
from smartsim_ai.worker.backends import torch as torch_backend

FORMATS = ("script", "export")
COLD = """
import sys, time
blob = open(sys.argv[1], "rb").read()
from smartsim_ai.worker.backends import Options, torch as backend  # imports torch
start = time.perf_counter()
backend.load(blob, "CPU", [], [], Options(intra_op_threads=1))
print(time.perf_counter() - start)
"""


def blobs() -> dict[str, bytes]:
    return {"script": samples.torch_cnn_bytes(), "export": samples.torch_cnn_export_bytes()}


def median_ms(samples_s: list[float]) -> float:
    return statistics.median(samples_s) * 1e3


def ratio_line(name: str, values: dict[str, float], unit: str = "ms") -> None:
    print(
        f"  {name:<34} TorchScript {values['script']:8.3f} {unit}   .pt2 {values['export']:8.3f} "
        f"{unit}   ratio .pt2/TorchScript {values['export'] / values['script']:.2f}x"
    )


def in_process(models: dict[str, bytes], n_load: int, n_run: int, tmp: str) -> None:
    print("1. in-process (the worker's backend, 1 intra-op thread)")
    cold: dict[str, float] = {}
    for fmt in FORMATS:
        path = f"{tmp}/cnn.{fmt}"
        with open(path, "wb") as fh:
            fh.write(models[fmt])
        runs = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", COLD, path], capture_output=True, text=True, check=True
            )
            runs.append(float(out.stdout.strip().splitlines()[-1]))
        cold[fmt] = median_ms(runs)
    ratio_line("first load in a fresh process", cold)
    options = Options(intra_op_threads=1)
    warm: dict[str, list[float]] = {f: [] for f in FORMATS}
    for _ in range(n_load):
        for fmt in FORMATS:
            start = time.perf_counter()
            torch_backend.load(models[fmt], "CPU", [], [], options)
            warm[fmt].append(time.perf_counter() - start)
    ratio_line("load, warm (median)", {f: median_ms(v) for f, v in warm.items()})
    loaded = {f: torch_backend.load(models[f], "CPU", [], [], options) for f in FORMATS}
    for batch in (1, 16):
        x = np.random.default_rng(batch).random((batch, 1, 28, 28), dtype=np.float32)
        for fmt in FORMATS:  # warm-up
            for _ in range(20):
                loaded[fmt].run([x])
        times: dict[str, list[float]] = {f: [] for f in FORMATS}
        for _ in range(n_run):
            for fmt in FORMATS:
                start = time.perf_counter()
                loaded[fmt].run([x])
                times[fmt].append(time.perf_counter() - start)
        ratio_line(
            f"run, batch {batch} (median)", {f: median_ms(v) * 1e3 for f, v in times.items()}, "us"
        )


def through_server(models: dict[str, bytes], engine: str, n_store: int, n_run: int) -> None:
    print(f"2. through the server ({engine}, THREADS_PER_QUEUE 1)")
    with ServerProcess(engine_binary(engine), module_args=["INTRA_OP_PARALLELISM", "1"]) as srv:
        c = redis.Redis(port=srv.port, socket_timeout=600)
        first: dict[str, float] = {}
        for fmt in FORMATS:  # the worker imports torch at the first store: TorchScript's
            start = time.perf_counter()
            c.execute_command("AI.MODELSTORE", f"first_{fmt}", "TORCH", "CPU", "BLOB", models[fmt])
            first[fmt] = (time.perf_counter() - start) * 1e3
        print(
            f"  first store in a fresh worker: TorchScript {first['script']:.0f} ms (imports "
            f"torch), then .pt2 {first['export']:.0f} ms (imports torch.export's loader)"
        )
        stores: dict[str, list[float]] = {f: [] for f in FORMATS}
        for i in range(n_store):
            for fmt in FORMATS:
                start = time.perf_counter()
                c.execute_command(
                    "AI.MODELSTORE", f"m_{fmt}_{i}", "TORCH", "CPU", "BLOB", models[fmt]
                )
                stores[fmt].append(time.perf_counter() - start)
        ratio_line("AI.MODELSTORE, warm (median)", {f: median_ms(v) for f, v in stores.items()})
        x = np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32)
        c.execute_command("AI.TENSORSET", "x", "FLOAT", *x.shape, "BLOB", x.tobytes())
        runs: dict[str, list[float]] = {f: [] for f in FORMATS}
        for fmt in FORMATS:  # warm-up
            for _ in range(50):
                c.execute_command(
                    "AI.MODELEXECUTE", f"m_{fmt}_0", "INPUTS", 1, "x", "OUTPUTS", 1, "y"
                )
        for _ in range(n_run):
            for fmt in FORMATS:
                start = time.perf_counter()
                c.execute_command(
                    "AI.MODELEXECUTE", f"m_{fmt}_0", "INPUTS", 1, "x", "OUTPUTS", 1, "y"
                )
                runs[fmt].append(time.perf_counter() - start)
        ratio_line(
            "AI.MODELEXECUTE, batch 1 (median)",
            {f: median_ms(v) * 1e3 for f, v in runs.items()},
            "us",
        )
        c.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--engine", default="redis", choices=["valkey", "redis"])
    args = parser.parse_args()
    n_load, n_run, n_store = (10, 300, 5) if args.quick else (30, 2000, 15)
    import tempfile

    models = blobs()
    print(
        f"small CNN: TorchScript {len(models['script'])} bytes, .pt2 {len(models['export'])} bytes"
    )
    with tempfile.TemporaryDirectory() as tmp:
        in_process(models, n_load, n_run, tmp)
    through_server(models, args.engine, n_store, n_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
