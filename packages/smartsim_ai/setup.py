"""Builds the `ai` server module (a plain C shared object, not a Python extension).

The object lands at ``smartsim_ai/lib/ai.so`` in wheels and in editable installs;
``smartsim_ai.module_path()`` finds it there.  The object is not a Python extension, so the
wheel is tagged ``py3-none-<platform>``: one wheel per platform serves every Python >= 3.10
(``auditwheel repair`` then gives it its manylinux tag; see docs/install.md).
"""

import json
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_ext import build_ext

MODULE_DIR = Path("src") / "module"
# One folder per layer (core, types, rdb, commands, exec); sources include each other's
# headers by name, so every folder is on the include path.
LAYERS = ("core", "types", "rdb", "commands", "exec")


class BuildServerModule(build_ext):
    """Name the object ai.so: the server loads it by path, Python never imports it."""

    def get_ext_filename(self, fullname: str) -> str:
        parts = fullname.split(".")
        if parts[-1] == "ai":  # called with the full dotted name and with the last part alone
            return str(Path(*parts[:-1], "ai.so"))
        return super().get_ext_filename(fullname)

    def get_export_symbols(self, ext: Extension) -> list[str]:
        return ["RedisModule_OnLoad"]

    def run(self) -> None:
        # read here: setuptools clears `inplace` while it builds, and copies afterwards
        self._for_checkout = bool(self.inplace or getattr(self, "editable_mode", False))
        super().run()

    def build_extension(self, ext: Extension) -> None:
        # A checkout's build (editable or in place) records its interpreter as the workers'
        # default; a wheel records none: the module then uses the Python of the environment
        # it is installed in (exec_main.c), not a path from the build machine.
        python = sys.executable if getattr(self, "_for_checkout", False) else ""
        ext.extra_compile_args = [
            *(a for a in ext.extra_compile_args if not a.startswith("-DAI_BUILD_PYTHON=")),
            f"-DAI_BUILD_PYTHON={json.dumps(python)}",
        ]
        super().build_extension(ext)


class PlatformWheel(bdist_wheel):
    """py3-none-<platform>: the server loads ai.so; no Python ABI is involved."""

    def get_tag(self) -> tuple[str, str, str]:
        return ("py3", "none", super().get_tag()[2])


setup(
    ext_modules=[
        Extension(
            "smartsim_ai.lib.ai",
            sources=sorted(str(p) for p in MODULE_DIR.rglob("*.c")),
            depends=sorted(str(p) for p in MODULE_DIR.rglob("*.h")),
            include_dirs=[str(MODULE_DIR / layer) for layer in LAYERS],
            extra_compile_args=[
                "-std=gnu11",
                "-O2",
                "-g",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-fvisibility=hidden",
                "-Wno-unused-parameter",
            ],
            extra_link_args=["-lm", "-lpthread"],
        )
    ],
    cmdclass={"build_ext": BuildServerModule, "bdist_wheel": PlatformWheel},
)
