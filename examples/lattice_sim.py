"""A small lattice Boltzmann (D2Q9, BGK) flow past a cylinder that streams its state.

Every ``--every`` steps it puts a SmartRedis dataset ``data_<step>`` holding the velocity fields
``ux`` and ``uy``; the cylinder mask goes once as tensor ``cylinder``. Written for
examples/lattice_online_analysis.py; sizes are small so that it runs in seconds on a laptop.
"""

import argparse

import numpy as np

from smartredis import Client, Dataset

# D2Q9 lattice: velocities and weights
CX = np.array([0, 1, 0, -1, 0, 1, -1, -1, 1])
CY = np.array([0, 0, 1, 0, -1, 1, 1, -1, -1])
W = np.array([4 / 9] + [1 / 9] * 4 + [1 / 36] * 4)
OPPOSITE = [0, 3, 4, 1, 2, 7, 8, 5, 6]


def equilibrium(rho: np.ndarray, ux: np.ndarray, uy: np.ndarray) -> np.ndarray:
    feq = np.empty((9, *rho.shape))
    usq = ux**2 + uy**2
    for i in range(9):
        cu = CX[i] * ux + CY[i] * uy
        feq[i] = rho * W[i] * (1 + 3 * cu + 4.5 * cu**2 - 1.5 * usq)
    return feq


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--every", type=int, default=50)
    args = parser.parse_args()

    nx, ny, tau, inflow = 160, 48, 0.6, 0.08
    y, x = np.mgrid[0:ny, 0:nx]
    cylinder = (x - nx / 5) ** 2 + (y - ny / 2) ** 2 < (ny / 8) ** 2
    rng = np.random.default_rng(0)
    rho = np.ones((ny, nx))
    ux = inflow * (1 + 0.01 * rng.standard_normal((ny, nx)))
    uy = np.zeros((ny, nx))
    f = equilibrium(rho, ux, uy)

    client = Client(cluster=False)  # the address comes from SSDB, set by the Experiment
    client.put_tensor("cylinder", cylinder.astype(np.int8))
    for step in range(args.steps):
        for i in range(9):  # streaming (periodic)
            f[i] = np.roll(np.roll(f[i], CX[i], axis=1), CY[i], axis=0)
        bounced = f[:, cylinder][OPPOSITE]  # bounce-back off the cylinder
        rho = f.sum(axis=0)
        ux = (f * CX[:, None, None]).sum(axis=0) / rho
        uy = (f * CY[:, None, None]).sum(axis=0) / rho
        ux[:, 0] = inflow  # driven inflow on the left edge
        f += -(f - equilibrium(rho, ux, uy)) / tau  # collision
        f[:, cylinder] = bounced
        if step % args.every == 0:
            ux_out, uy_out = ux.copy(), uy.copy()
            ux_out[cylinder] = uy_out[cylinder] = 0
            dataset = Dataset(f"data_{step}")
            dataset.add_tensor("ux", ux_out)
            dataset.add_tensor("uy", uy_out)
            client.put_dataset(dataset)


if __name__ == "__main__":
    main()
