"""A Keras model in the database's TF backend (smartsim.ml.tf.freeze_model), compared with Keras."""

import socket
import sys
import tempfile

import numpy as np
import tensorflow as tf

from smartredis import Client
from smartsim import Experiment
from smartsim.ml.tf import freeze_model


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    tf.random.set_seed(0)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((28, 28, 1)),
            tf.keras.layers.Conv2D(8, 3, activation="relu"),
            tf.keras.layers.MaxPooling2D(),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path, inputs, outputs = freeze_model(model, tempfile.mkdtemp(), "keras_cnn")

    exp = Experiment("keras_tf", launcher="local")
    db = exp.create_database(port=free_port(), interface="lo")
    exp.start(db)
    try:
        client = Client(address=db.get_address()[0], cluster=False)
        client.set_model_from_file(
            "keras_cnn", path, "TF", device="CPU", inputs=inputs, outputs=outputs
        )
        images = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
        client.put_tensor("images", images)
        client.run_model("keras_cnn", inputs=["images"], outputs=["probs"])
        probs = client.get_tensor("probs")
        local = model(images, training=False).numpy()
        print(f"graph inputs {inputs}, outputs {outputs}")
        print(f"predicted classes {probs.argmax(axis=1).tolist()}")
        print(f"max difference to Keras: {np.abs(probs - local).max():.2e}")
    finally:
        exp.stop(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
