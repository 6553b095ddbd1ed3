"""Experiment and entity directories, attached files and tagged configuration."""

from smartsim._core.generation.generator import Generator
from smartsim._core.generation.modelwriter import ModelWriter

__all__ = ["Generator", "ModelWriter"]
