"""smartsim: launch simulations, ensembles and a tensor database from Python."""

__version__ = "0.1.0"

from smartsim.experiment import Experiment

try:  # our smartredis (a dependency) knows how to spot the original CrayLabs distributions
    from smartredis._original import warn_if_original_installed
except ImportError:  # the official smartredis replaced ours: its own files, no check
    pass
else:
    warn_if_original_installed("smartsim", "smartsim_py")

__all__ = ["Experiment", "__version__"]
