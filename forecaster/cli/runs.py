"""The runs command: list, show, export or delete the runs recorded in one owner's workspace of the store."""

from __future__ import annotations

import argparse
from pathlib import Path

from forecaster.cli import options


def add_runs(commands) -> None:
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
        options.add_store_option(parser)
        parser.add_argument("--json", action="store_true")


def cmd_runs(args: argparse.Namespace) -> int:
    store = options.open_store(args)
    if args.action == "list":
        _list(store, args)
    elif args.action == "export":
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(store.model_archive(args.id))
        if args.json:
            options.print_json({"run": args.id, "file": str(out)})
        else:
            print(f"Wrote run {args.id}'s model to {out} (forecast: python -m forecaster forecast --model {out})")
    elif args.action == "delete":
        store.delete(args.id)
        if args.json:
            options.print_json({"deleted": args.id})
        else:
            print(f"Deleted run {args.id} and its model.")
    elif args.json:
        run = store.get(args.id)
        payload = {k: v for k, v in run.__dict__.items() if k != "predictions"}
        payload["test_points"] = len(run.predictions["date"]) if run.predictions else 0
        options.print_json(payload)
    else:
        _print_run(store.get(args.id))
    return 0


def _list(store, args: argparse.Namespace) -> None:
    runs = store.runs(args.dataset)
    if args.json:
        options.print_json({"store": store.location, "owner": store.owner, "runs": [run.summary() for run in runs]})
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
        options.print_table(table)


def _print_run(run) -> None:
    import pandas as pd

    from forecaster.metrics import METRIC_LABELS

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
    frame = pd.DataFrame.from_dict(run.metrics, orient="index").rename(columns=METRIC_LABELS)
    frame.index = [run.labels.get(name, name) for name in frame.index]
    print(f"\nTest metrics ({run.unit or 'series units'}):")
    options.print_table(frame)
    if run.skill is not None:
        print(f"\nSkill vs naive: {run.skill:+.3f}")
    if run.skill_vs_best is not None:
        print(f"Skill vs the best baseline, {run.labels.get(run.best_baseline, run.best_baseline)}: "
              f"{run.skill_vs_best:+.3f}")
    print(f"Model: kept in the store (python -m forecaster runs export {run.id} --out model.zip)" if run.has_model
          else "Model: not kept")
