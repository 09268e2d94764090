"""Home of the forecasting studio: what it is, a one-click quick start, and the page navigation."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# A bundled image: a Material icon here would be fetched from the internet on every page change.
st.set_page_config(page_title="LSTM Forecasting Studio", page_icon=str(Path(__file__).parent / "forecaster" / "ui" / "icon.png"), layout="wide")


def home() -> None:
    from forecaster.config import default_config
    from forecaster.plots import predictions_figure
    from forecaster.ui import state, widgets

    st.title("LSTM Forecasting Studio")
    st.markdown(
        "Train an LSTM on a stock or weather series — a built-in sample, a live ticker or your own CSV — "
        "and watch it learn in your browser. Every forecast is judged on data it never saw, "
        "**next to simple baselines**, so a bad model can never pass for a good one.")

    st.subheader("Quick start")
    st.write("One click trains a small LSTM on Seattle's daily maximum temperature (2012–2015) and "
             "compares it with the naive forecast (tomorrow = today) and four other baselines.")
    job, busy = state.current_job(), state.busy_jobs()
    if busy and not (job is not None and job.running):  # a comparison of cells, not this page's own run
        st.caption("A training run is in progress in this session; the quick start can begin when it ends.")
    if st.button("Train a quick model", type="primary", disabled=bool(busy)):
        dataset = state.cached_sample(state.DEFAULT_SAMPLE)
        selection = state.Selection(dataset=dataset, target=dataset.target, features=tuple(dataset.features))
        state.set_selection(selection)
        config = default_config(dataset.freq, len(dataset.frame), dataset.target, selection.features).replace(
            model={"layers": 1, "units": 32}, train={"epochs": 40, "patience": 6, "batch_size": 64})
        if widgets.start_job(config, selection, label="quick start"):
            st.rerun()

    job = state.current_job()
    if job is not None and job.running:
        widgets.live_training(show_chart=False)
        return
    widgets.job_outcome()
    model, evaluation, trained_on = state.current_model()
    if evaluation is not None:
        widgets.verdict(evaluation)
        frame = evaluation.predictions_frame()
        st.plotly_chart(predictions_figure(frame, evaluation.labels, ["lstm", "naive"], evaluation.unit),
                        width="stretch")
        widgets.metrics_table(evaluation)
        st.caption("See the Results page for residuals, loss curves and downloads.")

    st.subheader("Pages")
    left, right = st.columns(2)
    left.page_link("pages/data.py", label="**Data**: pick a sample, a ticker or your CSV", icon=":material/dataset:")
    left.page_link("pages/train.py", label="**Train**: tune the LSTM and watch it learn", icon=":material/model_training:")
    left.page_link("pages/tune.py", label="**Tune**: let a search find the settings", icon=":material/tune:")
    right.page_link("pages/results.py", label="**Results**: judge it against the baselines", icon=":material/analytics:")
    right.page_link("pages/inside.py", label="**Inside the LSTM**: its gates and memory on any test window",
                    icon=":material/neurology:")
    right.page_link("pages/forecast.py", label="**Forecast**: the future; save and load models",
                    icon=":material/timeline:")
    right.page_link("pages/experiments.py", label="**Experiments**: every run kept; compare and reload them",
                    icon=":material/history:")


# Streamlit writes "Press Enter to apply" inside a changed input box; in the narrow columns of the Train page it
# covers the number being typed. An input also applies when it loses focus, so the hint is not needed.
STATIC_CSS = "<style>[data-testid='InputInstructions'] { display: none; }</style>"  # a constant: no user input
st.html(STATIC_CSS)

# Before any page: whose workspace this session works in (a sign-in screen, and a stop, until it is known).
from forecaster.ui.auth import gate  # noqa: E402 - after set_page_config, as Streamlit requires

only_page = gate()
if only_page is not None:  # signed out (or sign-in not configured): that screen is the whole app
    st.navigation([only_page], position="hidden").run()
    st.stop()

from forecaster.ui.widgets import cluster_note  # noqa: E402

cluster_note()
navigation = st.navigation([
    st.Page(home, title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/dataset:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/tune.py", title="Tune", icon=":material/tune:"),
    st.Page("pages/results.py", title="Results", icon=":material/analytics:"),
    st.Page("pages/inside.py", title="Inside the LSTM", icon=":material/neurology:"),
    st.Page("pages/forecast.py", title="Forecast", icon=":material/timeline:"),
    st.Page("pages/experiments.py", title="Experiments", icon=":material/history:"),
])
try:
    navigation.run()
finally:  # after the page is drawn (or stopped), so the imports do not slow its first paint
    from forecaster.ui.jobs import warm_up_in_background  # no torch here: it imports it in its own thread

    warm_up_in_background()
