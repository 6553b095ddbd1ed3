"""The `smart` command line (subcommands arrive with the library core)."""

import sys


def main(argv: list[str] | None = None) -> int:
    print("smart: the command-line interface is not implemented yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
