"""The tune command: hyperparameter search by validation loss, on one or many workers."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time

from forecaster.cli import options
from forecaster.cli.options import UserError
from forecaster.workspace import LOCAL_OWNER

# Kept here rather than imported: importing forecaster.tuning loads torch and optuna, which every other
# command (and --help) would then pay for. tests/test_cli_tune.py checks it matches tuning.PARAMS.
SEARCHABLE = ("layers", "units", "dropout", "window", "lr", "batch_size", "cell")
TUNE_EPOCHS, TUNE_PATIENCE = 30, 5  # per-trial budget unless --epochs / --patience say otherwise
BEST_SHOWN = 5
_RANGES = {  # parameter: (option, integer?, example)
    "layers": ("--layers-range", True, "1,3"), "units": ("--units-range", True, "16,128"),
    "dropout": ("--dropout-range", False, "0,0.4"), "window": ("--window-range", True, "7,60"),
    "lr": ("--lr-range", False, "1e-4,1e-2"),
}


def add_tune(commands) -> argparse.ArgumentParser:
    """Add `tune` to the subparsers `commands`; the model options set the base config and per-trial budget."""
    tune = commands.add_parser(
        "tune", help="search hyperparameters by validation loss (Optuna); start it on several machines to share "
                     "a study",
        description="Search layers, units, dropout, window, learning rate, batch size and cell by the best "
                    "validation loss; the test part never chooses. The model options set the base config and "
                    f"each trial's budget (default --epochs {TUNE_EPOCHS} --patience {TUNE_PATIENCE}).")
    options.add_data_options(tune, required=True)
    options.add_model_options(tune)
    search = tune.add_argument_group("search")
    search.add_argument("--trials", type=int, default=20,
                        help="finished (complete or pruned) trials the study should reach, counted over every "
                             "worker that shares it (default 20)")
    search.add_argument("--timeout", type=float,
                        help="start no new trial after this many seconds; the running one finishes")
    search.add_argument("--storage", "--store", dest="storage",
                        help="where the study is kept: a database URL or a SQLite file, by default the run store "
                             "($FORECASTER_STORE, else $FORECASTER_HOME/runs.sqlite); e.g. "
                             "postgresql+psycopg://user:password@host/db for workers on several machines")
    search.add_argument("--study", help="study name; workers with the same storage, owner and name share one study "
                                        "(default: DATA-TARGET-TIME)")
    search.add_argument("--owner", default=LOCAL_OWNER,
                        help=f"the workspace the study belongs to; another owner's studies cannot be joined or seen "
                             f"(default the local user, {LOCAL_OWNER})")
    search.add_argument("--search", help=f"parameters to search, comma separated, from {','.join(SEARCHABLE)} "
                                         "(default: all but cell); a range option below also adds its parameter")
    for name, (option, _, example) in _RANGES.items():
        search.add_argument(option, metavar="LOW,HIGH", help=f"{name} range, e.g. {example}"
                                                              + (" (log scale)" if name in ("units", "lr") else ""))
    search.add_argument("--batch-sizes", metavar="A,B,..", help="batch sizes to choose from, e.g. 16,32,64")
    search.add_argument("--cells", metavar="NAME,..", help="cells to choose from, e.g. lstm,gru")
    search.add_argument("--tune-seed", type=int, default=0, help="seed of the sampler (default 0)")
    search.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    search.add_argument("--workers", type=int, default=1,
                        help="Optuna workers to run as tasks on the cluster (with --cluster or $FORECASTER_CLUSTER), "
                             "all sharing the study; the study's store must be one every worker reaches "
                             "(default 1)")
    options.add_cluster_option(search)
    return tune


def _pair(text: str, option: str, integer: bool, example: str) -> tuple:
    parts = [p.strip() for p in str(text).split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        return tuple(int(p) if integer else float(p) for p in parts)
    except ValueError:
        kind = "whole numbers" if integer else "numbers"
        raise UserError(f"{option} must be two {kind} low,high such as {example}; got {text!r}.") from None


def _space(args: argparse.Namespace, dataset, base):
    """The search space from --search and the range options, on top of the defaults for this data."""
    from forecaster.config import CELLS
    from forecaster.tuning import SearchSpace, default_space

    defaults = default_space(dataset.freq, len(dataset.frame), split=base.data.split, horizon=base.data.horizon)
    values = {name: getattr(defaults, name) for name in SEARCHABLE}
    values["cell"] = CELLS
    if args.search is not None:
        searched = list(options.names(args.search))
        unknown = [name for name in searched if name not in SEARCHABLE]
        if unknown or not searched:
            raise UserError(f"--search takes parameter names from {','.join(SEARCHABLE)}; got {args.search!r}.")
    else:
        searched = list(defaults.searched)
    given = {name: _pair(getattr(args, f"{name}_range"), option, integer, example)
             for name, (option, integer, example) in _RANGES.items() if getattr(args, f"{name}_range") is not None}
    if args.batch_sizes is not None:
        try:
            given["batch_size"] = tuple(int(p) for p in args.batch_sizes.split(","))
        except ValueError:
            raise UserError(f"--batch-sizes must be whole numbers separated by commas such as 16,32,64; "
                            f"got {args.batch_sizes!r}.") from None
    if args.cells is not None:
        given["cell"] = options.names(args.cells)
    values.update(given)
    searched += [name for name in given if name not in searched]
    if "window" in searched and values["window"] is None:
        raise UserError(f"The series has {len(dataset.frame)} rows, too few to search the window; "
                        "leave window out of --search or give --window-range.")
    return SearchSpace(**{name: values[name] for name in SEARCHABLE if name in searched})


_FLAGS = {"data": ("window", "horizon", "split", "missing", "outliers", "resample", "scaler", "transform"),
          "model": ("cell", "layers", "units", "dropout"),
          "train": ("epochs", "batch_size", "lr", "weight_decay", "patience", "loss", "clip_norm", "seed", "device")}
_LOAD_FLAGS = {"start": "--start", "end": "--end", "interval": "--interval", "price_field": "--price-field",
               "date_column": "--date-column"}


def train_command(args: argparse.Namespace, dataset, load_args: dict, config, searched) -> str:
    """The `python -m forecaster train` line that trains `config`: searched values and non-defaults.

    Epochs and patience are left at train's own defaults: the per-trial budget of a search is
    deliberately short, and the final model should train until early stopping ends it.
    """
    from forecaster.config import default_config

    default_features = tuple(f for f in dataset.features if f != config.data.target)
    plain = default_config(dataset.freq, len(dataset.frame), config.data.target, default_features)
    config = config.replace(train={"epochs": plain.train.epochs, "patience": plain.train.patience})
    words = ["python", "-m", "forecaster", "train", "--data", args.data]
    for key, flag in _LOAD_FLAGS.items():
        if key in load_args:
            words += [flag, str(load_args[key])]
    # A CSV's default target is guessed when it is read: repeat what was given, not only what differs.
    if args.target is not None or config.data.target != dataset.target:
        words += ["--target", config.data.target]
    if args.features is not None or config.data.features != default_features:
        words += ["--features", ",".join(config.data.features)]
    for section, names in _FLAGS.items():
        for name in names:
            value = getattr(getattr(config, section), name)
            if name in searched or value != getattr(getattr(plain, section), name):
                text = ",".join(repr(v) for v in value) if isinstance(value, tuple) else str(value)
                words += ["--" + name.replace("_", "-"), text]
    if not config.model.residual:
        words.append("--no-residual")
    if args.season is not None:
        words += ["--season", str(args.season)]
    return " ".join(shlex.quote(w) for w in words)


def _params_text(params: dict) -> str:
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _trial_line(summary) -> str:
    value = f"val {summary.value:.5g}" if summary.value is not None else "val -"
    line = (f"trial {summary.number:>3}  {summary.state:<8}  {value:<14}  {_params_text(summary.params)}  "
            f"{summary.epochs} epochs  {summary.seconds:.1f}s")
    return line + (f"  ({summary.error})" if summary.error else "")


def cmd_tune(args: argparse.Namespace) -> int:
    """Run (or join) a study and print the best trials and the command that trains the best config."""
    import optuna

    from forecaster.errors import TrainingError
    from forecaster.tuning import searchable_values, tune
    from forecaster.workspace import as_url

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # each trial gets our own line, failures included
    started = time.perf_counter()
    dataset, load_args = options.load(args, args.data, args.target, args.features)
    budget = argparse.Namespace(**vars(args))
    budget.epochs = TUNE_EPOCHS if args.epochs is None else args.epochs
    budget.patience = TUNE_PATIENCE if args.patience is None else args.patience
    base = options.config_from_args(budget, dataset)
    space = _space(args, dataset, base)

    def on_trial(summary) -> None:
        print(_trial_line(summary), file=sys.stderr, flush=True)

    storage = as_url(args.storage) if args.storage else None
    address = options.cluster_of(args)
    if address:
        from forecaster.remote_tune import tune_on_cluster

        result = tune_on_cluster(address, dataset, base, space, trials=args.trials, workers=args.workers,
                                 timeout=args.timeout, storage=storage, study_name=args.study, on_trial=on_trial,
                                 seed=args.tune_seed, owner=args.owner)
    elif args.workers != 1:
        raise options.UserError("--workers runs Optuna workers on a cluster: give --cluster ADDRESS (or set "
                                "FORECASTER_CLUSTER); on this machine, start tune again in another terminal with "
                                "the same --study to add a worker.")
    else:
        result = tune(dataset, base, space, trials=args.trials, timeout=args.timeout, storage=storage,
                      study_name=args.study, on_trial=on_trial, seed=args.tune_seed, owner=args.owner)
    if result.best_config is None:
        errors = result.trials["error"].dropna()
        raise TrainingError(f"No trial of the study {result.study_name!r} completed ({result.n_pruned} pruned, "
                            f"{result.n_failed} failed{': ' + errors.iloc[0] if len(errors) else ''}); "
                            "check the data and settings, or run more trials.")
    best_params = {n: v for n, v in searchable_values(result.best_config).items() if n in space.searched}
    command = train_command(args, dataset, load_args, result.best_config, space.searched)
    if args.json:
        options.print_json({"study": result.study_name, "storage": result.storage, "owner": result.owner,
                            "best_trial": result.best_trial, "best_value": result.best_value,
                            "best_params": best_params, "default_value": result.default_value,
                            "n_complete": result.n_complete, "n_pruned": result.n_pruned,
                            "n_failed": result.n_failed, "stopped": result.stopped,
                            "best_config": result.best_config.to_dict(), "train_command": command,
                            "wall_seconds": round(time.perf_counter() - started, 3),
                            "trials": json.loads(result.trials.to_json(orient="records"))})
        return 0
    _print_summary(result, command, time.perf_counter() - started)
    return 0


def _print_summary(result, command: str, seconds: float) -> None:
    print(f"Study {result.study_name} in {result.storage}: {result.n_complete} complete, {result.n_pruned} pruned, "
          f"{result.n_failed} failed trials ({seconds:.0f}s in this worker).")
    best = result.trials[result.trials["state"] == "complete"].nsmallest(BEST_SHOWN, "val_loss")
    shown = best.drop(columns=["state", "error"]).set_index("number")
    print(f"\nBest {len(best)} trial{'s' if len(best) != 1 else ''} by validation loss (lower is better):")
    print(shown.to_string(float_format=lambda v: f"{v:.4g}"))
    print()
    if result.default_value is not None:
        change = 1 - result.best_value / result.default_value if result.default_value else 0.0
        labels = ("Default settings (trial 0):", f"Best (trial {result.best_trial}):")
        width = max(map(len, labels))
        print(f"{labels[0]:<{width}} validation loss {result.default_value:.5g}")
        print(f"{labels[1]:<{width}} validation loss {result.best_value:.5g}  ({change:.1%} lower)")
    else:
        print(f"Best (trial {result.best_trial}): validation loss {result.best_value:.5g} (the default settings "
              "lie outside the search space or did not complete)")
    print(f"\nTrain the best configuration (with train's usual epochs and early stopping):\n  {command}")
