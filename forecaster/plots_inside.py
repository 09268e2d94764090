"""Plotly figures of the LSTM's insides (gates, states, attributions) and of its cells compared: returned, never shown."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from forecaster.plots import base_layout

# ---------------------------------------------------------------- inside the LSTM: gates, states, attributions

GATE_TITLES = {"input": "Input gate", "forget": "Forget gate", "output": "Output gate", "candidate": "Candidate",
               "cell": "Cell state (memory)", "hidden": "Hidden state", "reset": "Reset gate", "update": "Update gate"}


def _heatmap_style(name: str, values: np.ndarray) -> dict:
    """Gates on a 0–1 sequential scale; states and attributions on a diverging scale centred on 0."""
    from forecaster.introspect import SIGMOID_GATES  # here: introspect loads torch, which other figures do not need

    if name in SIGMOID_GATES:
        return dict(colorscale="Viridis", zmin=0.0, zmax=1.0)
    bound = 1.0 if name in ("candidate", "hidden") else max(float(np.nanmax(np.abs(values))) if values.size else 0.0,
                                                              1e-9)
    return dict(colorscale="RdBu", reversescale=True, zmin=-bound, zmax=bound)


def inside_figure(dates: Sequence, window: pd.DataFrame, quantities: dict[str, np.ndarray], units: Sequence[int],
                  attribution: np.ndarray | None = None, unit: str = "", attribution_label: str = "attribution",
                  title: str = "") -> go.Figure:
    """The input window on top, the attribution strip under it, then one time × unit heatmap per quantity.

    All rows share the time axis. `quantities` maps a name to (time, units) values of one layer;
    `units` gives the order in which the units are drawn (top first); `attribution` is (time, features)
    with one strip row per column of `window`.
    """
    from plotly.subplots import make_subplots

    dates = list(dates)
    names = list(quantities)
    n_units = len(units)
    heat_height = float(np.clip(n_units / 16, 0.8, 2.0))
    rows = ["window"] + (["attribution"] if attribution is not None else []) + names
    heights = [1.3] + ([max(0.35, 0.22 * window.shape[1])] if attribution is not None else []) + [heat_height] * len(names)
    titles = [f"Input window ({window.columns[0]}{f', {unit}' if unit else ''})"]
    if attribution is not None:
        titles.append("What the forecast looked at (integrated gradients; red pushed it up, blue down)")
    titles += [GATE_TITLES.get(name, name) for name in names]
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.045 if len(rows) < 6 else 0.03,
                        row_heights=heights, subplot_titles=titles)
    target = window.columns[0]
    fig.add_trace(go.Scatter(x=dates, y=window[target].to_numpy(), mode="lines+markers", name=str(target),
                             line=dict(color="#4c78a8", width=2), marker=dict(size=4), showlegend=False,
                             hovertemplate="%{x}<br>%{y:.4g}<extra></extra>"), row=1, col=1)
    labels = [f"unit {u}" for u in units]

    def colourbar(row: int) -> dict:
        domain = fig.layout[f"yaxis{'' if row == 1 else row}"].domain
        return dict(y=(domain[0] + domain[1]) / 2, len=max(0.05, domain[1] - domain[0]), thickness=12, x=1.01)

    row = 2
    if attribution is not None:
        values = np.asarray(attribution, dtype=np.float64).T  # (features, time)
        fig.add_trace(go.Heatmap(x=dates, y=[str(c) for c in window.columns], z=values, name="attribution",
                                 colorbar=colourbar(row), **_heatmap_style("attribution", values),
                                 hovertemplate="%{x}<br>%{y}: %{z:.3g}<extra>" + attribution_label + "</extra>"),
                      row=row, col=1)
        fig.update_yaxes(autorange="reversed", row=row, col=1)
        row += 1
    for name in names:
        values = np.asarray(quantities[name], dtype=np.float64)[:, list(units)].T  # (units, time)
        fig.add_trace(go.Heatmap(x=dates, y=labels, z=values, name=GATE_TITLES.get(name, name),
                                 colorbar=colourbar(row), **_heatmap_style(name, values),
                                 hovertemplate="%{x}<br>%{y}: %{z:.3f}<extra>" + GATE_TITLES.get(name, name)
                                               + "</extra>"),
                      row=row, col=1)
        fig.update_yaxes(autorange="reversed", showticklabels=n_units <= 24, row=row, col=1)
        row += 1
    height = int(160 + 150 * sum(heights))
    fig.update_layout(title=title or None, height=height, margin=dict(l=10, r=70, t=60 if title else 30, b=10),
                      template="plotly_white", hovermode="closest")
    fig.update_annotations(font_size=13, xanchor="left", x=0)
    return fig


def cell_comparison_figure(frame: pd.DataFrame) -> go.Figure:
    """Test MAE and training seconds of each cell side by side, from a frame indexed by cell."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("Test MAE (lower is better)", "Training time (seconds)"))
    colours = ["#d62728", "#1f77b4", "#9467bd", "#2ca02c"][: len(frame)]
    fig.add_trace(go.Bar(x=list(frame.index), y=frame["MAE"], marker_color=colours, showlegend=False), row=1, col=1)
    fig.add_trace(go.Bar(x=list(frame.index), y=frame["Seconds"], marker_color=colours, showlegend=False), row=1, col=2)
    if "Naive MAE" in frame.columns and len(frame):
        fig.add_hline(y=float(frame["Naive MAE"].iloc[0]), line_dash="dot", line_color="#7f7f7f",
                      annotation_text="naive", row=1, col=1)
    return base_layout(fig, "", height=300)
