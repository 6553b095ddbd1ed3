# The shared fixtures (real servers with the ai module, a local cluster, Slurm checks).
pytest_plugins = ("smartsim_ai.testing.pytest_plugin",)
