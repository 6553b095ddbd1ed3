"""A toy simulation for the demo: 1-D heat diffusion that streams its field every step.

Run by the demo as an ensemble member. It finds the database in $SSDB (set by the
Experiment) and, with key prefixing on, its keys are stored as ``<member>.field_<step>``.
"""

import argparse

import numpy as np

from smartredis import Client


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--nu", type=float, default=0.1)
    args = parser.parse_args()

    client = Client(cluster=False)  # address from $SSDB, prefix from $SSKEYOUT
    field = np.zeros((1, 64), dtype=np.float32)
    field[0, 28:36] = 1.0
    for step in range(args.steps):
        laplacian = np.roll(field, 1, axis=1) - 2 * field + np.roll(field, -1, axis=1)
        field = field + args.nu * laplacian
        client.put_tensor(f"field_{step}", field)
    client.put_tensor("steps_done", np.array([args.steps], dtype=np.int64))
    print(f"wrote {args.steps} steps, nu={args.nu}")


if __name__ == "__main__":
    main()
