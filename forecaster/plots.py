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
                 "drift": "#17becf", "moving_average": "#9467bd", "linear": "#2ca02c"}


def downsample(series: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    """Keep at most about `max_points` points, keeping each bucket's min and max so peaks survive."""
    if len(series) <= max_points:
        return series
    buckets = max_points // 2
    values = series.to_numpy(dtype=np.float64)
    finite = np.flatnonzero(np.isfinite(values))
    positions = finite * buckets // len(series)
    grouped = pd.Series(values[finite], index=finite).groupby(positions)
    keep = np.union1d(grouped.idxmin().to_numpy(), grouped.idxmax().to_numpy()).astype(np.int64)
    return series.iloc[keep]


def _layout(fig: go.Figure, title: str, y_title: str = "", height: int = 420) -> go.Figure:
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
    return _layout(fig, f"{target}", f"{target} ({unit})" if unit else target, height=460)


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
    return _layout(fig, title, unit)


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
    return _layout(fig, "Loss per epoch (scaled units)", "loss", height=340)


def residuals_figure(frame: pd.DataFrame, unit: str = "") -> go.Figure:
    """LSTM residuals (actual - forecast) over time."""
    residuals = downsample(frame["actual"] - frame["lstm"])
    fig = go.Figure(go.Scattergl(x=residuals.index, y=residuals.to_numpy(), mode="markers",
                                 marker=dict(size=4, color="#d62728", opacity=0.6), name="residual"))
    fig.add_hline(y=0, line_color="#888")
    return _layout(fig, "LSTM residuals over time (actual − forecast)", unit, height=320)


def residual_histogram(frame: pd.DataFrame, unit: str = "") -> go.Figure:
    """Distribution of LSTM and naive residuals, to see bias and spread."""
    fig = go.Figure()
    for name, colour in (("lstm", MODEL_COLOURS["lstm"]), ("naive", MODEL_COLOURS["naive"])):
        if name in frame.columns:
            fig.add_trace(go.Histogram(x=(frame["actual"] - frame[name]).to_numpy(), name=name.upper() if name == "lstm"
                                       else "Naive", opacity=0.6, marker_color=colour, nbinsx=40))
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title=f"residual ({unit})" if unit else "residual")
    return _layout(fig, "Residual distribution", "count", height=320)


def per_step_figure(per_step: dict[str, list[dict[str, float]]], labels: dict[str, str], metric: str = "mae") -> go.Figure:
    """A metric for each step ahead, one line per model."""
    fig = go.Figure()
    for name, steps in per_step.items():
        fig.add_trace(go.Scatter(x=list(range(1, len(steps) + 1)), y=[s[metric] for s in steps], mode="lines+markers",
                                 name=labels.get(name, name), line=dict(color=MODEL_COLOURS.get(name))))
    fig.update_xaxes(title="steps ahead", dtick=1)
    return _layout(fig, f"{metric.upper()} by step ahead", metric.upper(), height=340)


def forecast_figure(history: pd.Series, forecast: pd.Series, unit: str = "", history_points: int = 400) -> go.Figure:
    """The end of the history followed by the forecast."""
    recent = downsample(history.iloc[-history_points:])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=recent.index, y=recent.to_numpy(), name="history", mode="lines",
                             line=dict(color="#4c78a8")))
    joined = pd.concat([history.iloc[-1:], forecast])  # start the forecast line at the last observation
    fig.add_trace(go.Scatter(x=joined.index, y=joined.to_numpy(), name="forecast", mode="lines+markers",
                             line=dict(color=MODEL_COLOURS["lstm"], dash="dash"), marker=dict(size=4)))
    return _layout(fig, f"Forecast of {history.name} for the next {len(forecast)} steps", unit)
