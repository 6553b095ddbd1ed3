"""Online processing with a script in the database: the SVD of a field, computed where it lives.

A TorchScript function is stored with ``Client.set_function`` and run with ``run_script`` on a
tensor in the database; the factors come back to the driver and reconstruct the field.
"""

import socket
import sys

import numpy as np
import torch

from smartredis import Client
from smartsim import Experiment


def svd(field: torch.Tensor):
    u, s, vh = torch.linalg.svd(field, full_matrices=False)
    return u, s, vh


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    exp = Experiment("svd_online", launcher="local")
    db = exp.create_database(port=free_port(), interface="lo")
    exp.start(db)
    try:
        client = Client(address=db.get_address()[0], cluster=False)
        field = np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32)
        client.put_tensor("field", field)
        client.set_function("svd", svd, device="CPU")
        client.run_script("svd", "svd", ["field"], ["U", "S", "V"])
        u, s, vh = (client.get_tensor(k) for k in ("U", "S", "V"))
        error = np.abs(u @ np.diag(s) @ vh - field).max()
        expected = np.linalg.svd(field, compute_uv=False)
        print(f"U {u.shape}, S {s.shape}, V {vh.shape}")
        print(f"largest singular values {np.round(s[:3], 4).tolist()}")
        print(
            f"max |U S V - field| = {error:.2e}; "
            f"max |S - numpy's S| = {np.abs(s - expected).max():.2e}"
        )
    finally:
        exp.stop(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
