"""Train page: every hyperparameter with what it does, a background run with live loss curves and Stop."""

from __future__ import annotations

import streamlit as st

from forecaster.config import (
    CELL_NAMES,
    CELLS,
    LOSSES,
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_HORIZON,
    MAX_LAYERS,
    MAX_UNITS,
    MAX_WINDOW,
    MIN_UNITS,
    SCALERS,
    START_PATIENCE_FACTOR,
    TRANSFORMS,
    DataConfig,
    ForecasterConfig,
    ModelConfig,
    TrainConfig,
)
from forecaster.errors import ConfigError, DataError
from forecaster.prepare import calendar_names, describe_calendar, prepare
from forecaster.ui import state, widgets
from forecaster.ui.state import remembered

TRANSFORM_NAMES = {"none": "Levels (none)", "diff": "Differences", "logret": "Log returns"}

st.title("Train")
selection = state.selection()
dataset = selection.dataset
st.write(f"Training on **{dataset.name}** · target **{selection.target}**"
         + (f" · features {', '.join(selection.features)}" if selection.features else "")
         + f" · {len(dataset.frame):,} rows. Change the data on the Data page.")

# Defaults suited to this dataset; chosen again whenever the data changes.
defaults = state.train_defaults(selection)
state.start_train_settings(selection)
d, m, t = defaults.data, defaults.model, defaults.train

st.subheader("Data windows")
cols = st.columns(4)
window = remembered(cols[0].number_input, "Window", "window", d.window, min_value=2, max_value=MAX_WINDOW, step=1,
                    help="Past steps the LSTM reads for each forecast. About one cycle: 30 for daily, 48 for hourly data.")
horizon = remembered(cols[1].number_input, "Horizon", "horizon", d.horizon, min_value=1, max_value=MAX_HORIZON, step=1,
                     help="Future steps forecast at once. 1 is the easiest; longer horizons get harder.")
scaler = remembered(cols[2].selectbox, "Scaler", "scaler", d.scaler, options=SCALERS,
                    help="How inputs are scaled, fit on the training part only. Standard is typical; robust resists outliers.")
transform = remembered(cols[3].selectbox, "Target transform", "transform", d.transform, options=TRANSFORMS,
                       format_func=TRANSFORM_NAMES.get,
                       help="Learn levels, differences or log returns (prices). Levels with 'learn the change' suits most series.")
freq = selection.resample or dataset.freq
terms = describe_calendar(calendar_names(dataset.frame.index, freq), freq)
calendar = remembered(st.checkbox, "Calendar inputs", "calendar", d.calendar, disabled=not terms,
                      help=(f"Adds the {terms} of each step being forecast as extra inputs (sin/cos pairs, known in "
                            "advance, built from the dates alone). The linear skip gives them no weight; the LSTM "
                            "learns what they add." if terms else
                            "This data's frequency has no calendar terms (only hourly to quarterly data has them), "
                            "so calendar inputs would change nothing here."))

st.subheader("Network")
cols = st.columns(4)
cell = remembered(cols[0].selectbox, "Cell", "cell", m.cell, options=CELLS, format_func=CELL_NAMES.get,
                  help="LSTM is the standard; GRU is lighter; peephole LSTM lets gates read the cell state (slower).")
layers = remembered(cols[1].slider, "Layers", "layers", m.layers, min_value=1, max_value=MAX_LAYERS,
                    help="Stacked recurrent layers. 1–2 is typical; more rarely helps on short series.")
units = remembered(cols[2].number_input, "Units", "units", m.units, min_value=MIN_UNITS, max_value=MAX_UNITS, step=8,
                   help="Hidden units per layer. 32–128 is typical; more units learn more and overfit sooner.")
dropout = remembered(cols[3].slider, "Dropout", "dropout", float(m.dropout), min_value=0.0, max_value=0.8, step=0.05,
                     help="Share of units dropped while training, between layers and before the output. 0–0.3 is typical.")
cols = st.columns(3)
relative = remembered(cols[0].checkbox, "Read windows relative to their last value", "relative", m.relative,
                      help="The LSTM sees each window's target as its distance from the window's last value (as RevIN "
                           "does), so a level never seen in training reads like a familiar one; it then predicts the "
                           "change from that value. Extra features keep their own scaled levels.")
skip = remembered(cols[1].checkbox, "Linear skip from the best simple forecast", "skip", m.skip, disabled=transform != "none",
                  help="A fixed linear map from the window to every step ahead, set before training to naive, or "
                       "to the ridge baseline, drift, the moving average, seasonal naive or exponential smoothing "
                       "when one beats it clearly on the validation part; the LSTM starts at zero and learns only what that misses, "
                       "so it starts where that baseline is. Needs levels (target transform 'none').")
residual = remembered(cols[2].checkbox, "Learn the change from the last value", "residual", m.residual,
                      disabled=relative or (skip and transform == "none"),
                      help="The network predicts how far the series moves from its last value, so it starts from the "
                           "naive forecast. Implied by relative windows; the linear skip replaces it.")

st.subheader("Training")
cols = st.columns(4)
epochs = remembered(cols[0].number_input, "Max epochs", "epochs", t.epochs, min_value=1, max_value=MAX_EPOCHS, step=1,
                    help="Upper bound on passes over the training windows; early stopping usually ends sooner.")
batch_size = remembered(cols[1].number_input, "Batch size", "batch_size", t.batch_size, min_value=1,
                        max_value=MAX_BATCH_SIZE, step=8, help="Windows per gradient step. 16–128 is typical.")
lr = remembered(cols[2].number_input, "Learning rate", "lr", float(t.lr), min_value=1e-6, max_value=1.0, format="%.5f",
                step=1e-4, help="Adam's step size. 1e-3 is typical; lower it if the loss jumps around or diverges.")
weight_decay = remembered(cols[3].number_input, "Weight decay", "weight_decay", float(t.weight_decay), min_value=0.0,
                          max_value=1.0, format="%.6f", step=1e-5,
                          help="L2 penalty on the weights against overfitting. 0 to 1e-4 is typical.")
cols = st.columns(4)
patience = remembered(cols[0].number_input, "Patience", "patience", t.patience, min_value=0, max_value=MAX_EPOCHS,
                      help="Epochs without a better validation loss before stopping; 0 never stops early. 5–20 is typical. "
                           f"Until an epoch beats the start (the simple forecast the skip is set to), it waits {START_PATIENCE_FACTOR} "
                           "times as long.")
loss = remembered(cols[1].selectbox, "Loss", "loss", t.loss, options=LOSSES,
                  help="MAE, the error the metrics judge by, is the default; MSE punishes large misses more; Huber is between.")
clip_norm = remembered(cols[2].number_input, "Gradient clip", "clip_norm", float(t.clip_norm), min_value=0.0,
                       max_value=100.0, step=0.5, help="Caps the gradient norm to keep training stable; 0 turns it off. 1 is typical.")
seed = remembered(cols[3].number_input, "Seed", "seed", t.seed, min_value=0, max_value=2**31 - 1, step=1,
                  help="The same seed and settings give the same model on a CPU.")

try:
    config = ForecasterConfig(
        data=DataConfig(target=selection.target, features=selection.features, window=int(window), horizon=int(horizon),
                        split=selection.split, missing=selection.missing, outliers=selection.outliers,
                        resample=selection.resample, scaler=scaler, transform=transform, calendar=bool(calendar)),
        model=ModelConfig(cell=cell, layers=int(layers), units=int(units), dropout=float(dropout), residual=bool(residual),
                          relative=bool(relative), skip=bool(skip)),
        train=TrainConfig(epochs=int(epochs), batch_size=int(batch_size), lr=float(lr), weight_decay=float(weight_decay),
                          patience=int(patience), loss=loss, clip_norm=float(clip_norm), seed=int(seed)))
except ConfigError as error:
    st.error(str(error))
    st.stop()

left, right = st.columns([1, 5])
if left.button("Train", type="primary", disabled=bool(state.busy_jobs()),
               help="Train in the background; you can keep using the app."):
    try:
        prepared = prepare(dataset.frame, config.data, selection.target)  # fail fast on data that cannot fit
    except (DataError, ConfigError) as error:
        st.error(str(error))
    else:
        right.caption(f"{len(prepared.train_origins):,} training and {len(prepared.val_origins):,} validation windows.")
        if widgets.start_job(config, selection, label=dataset.name):
            st.rerun()
if right.button("Reset to defaults", help="Settings suited to this dataset."):
    state.forget(*state.TRAIN_SETTINGS)
    st.rerun()

job = state.current_job()
job_data = st.session_state.get("job_selection")
if job is not None and job.running:
    widgets.live_training()
elif job is not None and not selection.same_data(job_data):
    # The last run was on other data (or other cleaning or split): its verdict would read as this data's.
    other = job_data.dataset.name if job_data is not None else "other data"
    st.info(f"Your last model was trained on **{other}**" + (
        "" if job_data is None or job_data.dataset.source != dataset.source else " with other cleaning or split")
        + f"; press **Train** to train on **{dataset.name}**. Until then the Results page shows the last model.")
elif job is not None:
    widgets.job_outcome()
    model, evaluation, trained_on = state.current_model()
    if evaluation is not None and job.model is model:
        from forecaster.plots import loss_figure

        history = model.history_
        start = getattr(model, "skip_start_", None)
        kept = (f"kept epoch {history.best_epoch}" if history.best_epoch else
                f"kept the start ({start} through the linear skip): no epoch did better on the validation part"
                if start else "kept the untrained start: no epoch did better on the validation part")
        st.success(f"Trained {history.epochs_run} epochs in {history.seconds:.1f}s; {kept}"
                   f"{' (stopped early: validation loss stopped improving)' if history.stopped_early else ''}. "
                   f"Model: {model.label}" + (f", its skip set to {start} before training." if start else "."))
        widgets.verdict(evaluation)
        st.plotly_chart(loss_figure(history.train_loss, history.val_loss, history.best_epoch), width="stretch")
        left, right = st.columns(2)
        left.page_link("pages/results.py", label="See all results", icon=":material/analytics:")
        if job.run_id is not None:
            right.page_link("pages/experiments.py", label=f"Kept as run {job.run_id}: compare it with other runs",
                            icon=":material/history:")


# ---------------------------------------------------------------- compare cells
st.divider()


@st.fragment(run_every=1.0)
def _compare_progress() -> None:
    """Which cell is training, how far the comparison is, a Stop button and the rows finished so far."""
    compare = st.session_state.get("compare_job")
    if compare is None:
        return
    if not compare.running:
        st.rerun()  # the whole page, so the buttons above are enabled again
    if compare.cluster:  # every cell at once, each on its own worker
        running = [CELL_NAMES.get(cell, cell) for cell, run in compare.runs.items() if run.running]
        text = f"training {', '.join(running) or 'the cells'} side by side on the cluster"
    else:
        current = CELL_NAMES.get(compare.current or "", "the next cell")
        run = compare.runs.get(compare.current) if compare.current else None
        epoch = (f" · epoch {run.latest.epoch} of at most {run.config.train.epochs}"
                 if run is not None and run.latest else "")
        text = f"training {current}{epoch}"
    st.progress(compare.progress, text=f"Comparing cells: {text} · {compare.elapsed_text}")
    if compare.stop_event.is_set():
        st.info("Stopping after the current batch…")
    elif st.button("Stop comparing", key=f"stop-compare-{id(compare)}"):
        compare.stop()
    table = compare.table()
    if len(table):
        st.dataframe(table.drop(columns=["Naive MAE"]), width="stretch")


with st.expander("Compare cells", expanded=st.session_state.get("compare_job") is not None):
    from forecaster.ui.compare_job import CompareJob

    on_cluster = widgets.cluster()
    st.write("Train these same settings with an **LSTM**, a **GRU** and a **peephole LSTM**, "
             + ("side by side on the cluster's workers" if on_cluster else "one after another")
             + ", and compare their test errors and training time. The comparison does not replace the current model.")
    if st.button("Train LSTM, GRU and peephole", disabled=bool(state.busy_jobs()),
                 help="Three trainings in the background: " + (
                     "one task per cell on the cluster, about as long as one." if on_cluster else
                     "one at a time, about three times as long as one.")):
        try:
            prepare(dataset.frame, config.data, selection.target)  # fail fast on data that cannot fit
        except (DataError, ConfigError) as error:
            st.error(str(error))
        else:
            st.session_state["compare_job"] = CompareJob(config=config, dataset=dataset, cluster=on_cluster,
                                                         alive=widgets.session_watch()).start()
            st.rerun()
    compare = st.session_state.get("compare_job")
    if compare is not None and compare.running:
        _compare_progress()
    elif compare is not None:
        if compare.status == "failed":
            st.error(compare.error)
        elif compare.status == "stopped":
            st.warning("The comparison was stopped; the cells trained so far are shown.")
        table = compare.table()
        if len(table):
            from forecaster.plots_inside import cell_comparison_figure

            shown = table.drop(columns=["Naive MAE"])
            st.dataframe(shown.style.format({"MAE": "{:.4g}", "RMSE": "{:.4g}", "Skill vs naive": "{:+.1%}",
                                             "Seconds": "{:.1f}"}), width="stretch")
            st.caption(f"Test part, in the series' units. The naive forecast's MAE is {table['Naive MAE'].iloc[0]:.4g}; "
                       "skill above 0 beats it. Same data, window, sizes, seed and training settings for every cell.")
            st.plotly_chart(cell_comparison_figure(table), width="stretch")
