"""Tune page: search the LSTM's settings with Optuna on the validation part, watch the trials, train the best."""

from __future__ import annotations

import streamlit as st

from forecaster.compare import SETTING_LABELS
from forecaster.config import CELLS, MAX_LAYERS, MAX_UNITS, MAX_WINDOW, MIN_UNITS
from forecaster.errors import ConfigError
from forecaster.search_space import PARAMS, SearchSpace, default_space, searchable_values
from forecaster.ui import state, widgets
from forecaster.ui.state import remembered

PARAM_LABELS = {name: SETTING_LABELS[name] for name in PARAMS}
UNIT_STEPS = [4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512]
LR_STEPS = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
BATCH_CHOICES = [8, 16, 32, 64, 128, 256, 512]

st.title("Tune")
selection = state.selection()
dataset = selection.dataset
st.write(f"Search the LSTM's settings for **{dataset.name}** · target **{selection.target}** with Optuna. "
         "Each trial trains a model and is scored by its **validation loss**; the test part is never used to "
         "choose, so the test metrics of the winner stay honest. Trials that fall behind the median of earlier "
         "trials at the same epoch are stopped early (pruned).")

# The base: the Train page's settings for this data when it has them, else the defaults for this data
# (its epochs and patience are replaced by the per-trial budget below).
base = state.train_config(selection)
suggested = default_space(selection.resample or dataset.freq, len(dataset.frame), split=selection.split,
                          horizon=base.data.horizon)
window_cap = suggested.window[1] if suggested.window else 2

st.subheader("What to search")
searched = remembered(st.multiselect, "Settings to search", "tune_params", list(suggested.searched),
                      options=list(PARAM_LABELS), format_func=PARAM_LABELS.get,
                      help="Settings not searched keep the Train page's values.")
cols = st.columns(2)
ranges: dict = {}
slots = iter([cols[i % 2] for i in range(len(PARAM_LABELS))])
for name in searched:
    slot = next(slots)
    if name == "layers":
        ranges[name] = remembered(slot.slider, "Layers", "tune_layers", (1, 2), min_value=1, max_value=MAX_LAYERS)
    elif name == "units":
        ranges[name] = remembered(slot.select_slider, "Units per layer", "tune_units", (16, 128),
                                  options=[u for u in UNIT_STEPS if MIN_UNITS <= u <= MAX_UNITS],
                                  help="Sampled on a log scale: 16–32 is as likely as 64–128.")
    elif name == "dropout":
        ranges[name] = remembered(slot.slider, "Dropout", "tune_dropout", (0.0, 0.4), min_value=0.0, max_value=0.8,
                                  step=0.05)
    elif name == "window":
        low, high = suggested.window or (2, 2)
        ranges[name] = remembered(slot.slider, "Window", "tune_window", (low, high), min_value=2,
                                  max_value=max(3, min(MAX_WINDOW, window_cap)),
                                  help="Past steps read per forecast; capped so every part keeps enough windows.")
    elif name == "lr":
        ranges[name] = remembered(slot.select_slider, "Learning rate", "tune_lr", (1e-4, 1e-2), options=LR_STEPS,
                                  format_func=lambda v: f"{v:.0e}", help="Sampled on a log scale.")
    elif name == "batch_size":
        ranges[name] = tuple(sorted(remembered(slot.multiselect, "Batch sizes", "tune_batch", [16, 32, 64],
                                               options=BATCH_CHOICES)))
    elif name == "cell":
        ranges[name] = tuple(remembered(slot.multiselect, "Cells", "tune_cells", ["lstm"], options=list(CELLS)))

st.subheader("Budget")
cols = st.columns(4)
trials = remembered(cols[0].number_input, "Trials", "tune_trials", 20, min_value=2, max_value=500, step=1,
                    help="How many settings to try. 20–50 finds good settings for a few parameters.")
minutes = remembered(cols[1].number_input, "Time budget (minutes)", "tune_minutes", 10.0, min_value=0.0,
                     max_value=24 * 60.0, step=1.0,
                     help="No new trial starts after this; the running one finishes. 0 = no limit.")
epochs = remembered(cols[2].number_input, "Epochs per trial", "tune_epochs", 20, min_value=2, max_value=500,
                    help="Each trial trains at most this long; fewer epochs make a quicker, rougher search.")
patience = remembered(cols[3].number_input, "Patience per trial", "tune_patience", 5, min_value=0, max_value=100,
                      help="Early stopping inside each trial; 0 never stops early.")
on_cluster = widgets.cluster()
workers = 1
if on_cluster:
    from forecaster.remote_tune import MAX_WORKERS

    workers = remembered(st.number_input, "Workers on the cluster", "tune_workers", 2, min_value=1,
                         max_value=MAX_WORKERS, step=1,
                         help="Optuna workers run as tasks on the cluster, side by side, all sharing this search: "
                              "the trials are counted over all of them. More workers than the cluster has threads "
                              "only queue.")

space = None
try:
    if not searched:
        raise ConfigError("Pick at least one setting to search.")
    if any(name in ("batch_size", "cell") and not ranges[name] for name in searched):
        raise ConfigError("Pick at least one batch size and one cell, or stop searching them.")
    space = SearchSpace(**{name: tuple(ranges[name]) for name in searched})
    base = base.replace(train={"epochs": int(epochs), "patience": int(patience)})
except ConfigError as error:
    st.error(str(error))

job = st.session_state.get("tune_job")
busy = state.busy_jobs(job)
if st.button("Start search", type="primary", disabled=space is None or bool(busy),
             help="Runs in the background; you can use other pages meanwhile."):
    from forecaster.ui.tune_job import TuneJob

    st.session_state["tune_job"] = TuneJob(base=base, dataset=dataset, space=space, trials=int(trials),
                                           timeout=float(minutes) * 60 or None, seed=int(base.train.seed),
                                           alive=widgets.session_watch(), owner=state.owner(), cluster=on_cluster,
                                           workers=int(workers)).start()
    st.session_state["tune_selection"] = selection
    st.rerun()
if busy and (job is None or not job.running):
    st.caption("A training run is in progress in this session; the search can start when it ends.")


def _trials_view(job) -> None:
    from forecaster.plots import tuning_figure

    table = job.table()
    if len(table):
        st.dataframe(table.rename(columns=PARAM_LABELS).style.format(
            {"Validation loss": "{:.5f}", "Learning rate": "{:.1e}", "Dropout": "{:.2f}", "Seconds": "{:.1f}"},
            na_rep="—"), width="stretch", height=min(400, 38 + 35 * len(table)))
        st.plotly_chart(tuning_figure(table), width="stretch", key=f"tune-chart-{id(job)}-{len(table)}")
        st.caption("A pruned trial's loss is the last one it reached before it was stopped.")


@st.fragment(run_every=1.0)
def _live() -> None:
    """Trials so far, the running trial's time and a Stop button, redrawn every second."""
    import time

    job = st.session_state.get("tune_job")
    if job is None:
        return
    if not job.running:
        st.rerun()  # the whole page: the result and the buttons above
    done = len(job.summaries)
    report = job.trial_epoch
    epoch = (f"epoch {report.epoch} of {report.max_epochs}, validation loss {report.val_loss:.4g} · "
             if report is not None else "")
    st.progress(min(1.0, done / job.trials),
                text=f"Trial {done + 1} of {job.trials} running for {time.time() - job.trial_started:.0f}s · "
                     f"{epoch}{job.elapsed:.0f}s elapsed")
    if job.stop_event.is_set():
        st.info("Stopping after the current epoch…")
    elif st.button("Stop search", key=f"stop-tune-{id(job)}"):
        job.stop()
    _trials_view(job)


job = st.session_state.get("tune_job")
if job is not None and job.running:
    _live()
elif job is not None:
    if job.status == "failed":
        st.error(job.error)
    elif job.result is not None:
        result = job.result
        if job.status == "stopped":
            st.warning(f"The search was stopped after {len(job.summaries)} trials; the best so far is shown.")
        _trials_view(job)
        where = state.store_location(result.storage)
        st.caption(f"{result.n_complete} complete, {result.n_pruned} pruned, {result.n_failed} failed · study "
                   f"{result.study_name!r}" + (f" in {where}" if where else ""))
        if result.best_config is None:
            st.warning("No trial completed, so there is no best setting; widen the ranges or allow more time.")
        else:
            best = {n: v for n, v in searchable_values(result.best_config).items() if n in job.space.searched}
            described = ", ".join(f"{PARAM_LABELS[n].lower()} {v:.1e}" if n == "lr" else
                                  f"{PARAM_LABELS[n].lower()} {v:.2f}" if n == "dropout" else
                                  f"{PARAM_LABELS[n].lower()} {v}" for n, v in best.items())
            gain = None if result.default_value is None else 1 - result.best_value / result.default_value
            if result.best_trial == 0 or (gain is not None and gain < 0.0005):
                # Trial 0 is the starting settings: a search that ends there found nothing, and must not read as a win.
                unsearched = [PARAM_LABELS[n].lower() for n in PARAM_LABELS if n not in job.space.searched]
                st.info(f"The search found nothing better than the starting settings (validation loss "
                        f"{result.default_value if result.default_value is not None else result.best_value:.5f}) in "
                        f"{len(job.summaries)} trials, so keep them. To look further, widen the ranges"
                        + (f", search more settings ({', '.join(unsearched)})" if unsearched else "")
                        + ", or allow more trials, epochs per trial or time.")
                st.stop()
            tail = "" if gain is None else (f", {gain:.1%} below the starting settings' "
                                            f"{result.default_value:.5f}")
            st.success(f"Best validation loss {result.best_value:.5f} (trial {result.best_trial}){tail}: {described}")
            trained_on = st.session_state.get("tune_selection")
            same_data = trained_on is not None and trained_on.identity == selection.identity
            if st.button("Train with these settings", type="primary", disabled=not same_data,
                         help="Puts the best values on the Train page (other settings stay) and opens it."):
                state.start_train_settings(selection)  # else the Train page would reset them for new data
                for name, value in best.items():
                    state.remember(name, value)
                st.switch_page("pages/train.py")
            if not same_data:
                st.caption("The data changed since this search; search again to train on the new data.")
