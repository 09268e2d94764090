"""The command line: list datasets, train, evaluate, forecast, backtest and tune with the library, no browser."""

from forecaster.cli.commands import build_parser, main
from forecaster.cli.options import UserError

__all__ = ["UserError", "build_parser", "main"]
