"""Tests for forecaster.cli.commands: one command table, and the commands that never load torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from process_helpers import REPO, child_env

from forecaster.cli import build_parser
from forecaster.cli.commands import COMMANDS

# Runs main() in a fresh interpreter and reports its status and which heavy libraries it imported.
PROBE = """
import contextlib, io, json, sys
from forecaster.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit_:  # --help
        code = exit_.code
print(json.dumps({"code": code, "loaded": [m for m in ("torch", "optuna", "sklearn") if m in sys.modules]}))
"""


def probe(argv: list[str], home: Path) -> dict:
    env = {**child_env(), "FORECASTER_HOME": str(home)}
    env.pop("FORECASTER_STORE", None)
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], ["datasets"], ["datasets", "--json"], ["runs", "list"],
                                  ["runs", "list", "--json"], ["train", "--help"], ["tune", "--help"]],
                         ids=" ".join)
def test_listing_and_help_never_import_torch(argv: list[str], tmp_path: Path) -> None:
    result = probe(argv, tmp_path)
    assert result == {"code": 0, "loaded": []}


def test_a_command_that_trains_does_load_torch(tmp_path: Path) -> None:
    # The probe itself would see torch: a command that needs it loads it.
    result = probe(["forecast", "--model", str(tmp_path / "nowhere")], tmp_path)
    assert result["code"] == 2 and "torch" in result["loaded"]


def test_the_table_is_the_parser() -> None:
    names = [command.name for command in COMMANDS]
    assert names == ["datasets", "train", "evaluate", "forecast", "inspect", "backtest", "runs", "tune"]
    choices = build_parser()._subparsers._group_actions[0].choices
    assert list(choices) == names
    assert [c.name for c in COMMANDS if not c.torch] == ["datasets", "runs"]


def test_levels_are_read_only_by_the_commands_that_take_them() -> None:
    parser = build_parser()
    assert parser.parse_args(["evaluate", "--run", "1"]).levels == (0.8, 0.95)
    assert parser.parse_args(["train", "--data", "x.csv", "--levels", "0.95,0.5"]).levels == (0.5, 0.95)
    assert parser.parse_args(["forecast", "--run", "1"]).levels is None
