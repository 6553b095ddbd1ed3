"""Run and batch settings: pure data plus formatting (see :mod:`smartsim.settings.base`)."""

from smartsim.settings.alps import AprunSettings
from smartsim.settings.base import BatchSettings, RunSettings
from smartsim.settings.cobalt import CobaltBatchSettings
from smartsim.settings.factory import create_batch_settings, create_run_settings
from smartsim.settings.lsf import BsubBatchSettings, JsrunSettings
from smartsim.settings.mpi import MpiexecSettings, MpirunSettings, OrterunSettings
from smartsim.settings.pals import PalsMpiexecSettings
from smartsim.settings.pbs import QsubBatchSettings
from smartsim.settings.sge import SgeQsubBatchSettings
from smartsim.settings.slurm import SbatchSettings, SrunSettings

__all__ = [
    "AprunSettings",
    "BatchSettings",
    "BsubBatchSettings",
    "CobaltBatchSettings",
    "JsrunSettings",
    "MpiexecSettings",
    "MpirunSettings",
    "OrterunSettings",
    "PalsMpiexecSettings",
    "QsubBatchSettings",
    "RunSettings",
    "SbatchSettings",
    "SgeQsubBatchSettings",
    "SrunSettings",
    "create_batch_settings",
    "create_run_settings",
]
