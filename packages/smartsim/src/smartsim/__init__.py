"""smartsim: launch simulations, ensembles and a tensor database from Python."""

__version__ = "0.1.0"

from smartsim.experiment import Experiment

__all__ = ["Experiment", "__version__"]
