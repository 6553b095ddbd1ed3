"""Hello World MPI: 4 tasks through Open MPI's mpirun on the local launcher.

Output lands in ./hello_world.out (four lines). Two settings only matter on small or
root-run machines: ``--oversubscribe`` lets 4 tasks run on fewer cores, and Open MPI
refuses to run as root unless OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM) are set (containers, CI).
"""

import os

from smartsim import Experiment

exp = Experiment("hello_world_exp", launcher="local")

mpi = exp.create_run_settings(exe="echo", exe_args="Hello World!", run_command="mpirun")
mpi.set_tasks(4)
mpi.run_args["oversubscribe"] = None  # more tasks than cores is fine for this demo
if os.geteuid() == 0:
    mpi.update_env({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"})

mpi_model = exp.create_model("hello_world", mpi)

exp.start(mpi_model, block=True)
print(exp.get_status(mpi_model))
