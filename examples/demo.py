"""The main demo: a real database with the `ai` module, driven from Python.

This first version shows what the foundation provides (server lookup, module build, a live
server answering the module's command); the demo grows as the engine, the client and the
library land.
"""

import redis

import smartsim_ai
from smartsim_ai.testing import ServerProcess


def main() -> None:
    server = smartsim_ai.find_server()
    print(f"server binary : {server}")
    print(f"ai module     : {smartsim_ai.module_path()}")
    with ServerProcess(server) as db:
        client = redis.Redis(host=db.host, port=db.port)
        chunk = client.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
        print(f"database up at {db.address}; AI.CONFIG GET MODEL_CHUNK_SIZE -> {chunk}")
    print("database stopped. Still coming: tensors, models, the client and Experiment launches.")


if __name__ == "__main__":
    main()
