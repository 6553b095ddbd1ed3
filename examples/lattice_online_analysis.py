"""Online analysis: read a running simulation's fields and plot its vorticity.

The driver starts a database and the lattice Boltzmann simulation (examples/lattice_sim.py), then
polls the database for each dataset the simulation streams while it runs, computes the vorticity
and writes ./lattice_vorticity.png with matplotlib.
"""

import socket
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from smartredis import Client
from smartsim import Experiment

HERE = Path(__file__).resolve().parent
STEPS, EVERY = 600, 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vorticity(ux: np.ndarray, uy: np.ndarray) -> np.ndarray:
    return np.gradient(uy, axis=1) - np.gradient(ux, axis=0)


def main() -> int:
    exp = Experiment("lattice", launcher="local")
    db = exp.create_database(port=free_port(), interface="lo")
    exp.start(db)
    try:
        settings = exp.create_run_settings(
            sys.executable,
            [str(HERE / "lattice_sim.py"), "--steps", str(STEPS), "--every", str(EVERY)],
        )
        sim = exp.create_model("lattice_sim", settings)
        exp.start(sim, block=False)

        client = Client(address=db.get_address()[0], cluster=False)
        fields = []
        for step in range(0, STEPS, EVERY):
            if not client.poll_dataset(f"data_{step}", 100, 600):  # up to 60 s per step
                raise RuntimeError(f"the simulation sent no data for step {step}")
            data = client.get_dataset(f"data_{step}")
            w = vorticity(data.get_tensor("ux"), data.get_tensor("uy"))
            fields.append(w)
            print(
                f"step {step}: max |vorticity| {np.abs(w).max():.4f}, "
                f"status {exp.get_status(sim)[0]}"
            )
        exp.poll(interval=1)
        cylinder = client.get_tensor("cylinder").astype(bool)

        fig, axes = plt.subplots(2, 1, figsize=(8, 5))
        for ax, step_index in zip(axes, (len(fields) // 2, len(fields) - 1)):
            w = np.ma.masked_array(fields[step_index], cylinder)
            ax.imshow(w, cmap="bwr", vmin=-0.02, vmax=0.02)
            ax.set_title(f"vorticity at step {step_index * EVERY}")
            ax.axis("off")
        fig.tight_layout()
        fig.savefig("lattice_vorticity.png", dpi=80)
        print("wrote lattice_vorticity.png")
    finally:
        exp.stop(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
