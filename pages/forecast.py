"""Forecast page: continue the series past its end, download it, and move models in and out as files."""

from __future__ import annotations

import streamlit as st

from forecaster.errors import ConfigError, DataError, ModelFileError
from forecaster.plots import forecast_figure
from forecaster.ui import state
from forecaster.ui.state import remembered

MAX_MODEL_UPLOAD_MB = 200


def model_bytes(model) -> bytes:
    """The model archive, built once per model and kept in this session only."""
    cached = st.session_state.get("model_bytes")
    if cached is None or cached[0] is not model:
        cached = (model, model.to_bytes())
        st.session_state["model_bytes"] = cached
    return cached[1]


def upload_model() -> None:
    """Load a model file; a bad file is refused with one sentence and the current model is kept."""
    with st.expander("Load a saved model", expanded=state.current_model()[0] is None):
        upload = st.file_uploader("Model file (.zip from 'Download model')", type=["zip"], key="model_upload")
        if upload is None or st.session_state.get("loaded_model_file") == upload.file_id:
            return
        from forecaster.forecaster import LSTMForecaster

        try:
            model = LSTMForecaster.from_bytes(upload.getvalue())
        except ModelFileError as error:
            st.error(f"{error} Your current model is unchanged.")
            return
        st.session_state["loaded_model_file"] = upload.file_id
        state.set_model(model, None, None)
        st.success(f"Loaded a model that forecasts {model.target_} "
                   f"({model.config.model.cell.upper()} {model.config.model.layers}×{model.config.model.units}).")


st.title("Forecast")
upload_model()
model, evaluation, trained_on = state.current_model()
if model is None:
    st.info("No model yet. Train one on the Train page, or load a saved model file above.")
    st.stop()

horizon = model.config.data.horizon
steps = remembered(st.number_input, "Steps to forecast", "forecast_steps", max(30, horizon), min_value=1,
                   max_value=1000, step=1, help="How far past the end of the data to forecast.")
notes = []
if steps > horizon:
    notes.append(f"The model forecasts {horizon} step{'s' if horizon > 1 else ''} at a time; beyond that it feeds "
                 "its own forecasts back in, so errors compound the further out you go.")
if len(model.columns_) > 1:
    notes.append(f"The extra features ({', '.join(model.columns_[1:])}) are unknown in the future and are held "
                 "at their last value.")
try:
    forecast = model.forecast(int(steps))
except (DataError, ConfigError) as error:
    st.error(str(error))
    st.stop()

prepared = getattr(model, "prepared_", None)
history = prepared.frame[model.target_] if prepared is not None else model.tail_[model.target_]
unit = evaluation.unit if evaluation is not None else model.data_info_.get("unit", "")
st.plotly_chart(forecast_figure(history, forecast[model.target_], unit), width="stretch")
for note in notes:
    st.caption(note)
if evaluation is not None:
    st.caption(f"For scale: on the test part this model's MAE was {evaluation.metrics['lstm']['mae']:.4g} "
               f"{unit} one horizon ahead, against {evaluation.metrics['naive']['mae']:.4g} for the naive forecast.")

with st.expander("Forecast values"):
    st.dataframe(forecast, width="stretch")
left, right = st.columns(2)
left.download_button("Download forecast (CSV)", forecast.to_csv(index_label="date"),
                     file_name=f"forecast_{model.target_}.csv", mime="text/csv")
right.download_button("Download model", model_bytes(model), file_name=f"model_{model.target_}.zip",
                      mime="application/zip", help="One file with the settings, scaler and weights. "
                      "Load it here again later; loading never runs code from the file.")
