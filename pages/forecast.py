"""Forecast page: continue the series past its end, download it, and move models in and out as files."""

from __future__ import annotations

import streamlit as st

from forecaster import judge
from forecaster.errors import ConfigError, DataError, ModelFileError
from forecaster.export import forecast_table
from forecaster.plots import forecast_bands_figure
from forecaster.ui import state
from forecaster.ui.state import remembered


def model_bytes(model, calibration=None) -> bytes:
    """The model archive, built once per model and kept in this session only.

    The conformal calibration travels with it, so a loaded model can draw its bands without the data.
    """
    def build() -> bytes:
        extra = dict(getattr(model, "extra_", None) or {})
        if calibration is not None:
            extra["conformal"] = calibration.to_dict()
        return model.to_bytes(extra=extra)

    return state.per_model("model_bytes", (model,), build)


def band_calibration(model, trained_on):
    """Validation residuals for conformal bands, computed once per model (it runs every validation window)."""
    def compute():
        try:
            return judge.band_calibration(model, None if trained_on is None else lambda: trained_on.dataset)
        except DataError:  # data the model cannot read: no bands, the forecast still stands
            return None

    # Keyed by the data too: evaluating a loaded model on Results later gives it residuals to use.
    return state.per_model("band_calibration", (model,), compute,
                           key=None if trained_on is None else trained_on.identity)


def upload_model() -> None:
    """Load a model file; a bad file is refused with one sentence and the current model is kept."""
    with st.expander("Load a saved model", expanded=state.current_model()[0] is None):
        upload = st.file_uploader("Model file (.zip from 'Download model')", type=["zip"], key="model_upload")
        if upload is None or st.session_state.get("loaded_model_file") == upload.file_id:
            return
        from forecaster.estimator import LSTMForecaster

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

steps = remembered(st.number_input, "Steps to forecast", "forecast_steps", max(30, model.config.data.horizon),
                   min_value=1, max_value=1000, step=1, help="How far past the end of the data to forecast.")
levels = remembered(st.multiselect, "Prediction bands", "forecast_levels", [0.8, 0.95],
                    options=[0.5, 0.8, 0.9, 0.95, 0.99], format_func=lambda v: f"{v:.0%}",
                    help="Conformal bands from the model's errors on the validation part; the CSV gets "
                         "lower_XX and upper_XX columns.")
try:  # recursive past the horizon: one network call per horizon, so kept while the steps stay the same
    forecast = state.per_model("forecast", (model,), lambda: model.forecast(int(steps)), key=int(steps))
except (DataError, ConfigError) as error:
    st.error(str(error))
    st.stop()
calibration = band_calibration(model, trained_on)
bands = judge.forecast_bands(forecast, model, calibration, levels)
forecast = bands.frame
notes = [*judge.forecast_notes(model, int(steps)), *bands.notes]
if bands.uncalibrated:
    notes.append("This model file carries no validation errors, so no bands can be drawn; evaluate it on data "
                 "it can read with 'Evaluate on the current data' on the Results page, and the bands appear here.")

prepared = getattr(model, "prepared_", None)
history = prepared.frame[model.target_] if prepared is not None else model.tail_[model.target_]
unit = evaluation.unit if evaluation is not None else model.data_info_.get("unit", "")
st.plotly_chart(forecast_bands_figure(history, forecast, model.target_, unit), width="stretch")
for note in notes:
    st.caption(note)
if evaluation is not None:
    st.caption(judge.scale_sentence(evaluation, unit))

written = forecast_table(forecast, history)  # the data's own precision, not 15 digits of float noise
with st.expander("Forecast values"):
    st.dataframe(written, width="stretch")
left, right = st.columns(2)
left.download_button("Download forecast (CSV)", written.to_csv(index_label="date"),
                     file_name=f"forecast_{model.target_}.csv", mime="text/csv")
right.download_button("Download model", model_bytes(model, calibration), file_name=f"model_{model.target_}.zip",
                      mime="application/zip", help="One file with the settings, scaler and weights. "
                      "Load it here again later; loading never runs code from the file.")
