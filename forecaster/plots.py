"""Plotly figures for series, forecasts, losses and residuals: returned, never shown."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

MAX_POINTS = 4000  # more points than a screen can show only slow the browser down
PART_COLOURS = {"train": "rgba(76, 120, 168, 0.08)", "validation": "rgba(245, 133, 24, 0.12)",
                "test": "rgba(84, 162, 75, 0.12)"}
MODEL_COLOURS = {"actual": "#222222", "lstm": "#d62728", "naive": "#7f7f7f", "seasonal_naive": "#bcbd22",
                 "drift": "#17becf", "moving_average": "#9467bd", "linear": "#2ca02c", "ets": "#ff7f0e"}


def _kept_positions(values: np.ndarray, max_points: int) -> np.ndarray:
    """Positions of at most `max_points` finite values: each bucket's min and max, and the first and last."""
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) <= max_points:
        return finite
    buckets = max(1, (max_points - 2) // 2)
    grouped = pd.Series(values[finite], index=finite).groupby(finite * buckets // len(values))
    extremes = np.union1d(grouped.idxmin().to_numpy(), grouped.idxmax().to_numpy())
    return np.union1d(extremes, finite[[0, -1]]).astype(np.int64)


def downsample(series: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    """At most `max_points` points: each bucket's min and max so peaks survive, and both ends so lines reach them."""
    if len(series) <= max_points:
        return series
    return series.iloc[_kept_positions(series.to_numpy(dtype=np.float64), max_points)]


def base_layout(fig: go.Figure, title: str, y_title: str = "", height: int = 420) -> go.Figure:
    fig.update_layout(title=title, height=height, margin=dict(l=10, r=10, t=50, b=10), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
                      yaxis_title=y_title, template="plotly_white")
    return fig


def series_figure(frame: pd.DataFrame, target: str, unit: str = "", parts: Sequence[tuple[str, object, object]] = (),
                  features: Sequence[str] = ()) -> go.Figure:
    """The target (and optional features on a second axis) with shaded train/validation/test parts."""
    fig = go.Figure()
    line = downsample(frame[target])
    # SVG traces, not WebGL: a range slider cannot draw WebGL lines, and the data is downsampled anyway.
    fig.add_trace(go.Scatter(x=line.index, y=line.to_numpy(), name=target, mode="lines",
                               line=dict(color="#4c78a8", width=1.2)))
    for name in features:
        feature = downsample(frame[name])
        fig.add_trace(go.Scatter(x=feature.index, y=feature.to_numpy(), name=name, mode="lines", yaxis="y2",
                                   line=dict(width=1), opacity=0.6))
    for label, start, end in parts:
        fig.add_vrect(x0=start, x1=end, fillcolor=PART_COLOURS.get(label, "rgba(0,0,0,0.05)"), line_width=0,
                      annotation_text=label, annotation_position="top left", layer="below")
    if features:
        fig.update_layout(yaxis2=dict(overlaying="y", side="right", showgrid=False, title="features"))
    fig.update_xaxes(rangeslider=dict(visible=True, thickness=0.06))
    return base_layout(fig, f"{target}", f"{target} ({unit})" if unit else target, height=460)


def predictions_figure(frame: pd.DataFrame, labels: dict[str, str], shown: Sequence[str], unit: str = "",
                       title: str = "Predicted vs actual on the test part") -> go.Figure:
    """Actual values and the chosen models' forecasts, from an Evaluation.predictions_frame."""
    fig = go.Figure()
    for name in ["actual", *[s for s in shown if s in frame.columns and s != "actual"]]:
        values = downsample(frame[name])
        fig.add_trace(go.Scattergl(
            x=values.index, y=values.to_numpy(), mode="lines", name="Actual" if name == "actual" else labels.get(name, name),
            line=dict(color=MODEL_COLOURS.get(name), width=2.2 if name in ("actual", "lstm") else 1.2,
                      dash=None if name in ("actual", "lstm") else "dot")))
    return base_layout(fig, title, unit)


def loss_figure(train_loss: Sequence[float], val_loss: Sequence[float], best_epoch: int = 0) -> go.Figure:
    """Training and validation loss per epoch, with the kept (best) epoch marked."""
    epochs = list(range(1, len(train_loss) + 1))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=epochs, y=list(train_loss), name="train loss", mode="lines+markers",
                             marker=dict(size=4)))
    fig.add_trace(go.Scatter(x=epochs, y=list(val_loss), name="validation loss", mode="lines+markers",
                             marker=dict(size=4)))
    if best_epoch:
        fig.add_vline(x=best_epoch, line_dash="dash", line_color="#54a24b",
                      annotation_text=f"kept: epoch {best_epoch}", annotation_position="bottom left")
    fig.update_xaxes(title="epoch", tickformat="d", dtick=1 if len(epochs) <= 10 else None)
    return base_layout(fig, "Loss per epoch (scaled units)", "loss", height=340)


def residuals_figure(frame: pd.DataFrame, unit: str = "") -> go.Figure:
    """LSTM residuals (actual - forecast) over time."""
    residuals = downsample(frame["actual"] - frame["lstm"])
    fig = go.Figure(go.Scattergl(x=residuals.index, y=residuals.to_numpy(), mode="markers",
                                 marker=dict(size=4, color="#d62728", opacity=0.6), name="residual"))
    fig.add_hline(y=0, line_color="#888")
    return base_layout(fig, "LSTM residuals over time (actual − forecast)", unit, height=320)


def residual_histogram(frame: pd.DataFrame, unit: str = "") -> go.Figure:
    """Distribution of LSTM and naive residuals, to see bias and spread."""
    fig = go.Figure()
    for name, colour in (("lstm", MODEL_COLOURS["lstm"]), ("naive", MODEL_COLOURS["naive"])):
        if name in frame.columns:
            fig.add_trace(go.Histogram(x=(frame["actual"] - frame[name]).to_numpy(), name=name.upper() if name == "lstm"
                                       else "Naive", opacity=0.6, marker_color=colour, nbinsx=40))
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title=f"residual ({unit})" if unit else "residual")
    return base_layout(fig, "Residual distribution", "count", height=320)


_BASELINE_STYLES = (("dash", "square"), ("dot", "diamond"), ("dashdot", "triangle-up"), ("longdash", "x"),
                    ("longdashdot", "cross"), ("5px,2px", "star"))


def per_step_figure(per_step: dict[str, list[dict[str, float]]], labels: dict[str, str], metric: str = "mae") -> go.Figure:
    """A metric for each step ahead, one line per model.

    Baselines often score alike (drift on top of naive), so naive is drawn first as a wide pale band and
    every other baseline dashed with its own marker on top of it; the LSTM is drawn last, solid.
    """
    fig = go.Figure()
    order = ["naive", *[n for n in per_step if n not in ("naive", "lstm")], "lstm"]
    styles = iter(_BASELINE_STYLES * 2)
    for name in (n for n in order if n in per_step):
        steps = per_step[name]
        if name == "naive":
            line, marker = dict(color=MODEL_COLOURS["naive"], width=6), dict(size=9)
        elif name == "lstm":
            line, marker = dict(color=MODEL_COLOURS["lstm"], width=2.5), dict(size=7)
        else:
            dash, symbol = next(styles)
            line, marker = dict(color=MODEL_COLOURS.get(name), width=2, dash=dash), dict(size=7, symbol=symbol)
        fig.add_trace(go.Scatter(x=list(range(1, len(steps) + 1)), y=[s[metric] for s in steps], mode="lines+markers",
                                 name=labels.get(name, name), line=line, marker=marker,
                                 opacity=0.55 if name == "naive" else 1.0))
    fig.update_xaxes(title="steps ahead", dtick=1)
    return base_layout(fig, f"{metric.upper()} by step ahead", metric.upper(), height=340)


def forecast_figure(history: pd.Series, forecast: pd.Series, unit: str = "", history_points: int = 400) -> go.Figure:
    """The end of the history followed by the forecast."""
    recent = downsample(history.iloc[max(0, len(history) - history_points):])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=recent.index, y=recent.to_numpy(), name="history", mode="lines",
                             line=dict(color="#4c78a8")))
    joined = pd.concat([history.iloc[-1:], forecast])  # start the forecast line at the last observation
    fig.add_trace(go.Scatter(x=joined.index, y=joined.to_numpy(), name="forecast", mode="lines+markers",
                             line=dict(color=MODEL_COLOURS["lstm"], dash="dash"), marker=dict(size=4)))
    return base_layout(fig, f"Forecast of {history.name} for the next {len(forecast)} steps", unit)


# ---------------------------------------------------------------- intervals, residual autocorrelation, backtests

def _band_traces(x: Sequence, bands: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[go.Scatter]:
    """Shaded bands, widest first so narrower ones stay visible; `bands` maps a label to (lower, upper)."""
    traces = []
    ordered = sorted(bands.items(), key=lambda item: -float(np.nanmean(item[1][1] - item[1][0])))
    for shade, (label, (lower, upper)) in enumerate(ordered):
        alpha = 0.12 + 0.10 * shade
        traces.append(go.Scatter(x=list(x), y=np.asarray(upper).tolist(), mode="lines", line=dict(width=0),
                                 showlegend=False, hoverinfo="skip", name=f"{label} upper"))
        traces.append(go.Scatter(x=list(x), y=np.asarray(lower).tolist(), mode="lines", line=dict(width=0),
                                 fill="tonexty", fillcolor=f"rgba(214, 39, 40, {alpha:.2f})", name=label))
    return traces


def interval_figure(index: Sequence, actual: np.ndarray, point: np.ndarray,
                    bands: dict[str, tuple[np.ndarray, np.ndarray]], unit: str = "",
                    title: str = "Test forecasts with conformal prediction bands") -> go.Figure:
    """Actual values, the LSTM's forecasts and shaded bands (label -> (lower, upper)) on the test part."""
    actual, point = np.asarray(actual, dtype=np.float64), np.asarray(point, dtype=np.float64)
    if len(actual) > MAX_POINTS:  # one set of positions for every trace, so the bands stay under their lines
        keep = np.union1d(_kept_positions(actual, MAX_POINTS // 2), _kept_positions(point, MAX_POINTS // 2))
        index, actual, point = np.asarray(index)[keep], actual[keep], point[keep]
        bands = {label: (np.asarray(lower)[keep], np.asarray(upper)[keep]) for label, (lower, upper) in bands.items()}
    fig = go.Figure(_band_traces(index, bands))
    fig.add_trace(go.Scatter(x=list(index), y=np.asarray(actual).tolist(), mode="lines", name="Actual",
                             line=dict(color=MODEL_COLOURS["actual"], width=1.6)))
    fig.add_trace(go.Scatter(x=list(index), y=np.asarray(point).tolist(), mode="lines", name="LSTM",
                             line=dict(color=MODEL_COLOURS["lstm"], width=1.8)))
    return base_layout(fig, title, unit)


def acf_figure(acf: Sequence[float], band: float, title: str = "Autocorrelation of the LSTM's one-step errors") -> go.Figure:
    """Bars of ρ_1..ρ_m with the ±1.96/√n band that white noise stays inside 95% of the time."""
    lags = list(range(1, len(acf) + 1))
    colours = ["#d62728" if abs(v) > band else "#4c78a8" for v in acf]
    fig = go.Figure(go.Bar(x=lags, y=list(acf), marker_color=colours, name="autocorrelation"))
    for sign in (1, -1):
        fig.add_hline(y=sign * band, line_dash="dot", line_color="#888")
    fig.update_xaxes(title="lag", dtick=1 if len(lags) <= 30 else None)
    top = max(3 * band, 1.15 * max((abs(v) for v in acf), default=0.0))
    fig.update_yaxes(range=[-top, top])
    return base_layout(fig, title, "autocorrelation", height=320)


def backtest_figure(frame: pd.DataFrame, labels: dict[str, str], metric: str = "MAE",
                    shown: Sequence[str] | None = None) -> go.Figure:
    """A metric per fold (rows of `frame`), one line per model (its columns)."""
    fig = go.Figure()
    for name in (shown if shown is not None else frame.columns):
        if name not in frame.columns:
            continue
        fig.add_trace(go.Scatter(x=list(frame.index), y=frame[name].tolist(), mode="lines+markers",
                                 name=labels.get(name, name), line=dict(color=MODEL_COLOURS.get(name),
                                                                        width=2.4 if name == "lstm" else 1.4)))
    fig.update_xaxes(title="fold (later folds test later data)", dtick=1)
    return base_layout(fig, f"{metric} per fold of the walk-forward backtest", metric, height=360)


def forecast_bands_figure(history: pd.Series, forecast: pd.DataFrame, target: str, unit: str = "",
                          history_points: int = 400) -> go.Figure:
    """forecast_figure with shaded lower_XX / upper_XX bands from the forecast frame, widest underneath."""
    fig = forecast_figure(history, forecast[target], unit, history_points)
    bands = {}
    for column in forecast.columns:
        if column.startswith("lower_") and f"upper_{column[6:]}" in forecast.columns:
            bands[f"{column[6:]}% band"] = (forecast[column].to_numpy(), forecast[f"upper_{column[6:]}"].to_numpy())
    if bands:
        lines = len(fig.data)
        fig.add_traces(_band_traces(forecast.index, bands))
        fig.data = fig.data[lines:] + fig.data[:lines]  # bands underneath the lines
    return fig


def runs_overlay_figure(frame: pd.DataFrame, unit: str = "") -> go.Figure:
    """Actual, the naive forecast and several runs' one-step test forecasts on one chart."""
    fig = go.Figure()
    palette = ["#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    runs = [c for c in frame.columns if c not in ("actual", "naive")]
    for name in ["actual", "naive", *runs]:
        values = downsample(frame[name].dropna())
        style = (dict(color=MODEL_COLOURS["actual"], width=2.2) if name == "actual" else
                 dict(color=MODEL_COLOURS["naive"], width=1.2, dash="dot") if name == "naive" else
                 dict(color=palette[runs.index(name) % len(palette)], width=1.6))
        fig.add_trace(go.Scattergl(x=values.index, y=values.to_numpy(), mode="lines", line=style,
                                   name={"actual": "Actual", "naive": "Naive (last value)"}.get(name, name)))
    return base_layout(fig, "One-step-ahead test forecasts of the chosen runs", unit)


def tuning_figure(trials: pd.DataFrame) -> go.Figure:
    """Each trial's validation loss (by state) and the best so far, from a TuneJob table indexed by trial."""
    fig = go.Figure()
    colours = {"complete": "#4c78a8", "pruned": "#bab0ac", "stopped": "#f58518", "failed": "#e45756"}
    for state, colour in colours.items():
        part = trials[trials["State"] == state]
        if len(part):
            fig.add_trace(go.Scatter(x=part.index, y=part["Validation loss"], mode="markers", name=state,
                                     marker=dict(color=colour, size=9 if state == "complete" else 7)))
    complete = trials[trials["State"] == "complete"]["Validation loss"].dropna()
    if len(complete):
        best = complete.cummin()
        fig.add_trace(go.Scatter(x=best.index, y=best.to_numpy(), mode="lines", line=dict(shape="hv", color="#54a24b"),
                                 name="best so far"))
    fig.update_xaxes(title="trial", tickformat="d", dtick=1 if len(trials) <= 10 else None)
    losses = trials["Validation loss"].to_numpy(dtype=float)
    losses = losses[np.isfinite(losses)]
    if len(losses):
        # Plotly's own range for one point (or equal ones) spans -0.5..1, negative losses included.
        low, high = float(losses.min()), float(losses.max())
        pad = max(0.1 * (high - low), 0.05 * abs(high), 1e-9)
        fig.update_yaxes(range=[max(0.0, low - pad) if low >= 0 else low - pad, high + pad])
        fig.update_xaxes(range=[float(trials.index.min()) - 0.5, float(trials.index.max()) + 0.5])
    return base_layout(fig, "Validation loss per trial", "validation loss", height=340)


def runs_loss_figure(curves: dict[str, tuple[list[float], list[float]]]) -> go.Figure:
    """Validation (solid) and training (dotted) loss per epoch of several runs, one colour per run."""
    palette = ["#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    fig = go.Figure()
    for i, (name, (train_loss, val_loss)) in enumerate(curves.items()):
        colour = palette[i % len(palette)]
        epochs = list(range(1, len(val_loss) + 1))
        fig.add_trace(go.Scatter(x=epochs, y=list(val_loss), mode="lines", name=f"{name} validation",
                                 line=dict(color=colour, width=2)))
        fig.add_trace(go.Scatter(x=epochs, y=list(train_loss), mode="lines", name=f"{name} training",
                                 line=dict(color=colour, width=1, dash="dot"), showlegend=False))
    fig.update_xaxes(title="epoch", tickformat="d")
    return base_layout(fig, "Loss per epoch (solid: validation, dotted: training)", "loss", height=340)
