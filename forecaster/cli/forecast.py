"""The forecast and inspect commands: continue a saved model's series, or look inside one of its windows."""

from __future__ import annotations

import argparse

from forecaster.cli import options
from forecaster.cli.options import UserError


def add_forecast(commands) -> None:
    forecast = commands.add_parser("forecast", help="continue the series past its end with a saved model")
    options.add_model_source(forecast)
    options.add_data_options(forecast, required=False)  # cmd_forecast reads --data: forecast from newer data
    forecast.add_argument("--steps", type=int, default=30, help="how many future points (default 30)")
    forecast.add_argument("--out", help="CSV file to write (default: print to the terminal)")
    forecast.add_argument("--json", action="store_true")
    forecast.add_argument("--levels", type=options.levels,
                          help="add conformal bands lower_XX / upper_XX at these levels, e.g. 0.8,0.95")


def add_inspect(commands) -> None:
    inspect = commands.add_parser("inspect", help="look inside a saved model: gates, states and what a forecast "
                                                  "looked at")
    options.add_model_source(inspect)
    options.add_data_options(inspect, required=False)
    inspect.add_argument("--window-end", help="date of the window's last step (default: the last test window); "
                                              "the nearest test window ending on or before it is used")
    inspect.add_argument("--ig-steps", type=int, default=64, help="integration steps for the attributions (default 64)")
    inspect.add_argument("--out", help="folder to write the arrays to (one .npy per quantity, attribution.npy)")
    inspect.add_argument("--json", action="store_true")


def cmd_forecast(args: argparse.Namespace) -> int:
    model = options.load_model(args)
    data = options.data_for_model(args, model) if args.data else None
    frame = model.forecast(args.steps, data)
    if args.levels:
        from forecaster.judge import band_calibration, forecast_bands

        # From the residuals saved with the model, else from its data (read only then).
        calibration = band_calibration(model, lambda: data if data is not None else options.data_for_model(args, model))
        frame = forecast_bands(frame, model, calibration, args.levels).frame
    if args.out:
        from forecaster.export import forecast_table

        history = model.tail_[model.target_] if data is None else model.prepare(data).frame[model.target_]
        forecast_table(frame, history).to_csv(args.out, index_label="date")
        if not args.json:
            print(f"Wrote {len(frame)} forecast points ({frame.index[0]} to {frame.index[-1]}) to {args.out}")
    if args.json:
        options.print_json({"target": model.target_, "forecast": [
            {"date": str(ts), "value": options.finite(row[model.target_]),
             **{name: options.finite(row[name]) for name in frame.columns if name != model.target_}}
            for ts, row in frame.iterrows()]})
    elif not args.out:
        options.print_table(frame)
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from forecaster.introspect import inspect_window, save_arrays

    if args.ig_steps < 1:
        raise UserError(f"--ig-steps must be at least 1; got {args.ig_steps}.")
    model = options.load_model(args)
    prepared = model.prepare(options.data_for_model(args, model))
    inspection = inspect_window(model, prepared, date=args.window_end, ig_steps=args.ig_steps)
    payload = inspection.to_dict()
    if args.out:
        payload["files"] = save_arrays(inspection, args.out)
    if args.json:
        options.print_json(payload)
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
