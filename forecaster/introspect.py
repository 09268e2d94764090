"""Inside the LSTM for a fitted model: which window, its gates and states, attributions and the skip's share.

The recomputation and the attributions themselves are in `forecaster.gate_states`; this module picks the
window of a fitted model, splits its forecast into the simple start and the recurrent part, and saves it all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from forecaster.errors import DataError
from forecaster.gate_states import (  # noqa: F401 - re-exported: the page, the CLI and tests import them here
    DEFAULT_IG_STEPS,
    EXPLANATIONS,
    GRU_QUANTITIES,
    LSTM_QUANTITIES,
    SIGMOID_GATES,
    Attribution,
    StateTrace,
    integrated_gradients,
    trace_states,
    training_mean,
    unit_order,
)
from forecaster.prepare import Prepared
from forecaster.windows import input_windows

# ---------------------------------------------------------------- choosing a window of a fitted model

def origin_dates(prepared: Prepared) -> pd.DatetimeIndex:
    """The last observed time of every test window (the forecast origins)."""
    return prepared.index[prepared.test_origins]


def origin_for_date(prepared: Prepared, date: Any = None) -> int:
    """The test origin whose window ends on `date` or most recently before it; None: the last test origin."""
    origins = prepared.test_origins
    if date is None:
        return int(origins[-1])
    try:
        when = pd.Timestamp(date)
    except (TypeError, ValueError):
        raise DataError(f"{date!r} is not a date; give one like 2015-06-30.") from None
    dates = origin_dates(prepared)
    if when.tzinfo is None and dates.tz is not None:
        when = when.tz_localize(dates.tz)
    position = int(dates.searchsorted(when, side="right")) - 1
    if position < 0:
        raise DataError(f"{when.date()} is before the test part; choose a date from {dates[0].date()} "
                        f"to {dates[-1].date()}.")
    return int(origins[position])


def window_at(model: Any, prepared: Prepared, origin: int) -> np.ndarray:
    """The scaled input window (time, features) the network reads for a forecast made at `origin`."""
    return input_windows(prepared.inputs, np.asarray([origin]), model.config.data.window)[0].astype(np.float64)


@dataclass(frozen=True)
class ForecastParts:
    """One forecast step split into the simple forecast the network starts from and what its recurrent part adds."""

    base_name: str  # "linear skip (set to ridge)", "last value" or "none"
    base: float  # the base forecast, in original units
    recurrent: float  # what the LSTM adds, in original units

    def sentence(self, unit: str = "") -> str:
        unit = f" {unit}" if unit else ""
        if self.base_name == "none":
            return f"The whole forecast comes from the recurrent layers ({self.base:+,.4g} base)."
        return (f"Of this forecast, the {self.base_name} gives {self.base:,.4g}{unit} and the recurrent layers add "
                f"{self.recurrent:+,.4g}{unit}.")


def forecast_parts(model: Any, window: np.ndarray, step: int = 0) -> ForecastParts | None:
    """Split forecast step `step` of one scaled window (time, features) into base and recurrent parts, which add
    up to the forecast in original units; None for a model that learns differences or log returns."""
    if model.config.data.transform != "none":
        return None
    net = model.net_
    parameter = next(net.parameters())
    x = torch.as_tensor(np.asarray(window, dtype=np.float64)[None], dtype=parameter.dtype, device=parameter.device)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            base, recurrent = (float(part[0, step]) for part in net.parts(x))
    finally:
        net.train(was_training)
    scale, center = float(model.scaler_.scale[0]), float(model.scaler_.center[0])
    if net.skip is not None:
        start = getattr(model, "skip_start_", None)
        name = f"linear skip (set to {start})" if start else "linear skip"
    elif model.config.model.residual or model.config.model.relative:
        name = "last value"
    else:
        name = "none"
    return ForecastParts(name, base * scale + center, recurrent * scale)


@dataclass
class Inspection:
    """Everything the page and the command line show for one window of one model."""

    origin: int
    window_dates: pd.DatetimeIndex  # (time,)
    window_frame: pd.DataFrame  # the window in original units: target then features
    window: np.ndarray  # (time, inputs) what the network reads: the scaled columns, then any calendar inputs
    trace: StateTrace
    attribution: Attribution
    parts: ForecastParts | None = None
    columns: list[str] = field(default_factory=list)  # one name per input: window_frame's columns, then the calendar
    seconds: float = 0.0

    @property
    def window_end(self) -> pd.Timestamp:
        return self.window_dates[-1]

    def to_dict(self) -> dict:
        """JSON-ready numbers and the text summary (the arrays are written by save_arrays)."""
        layers, steps, units = self.trace.shape
        return {"window_end": str(self.window_end), "window_start": str(self.window_dates[0]), "cell": self.trace.cell,
                "layers": layers, "time_steps": steps, "units": units,
                "state_match_max_abs_error": self.trace.state_match_max_abs_error,
                "attribution_completeness_error": self.attribution.completeness_error,
                "forecast_scaled": self.attribution.output, "baseline_forecast_scaled": self.attribution.baseline_output,
                "attribution_by_feature": dict(zip(self.columns, self.attribution.values.sum(axis=0).tolist())),
                "forecast_parts": None if self.parts is None else {
                    "base": self.parts.base_name, "base_forecast": self.parts.base, "recurrent_part": self.parts.recurrent},
                "summary": summarise(self.trace)}


def inspect_window(model: Any, prepared: Prepared | None = None, origin: int | None = None, date: Any = None,
                   ig_steps: int = DEFAULT_IG_STEPS, step: int = 0) -> Inspection:
    """Trace and attribute one window of a fitted LSTMForecaster (default: the last test window)."""
    import time

    model._check_fitted()
    if prepared is None:
        prepared = getattr(model, "prepared_", None)
        if prepared is None:
            raise DataError("This model was loaded without its data; pass prepared=model.prepare(dataset).")
    started = time.perf_counter()
    if origin is None:
        origin = origin_for_date(prepared, date)
    window_length = model.config.data.window
    if not window_length - 1 <= origin < len(prepared.index):
        raise DataError(f"Origin {origin} has no full window in this data.")
    window = window_at(model, prepared, origin)
    trace = trace_states(model.net_, window)
    baseline = training_mean(prepared, model.config.data.transform)
    attribution = integrated_gradients(model.net_, window, baseline, steps=ig_steps, step=step)
    rows = slice(origin - window_length + 1, origin + 1)
    return Inspection(origin=int(origin), window_dates=prepared.index[rows], window_frame=prepared.frame.iloc[rows],
                      window=window, trace=trace, attribution=attribution, parts=forecast_parts(model, window, step),
                      columns=[*prepared.frame.columns, *prepared.calendar_columns],
                      seconds=time.perf_counter() - started)


def summarise(trace: StateTrace) -> str:
    """A few plain sentences on the gates, layer by layer."""
    layers, steps, units = trace.shape
    lines = [f"{trace.cell.upper()} with {layers} layer{'s' if layers > 1 else ''} of {units} units over "
             f"{steps} time steps."]
    for k in range(layers):
        if trace.cell == "gru":
            update, reset = trace["update"][k], trace["reset"][k]
            keep = float((update.mean(axis=0) > 0.9).mean())
            lines.append(f"Layer {k + 1}: mean update gate {update.mean():.2f} ({keep:.0%} of units mostly keep their "
                         f"state), mean reset gate {reset.mean():.2f}.")
        else:
            forget, inp, out = trace["forget"][k], trace["input"][k], trace["output"][k]
            keep = float((forget.mean(axis=0) > 0.9).mean())
            lines.append(f"Layer {k + 1}: mean forget gate {forget.mean():.2f} ({keep:.0%} of units keep most of "
                         f"their memory each step), mean input gate {inp.mean():.2f}, mean output gate {out.mean():.2f}.")
        busiest = int(unit_order(trace, k)[0])
        lines.append(f"  Unit {busiest} changes its {trace.memory} state the most in this window.")
    return "\n".join(lines)


def save_arrays(inspection: Inspection, folder: Any) -> list[str]:
    """Write one .npy per quantity (layers, time, units), attribution.npy (time, features) and window.npy."""
    from pathlib import Path

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    arrays = {**inspection.trace.quantities, "attribution": inspection.attribution.values, "window": inspection.window}
    for name, values in arrays.items():
        path = out / f"{name}.npy"
        np.save(path, values)
        written.append(str(path))
    return written
