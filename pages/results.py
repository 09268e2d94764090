"""Results page: predicted vs actual beside the baselines, metrics, losses, residuals, downloads."""

from __future__ import annotations

import streamlit as st

from forecaster.errors import DataError
from forecaster.plots import loss_figure, per_step_figure, predictions_figure, residual_histogram, residuals_figure
from forecaster.ui import state, widgets
from forecaster.ui.state import remembered

st.title("Results")
job = state.current_job()
if job is not None and job.running:
    st.info("A model is training; these results update when it finishes.")
    widgets.live_training(show_chart=False)

model, evaluation, trained_on = state.current_model()
if model is None:
    st.info("No trained model yet. Train one on the Train page, press the quick start on Home, "
            "or upload a saved model on the Forecast page.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

if evaluation is None:  # an uploaded model: judge it on the session's data if the columns fit
    selection = state.selection()
    st.info(f"This model was loaded from a file; it forecasts **{model.target_}**. "
            f"Evaluate it on the current data ({selection.dataset.name}) to see how it does.")
    if st.button("Evaluate on the current data"):
        from forecaster.evaluation import evaluate

        try:
            evaluation = evaluate(model, model.prepare(selection.dataset), unit=selection.dataset.unit)
        except DataError as error:
            st.error(str(error))
            st.stop()
        state.set_model(model, evaluation, selection)
        st.rerun()
    st.stop()

info = model.data_info_
config = model.config
st.caption(f"{info.get('name') or trained_on.dataset.name if trained_on else info.get('name', '')} · target "
           f"**{model.target_}** · {config.model.cell.upper()} {config.model.layers}×{config.model.units} · window "
           f"{config.data.window} · horizon {config.data.horizon} · {model.history_.epochs_run} epochs "
           f"({model.history_.seconds:.1f}s) · test part {evaluation.to_dict()['test_start'][:10]} → "
           f"{evaluation.to_dict()['test_end'][:10]}")

widgets.verdict(evaluation)
st.subheader("Metrics on the test part")
widgets.metrics_table(evaluation)

st.subheader("Predicted vs actual")
baselines = [name for name in evaluation.predictions if name != "lstm"]
cols = st.columns([3, 1])
shown = remembered(cols[0].multiselect, "Baselines to overlay", "overlay", ["naive"], options=baselines,
                   format_func=evaluation.labels.get)
step = 1
if evaluation.horizon > 1:
    step = remembered(cols[1].number_input, "Steps ahead", "results_step", 1, min_value=1, max_value=evaluation.horizon,
                      help="Which step of each multi-step forecast to draw.")
frame = evaluation.predictions_frame(int(step))
st.plotly_chart(predictions_figure(frame, evaluation.labels, ["lstm", *shown], evaluation.unit,
                                   title=f"Predicted vs actual on the test part ({step} step{'s' if step > 1 else ''} ahead)"),
                width="stretch")

st.subheader("Training")
history = model.history_
if history.train_loss:
    st.plotly_chart(loss_figure(history.train_loss, history.val_loss, history.best_epoch), width="stretch")
else:
    st.caption("This model was loaded without its loss history.")

st.subheader("Residuals")
left, right = st.columns(2)
left.plotly_chart(residuals_figure(frame, evaluation.unit), width="stretch")
right.plotly_chart(residual_histogram(frame, evaluation.unit), width="stretch")

if evaluation.horizon > 1:
    st.subheader("Error by step ahead")
    metric = remembered(st.selectbox, "Metric", "per_step_metric", "mae", options=["mae", "rmse", "smape", "mase"],
                        format_func=widgets.metric_label)
    st.plotly_chart(per_step_figure(evaluation.per_step(), evaluation.labels, metric), width="stretch")

st.download_button("Download predictions (CSV)", evaluation.predictions_table().to_csv(index=False),
                   file_name=f"predictions_{model.target_}.csv", mime="text/csv",
                   help="Every test forecast of the LSTM and each baseline, with the actual value.")
