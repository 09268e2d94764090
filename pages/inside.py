"""Inside the LSTM: the gates, the memory and what the forecast looked at, for one window of the session's model."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from forecaster.errors import DataError
from forecaster.introspect import EXPLANATIONS, inspect_window, origin_dates, summarise, unit_order
from forecaster.plots_inside import inside_figure
from forecaster.ui import state
from forecaster.ui.state import remembered

MAX_CACHED = 64  # inspections kept per session: one per visited window of the current model

st.title("Inside the LSTM")
st.write("An LSTM keeps a memory (the **cell state**) and three gates that decide, at every time step, what to "
         "write into it (**input gate**), what to keep (**forget gate**) and what to show (**output gate**). "
         "Here they are for your own model, recomputed from its weights, on a window of your data.")

model, evaluation, trained_on = state.current_model()
if model is None:
    st.info("No trained model yet. Train one on the Train page or press the quick start on Home.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()


def _prepared():
    """The model's own prepared data, or the session's data prepared the model's way (a loaded model)."""
    prepared = getattr(model, "prepared_", None)
    if prepared is not None:
        return prepared
    return state.per_model("_inside_prepared", (model,), lambda: model.prepare(state.selection().dataset))


def _inspection(origin: int):
    """Inspections of the current model, one per window, kept in this session (a model change empties it)."""
    cache = st.session_state.get("_inside_cache")
    if cache is None or cache["model"] is not model:
        cache = st.session_state["_inside_cache"] = {"model": model, "entries": {}}
    entries = cache["entries"]
    if origin not in entries:
        if len(entries) >= MAX_CACHED:
            entries.pop(next(iter(entries)))
        entries[origin] = inspect_window(model, prepared, origin=origin)
    return entries[origin]


try:
    prepared = _prepared()
except DataError as error:
    st.error(f"This model was loaded from a file and does not fit the current data: {error}")
    st.stop()

dates = origin_dates(prepared)
labels = [f"{date:%Y-%m-%d %H:%M}" if (dates.hour != 0).any() else f"{date:%Y-%m-%d}" for date in dates]
config = model.config
cols = st.columns([4, 1, 2])
chosen = remembered(cols[0].select_slider, "Window ending on", "inside_window", labels[-1], options=labels,
                    help="The forecast made after this date, from the window of past values that ends on it. "
                         "Every test-part window can be chosen; the default is the last one.")
layer = 0
if config.model.layers > 1:
    layer = remembered(cols[1].selectbox, "Layer", "inside_layer", 1,
                       options=list(range(1, config.model.layers + 1)),
                       help="Layer 1 reads the series; each higher layer reads the hidden states of the one below.") - 1
sort_units = remembered(cols[2].checkbox, "Sort units by how much they change", "inside_sort", True,
                        help="Units whose memory moves most over the window come first; the quiet ones sink.")

origin = int(prepared.test_origins[labels.index(chosen)])
inspection = _inspection(origin)
trace, attribution = inspection.trace, inspection.attribution
layers, steps, units = trace.shape
order = unit_order(trace, layer) if sort_units else list(range(units))

forecast_level = model.predict_origins(prepared, [origin])[0, 0]
actual_at = origin + 1
cols = st.columns(4)
unit = evaluation.unit if evaluation is not None else ""
cols[0].metric("Forecast for the next step", f"{forecast_level:,.4g} {unit}".strip(),
               help=f"The model's forecast for {prepared.index[actual_at]:%Y-%m-%d} from this window.")
cols[1].metric("What happened", f"{prepared.y[actual_at]:,.4g} {unit}".strip())
cols[2].metric("Recomputed vs network", f"{trace.state_match_max_abs_error:.1e}",
               help="Largest difference between the hidden states recomputed here from the gate equations and the "
                    "ones the network itself produced. Tiny values prove the pictures show what the network did.")
cols[3].metric("Attribution check", f"{attribution.completeness_error:.1e}",
               help="Integrated gradients must add up to (forecast − forecast from an average window); this is how "
                    "far off the sum is, in scaled units. Tiny values mean the attribution strip is complete.")

if inspection.parts is not None:
    st.caption(inspection.parts.sentence(unit) + (
        " The linear skip is a fixed map of the window, set before training; the recurrent layers learn what it "
        "misses." if model.net_.skip is not None else ""))

names = ["reset", "update", "candidate", "hidden"] if trace.cell == "gru" else ["input", "forget", "output", "candidate", "cell"]
# The picture draws one attribution row per column of the window; calendar inputs are summed in the caption below.
n_columns = inspection.window_frame.shape[1]
figure = inside_figure(inspection.window_dates, inspection.window_frame,
                       {name: trace[name][layer] for name in names}, order,
                       attribution=attribution.values[:, :n_columns],
                       unit=unit, title=f"{config.model.cell.upper()} layer {layer + 1} of {layers} · {units} units · "
                                        f"window {inspection.window_dates[0]:%Y-%m-%d} → {inspection.window_end:%Y-%m-%d}")
st.plotly_chart(figure, width="stretch", key="inside-figure")

st.subheader("How to read these pictures")
st.markdown(
    "- **Input window**: the past values the model read, oldest on the left; the forecast is made after the "
    "last point.\n"
    "- **What the forecast looked at**: integrated gradients split the change from the forecast for an average "
    "window (the training mean) to this window's forecast among the input steps and columns. Red cells pushed "
    "the forecast up, blue cells pushed it down; pale cells hardly mattered. Recent steps usually matter most.\n"
    + "\n".join(f"- **{EXPLANATIONS[name].split(':')[0]}**:{EXPLANATIONS[name].split(':', 1)[1]}" for name in names)
    + "\n- Each row is one unit (a memory cell) and each column a time step; "
    + ("units are sorted so the busiest come first." if sort_units else "units are in their natural order."))
by_column = pd.Series(attribution.values.sum(axis=0), index=inspection.columns)
if len(by_column) > n_columns:  # the calendar inputs, as one entry
    by_column = pd.concat([by_column.iloc[:n_columns], pd.Series({"calendar": by_column.iloc[n_columns:].sum()})])
st.caption("Attribution by column (sum over the window, scaled units): "
           + ", ".join(f"{name} {value:+.3f}" for name, value in by_column.items())
           + f". Forecast {attribution.output:+.3f} vs {attribution.baseline_output:+.3f} for the average window.")
with st.expander("Summary of the gates in every layer"):
    st.text(summarise(trace))
    st.caption(f"Traced and attributed in {inspection.seconds * 1000:.0f} ms; windows already visited redraw from "
               "memory.")
