"""Results page: predicted vs actual beside the baselines, metrics, losses, residuals, downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from forecaster import judge
from forecaster.errors import DataError
from forecaster.plots import (
    acf_figure,
    backtest_figure,
    interval_figure,
    loss_figure,
    per_step_figure,
    predictions_figure,
    residual_histogram,
    residuals_figure,
)
from forecaster.ui import state, widgets
from forecaster.ui.state import remembered

# ---------------------------------------------------------------- intervals, significance, backtests

LEVEL_OPTIONS = [0.5, 0.8, 0.9, 0.95, 0.99]


# How a band's coverage is coloured: green calibrated, red too narrow (over-confident), amber too wide.
COVERAGE_COLOURS = {judge.CALIBRATED: "#e3f4e1", judge.TOO_NARROW: "#fbe3e1", judge.TOO_WIDE: "#fdf1d8",
                    judge.UNAVAILABLE: ""}


def judgement(model, evaluation, trained_on) -> tuple[judge.Judgement, object] | None:
    """The judgement of this model and its prepared data, computed once per model and evaluation."""
    def compute():
        prepared = getattr(model, "prepared_", None)
        try:
            if prepared is None:
                dataset = trained_on.dataset if trained_on is not None else state.selection().dataset
                prepared = model.prepare(dataset)
        except DataError as error:  # data that no longer fits the model
            return str(error)
        return judge.judge(evaluation), prepared

    judged = state.per_model("judgement", (model, evaluation), compute)
    if isinstance(judged, str):
        st.caption(f"Intervals and significance tests are not available: {judged}")
        return None
    return judged


def interval_section(model, evaluation, prepared, step: int) -> None:
    st.subheader("Prediction intervals")
    st.caption("How wrong might a forecast be? **Conformal** bands come from the LSTM's errors on the validation "
               "part, one width per step ahead. **Monte Carlo dropout** runs the network many times with dropout "
               "left on; it sees only the model's own uncertainty, not the noise in the data, so it is often too "
               "narrow. Coverage is the share of test values that fell inside: a band to trust covers about its "
               "nominal level.")
    chosen = remembered(st.multiselect, "Interval levels", "interval_levels", [0.8, 0.95], options=LEVEL_OPTIONS,
                        format_func=lambda v: f"{v:.0%}")
    if not chosen:
        st.caption("Pick at least one level to see bands.")
        return
    levels = tuple(sorted(chosen))
    report = state.per_model("interval_report", (model, evaluation),
                             lambda: judge.interval_check(model, prepared, levels), key=levels)
    rows = judge.interval_rows(report, evaluation.unit)
    # Colours come from the standings, not from extra columns: Streamlit draws hidden Styler columns anyway.
    colours = [f"background-color: {COVERAGE_COLOURS[s]}" if COVERAGE_COLOURS[s] else "" for s in rows.standings]
    st.table(rows.table.style.apply(lambda _: colours, subset=["Coverage on test"], axis=0).hide(axis="index"))
    for note in report.notes:
        st.caption(note)
    shown = judge.step_bands(report, evaluation, step)
    st.plotly_chart(interval_figure(shown.index, shown.actual, shown.point, shown.bands, evaluation.unit,
                                    title=f"Test forecasts with conformal bands ({step} step"
                                          f"{'s' if step > 1 else ''} ahead)"), width="stretch")


def backtest_job(model):
    entry = st.session_state.get("backtest_job")
    return entry[1] if entry is not None and entry[0] is model else None  # the object: an id() can be reused


@st.fragment(run_every=1.0)
def backtest_progress(model) -> None:
    job = backtest_job(model)
    if job is None:
        return
    if not job.running:
        st.rerun()
    latest = job.latest
    if job.cluster:  # every fold at once, each a task on the cluster
        done = len(job.finished_folds)
        text = (f"{done} of {latest.folds} folds done, the rest training side by side on the cluster"
                if latest is not None else "Sending the folds to the cluster")
    else:
        text = f"Fold {latest.fold} of {latest.folds}" if latest is not None else "Preparing the first fold"
        if latest is not None and latest.epoch is not None and latest.result is None:
            text += f" · epoch {latest.epoch.epoch} of at most {latest.epoch.max_epochs}"
    st.progress(job.fraction, text=f"{text} · {job.elapsed:.0f}s elapsed")
    if job.stop_event.is_set():
        st.info("Stopping; the folds finished so far will be kept…")
    elif st.button("Stop backtest", key=f"stop-backtest-{id(job)}"):
        job.stop()


def backtest_section(model, trained_on) -> None:
    from forecaster.ui.backtest_job import BacktestJob

    st.subheader("Backtest")
    st.caption("One train/test split is one draw of luck. A walk-forward backtest moves the forecast origin along "
               "time: at each origin it refits the scaler and a fresh LSTM on the past only, then scores it and every "
               "baseline on what came next. The second half of the series is cut into the folds' test windows.")
    job = backtest_job(model)
    running = job is not None and job.running
    cols = st.columns(3)
    folds = remembered(cols[0].number_input, "Folds", "backtest_folds", 5, min_value=2, max_value=10, step=1,
                       help="How many origins, each with its own refit and test window.")
    mode = remembered(cols[1].radio, "Training window", "backtest_mode", "expanding", options=["expanding", "sliding"],
                      horizontal=True, format_func={"expanding": "expanding (all the past)",
                                                    "sliding": "sliding (fixed length)"}.get)
    epochs = remembered(cols[2].number_input, "Max epochs per fold", "backtest_epochs",
                        min(model.config.train.epochs, 50), min_value=1, max_value=1000, step=1,
                        help="Early stopping usually ends each fold sooner; a cap keeps long backtests short.")
    if st.button("Run backtest", disabled=running, help="Runs in the background; you can use other pages meanwhile."):
        dataset = trained_on.dataset if trained_on is not None else state.selection().dataset
        config = model.config.replace(train={"epochs": int(epochs)})
        job = BacktestJob(config=config, dataset=dataset, folds=int(folds), mode=mode, cluster=widgets.cluster(),
                          alive=widgets.session_watch()).start()
        st.session_state["backtest_job"] = (model, job)
        running = True
    if running:
        backtest_progress(model)
        return
    if job is None:
        return
    if job.status == "failed":
        st.error(job.error)
        return
    result = job.result
    if not result.folds:
        st.warning("The backtest was stopped before any fold finished.")
        return
    st.info(result.verdict())
    metric = remembered(st.radio, "Backtest metric", "backtest_metric", "mae", options=["mae", "rmse", "mase"],
                        horizontal=True, format_func=widgets.metric_label)
    label = widgets.metric_label(metric)
    st.plotly_chart(backtest_figure(result.metric_frame(metric), result.labels, label), width="stretch")
    summary, folds = result.summary(), len(result.folds)
    best_in = {name: result.best_baselines.count(name) for name in summary}
    table = {result.labels.get(name, name): {
        f"Mean {label}": "—" if values[metric]["mean"] is None else f"{values[metric]['mean']:,.3f}",
        "Spread (std)": "—" if values[metric]["std"] is None else f"{values[metric]['std']:,.3f}",
        "Beat naive in": "" if name != "lstm" else f"{result.wins_vs_naive} of {folds} folds",
        "Beat the fold's best baseline in": "" if name != "lstm" else f"{result.wins_vs_best} of {folds} folds",
        "Best baseline in": "" if name == "lstm" else f"{best_in[name]} of {folds} folds"}
        for name, values in summary.items()}
    st.table(pd.DataFrame.from_dict(table, orient="index"))
    st.caption(f"{len(result.folds)} folds of {result.step} rows, {result.mode} training window, "
               f"{result.seconds:.0f}s." + "".join(f" {note}" for note in result.notes))


# ---------------------------------------------------------------- the page

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
judged, prepared = judgement(model, evaluation, trained_on) or (None, None)
if judged is not None and judged.diebold_mariano:
    st.info("**Is the difference real?** " + judged.significance_text())
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
if judged is not None and judged.ljung_box is not None:
    box = judged.ljung_box
    st.plotly_chart(acf_figure(box.acf, box.band), width="stretch")
    st.markdown(box.sentence() + " Bars outside the dotted lines are correlations that noise alone rarely shows.")

if evaluation.horizon > 1:
    st.subheader("Error by step ahead")
    metric = remembered(st.selectbox, "Metric", "per_step_metric", "mae", options=["mae", "rmse", "smape", "mase"],
                        format_func=widgets.metric_label)
    st.plotly_chart(per_step_figure(evaluation.per_step(), evaluation.labels, metric), width="stretch")

if judged is not None:
    interval_section(model, evaluation, prepared, int(step))
backtest_section(model, trained_on)

st.download_button("Download predictions (CSV)", evaluation.predictions_table().to_csv(index=False),
                   file_name=f"predictions_{model.target_}.csv", mime="text/csv",
                   help="Every test forecast of the LSTM and each baseline, with the actual value.")
