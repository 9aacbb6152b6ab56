"""`anyecg` command line. Each stage registers its subcommands; errors print one line and exit 2."""

from __future__ import annotations

import argparse
import importlib
import sys

from anyecg import __version__
from anyecg.errors import AnyECGError

# Modules that define `add_commands(subparsers)`, in the order they appear in --help.
COMMAND_MODULES = (
    "anyecg.io.cli",
    "anyecg.signal.cli",
    "anyecg.findings.cli",
    "anyecg.chat_cli",
    "anyecg.data.cli",
    "anyecg.train.cli",
    "anyecg.eval.cli",
    "anyecg.serve.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anyecg", description="Talk to electrocardiograms.")
    parser.add_argument("--version", action="version", version=f"anyecg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:  # that stage has no commands yet
                continue
            raise
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # `anyecg chat FILE --start 0 --end 10 "question"`: words after options belong to FILE...
        if getattr(args, "trailing_args", False) and not any(x.startswith("-") for x in extra):
            args.files += extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args) or 0)
    except AnyECGError as err:
        print(f"anyecg: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("anyecg: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
