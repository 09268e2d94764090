"""The command table, the parser built from it, and main(): one command run, a user's mistake in one line."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Callable, Sequence

from forecaster.cli import data, forecast, runs, train, tune
from forecaster.cli.options import EXIT_USER_ERROR
from forecaster.errors import ForecasterError


@dataclass(frozen=True)
class Command:
    """One command: the function adding its parser, the one running it, and whether it computes with torch."""

    name: str
    add: Callable[[argparse._SubParsersAction], object]
    run: Callable[[argparse.Namespace], int]
    torch: bool = True  # only these set torch's thread count; the others must not even import it


# In the order --help lists them.
COMMANDS = (
    Command("datasets", data.add_datasets, data.cmd_datasets, torch=False),
    Command("train", train.add_train, train.cmd_train),
    Command("evaluate", train.add_evaluate, train.cmd_evaluate),
    Command("forecast", forecast.add_forecast, forecast.cmd_forecast),
    Command("inspect", forecast.add_inspect, forecast.cmd_inspect),
    Command("backtest", data.add_backtest, data.cmd_backtest),
    Command("runs", runs.add_runs, runs.cmd_runs, torch=False),
    Command("tune", tune.add_tune, tune.cmd_tune),
)
BY_NAME = {command.name: command for command in COMMANDS}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m forecaster",
                                     description="Train and judge LSTM forecasts against simple baselines.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a user's mistake prints one line on stderr and returns 2."""
    args = build_parser().parse_args(argv)
    command = BY_NAME[args.command]
    if command.torch:
        from forecaster.training import configure_threads

        configure_threads()
    try:
        return command.run(args)
    except ForecasterError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
        sys.stderr.close()
        return 0
    except OSError as error:  # unwritable --out, unreadable file, ...
        print(f"error: {error.strerror or error} ({getattr(error, 'filename', '') or ''}); check the path.",
              file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
