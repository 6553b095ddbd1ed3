"""The main demo: an Experiment couples a simulation ensemble with ML in the database.

1. start the database (Valkey or Redis with our `ai` module) as an Orchestrator;
2. launch an ensemble of toy heat-diffusion simulations; each streams its field every time
   step with the SmartRedis client, under its own key prefix;
3. store a TorchScript model in the database and run it on every member's last field, inside
   the database (by its supervised model workers), then read the results back;
4. stop everything: no process is left behind.

Outputs stay in ./demo_output/ (logs of the database and of every member).
"""

import io
import socket
import sys
from pathlib import Path

import numpy as np
import torch

from smartredis import Client
from smartsim import Experiment

HERE = Path(__file__).resolve().parent


class FieldStats(torch.nn.Module):
    """A stand-in for a trained model: summary statistics of a 1-D field."""

    def forward(self, field: torch.Tensor) -> torch.Tensor:
        return torch.stack([field.sum(dim=1), field.max(dim=1).values, field.std(dim=1)], dim=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    out_dir = HERE.parent / "demo_output"
    out_dir.mkdir(exist_ok=True)
    exp = Experiment("demo", exp_path=str(out_dir), launcher="local")
    db = exp.create_database(port=free_port(), interface="lo")
    exp.generate(db, overwrite=True)
    print("starting the database ...")
    exp.start(db)
    try:
        print(f"database ready at {db.get_address()[0]}")
        settings = exp.create_run_settings(sys.executable, [str(HERE / "demo_simulation.py")])
        ensemble = exp.create_ensemble(
            "heat",
            params={"nu": [0.05, 0.1, 0.2], "steps": [8]},
            params_as_args=["nu", "steps"],
            run_settings=settings,
        )
        ensemble.enable_key_prefixing()
        exp.generate(ensemble, overwrite=True)
        print("running 3 simulations that stream tensors every time step ...")
        exp.start(ensemble, block=True, summary=False)

        client = Client(address=db.get_address()[0], cluster=False)
        buffer = io.BytesIO()
        torch.jit.save(torch.jit.script(FieldStats()), buffer)
        client.set_model("field_stats", buffer.getvalue(), "TORCH", device="CPU")
        for member in ensemble:
            # each member's keys carry its name as prefix (SSKEYOUT)
            steps = int(client.get_tensor(f"{member.name}.steps_done")[0])
            last = f"{member.name}.field_{steps - 1}"
            client.run_model("field_stats", inputs=[last], outputs=[f"{member.name}.stats"])
            total, peak, spread = client.get_tensor(f"{member.name}.stats")[0]
            nu = member.params["nu"]
            print(
                f"  {member.name}: nu={nu:<5} steps={steps} sum={total:.3f} peak={peak:.3f} std={spread:.3f}"
            )
        print(exp.summary())
        peaks = [client.get_tensor(f"{m.name}.stats")[0][1] for m in ensemble]
        assert np.all(np.diff(peaks) < 0), "more diffusion should flatten the peak"
    finally:
        exp.stop(db)
        print("database stopped; outputs in demo_output/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
