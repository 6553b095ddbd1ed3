"""The ``smart`` command line: info, validate, dbcli, site, clean, build."""

from __future__ import annotations

import argparse
import sys

from smartsim._core._cli import commands, validate


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``smart``."""
    parser = argparse.ArgumentParser(
        prog="smart", description="smartsim's command line: inspect and check an installation"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("info", help="versions, the database server and module, ML backends")
    val = sub.add_parser(
        "validate", help="start a database, store and run a small model, report what works"
    )
    val.add_argument("--port", type=int, default=0, help="port for the database (default: free)")
    val.add_argument("--device", default="cpu", choices=["cpu", "gpu"], help="device to test")
    sub.add_parser("dbcli", help="print the path of the database command-line client")
    sub.add_parser("site", help="print where smartsim is installed")
    clean = sub.add_parser("clean", help="remove build products (there are none to remove)")
    clean.add_argument("--clobber", action="store_true", help="same as clean")
    build = sub.add_parser(
        "build",
        help="explains that nothing needs building (accepts SmartSim's build options)",
        description="Nothing needs building: the server, the ai module and the ML backends all "
        "come from pip. SmartSim 0.4-0.8's options are accepted so site scripts keep working.",
    )
    # SmartSim 0.4's `smart build` options (and later versions' through parse_known_args).
    build.add_argument("-v", action="store_true", help="ignored")
    build.add_argument("--device", default="cpu", type=str.lower, choices=["cpu", "gpu"])
    for flag in ("--only_python_packages", "--no_pt", "--no_tf", "--onnx", "--keydb"):
        build.add_argument(flag, action="store_true", help="ignored")
    for option in ("--torch_dir", "--libtensorflow_dir"):
        build.add_argument(option, default=None, help="ignored")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``smart`` console script."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "build":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.unknown = unknown
    handlers = {
        "info": commands.info,
        "validate": validate.validate,
        "dbcli": commands.dbcli,
        "site": commands.site,
        "clean": commands.clean,
        "build": commands.build,
    }
    if args.command is None:
        parser.print_help()
        return 0
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
