"""Shared page pieces: error display, metric tables with the verdict, data summaries."""

from __future__ import annotations

import logging
import math
import time
from typing import Callable

import pandas as pd
import streamlit as st

from forecaster.evaluation import BEATS_ALL, BEATS_NAIVE, LOSES, LSTM, UNMEASURED, in_sentence
from forecaster.metrics import METRIC_LABELS

# The library logs through "forecaster.*"; in the served app those lines go to the server's output.
_log = logging.getLogger("forecaster")
if not _log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _log.addHandler(_handler)
    _log.setLevel(logging.INFO)

HELP = {
    "MAE": "Mean absolute error, in the series' units: the typical size of a miss.",
    "RMSE": "Root mean squared error: like MAE but punishes big misses more.",
    "MAPE %": "Mean absolute percentage error; skips points where the actual value is 0.",
    "sMAPE %": "Symmetric percentage error (0–200), defined even near zero.",
    "R²": "Share of the test variance explained; 1 is perfect, below 0 is worse than the mean.",
    "MASE": "MAE divided by the naive forecast's in-sample MAE; below 1 beats naive.",
    "Direction %": "How often the forecast moves in the same direction as what happened.",
}


# The LSTM row's colour says where it stands: green beats every baseline, amber only naive, red not even naive.
STANDING_COLOURS = {BEATS_ALL: "#e3f4e1", BEATS_NAIVE: "#fdf1d8", LOSES: "#fbe3e1", UNMEASURED: ""}
STANDING_WORDS = {BEATS_ALL: "green: it beats every baseline",
                  BEATS_NAIVE: "amber: it beats naive but not the best baseline",
                  LOSES: "red: it does not beat naive", UNMEASURED: "uncoloured: no skill can be measured"}


def metrics_table(evaluation) -> None:
    """The metrics of every model: the LSTM row coloured by where it stands, the best baseline's row in bold."""
    from forecaster.judge import metrics_rows

    rows = metrics_rows(evaluation)  # the same table the CLI prints
    frame, lstm_label, best_label = rows.values, rows.model, rows.best
    colour = STANDING_COLOURS[rows.standing]

    def highlight(row: pd.Series) -> list[str]:
        if row.name == lstm_label and colour:
            return [f"background-color: {colour}"] * len(row)
        return ["font-weight: bold" if row.name == best_label else "" for _ in row]

    # Shown as text so that undefined values read "—" (e.g. the direction of a forecast that never moves).
    styled = rows.text().style.apply(highlight, axis=1).set_properties(**{"text-align": "right"})
    st.dataframe(styled, width="stretch",
                 column_config={label: st.column_config.Column(label, help=HELP.get(label)) for label in frame.columns})
    st.caption(f"In bold: the best baseline, {in_sentence(best_label)} (lowest test MAE), the forecast to beat. "
               f"The {lstm_label} row is {STANDING_WORDS[rows.standing]}.")


def _skill_text(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:+.1%}"


def verdict(evaluation) -> None:
    """Skill against the best baseline and against naive as coloured metrics, and the plain-language verdict."""
    from forecaster.judge import verdict as judged

    said = judged(evaluation)  # the same verdict the CLI prints
    model = evaluation.labels[LSTM]
    best_label = in_sentence(said.best_label)
    vs_best, vs_naive = said.skill_vs_best, said.skill_vs_naive
    left, middle, right = st.columns([1, 1, 3])
    left.metric("Skill vs best baseline", _skill_text(vs_best),
                delta=f"{'beats' if vs_best > 0 else 'loses to'} {best_label}",
                delta_color="normal" if vs_best > 0 else "inverse",
                help=f"1 − MAE of the {model} / MAE of the best baseline, {best_label} (the lowest test MAE of "
                     "all baselines). Above 0 means it beats every baseline.")
    middle.metric("Skill vs naive", _skill_text(vs_naive),
                  delta="beats naive" if vs_naive > 0 else "loses to naive",
                  delta_color="normal" if vs_naive > 0 else "inverse",
                  help=f"1 − MAE of the {model} / MAE of the naive forecast. Above 0 means it is better.")
    (right.success if said.standing == BEATS_ALL else right.warning)(said.sentence)
    for note in evaluation.notes:
        st.caption(note)


def data_summary(dataset, frame: pd.DataFrame | None = None, gaps=None) -> None:
    """Rows, time span, frequency and missing values of a dataset, counting dates absent from its calendar.

    `gaps` is a prepare.CalendarGaps; each missing date counts as a missing value in every chosen column.
    """
    frame = dataset.frame if frame is None else frame
    absent = len(gaps) if gaps is not None else 0
    empty = int(frame.isna().sum().sum())
    cols = st.columns(5)
    cols[0].metric("Rows", f"{len(frame):,}")
    cols[1].metric("From", f"{frame.index[0]:%Y-%m-%d}" if len(frame) else "—")
    cols[2].metric("To", f"{frame.index[-1]:%Y-%m-%d}" if len(frame) else "—")
    cols[3].metric("Frequency", dataset.freq or "irregular")
    explained = "Missing values in the chosen columns before cleaning"
    if absent:
        explained += f" ({empty:,} empty cells, and the rows of dates absent from the calendar). {gaps.note()}"
    cols[4].metric("Missing values", f"{empty + absent * max(1, frame.shape[1]):,}",
                   help=explained if absent else explained + ".")


def notes(dataset) -> None:
    for note in getattr(dataset, "notes", ()):
        st.info(note)


def metric_label(metric_key: str) -> str:
    return METRIC_LABELS.get(metric_key, metric_key)


SESSION_GONE_GRACE_S = 5.0  # a dropped connection may come back (same session) within this; a closed tab does not


def session_watch(grace: float = SESSION_GONE_GRACE_S) -> Callable[[], bool] | None:
    """A thread-safe callable telling whether this browser session is still open; None outside a served app.

    Streamlit has no public "session ended" callback: the runtime is asked whether the session id is still
    active, and the session counts as gone once it has been inactive for `grace` seconds in a row.
    """
    try:
        from streamlit import runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None or not runtime.exists():
            return None
        instance, session_id = runtime.get_instance(), ctx.session_id
    except Exception:  # Streamlit internals moved: keep training, just without the watch
        return None
    inactive_since: list[float] = []

    def alive() -> bool:
        if instance.is_active_session(session_id):
            inactive_since.clear()
            return True
        if not inactive_since:
            inactive_since.append(time.monotonic())
        return time.monotonic() - inactive_since[0] < grace

    return alive


def start_job(config, selection, label: str = "") -> bool:
    """Start training in the background for this session (one run at a time); False if one is running."""
    from forecaster.ui.jobs import TrainingJob
    from forecaster.ui.state import busy_jobs, owner

    if busy_jobs():
        st.warning("A training run is already in progress in this session; stop it first or wait for it.")
        return False
    st.session_state["job_selection"] = selection
    st.session_state["job"] = TrainingJob(config=config, dataset=selection.dataset, label=label,
                                          alive=session_watch(), owner=owner(), cluster=cluster()).start()
    return True


def cluster() -> str | None:
    """The Dask scheduler this server hands heavy work to ($FORECASTER_CLUSTER), or None for its own threads."""
    from forecaster.cluster import cluster_address

    return cluster_address()


def cluster_note() -> None:
    """A line in the sidebar when heavy work goes to a cluster: where, so nobody wonders why the server is idle."""
    address = cluster()
    if address:
        st.sidebar.caption(f":material/hub: Training, backtests and searches run on the Dask cluster at `{address}`.")


def _where(job) -> str:
    """Where a job runs, for its progress line: nothing locally, its cluster worker once it started there."""
    if not getattr(job, "cluster", None):
        return ""
    return f" · on cluster worker {job.worker}" if getattr(job, "worker", None) else " · waiting for a cluster worker"


def _progress(job) -> None:
    report = job.latest
    max_epochs = job.config.train.epochs
    if report is None:
        st.progress(0.0, text=f"Preparing data and starting epoch 1 of {max_epochs}…{_where(job)}")
        return
    early = " (early stopping usually ends sooner)" if job.config.train.patience else ""
    st.progress(min(1.0, report.epoch / max_epochs),
                text=f"Epoch {report.epoch} of at most {max_epochs} · {report.elapsed:.0f}s elapsed · "
                     f"at most {report.seconds_left:.0f}s left{early} · "
                     f"best validation loss {report.best_val_loss:.4f} at epoch {report.best_epoch}{_where(job)}")


def _loss_chart(job) -> None:
    from forecaster.plots import loss_figure

    reports = list(job.reports)
    if reports:
        st.plotly_chart(loss_figure([r.train_loss for r in reports], [r.val_loss for r in reports],
                                    reports[-1].best_epoch), width="stretch", key=f"live-loss-{id(job)}")


@st.fragment(run_every=1.0)
def live_training(show_chart: bool = True) -> None:
    """Progress, loss curves and a Stop button, redrawn every second while the session's job runs."""
    from forecaster.ui.state import collect_finished_job, current_job

    job = current_job()
    if job is None:
        return
    if not job.running:
        collect_finished_job()
        st.rerun()  # the whole page, so results drawn outside this fragment appear
    _progress(job)
    if job.stop_event.is_set():
        st.info("Stopping after the current batch; the best weights so far will be kept…")
    elif st.button("Stop", key=f"stop-{id(job)}", help="End training now and keep the best weights so far."):
        job.stop()
        st.info("Stopping after the current batch; the best weights so far will be kept…")
    if show_chart:
        _loss_chart(job)


def job_outcome() -> None:
    """The last job's ending in one line: failed (why), stopped, or done."""
    from forecaster.ui.state import collect_finished_job, current_job

    job = current_job()
    if job is None or job.running:
        return
    collect_finished_job()
    if getattr(job, "record_error", None):
        st.warning(job.record_error)
    if job.status == "failed":
        st.error(job.error)
    elif job.status == "stopped" and getattr(job, "orphaned", False):
        st.warning("Training was stopped because this page lost its connection to the server for a while; "
                   "your earlier model and data are unchanged. Press Train to run it again.")
    elif job.status == "stopped":
        epochs = job.model.history_.epochs_run if job.model is not None else 0
        st.warning(f"Training was stopped after {epochs} epochs; the best weights so far were kept.")
