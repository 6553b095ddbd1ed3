"""An ensemble from parameter permutations, each member with its own tagged config file.

Creates ./ensemble_exp/ with one directory per member; each member's run.cfg has the
``;tag;`` values of its parameters filled in, and the member prints it.
"""

import os
import tempfile

from smartsim import Experiment

exp = Experiment("ensemble_exp", launcher="local")

settings = exp.create_run_settings("cat", exe_args="run.cfg")
ensemble = exp.create_ensemble(
    "sim", params={"steps": [10, 20], "nu": [0.1, 0.01]}, run_settings=settings
)
with tempfile.TemporaryDirectory() as template_dir:
    template = os.path.join(template_dir, "run.cfg")
    with open(template, "w") as f:
        f.write("steps = ;steps;\nviscosity = ;nu;\n")
    ensemble.attach_generator_files(to_configure=template)
    exp.generate(ensemble, overwrite=True)  # copies and fills in the template per member
exp.start(ensemble, block=True, summary=True)
print(exp.summary())
for model in ensemble:
    print(model.name, open(os.path.join(model.path, f"{model.name}.out")).read().split())
