"""Hello World: run one program through the local launcher.

Output lands in ./hello_world.out (the model runs in the current directory).
"""

from smartsim import Experiment

exp = Experiment("simple", launcher="local")

settings = exp.create_run_settings("echo", exe_args="Hello World")
model = exp.create_model("hello_world", settings)

exp.start(model, block=True)
print(exp.get_status(model))
