"""The command line: list datasets, train, evaluate and forecast with the same library, no browser."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from forecaster.config import CELLS, LOSSES, SCALERS, TRANSFORMS, ForecasterConfig, default_config
from forecaster.errors import ForecasterError

EXIT_USER_ERROR = 2


class UserError(ForecasterError):
    """A mistake on the command line that argparse cannot see (e.g. a malformed list)."""


# ---------------------------------------------------------------- argument parsing

def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, e.g. 0.7,0.15,0.15; got {text!r}") from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _add_data_options(parser: argparse.ArgumentParser, required: bool) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m forecaster",
                                     description="Train and judge LSTM forecasts against simple baselines.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    listing = commands.add_parser("datasets", help="list the built-in datasets (offline)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    train = commands.add_parser("train", help="train an LSTM and compare it with the baselines on the test part")
    _add_data_options(train, required=True)
    _add_model_options(train)
    train.add_argument("--out", help="also save the model in this folder, or as one file if it ends in .zip "
                                     "(recorded runs keep their own copy in the run store; with --no-record the "
                                     "default is runs/NAME-TIME)")
    train.add_argument("--label", default="", help="a note to find the run by in 'runs list'")
    train.add_argument("--no-record", action="store_true", help="do not keep this run in the run store")
    _add_store_option(train)
    train.add_argument("--json", action="store_true", help="print one JSON object instead of tables")

    evaluate = commands.add_parser("evaluate", help="score a saved model and the baselines on the test part")
    _add_model_source(evaluate)
    _add_data_options(evaluate, required=False)
    evaluate.add_argument("--json", action="store_true")

    forecast = commands.add_parser("forecast", help="continue the series past its end with a saved model")
    _add_model_source(forecast)
    _add_data_options(forecast, required=False)  # cmd_forecast reads --data: forecast from newer data
    forecast.add_argument("--steps", type=int, default=30, help="how many future points (default 30)")
    forecast.add_argument("--out", help="CSV file to write (default: print to the terminal)")
    forecast.add_argument("--json", action="store_true")
    _add_inspect_command(commands)
    _add_judging_options(train, evaluate, forecast)
    _add_backtest_command(commands)
    _add_runs_command(commands)
    add_tune_command(commands)
    return parser


def _add_store_option(parser: argparse.ArgumentParser) -> None:
    """--store and --owner: which run store, and whose workspace in it."""
    from forecaster.workspace import LOCAL_OWNER

    parser.add_argument("--store", help="the run store: a SQLite file or a database URL such as "
                                        "postgresql+psycopg://user:password@host:5432/db (default "
                                        "$FORECASTER_STORE, else $FORECASTER_HOME/runs.sqlite, FORECASTER_HOME "
                                        "defaulting to ~/.forecaster)")
    parser.add_argument("--owner", default=LOCAL_OWNER,
                        help=f"the workspace to act in: runs are recorded as, and only seen by, this owner (default "
                             f"the local user, {LOCAL_OWNER}; a signed-in app user is ISSUER#SUBJECT)")


def _store(args: argparse.Namespace):
    from forecaster.runs import RunStore

    return RunStore(args.store, owner=args.owner)


def _add_model_source(parser: argparse.ArgumentParser) -> None:
    """--model FOLDER or --run ID: a saved model, or the model of a recorded run."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="folder or .zip file written by train --out or the app's 'Download model'")
    source.add_argument("--run", type=int, help="id of a recorded run (see 'runs list')")
    _add_store_option(parser)


def _add_model_options(train: argparse.ArgumentParser) -> None:
    """Data preparation, network and training options (train and backtest)."""
    train.add_argument("--target", help="column to forecast (default: the dataset's usual target)")
    train.add_argument("--features", type=_names, help="extra input columns, comma separated")
    train.add_argument("--window", type=int, help="past steps read per forecast (default depends on frequency)")
    train.add_argument("--horizon", type=int, help="future steps forecast at once (default 1)")
    train.add_argument("--split", type=_floats, help="train,validation,test fractions (default 0.7,0.15,0.15)")
    train.add_argument("--missing", choices=("interpolate", "ffill", "drop"), help="how gaps are filled")
    train.add_argument("--outliers", choices=("none", "iqr", "zscore"), help="clip outliers (bounds from training part)")
    train.add_argument("--resample", help="aggregate to a coarser frequency first, e.g. W or MS")
    train.add_argument("--scaler", choices=SCALERS)
    train.add_argument("--transform", choices=TRANSFORMS, help="learn levels, differences or log returns")
    train.add_argument("--cell", choices=CELLS)
    train.add_argument("--layers", type=int)
    train.add_argument("--units", type=int)
    train.add_argument("--dropout", type=float)
    train.add_argument("--no-residual", action="store_true",
                       help="predict levels directly instead of the change from the last value")
    train.add_argument("--relative", action=argparse.BooleanOptionalAction, default=None,
                       help="the LSTM reads each window relative to its last value (default on)")
    train.add_argument("--calendar", action=argparse.BooleanOptionalAction, default=None,
                       help="calendar terms of each forecast step (hour of day, day of week, ...) as extra inputs")
    train.add_argument("--skip", action=argparse.BooleanOptionalAction, default=None,
                       help="a linear skip beside the LSTM, set to the ridge baseline (default on; levels only)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--lr", type=float, help="learning rate (default 1e-3)")
    train.add_argument("--weight-decay", type=float)
    train.add_argument("--patience", type=int, help="early-stopping patience in epochs (0 = off)")
    train.add_argument("--loss", choices=LOSSES)
    train.add_argument("--clip-norm", type=float, help="gradient norm cap (0 = off)")
    train.add_argument("--seed", type=int)
    train.add_argument("--device", choices=("auto", "cpu", "cuda"))


# ---------------------------------------------------------------- helpers

def _load(args: argparse.Namespace, spec: str, target: str | None = None, features: Sequence[str] | None = None):
    from forecaster.datasets import load_data

    if spec.startswith("ticker:"):
        kwargs: dict[str, Any] = {"start": args.start, "end": args.end, "interval": args.interval,
                                  "price_field": args.price_field}
    elif spec.startswith("sample:"):
        kwargs = {}
    else:
        kwargs = {"date_column": args.date_column, "target": target, "features": features}
    return load_data(spec, **kwargs), {k: v for k, v in kwargs.items() if v is not None}


def _config_from_args(args: argparse.Namespace, dataset) -> ForecasterConfig:
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


class ProgressBar:
    """One line on stderr, rewritten after each epoch."""

    def __init__(self, stream=None) -> None:
        # Looked up now, not at import: whoever redirected stderr since (tests, a wrapper) gets the bar.
        self.stream = stream if stream is not None else sys.stderr

    def __call__(self, report) -> None:
        filled = int(30 * report.epoch / report.max_epochs)
        bar = "#" * filled + "-" * (30 - filled)
        self.stream.write(f"\r[{bar}] epoch {report.epoch}/{report.max_epochs}  train {report.train_loss:.4f}  "
                          f"val {report.val_loss:.4f}  best {report.best_val_loss:.4f}@{report.best_epoch}  "
                          f"{report.elapsed:.0f}s, at most {report.seconds_left:.0f}s left ")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "model"


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _metrics_table(evaluation) -> str:
    frame = evaluation.metrics_frame()
    return frame.to_string(float_format=lambda v: f"{v:.4g}")


def _print_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2, default=str))


# ---------------------------------------------------------------- commands

def cmd_datasets(args: argparse.Namespace) -> int:
    from forecaster.datasets import list_samples

    samples = list_samples()
    if args.json:
        _print_json({"samples": [vars(s) if not hasattr(s, "__dataclass_fields__") else
                                 {f: getattr(s, f) for f in s.__dataclass_fields__} for s in samples]})
        return 0
    width = max(len(s.name) for s in samples)
    for group in ("Weather", "Stocks"):
        print(f"{group}:")
        for s in (s for s in samples if s.group == group):
            print(f"  sample:{s.name:<{width}}  {s.freq:<3} target {s.target} ({s.unit})  {s.description}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from forecaster.evaluation import evaluate
    from forecaster.forecaster import LSTMForecaster

    started = time.perf_counter()
    dataset, load_args = _load(args, args.data, args.target, args.features)
    config = _config_from_args(args, dataset)
    bar = None if args.json else ProgressBar()
    try:
        model = LSTMForecaster(config).fit(dataset, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    evaluation = evaluate(model, unit=dataset.unit, season=args.season)
    judged = _judge(args, model, model.prepared_, evaluation)
    extra = {"source": dataset.source, "load_args": load_args, "unit": dataset.unit,
             "conformal": judged["calibration"].to_dict()}
    out = Path(args.out) if args.out else None
    if out is None and args.no_record:
        out = Path("runs") / f"{_slug(dataset.name)}-{datetime.now():%Y%m%d-%H%M%S}"
    if out is not None and out.suffix.lower() == ".zip":  # one file, as the app's 'Download model' gives
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(model.to_bytes(extra=extra))
    elif out is not None:
        model.save(out, extra=extra)
    run_id = None
    if not args.no_record:
        run_id = _store(args).record(model, evaluation, dataset, label=args.label, origin="cli",
                                     timings={"wall_seconds": round(time.perf_counter() - started, 3)}, extra=extra)
    summary = {**_summary(model, evaluation, out, time.perf_counter() - started), **judged["json"], "run_id": run_id}
    gap_notes = _gap_notes(dataset, config)
    if args.json:
        _print_json({**summary, "notes": [*gap_notes, *summary.get("notes", [])]})
    else:
        _print_report(model, evaluation, [*dataset.notes, *gap_notes])
        _print_judgement(judged)
        if run_id is not None:
            print(f"Recorded run {run_id} (python -m forecaster runs show {run_id}; "
                  f"forecast: python -m forecaster forecast --run {run_id})")
        if out is not None:
            print(f"Saved the model to {out}  (evaluate: python -m forecaster evaluate --model {out})")
    return 0


def _summary(model, evaluation, out: Path | None, wall: float | None = None) -> dict:
    history = model.history_
    payload = {**evaluation.to_dict(), "epochs_run": history.epochs_run, "best_epoch": history.best_epoch,
               "train_seconds": round(history.seconds, 3), "stopped_early": history.stopped_early,
               "config": model.config.to_dict(), "target": model.target_, "data": model.data_info_}
    if out is not None:
        payload["model_dir"] = str(out)
    if wall is not None:
        payload["wall_seconds"] = round(wall, 3)
    return payload


def _gap_notes(dataset, config: ForecasterConfig) -> list[str]:
    """The sentence on dates missing from the series' calendar and how cleaning handled them, if any are."""
    from forecaster.prepare import calendar_gaps

    gaps = calendar_gaps(dataset.frame, config.data)
    return [gaps.note()] if len(gaps) else []


def _print_report(model, evaluation, notes: Sequence[str] = ()) -> None:
    history = model.history_
    for note in notes:
        print(f"Note: {note}")
    print(f"Trained {history.epochs_run} epochs in {history.seconds:.1f}s (best epoch {history.best_epoch}"
          f"{', stopped early' if history.stopped_early else ''}).")
    print(f"\nTest metrics for {model.target_} ({evaluation.actual.size} points, "
          f"horizon {evaluation.horizon}):")
    print(_metrics_table(evaluation))
    best = evaluation.labels.get(evaluation.best_baseline, evaluation.best_baseline)
    print(f"\nSkill vs best baseline, {best} (1 - MAE_lstm / MAE_best): {evaluation.skill_vs_best:+.3f}")
    print(f"Skill vs naive (1 - MAE_lstm / MAE_naive): {evaluation.skill:+.3f}")
    print(evaluation.verdict())
    for note in evaluation.notes:
        print(f"Note: {note}")


def _load_model(args: argparse.Namespace):
    """The model named by --model FOLDER or --run ID."""
    if getattr(args, "run", None) is not None:
        return _store(args).load_model(args.run)
    from forecaster.forecaster import LSTMForecaster

    return LSTMForecaster.load(args.model)


def _data_for_model(args: argparse.Namespace, model):
    extra = getattr(model, "extra_", {}) or {}
    if args.data:
        return _load(args, args.data, model.target_, model.columns_[1:])[0]
    source = extra.get("source") or model.data_info_.get("source")
    if not source or source.startswith("upload:"):
        raise UserError("The model does not record where its data came from; pass it with --data.")
    from forecaster.datasets import load_data

    load_args = dict(extra.get("load_args", {}))
    if not (source.startswith("sample:") or source.startswith("ticker:")):
        load_args.update(target=model.target_, features=model.columns_[1:])
    return load_data(source, **load_args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from forecaster.evaluation import evaluate

    model = _load_model(args)
    dataset = _data_for_model(args, model)
    prepared = model.prepare(dataset)
    evaluation = evaluate(model, prepared, unit=dataset.unit, season=args.season)
    judged = _judge(args, model, prepared, evaluation)
    gap_notes = _gap_notes(dataset, model.config)
    if args.json:
        summary = {**_summary(model, evaluation, Path(args.model) if args.model else None), **judged["json"]}
        _print_json({**summary, "notes": [*gap_notes, *summary.get("notes", [])]})
    else:
        _print_report(model, evaluation, [*dataset.notes, *gap_notes])
        _print_judgement(judged)
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    model = _load_model(args)
    data = _data_for_model(args, model) if args.data else None
    frame = model.forecast(args.steps, data)
    if args.levels:
        frame = _with_bands(args, model, data, frame)
    if args.out:
        from forecaster.export import forecast_table

        history = model.tail_[model.target_] if data is None else model.prepare(data).frame[model.target_]
        forecast_table(frame, history).to_csv(args.out, index_label="date")
        if not args.json:
            print(f"Wrote {len(frame)} forecast points ({frame.index[0]} to {frame.index[-1]}) to {args.out}")
    if args.json:
        _print_json({"target": model.target_, "forecast": [
            {"date": str(ts), "value": _finite(row[model.target_]),
             **{name: _finite(row[name]) for name in frame.columns if name != model.target_}}
            for ts, row in frame.iterrows()]})
    elif not args.out:
        print(frame.to_string(float_format=lambda v: f"{v:.4g}"))
    return 0


COMMANDS = {"datasets": cmd_datasets, "train": cmd_train, "evaluate": cmd_evaluate, "forecast": cmd_forecast}


# ---------------------------------------------------------------- inspect: gates, states and attributions

def _add_inspect_command(commands) -> None:
    inspect = commands.add_parser("inspect", help="look inside a saved model: gates, states and what a forecast looked at")
    _add_model_source(inspect)
    _add_data_options(inspect, required=False)
    inspect.add_argument("--window-end", help="date of the window's last step (default: the last test window); "
                                              "the nearest test window ending on or before it is used")
    inspect.add_argument("--ig-steps", type=int, default=64, help="integration steps for the attributions (default 64)")
    inspect.add_argument("--out", help="folder to write the arrays to (one .npy per quantity, attribution.npy)")
    inspect.add_argument("--json", action="store_true")


def cmd_inspect(args: argparse.Namespace) -> int:
    from forecaster.inspect import inspect_window, save_arrays

    if args.ig_steps < 1:
        raise UserError(f"--ig-steps must be at least 1; got {args.ig_steps}.")
    model = _load_model(args)
    prepared = model.prepare(_data_for_model(args, model))
    inspection = inspect_window(model, prepared, date=args.window_end, ig_steps=args.ig_steps)
    payload = inspection.to_dict()
    if args.out:
        payload["files"] = save_arrays(inspection, args.out)
    if args.json:
        _print_json(payload)
        return 0
    print(f"Window {payload['window_start']} to {payload['window_end']}")
    print(f"state_match_max_abs_error: {payload['state_match_max_abs_error']:.3g}  "
          f"(recomputed hidden states vs the network's own)")
    print(f"attribution_completeness_error: {payload['attribution_completeness_error']:.3g}  "
          f"(sum of attributions vs forecast minus baseline forecast, scaled units)")
    print(payload["summary"])
    if args.out:
        print(f"Wrote {len(payload['files'])} arrays to {args.out}")
    return 0


COMMANDS["inspect"] = cmd_inspect


# ---------------------------------------------------------------- intervals, significance, residuals, backtests

def _levels(text: str) -> tuple[float, ...]:
    from forecaster.errors import ConfigError
    from forecaster.intervals import check_levels

    try:
        return check_levels([part for part in text.split(",") if part.strip()])
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


DEFAULT_LEVELS = "0.8,0.95"


def _add_judging_options(train, evaluate, forecast) -> None:
    for parser in (train, evaluate):
        parser.add_argument("--levels", type=_levels, default=_levels(DEFAULT_LEVELS),
                            help=f"prediction interval levels checked on the test part (default {DEFAULT_LEVELS})")
        parser.add_argument("--passes", type=int, default=50, help="Monte Carlo dropout passes (default 50)")
    forecast.add_argument("--levels", type=_levels,
                          help="add conformal bands lower_XX / upper_XX at these levels, e.g. 0.8,0.95")


def _judge(args: argparse.Namespace, model, prepared, evaluation) -> dict:
    """Intervals with their test coverage, Diebold–Mariano against the naive baselines, Ljung–Box."""
    from forecaster.diagnostics import compare_with_baselines, residual_diagnostics
    from forecaster.intervals import interval_report

    if args.passes < 2:
        raise UserError(f"--passes must be at least 2; got {args.passes}.")
    from forecaster.errors import DataError

    intervals = interval_report(model, prepared, args.levels, passes=args.passes)
    try:  # a very short test part is too few points for either test; the rest of the report still stands
        tests = compare_with_baselines(evaluation)
    except DataError:
        tests = {}
    try:
        residuals = residual_diagnostics(evaluation)
    except DataError:
        residuals = None
    return {"intervals": intervals, "dm": tests, "ljung_box": residuals, "calibration": intervals.calibration,
            "json": {"intervals": intervals.to_dict(), "interval_notes": intervals.notes,
                     "diebold_mariano": {name: test.to_dict() for name, test in tests.items()},
                     "ljung_box": residuals.to_dict() if residuals is not None else None}}


def _print_judgement(judged: dict) -> None:
    print("\nPrediction intervals on the test part (nominal level → share of actual values inside, mean width):")
    for line in judged["intervals"].summary_lines():
        print(line)
    for note in judged["intervals"].notes:
        print(f"Note: {note}")
    print()
    for test in judged["dm"].values():
        print(test.sentence())
    if judged["ljung_box"] is not None:
        print(judged["ljung_box"].sentence())


def _with_bands(args: argparse.Namespace, model, data, frame):
    """Conformal bands around a forecast: from the residuals saved with the model, else from its data."""
    from forecaster.intervals import add_bands, calibrate, calibration_for

    calibration = calibration_for(model)
    if calibration is None:
        dataset = data if data is not None else _data_for_model(args, model)
        calibration = calibrate(model, model.prepare(dataset))
    return add_bands(frame, model.target_, calibration, args.levels)


def _add_backtest_command(commands) -> None:
    back = commands.add_parser("backtest", help="walk-forward backtest: refit at several origins, score every fold")
    _add_data_options(back, required=True)
    _add_model_options(back)
    back.add_argument("--folds", type=int, default=5, help="number of origins, one test window each (default 5)")
    back.add_argument("--mode", choices=("expanding", "sliding"), default="expanding",
                      help="expanding: each fold trains on all its past; sliding: on a history of fixed length")
    back.add_argument("--step", type=int, help="rows between origins, the length of each test window "
                                               "(default: the second half of the series cut into --folds parts)")
    back.add_argument("--initial", type=int, help="rows of history before the first origin (default: half the series)")
    back.add_argument("--json", action="store_true", help="print one JSON object: a per-fold list and a summary")


class FoldProgress:
    """One line on stderr per epoch: which fold, which epoch."""

    def __init__(self, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stderr

    def __call__(self, report) -> None:
        if report.result is not None:
            lstm, naive = report.result.metrics["lstm"]["mae"], report.result.metrics["naive"]["mae"]
            self.stream.write(f"\rfold {report.fold}/{report.folds} done: MAE LSTM {lstm:.4g}, naive {naive:.4g}"
                              + " " * 30 + "\n")
        elif report.epoch is not None:
            self.stream.write(f"\r[{'#' * int(30 * report.fraction):<30}] fold {report.fold}/{report.folds}  "
                              f"epoch {report.epoch.epoch}/{report.epoch.max_epochs}  val {report.epoch.val_loss:.4f} ")
        self.stream.flush()


def cmd_backtest(args: argparse.Namespace) -> int:
    from forecaster.backtest import backtest

    dataset, _ = _load(args, args.data, args.target, args.features)
    config = _config_from_args(args, dataset)
    result = backtest(dataset, config, folds=args.folds, mode=args.mode, step=args.step, initial=args.initial,
                      season=args.season, progress=None if args.json else FoldProgress())
    if args.json:
        _print_json({"target": config.data.target, "data": dataset.source, "config": config.to_dict(),
                     **result.to_dict()})
        return 0
    print(f"\nWalk-forward backtest ({result.mode} window, {len(result.folds)} folds of {result.step} rows, "
          f"first history {result.initial} rows) in {result.seconds:.0f}s.")
    table = result.metric_frame("mae").rename(columns=result.labels)
    print("\nMAE per fold:")
    print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print("\nMean ± spread over the folds:")
    for name, metrics in result.summary().items():
        mae = metrics["mae"]
        spread = f" ± {mae['std']:.3g}" if mae["std"] is not None else ""
        print(f"  {result.labels.get(name, name):<28} MAE {mae['mean']:.4g}{spread}")
    print(result.verdict())
    for note in result.notes:
        print(f"Note: {note}")
    return 0


COMMANDS["backtest"] = cmd_backtest


# ---------------------------------------------------------------- runs: the run store

def _add_runs_command(commands) -> None:
    runs = commands.add_parser("runs", help="list, show, export or delete recorded training runs (of one --owner)")
    actions = runs.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="one line per run, newest first")
    listing.add_argument("--dataset", help="only runs on this dataset (its name as listed)")
    show = actions.add_parser("show", help="everything recorded about one run")
    show.add_argument("id", type=int)
    delete = actions.add_parser("delete", help="forget a run and delete its model")
    delete.add_argument("id", type=int)
    export = actions.add_parser("export", help="write a run's model as one .zip file (as the app's 'Download model')")
    export.add_argument("id", type=int)
    export.add_argument("--out", required=True, help="the .zip file to write")
    for parser in (listing, show, delete, export):
        _add_store_option(parser)
        parser.add_argument("--json", action="store_true")


def cmd_runs(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.action == "list":
        runs = store.runs(args.dataset)
        if args.json:
            _print_json({"store": store.location, "owner": store.owner, "runs": [run.summary() for run in runs]})
        elif not runs:
            print(f"No runs recorded in {store.location} for {store.owner}"
                  + (f" on {args.dataset!r}" if args.dataset else "")
                  + "; train one with: python -m forecaster train --data sample:seattle-weather")
        else:
            table = store.table(args.dataset)[["Created", "Dataset", "Target", "Cell", "Layers", "Units", "Window",
                                                "Epochs", "MAE", "Naive MAE", "Skill vs naive", "Best baseline",
                                                "Skill vs best", "Label"]]
            for column in ("Skill vs naive", "Skill vs best"):
                table[column] = table[column].map(lambda v: "-" if v is None or v != v else f"{v:+.1%}")
            print(table.to_string(float_format=lambda v: f"{v:.4g}"))
        return 0
    if args.action == "export":
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(store.model_archive(args.id))
        if args.json:
            _print_json({"run": args.id, "file": str(out)})
        else:
            print(f"Wrote run {args.id}'s model to {out} (forecast: python -m forecaster forecast --model {out})")
        return 0
    if args.action == "delete":
        store.delete(args.id)
        if args.json:
            _print_json({"deleted": args.id})
        else:
            print(f"Deleted run {args.id} and its model.")
        return 0
    run = store.get(args.id)
    if args.json:
        payload = {k: v for k, v in run.__dict__.items() if k != "predictions"}
        payload["test_points"] = len(run.predictions["date"]) if run.predictions else 0
        _print_json(payload)
        return 0
    _print_run(run)
    return 0


def _print_run(run) -> None:
    import pandas as pd

    config, history = run.config, run.history
    features = f" with {', '.join(run.features)}" if run.features else ""
    print(f"Run {run.id}  {run.created}  ({run.origin or 'unknown origin'}){'  ' + run.label if run.label else ''}")
    print(f"Data: {run.dataset} ({run.source}) target {run.target}{features}; {run.data_rows} rows "
          f"{str(run.data_start)[:10]} to {str(run.data_end)[:10]}; content hash {run.data_hash}")
    model, data, train = config["model"], config["data"], config["train"]
    print(f"Model: {model['cell']} {model['layers']}x{model['units']}, dropout {model['dropout']}, window "
          f"{data['window']}, horizon {data['horizon']}, lr {train['lr']}, batch {train['batch_size']}")
    print(f"Training: {len(history.get('train_loss', []))} epochs in {run.timings.get('train_seconds', 0):.1f}s, "
          f"kept epoch {history.get('best_epoch')}"
          + (", stopped early" if history.get("stopped_early") else "")
          + (", stopped by the user" if history.get("stopped_by_user") else ""))
    from forecaster.metrics import METRIC_LABELS

    frame = pd.DataFrame.from_dict(run.metrics, orient="index").rename(columns=METRIC_LABELS)
    frame.index = [run.labels.get(name, name) for name in frame.index]
    print(f"\nTest metrics ({run.unit or 'series units'}):")
    print(frame.to_string(float_format=lambda v: f"{v:.4g}"))
    if run.skill is not None:
        print(f"\nSkill vs naive: {run.skill:+.3f}")
    if run.skill_vs_best is not None:
        print(f"Skill vs the best baseline, {run.labels.get(run.best_baseline, run.best_baseline)}: "
              f"{run.skill_vs_best:+.3f}")
    print(f"Model: kept in the store (python -m forecaster runs export {run.id} --out model.zip)" if run.has_model
          else "Model: not kept")


COMMANDS["runs"] = cmd_runs

# The search command lives in its own module; it imports this module's helpers when called.
from forecaster.cli_tune import add_tune_command, cmd_tune  # noqa: E402

COMMANDS["tune"] = cmd_tune


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a user's mistake prints one line on stderr and returns 2."""
    args = build_parser().parse_args(argv)
    if args.command != "datasets":
        from forecaster.training import configure_threads

        configure_threads()
    try:
        return COMMANDS[args.command](args)
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
