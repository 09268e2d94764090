"""The datasets and backtest commands: what data is built in, and how a config fares over several origins."""

from __future__ import annotations

import argparse
import sys

from forecaster.cli import options


def add_datasets(commands) -> None:
    listing = commands.add_parser("datasets", help="list the built-in datasets (offline)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_backtest(commands) -> None:
    back = commands.add_parser("backtest", help="walk-forward backtest: refit at several origins, score every fold")
    options.add_data_options(back, required=True)
    options.add_model_options(back)
    back.add_argument("--folds", type=int, default=5, help="number of origins, one test window each (default 5)")
    back.add_argument("--mode", choices=("expanding", "sliding"), default="expanding",
                      help="expanding: each fold trains on all its past; sliding: on a history of fixed length")
    back.add_argument("--step", type=int, help="rows between origins, the length of each test window "
                                               "(default: the second half of the series cut into --folds parts)")
    back.add_argument("--initial", type=int, help="rows of history before the first origin (default: half the series)")
    back.add_argument("--json", action="store_true", help="print one JSON object: a per-fold list and a summary")
    options.add_cluster_option(back)


def cmd_datasets(args: argparse.Namespace) -> int:
    from forecaster.datasets import list_samples

    samples = list_samples()
    if args.json:
        options.print_json({"samples": [vars(s) if not hasattr(s, "__dataclass_fields__") else
                                        {f: getattr(s, f) for f in s.__dataclass_fields__} for s in samples]})
        return 0
    width = max(len(s.name) for s in samples)
    for group in ("Weather", "Stocks"):
        print(f"{group}:")
        for s in (s for s in samples if s.group == group):
            print(f"  sample:{s.name:<{width}}  {s.freq:<3} target {s.target} ({s.unit})  {s.description}")
    return 0


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

    dataset, _ = options.load(args, args.data, args.target, args.features)
    config = options.config_from_args(args, dataset)
    result = backtest(dataset, config, folds=args.folds, mode=args.mode, step=args.step, initial=args.initial,
                      season=args.season, progress=None if args.json else FoldProgress(),
                      cluster=options.cluster_of(args))
    if args.json:
        options.print_json({"target": config.data.target, "data": dataset.source, "config": config.to_dict(),
                            **result.to_dict()})
        return 0
    print(f"\nWalk-forward backtest ({result.mode} window, {len(result.folds)} folds of {result.step} rows, "
          f"first history {result.initial} rows) in {result.seconds:.0f}s.")
    print("\nMAE per fold:")
    options.print_table(result.metric_frame("mae").rename(columns=result.labels))
    print("\nMean ± spread over the folds:")
    for name, metrics in result.summary().items():
        mae = metrics["mae"]
        spread = f" ± {mae['std']:.3g}" if mae["std"] is not None else ""
        print(f"  {result.labels.get(name, name):<28} MAE {mae['mean']:.4g}{spread}")
    print(result.verdict())
    for note in result.notes:
        print(f"Note: {note}")
    return 0
