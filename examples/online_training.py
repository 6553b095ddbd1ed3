"""Online training: a PyTorch model learns from an ensemble of simulations while they run.

1. start the database;
2. launch 2 simulations (examples/online_training_sim.py), each uploading batches every time step
   with smartsim.ml.TrainingDataUploader under its own key prefix;
3. train a torch model with smartsim.ml.torch.DynamicDataGenerator + DataLoader (2 workers, each
   reading its share), picking up new batches every epoch; print the loss per epoch;
4. stop everything.
"""

import socket
import sys
from pathlib import Path

import torch

from smartsim import Experiment
from smartsim.ml.torch import DataLoader, DynamicDataGenerator

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    exp = Experiment("online_training", launcher="local")
    db = exp.create_database(port=free_port(), interface="lo")
    exp.start(db)
    try:
        settings = exp.create_run_settings(sys.executable, [str(HERE / "online_training_sim.py")])
        sims = exp.create_ensemble("sim", replicas=2, run_settings=settings)
        sims.enable_key_prefixing()
        exp.start(sims, block=False)

        data = DynamicDataGenerator(
            batch_size=64,
            cluster=False,
            address=db.get_address()[0],
            producer_prefixes=[member.name for member in sims.entities],
        )
        loader = DataLoader(data, num_workers=2)
        model = torch.nn.Linear(3, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        for epoch in range(5):
            total, count = 0.0, 0
            for x, y in loader:
                optimizer.zero_grad()
                loss = torch.nn.functional.mse_loss(model(x), y)
                loss.backward()
                optimizer.step()
                total, count = total + loss.item(), count + 1
            print(f"epoch {epoch}: {count} batches, loss {total / max(count, 1):.4f}")
        exp.poll(interval=1)
        weights = model.weight.detach().numpy().round(2).tolist()
        print(f"learned weights {weights}, bias {model.bias.item():.2f} (true: [2, -3, 0.5], 1)")
    finally:
        exp.stop(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
