"""Builds the `ai` server module (a plain C shared object, not a Python extension).

The object lands at ``smartsim_ai/lib/ai.so`` in wheels and in editable installs;
``smartsim_ai.module_path()`` finds it there.
"""

import json
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

MODULE_DIR = Path("src") / "module"


class BuildServerModule(build_ext):
    """Name the object ai.so: the server loads it by path, Python never imports it."""

    def get_ext_filename(self, fullname: str) -> str:
        parts = fullname.split(".")
        if parts[-1] == "ai":  # called with the full dotted name and with the last part alone
            return str(Path(*parts[:-1], "ai.so"))
        return super().get_ext_filename(fullname)

    def get_export_symbols(self, ext: Extension) -> list[str]:
        return ["RedisModule_OnLoad"]


setup(
    ext_modules=[
        Extension(
            "smartsim_ai.lib.ai",
            sources=sorted(str(p) for p in MODULE_DIR.rglob("*.c")),
            depends=sorted(str(p) for p in MODULE_DIR.rglob("*.h")),
            extra_compile_args=[
                # the Python the workers run by default: the one this package was built for
                f"-DAI_BUILD_PYTHON={json.dumps(sys.executable)}",
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
    cmdclass={"build_ext": BuildServerModule},
)
