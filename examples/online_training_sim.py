"""One simulation of examples/online_training.py: uploads training batches every time step."""

import sys

import numpy as np

from smartsim.ml import TrainingDataUploader

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 40
uploader = TrainingDataUploader(list_name="training_data", cluster=False)
uploader.publish_info()
rng = np.random.default_rng()
weights = np.array([[2.0], [-3.0], [0.5]], np.float32)
for _ in range(steps):
    # a stand-in for a simulation's state and the quantity to learn from it
    state = rng.normal(size=(64, 3)).astype(np.float32)
    uploader.put_batch(state, state @ weights + 1.0)
