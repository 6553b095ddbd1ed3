"""Online inference: a PyTorch CNN (MNIST-size) runs inside the database on streamed images.

The same network is stored twice, as TorchScript (``torch.jit.save``, deprecated in torch 2.13)
and as a torch.export program (``torch.export.save``, a .pt2 archive); the TORCH backend tells
them apart by their bytes. The program is exported with a dynamic batch dimension
(``torch.export.Dim``), which auto-batching (``batch_size``) needs.
"""

import io
import socket
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from smartredis import Client
from smartsim import Experiment


class Net(nn.Module):
    """An MNIST-size CNN: 1x28x28 images to 10 class probabilities."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return F.log_softmax(self.fc2(x), dim=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    torch.manual_seed(0)
    net = Net().eval()
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(net), buffer)
    batch = torch.export.Dim("batch", max=1024)
    program = torch.export.export(net, (torch.zeros(2, 1, 28, 28),), dynamic_shapes=({0: batch},))
    pt2 = io.BytesIO()
    torch.export.save(program, pt2)

    exp = Experiment("cnn_inference", launcher="local")
    db = exp.create_database(port=free_port(), interface="lo")
    exp.start(db)
    try:
        client = Client(address=db.get_address()[0], cluster=False)
        client.set_model("cnn", buffer.getvalue(), "TORCH", device="CPU")
        client.set_model("cnn_pt2", pt2.getvalue(), "TORCH", device="CPU", batch_size=16)
        images = np.random.default_rng(0).random((16, 1, 28, 28), dtype=np.float32)
        client.put_tensor("images", images)
        client.run_model("cnn", inputs=["images"], outputs=["scores"])
        client.run_model("cnn_pt2", inputs=["images"], outputs=["scores_pt2"])
        scores, scores_pt2 = client.get_tensor("scores"), client.get_tensor("scores_pt2")
        with torch.no_grad():
            local = net(torch.from_numpy(images)).numpy()
        print(f"scores {scores.shape}, predicted classes {scores.argmax(axis=1).tolist()}")
        worst = max(np.abs(scores - local).max(), np.abs(scores_pt2 - local).max())
        print(f"max difference to the local model: {worst:.2e} (TorchScript and .pt2)")
    finally:
        exp.stop(db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
