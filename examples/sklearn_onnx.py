"""A scikit-learn model in the database through ONNX (skl2onnx), compared with sklearn's own."""

import socket
import sys

import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import make_regression
from sklearn.linear_model import LinearRegression

from smartredis import Client
from smartsim import Experiment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    x, y = make_regression(n_samples=200, n_features=5, noise=0.1, random_state=0)
    x = x.astype(np.float32)
    model = LinearRegression().fit(x, y)
    onnx_model = to_onnx(model, x[:1], target_opset=15)

    exp = Experiment("sklearn_onnx", launcher="local")
    db = exp.create_database(port=free_port(), interface="lo")
    exp.start(db)
    try:
        client = Client(address=db.get_address()[0], cluster=False)
        client.set_model("linreg", onnx_model.SerializeToString(), "ONNX", device="CPU")
        client.put_tensor("x", x[:10])
        client.run_model("linreg", inputs=["x"], outputs=["y"])
        in_db = client.get_tensor("y").reshape(-1)
        local = model.predict(x[:10])
        print(
            f"database: {np.round(in_db[:3], 3).tolist()} ... sklearn: "
            f"{np.round(local[:3], 3).tolist()} ..."
        )
        print(f"max difference: {np.abs(in_db - local).max():.2e}")
    finally:
        exp.stop(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
