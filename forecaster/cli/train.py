"""The train and evaluate commands: fit or load an LSTM, score it beside the baselines, judge it."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Sequence

from forecaster.cli import options
from forecaster.cli.options import UserError


def add_train(commands) -> None:
    train = commands.add_parser("train", help="train an LSTM and compare it with the baselines on the test part")
    options.add_data_options(train, required=True)
    options.add_model_options(train)
    train.add_argument("--out", help="also save the model in this folder, or as one file if it ends in .zip "
                                     "(recorded runs keep their own copy in the run store; with --no-record the "
                                     "default is runs/NAME-TIME)")
    train.add_argument("--label", default="", help="a note to find the run by in 'runs list'")
    train.add_argument("--no-record", action="store_true", help="do not keep this run in the run store")
    options.add_store_option(train)
    options.add_cluster_option(train)
    train.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    options.add_judging_options(train)


def add_evaluate(commands) -> None:
    evaluate = commands.add_parser("evaluate", help="score a saved model and the baselines on the test part")
    options.add_model_source(evaluate)
    options.add_data_options(evaluate, required=False)
    evaluate.add_argument("--json", action="store_true")
    options.add_judging_options(evaluate)


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


def _judge(args: argparse.Namespace, model, prepared, evaluation):
    """Intervals with their test coverage, Diebold–Mariano against the baselines, Ljung–Box."""
    from forecaster.judge import judge

    if args.passes < 2:
        raise UserError(f"--passes must be at least 2; got {args.passes}.")
    return judge(evaluation, model, prepared, args.levels, passes=args.passes)


def cmd_train(args: argparse.Namespace) -> int:
    from forecaster.estimator import LSTMForecaster
    from forecaster.evaluation import evaluate

    started = time.perf_counter()
    dataset, load_args = options.load(args, args.data, args.target, args.features)
    config = options.config_from_args(args, dataset)
    bar = None if args.json else ProgressBar()
    address = options.cluster_of(args)
    try:
        if address:
            from forecaster.remote_train import fit_on_cluster

            model = fit_on_cluster(address, config, dataset, progress=bar)
        else:
            model = LSTMForecaster(config).fit(dataset, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    evaluation = evaluate(model, unit=dataset.unit, season=args.season)
    judged = _judge(args, model, model.prepared_, evaluation)
    extra = {"source": dataset.source, "load_args": load_args, "unit": dataset.unit,
             "conformal": judged.intervals.calibration.to_dict()}
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
        run_id = options.open_store(args).record(
            model, evaluation, dataset, label=args.label, origin="cli",
            timings={"wall_seconds": round(time.perf_counter() - started, 3)}, extra=extra)
    summary = {**_summary(model, evaluation, out, time.perf_counter() - started), **judged.to_dict(), "run_id": run_id}
    gap_notes = _gap_notes(dataset, config)
    if args.json:
        options.print_json({**summary, "notes": [*gap_notes, *summary.get("notes", [])]})
    else:
        _print_report(model, evaluation, judged, [*dataset.notes, *gap_notes])
        if run_id is not None:
            print(f"Recorded run {run_id} (python -m forecaster runs show {run_id}; "
                  f"forecast: python -m forecaster forecast --run {run_id})")
        if out is not None:
            print(f"Saved the model to {out}  (evaluate: python -m forecaster evaluate --model {out})")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from forecaster.evaluation import evaluate

    model = options.load_model(args)
    dataset = options.data_for_model(args, model)
    prepared = model.prepare(dataset)
    evaluation = evaluate(model, prepared, unit=dataset.unit, season=args.season)
    judged = _judge(args, model, prepared, evaluation)
    gap_notes = _gap_notes(dataset, model.config)
    if args.json:
        summary = {**_summary(model, evaluation, Path(args.model) if args.model else None), **judged.to_dict()}
        options.print_json({**summary, "notes": [*gap_notes, *summary.get("notes", [])]})
    else:
        _print_report(model, evaluation, judged, [*dataset.notes, *gap_notes])
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


def _gap_notes(dataset, config) -> list[str]:
    """The sentence on dates missing from the series' calendar and how cleaning handled them, if any are."""
    from forecaster.prepare import calendar_gaps

    gaps = calendar_gaps(dataset.frame, config.data)
    return [gaps.note()] if len(gaps) else []


def _print_report(model, evaluation, judged, notes: Sequence[str] = ()) -> None:
    history = model.history_
    for note in notes:
        print(f"Note: {note}")
    print(f"Trained {history.epochs_run} epochs in {history.seconds:.1f}s (best epoch {history.best_epoch}"
          f"{', stopped early' if history.stopped_early else ''}).")
    print(f"\nTest metrics for {model.target_} ({evaluation.actual.size} points, horizon {evaluation.horizon}):")
    print(judged.metrics.table())
    print()
    print("\n".join(judged.verdict.lines()))
    for note in evaluation.notes:
        print(f"Note: {note}")
    print("\n".join(judged.report_lines()))
