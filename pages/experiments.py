"""Experiments page: every recorded run in a table; compare chosen runs, load one back, delete, export."""

from __future__ import annotations

import streamlit as st

from forecaster.compare import compare_metrics, compare_settings, overlay_frame, reopen_run, run_name
from forecaster.errors import ForecasterError
from forecaster.metrics import finite_or_none
from forecaster.runs import RunStore
from forecaster.ui import state

st.title("Experiments")
store = RunStore(owner=state.owner())

st.write("Every training run is kept here with its data, settings, loss curves, test metrics and model, "
         "and survives restarts. Tick runs in the table to compare them; sort by clicking a column heading.")

try:  # one read per rerun: the table (oldest first, so a run added meanwhile joins at the bottom)
    every_run = store.table().sort_index()
except ForecasterError as error:
    st.error(str(error))
    st.stop()
datasets = sorted(every_run["Dataset"].unique())
if not datasets:
    st.info("No runs yet. Train a model on the Train page (or with the quick start on Home) and it appears here.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()

left, right = st.columns([3, 1])
chosen = left.multiselect("Datasets", datasets, default=datasets, key="experiments_datasets",
                          help="Show only runs trained on these datasets.")
table = every_run[every_run["Dataset"].isin(chosen)]
# Ticks are row positions: if rows other than new ones at the bottom changed (a filter, a deletion
# elsewhere), the old positions would point at other runs, so the ticks are cleared instead.
# The browser keeps a table's ticks, so they are cleared by drawing a new table (a new key).
shown, before = [int(i) for i in table.index], st.session_state.get("_runs_shown")
if before is not None and shown[: len(before)] != before:
    st.session_state["_runs_table_gen"] = st.session_state.get("_runs_table_gen", 0) + 1
st.session_state["_runs_shown"] = shown
right.download_button("Export table as CSV", table.to_csv().encode(), file_name="runs.csv", mime="text/csv",
                      help="The table as shown, one row per run.")

picked = st.dataframe(
    table.reset_index(), width="stretch", hide_index=True, on_select="rerun", selection_mode="multi-row",
    key=f"runs_table_{st.session_state.get('_runs_table_gen', 0)}", column_config={
        "ID": st.column_config.NumberColumn(width="small", help="The run's id, as in 'python -m forecaster runs'."),
        "Skill vs naive": st.column_config.NumberColumn(format="percent", help="1 − LSTM MAE / naive MAE; above 0 beats naive."),
        "Best baseline": st.column_config.TextColumn(help="The baseline with the lowest test MAE on the run's test part."),
        "Skill vs best": st.column_config.NumberColumn(
            format="percent", help="1 − LSTM MAE / the best baseline's MAE; above 0 beats every baseline."),
        "MAE": st.column_config.NumberColumn(format="%.4g", help="The LSTM's test MAE, in the series' units."),
        "Naive MAE": st.column_config.NumberColumn(format="%.4g", help="The naive forecast's test MAE on the same points."),
        "RMSE": st.column_config.NumberColumn(format="%.4g"),
        "LR": st.column_config.NumberColumn(format="%.0e"),
        "Train s": st.column_config.NumberColumn(format="%.1f"),
    })
ids = [int(table.index[i]) for i in picked.selection.rows if i < len(table)]
where = state.store_location(store.path or store.location)  # a file's path; a database's URL, password masked
st.caption(f"{len(table)} of {len(every_run)} runs shown" + (f" · store: {where}" if where else ""))
if not ids:
    st.info("Tick one run to load or delete it, two or more to compare them.")
    st.stop()

try:
    runs = [store.get(run_id) for run_id in ids]
except ForecasterError as error:  # deleted by another session meanwhile
    st.error(str(error))
    st.stop()

# ---------------------------------------------------------------- compare
if len(runs) > 1:
    st.subheader("Side by side")
    from forecaster.plots import runs_overlay_figure

    frame, others = overlay_frame(runs)
    st.plotly_chart(runs_overlay_figure(frame, runs[0].unit), width="stretch")
    if others:
        st.caption(f"Not on the chart: {', '.join(run_name(r) for r in others)} (trained on other data than "
                   f"{run_name(runs[0])}).")
    metrics = compare_metrics(runs)
    def shown(value, percent: bool) -> str:
        if finite_or_none(value) is None:
            return "—"
        return f"{value:+.1%}" if percent else f"{value:,.4g}"

    skill_rows = ("Skill vs naive", "Skill vs best")
    st.dataframe(metrics.apply(lambda row: row.map(lambda v: shown(v, row.name in skill_rows)), axis=1),
                 width="stretch")
    st.caption("Test part, in each series' units. Runs with another window or split are scored on their own test "
               "points; the naive and best-baseline columns show what the plainest and the best simple forecast "
               "reached on the same data.")
    st.dataframe(compare_settings(runs), width="stretch")
    with st.expander("Loss curves"):
        from forecaster.plots import runs_loss_figure

        st.plotly_chart(runs_loss_figure({run_name(r): (r.history.get("train_loss", []), r.history.get("val_loss", []))
                                          for r in runs}), width="stretch")
        st.caption("In each run's scaled units: comparable between runs with the same data, scaler, target transform "
                   "and loss.")

# ---------------------------------------------------------------- load and delete
st.subheader("Use or remove")
cols = st.columns(2)
if len(runs) == 1:
    run = runs[0]
    if cols[0].button(f"Load run {run.id}'s model", type="primary",
                      help="Make it the session's model: see it on Results, forecast with it on Forecast."):
        try:
            reopened = reopen_run(store, run, candidates=(state.selection().dataset,))
        except ForecasterError as error:
            st.error(str(error))
        else:
            model, dataset = reopened.model, reopened.dataset
            if dataset is None:
                state.set_model(model, None, None)
                st.warning(f"Loaded run {run.id}'s model. {reopened.reason} Results can still evaluate it on the "
                           "current data.")
            else:
                data = model.config.data
                selection = state.Selection(dataset=dataset, target=run.target, features=run.features,
                                            missing=data.missing, outliers=data.outliers, resample=data.resample,
                                            split=data.split)
                state.set_selection(selection)
                state.set_model(model, reopened.evaluation, selection)
                st.success(f"Loaded run {run.id}'s model and its data ({dataset.name}).")
            st.page_link("pages/forecast.py", label="Forecast with it", icon=":material/timeline:")
            st.page_link("pages/results.py", label="See its results", icon=":material/analytics:")
    try:  # built once per ticked run, not on every rerun
        archive = state.per_model("run_archive", (), lambda: store.model_archive(run.id), key=(store.url, store.owner, run.id))
    except ForecasterError as error:
        cols[0].caption(str(error))
    else:
        cols[0].download_button(f"Download run {run.id}'s model", archive, file_name=f"run-{run.id}-model.zip",
                                mime="application/zip",
                                help="One file, the same as Forecast's 'Download model'; load it there again.")
else:
    cols[0].caption("Tick a single run to load its model.")

with cols[1].popover(f"Delete {len(runs)} run{'s' if len(runs) > 1 else ''}", icon=":material/delete:"):
    st.write(f"Delete {', '.join(f'run {r.id}' for r in runs)} and {'their' if len(runs) > 1 else 'its'} saved "
             "model for good? A model loaded in this session stays usable until you leave.")
    if st.button("Delete for good", type="primary", key="confirm_delete"):
        for run in runs:
            try:
                store.delete(run.id)
            except ForecasterError as error:  # already deleted elsewhere: nothing left to do for it
                st.warning(str(error))
        st.session_state["_runs_table_gen"] = st.session_state.get("_runs_table_gen", 0) + 1
        st.rerun()
