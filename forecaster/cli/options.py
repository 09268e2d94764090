"""Options and loaders every command shares: data, model, store, judging; reading data and saved models."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, Sequence

from forecaster.config import CELLS, LOSSES, SCALERS, TRANSFORMS, ForecasterConfig, default_config
from forecaster.errors import ForecasterError
from forecaster.workspace import LOCAL_OWNER

EXIT_USER_ERROR = 2
DEFAULT_LEVELS = "0.8,0.95"


class UserError(ForecasterError):
    """A mistake on the command line that argparse cannot see (e.g. a malformed list)."""


# ---------------------------------------------------------------- value types

def floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, e.g. 0.7,0.15,0.15; "
                                         f"got {text!r}") from None


def names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def levels(text: str) -> tuple[float, ...]:
    # Imported when a level is read, not with the parser: forecaster.intervals loads torch.
    from forecaster.errors import ConfigError
    from forecaster.intervals import check_levels

    try:
        return check_levels([part for part in text.split(",") if part.strip()])
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


# ---------------------------------------------------------------- option groups

def add_data_options(parser: argparse.ArgumentParser, required: bool) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--data", required=required,
                       help="sample:NAME (see 'datasets'), ticker:SYMBOL, or the path of a CSV file")
    group.add_argument("--start", help="ticker: first date (YYYY-MM-DD)")
    group.add_argument("--end", help="ticker: last date (YYYY-MM-DD)")
    group.add_argument("--interval", default="1d", help="ticker: bar size, e.g. 1d, 1wk, 1h (default 1d)")
    group.add_argument("--price-field", default="Close", help="ticker: Open, High, Low, Close, Adj Close or Volume")
    group.add_argument("--date-column", help="CSV: the column holding dates (found automatically if omitted)")
    group.add_argument("--season", type=int,
                       help="season length in steps for the seasonal naive baseline (default: the cycle the "
                            "training part shows among the frequency's, e.g. 365 or 7 daily, 24 or 168 hourly, "
                            "252 or 5 business-daily; without one 7 daily, 24 hourly, 12 monthly, 5 business-daily)")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Data preparation, network and training options (train, backtest and tune)."""
    add = parser.add_argument
    add("--target", help="column to forecast (default: the dataset's usual target)")
    add("--features", type=names, help="extra input columns, comma separated")
    add("--window", type=int, help="past steps read per forecast (default depends on frequency)")
    add("--horizon", type=int, help="future steps forecast at once (default 1)")
    add("--split", type=floats, help="train,validation,test fractions (default 0.7,0.15,0.15)")
    add("--missing", choices=("interpolate", "ffill", "drop"), help="how gaps are filled")
    add("--outliers", choices=("none", "iqr", "zscore"), help="clip outliers (bounds from training part)")
    add("--resample", help="aggregate to a coarser frequency first, e.g. W or MS")
    add("--scaler", choices=SCALERS)
    add("--transform", choices=TRANSFORMS, help="learn levels, differences or log returns")
    add("--cell", choices=CELLS)
    add("--layers", type=int)
    add("--units", type=int)
    add("--dropout", type=float)
    add("--no-residual", action="store_true", help="predict levels directly instead of the change from the last value")
    add("--relative", action=argparse.BooleanOptionalAction, default=None,
        help="the LSTM reads each window relative to its last value (default on)")
    add("--calendar", action=argparse.BooleanOptionalAction, default=None,
        help="calendar terms of each forecast step (hour of day, day of week, ...) as extra inputs")
    add("--skip", action=argparse.BooleanOptionalAction, default=None,
        help="a linear skip beside the LSTM, set to the ridge baseline (default on; levels only)")
    add("--epochs", type=int)
    add("--batch-size", type=int)
    add("--lr", type=float, help="learning rate (default 1e-3)")
    add("--weight-decay", type=float)
    add("--patience", type=int, help="early-stopping patience in epochs (0 = off)")
    add("--loss", choices=LOSSES)
    add("--clip-norm", type=float, help="gradient norm cap (0 = off)")
    add("--seed", type=int)
    add("--device", choices=("auto", "cpu", "cuda"))


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """--store and --owner: which run store, and whose workspace in it."""
    parser.add_argument("--store", help="the run store: a SQLite file or a database URL such as "
                                        "postgresql+psycopg://user:password@host:5432/db (default "
                                        "$FORECASTER_STORE, else $FORECASTER_HOME/runs.sqlite, FORECASTER_HOME "
                                        "defaulting to ~/.forecaster)")
    parser.add_argument("--owner", default=LOCAL_OWNER,
                        help=f"the workspace to act in: runs are recorded as, and only seen by, this owner (default "
                             f"the local user, {LOCAL_OWNER}; a signed-in app user is ISSUER#SUBJECT)")


def add_cluster_option(parser: argparse.ArgumentParser) -> None:
    """--cluster [ADDRESS] and --no-cluster: run the heavy work on a Dask cluster, or here."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--cluster", nargs="?", const="", metavar="ADDRESS",
                       help="run on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786); without "
                            "ADDRESS, $FORECASTER_CLUSTER. When that is set, it is used even without this option")
    where.add_argument("--no-cluster", action="store_true", help="run on this machine even if $FORECASTER_CLUSTER is set")


def cluster_of(args: argparse.Namespace) -> str | None:
    """The scheduler address the command should use, or None to run here."""
    from forecaster.cluster import CLUSTER_ENV, cluster_address

    if getattr(args, "no_cluster", False):
        return None
    given = getattr(args, "cluster", None)
    address = cluster_address(given or None)
    if given == "" and address is None:
        raise UserError(f"--cluster needs a scheduler address (e.g. --cluster tcp://host:8786) or {CLUSTER_ENV} set.")
    return address


def add_model_source(parser: argparse.ArgumentParser) -> None:
    """--model FOLDER or --run ID: a saved model, or the model of a recorded run."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="folder or .zip file written by train --out or the app's 'Download model'")
    source.add_argument("--run", type=int, help="id of a recorded run (see 'runs list')")
    add_store_option(parser)


def add_judging_options(parser: argparse.ArgumentParser) -> None:
    """--levels and --passes: the prediction intervals checked on the test part (train and evaluate)."""
    # A string default is converted only when this command is parsed, so other commands never load torch.
    parser.add_argument("--levels", type=levels, default=DEFAULT_LEVELS,
                        help=f"prediction interval levels checked on the test part (default {DEFAULT_LEVELS})")
    parser.add_argument("--passes", type=int, default=50, help="Monte Carlo dropout passes (default 50)")


# ---------------------------------------------------------------- loading

def open_store(args: argparse.Namespace):
    from forecaster.runs import RunStore

    return RunStore(args.store, owner=args.owner)


def load(args: argparse.Namespace, spec: str, target: str | None = None, features: Sequence[str] | None = None):
    """The dataset named by `spec` with the loader options it takes, and those options (for the record)."""
    from forecaster.datasets import load_data

    if spec.startswith("ticker:"):
        kwargs: dict[str, Any] = {"start": args.start, "end": args.end, "interval": args.interval,
                                  "price_field": args.price_field}
    elif spec.startswith("sample:"):
        kwargs = {}
    else:
        kwargs = {"date_column": args.date_column, "target": target, "features": features}
    return load_data(spec, **kwargs), {k: v for k, v in kwargs.items() if v is not None}


def config_from_args(args: argparse.Namespace, dataset) -> ForecasterConfig:
    """The dataset's default config with every option the user gave on top."""
    target = args.target or dataset.target
    features = args.features if args.features is not None else tuple(f for f in dataset.features if f != target)
    base = default_config(dataset.freq, len(dataset.frame), target, features)
    data = {k: v for k, v in {"window": args.window, "horizon": args.horizon, "split": args.split,
                               "missing": args.missing, "outliers": args.outliers, "resample": args.resample,
                               "scaler": args.scaler, "transform": args.transform,
                               "calendar": args.calendar}.items() if v is not None}
    model = {k: v for k, v in {"cell": args.cell, "layers": args.layers, "units": args.units,
                                "dropout": args.dropout, "relative": args.relative, "skip": args.skip}.items()
             if v is not None}
    if args.no_residual:
        model["residual"] = False
    train = {k: v for k, v in {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                                "weight_decay": args.weight_decay, "patience": args.patience, "loss": args.loss,
                                "clip_norm": args.clip_norm, "seed": args.seed, "device": args.device}.items()
             if v is not None}
    return base.replace(data=data, model=model, train=train)


def load_model(args: argparse.Namespace):
    """The model named by --model FOLDER or --run ID."""
    if getattr(args, "run", None) is not None:
        return open_store(args).load_model(args.run)
    from forecaster.estimator import LSTMForecaster

    return LSTMForecaster.load(args.model)


def data_for_model(args: argparse.Namespace, model):
    """--data if given, else the data the model records it was trained on (an upload cannot be read back)."""
    extra = getattr(model, "extra_", {}) or {}
    if args.data:
        return load(args, args.data, model.target_, model.columns_[1:])[0]
    source = extra.get("source") or model.data_info_.get("source")
    if not source or source.startswith("upload:"):
        raise UserError("The model does not record where its data came from; pass it with --data.")
    from forecaster.datasets import load_data

    load_args = dict(extra.get("load_args", {}))
    if not (source.startswith("sample:") or source.startswith("ticker:")):
        load_args.update(target=model.target_, features=model.columns_[1:])
    return load_data(source, **load_args)


# ---------------------------------------------------------------- output

def finite(value: float | None) -> float | None:
    # metrics.finite_or_none, without importing numpy: --help and `datasets` stay quick
    return float(value) if value is not None and math.isfinite(value) else None


def print_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2, default=str))


def print_table(frame) -> None:
    print(frame.to_string(float_format=lambda v: f"{v:.4g}"))
