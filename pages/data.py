"""Data page: choose a built-in sample, a ticker or a CSV; clean it; see it with its split shaded."""

from __future__ import annotations

from datetime import date

import streamlit as st

from forecaster.cleaning import calendar_gaps
from forecaster.config import DataConfig
from forecaster.csv_reader import read_csv
from forecaster.datasets import list_samples
from forecaster.errors import ConfigError, DataError, ForecasterError
from forecaster.plots import series_figure
from forecaster.preview import preview
from forecaster.tickers import INTERVALS, PRICE_FIELDS, load_ticker
from forecaster.ui import state, widgets
from forecaster.ui.state import remembered

SOURCES = ("Built-in sample", "Ticker", "Upload CSV")
DELIMITERS = {"Auto": None, "Comma ,": ",", "Semicolon ;": ";", "Tab": "\t", "Pipe |": "|"}
DECIMALS = {"Auto": None, "Point .": ".", "Comma ,": ","}
MISSING = {"interpolate": "Interpolate over time", "ffill": "Carry the last value forward", "drop": "Drop incomplete rows"}
OUTLIERS = {"none": "Keep as they are", "iqr": "Clip beyond 3 IQR", "zscore": "Clip beyond 4 standard deviations"}
RESAMPLE = {"keep": "Keep the original frequency", "h": "Hourly means", "D": "Daily means", "W": "Weekly means",
            "MS": "Monthly means"}


@st.cache_data(show_spinner="Reading the CSV…", max_entries=8)
def cached_csv(payload: bytes, name: str, delimiter: str | None, decimal: str | None, date_column: str | None,
               target: str | None, features: tuple[str, ...] | None):
    return read_csv(payload, name=name, delimiter=delimiter, decimal=decimal, date_column=date_column,
                    target=target, features=features)


def sync_widgets_to_selection() -> None:
    """Point the source widgets at the session's data whenever it changed elsewhere (e.g. the quick start).

    Without this, stale widget values would switch the data back just by opening this page.
    """
    source = state.selection().dataset.source
    if st.session_state.get("data_page_shows") == source:
        return
    st.session_state["data_page_shows"] = source
    if source.startswith("sample:"):
        info = {s.name: s for s in list_samples()}.get(source.removeprefix("sample:"))
        if info is not None:
            state.remember("data_source", SOURCES[0])
            state.remember("sample_group", info.group)
            state.remember(f"sample_{info.group}", info.name)
    elif source.startswith("ticker:"):
        state.remember("data_source", SOURCES[1])
    elif source.startswith("upload:"):
        state.remember("data_source", SOURCES[2])


def use_dataset(dataset) -> None:
    """Make a newly loaded dataset the session's data, with its own default target and features."""
    current = state.selection()
    state.set_selection(current.with_(dataset=dataset, target=dataset.target, features=tuple(dataset.features)))
    st.session_state["data_page_shows"] = dataset.source


def choose_sample() -> None:
    samples = list_samples()
    group = remembered(st.radio, "Group", "sample_group", "Weather", options=["Weather", "Stocks"], horizontal=True)
    in_group = {s.name: s for s in samples if s.group == group}
    name = remembered(st.selectbox, "Sample", f"sample_{group}", next(iter(in_group)), options=list(in_group),
                      format_func=lambda n: f"{in_group[n].title}  ({n})")
    if state.selection().dataset.source != f"sample:{name}":
        use_dataset(state.cached_sample(name))


def choose_ticker() -> None:
    with st.form("ticker"):
        left, middle, right = st.columns(3)
        symbol = left.text_input("Symbol", value="AAPL", help="A Yahoo Finance symbol, e.g. AAPL, MSFT, ^GSPC, EURUSD=X.")
        start = middle.date_input("From", value=date(2018, 1, 1), max_value=date.today())
        end = right.date_input("To", value=date.today(), max_value=date.today())
        interval = left.selectbox("Interval", INTERVALS, index=INTERVALS.index("1d"),
                                  help="Bar size. Yahoo keeps intraday bars only for recent weeks.")
        field = middle.selectbox("Price field", PRICE_FIELDS, index=PRICE_FIELDS.index("Close"))
        submitted = st.form_submit_button("Download", type="primary")
    if submitted:
        try:
            with st.spinner(f"Downloading {symbol}…"):
                dataset = load_ticker(symbol.strip(), start=str(start), end=str(end), interval=interval,
                                      price_field=field)
        except DataError as error:
            st.error(str(error))
            return
        use_dataset(dataset)


def kept_uploads() -> None:
    """In per-user mode uploads are kept in the person's workspace: save a new one, offer the earlier ones."""
    from forecaster.runs import RunStore
    from forecaster.workspace import workspace_mode

    if workspace_mode() != "per-user":
        return  # single user: uploads live in the browser session, as they always did
    try:
        store = RunStore(owner=state.owner())
        current = st.session_state.get("upload")
        if current is not None and st.session_state.get("upload_kept") != (current[0], len(current[1])):
            store.save_upload(*current)
            st.session_state["upload_kept"] = (current[0], len(current[1]))
        kept = store.uploads()
    except ForecasterError as error:
        st.warning(f"Your uploads could not be kept in your workspace: {error}")
        return
    if not kept:
        return
    names = [upload.name for upload in kept]
    current_name = st.session_state.get("upload", ("",))[0]
    chosen = st.selectbox("Or open one of your earlier uploads", names, index=names.index(current_name)
                          if current_name in names else None, placeholder="Choose a file kept in your workspace",
                          help="Files you uploaded before are kept in your workspace; only you can see them.")
    if chosen and chosen != current_name:
        try:
            st.session_state["upload"] = (chosen, store.upload(chosen))
        except ForecasterError as error:
            st.error(str(error))
            return
        st.session_state["upload_kept"] = (chosen, len(st.session_state["upload"][1]))
        st.rerun()


def choose_csv() -> None:
    upload = st.file_uploader("CSV file", type=["csv", "txt", "tsv"],
                              help="Any delimiter (, ; tab |), decimal commas, UTF-8 or Latin-1. A date column is needed.")
    if upload is not None and st.session_state.get("uploader_file") != upload.file_id:
        # Kept in the session: Streamlit forgets the uploader's file when the user leaves the page. Taken once
        # per file, so an earlier upload opened from the workspace is not replaced by the one still shown here.
        st.session_state["uploader_file"] = upload.file_id
        st.session_state["upload"] = (upload.name, upload.getvalue())
    kept_uploads()
    stored = st.session_state.get("upload")
    if stored is None:
        st.caption("Upload a file with a date column and at least one numeric column.")
        return
    name, payload = stored
    size = f"{len(payload):,} bytes" if len(payload) < 10_240 else f"{len(payload) / 1024:,.0f} KB"
    st.caption(f"File: **{name}** ({size})")
    cols = st.columns(3)
    delimiter = DELIMITERS[remembered(cols[0].selectbox, "Delimiter", "csv_delimiter", "Auto", options=list(DELIMITERS))]
    decimal = DECIMALS[remembered(cols[1].selectbox, "Decimal mark", "csv_decimal", "Auto", options=list(DECIMALS))]
    try:
        detected = cached_csv(payload, name, delimiter, decimal, None, None, None)
    except DataError as error:
        st.error(f"{error} The data in use is unchanged.")
        return
    columns = [detected.detected.get("date_column")] + [c for c in detected.detected.get("dropped_columns", [])]
    date_options = ["Auto"] + [c for c in columns if c]
    date_choice = remembered(cols[2].selectbox, "Date column", f"csv_date::{name}", "Auto", options=date_options)
    try:
        dataset = cached_csv(payload, name, delimiter, decimal, None if date_choice == "Auto" else date_choice, None, None)
    except DataError as error:
        st.error(str(error))
        return
    info = dataset.detected
    delimiter_name = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(info.get("delimiter"), info.get("delimiter"))
    st.success(f"Detected: {delimiter_name} delimiter, decimal '{info.get('decimal')}', encoding {info.get('encoding')}, "
               f"date column '{info.get('date_column')}', {len(info.get('numeric_columns', []))} numeric columns, "
               f"{info.get('rows', len(dataset.frame)):,} rows.")
    preview = dataset.frame.head(20)
    if (preview.index == preview.index.normalize()).all():  # dates without times read better as dates
        preview = preview.set_axis(preview.index.strftime("%Y-%m-%d"))
    st.dataframe(preview, width="stretch")
    # Applied when the file or a reading option changes, not merely because this page was opened.
    applied = (name, len(payload), delimiter, decimal, date_choice)
    if st.session_state.get("csv_applied") != applied:
        st.session_state["csv_applied"] = applied
        use_dataset(dataset)


st.title("Data")
st.write("Pick the series to forecast. Your choice stays selected while you move between pages.")
sync_widgets_to_selection()
source = remembered(st.radio, "Source", "data_source", SOURCES[0], options=SOURCES, horizontal=True)
if source == SOURCES[0]:
    choose_sample()
elif source == SOURCES[1]:
    choose_ticker()
else:
    choose_csv()

selection = state.selection()
dataset = selection.dataset
st.divider()
st.subheader(f"Using: {dataset.name}")
if dataset.description:
    st.caption(dataset.description)
widgets.notes(dataset)

numeric = list(dataset.frame.columns)
left, right = st.columns(2)
target = remembered(left.selectbox, "Target (the column to forecast)", f"target::{dataset.source}", selection.target,
                    options=numeric)
features = remembered(right.multiselect, "Extra input features", f"features::{dataset.source}",
                      [f for f in selection.features if f != target], options=[c for c in numeric if c != target],
                      help="Other columns the LSTM reads alongside the target. Beyond the data they are held at their last value.")

with st.expander("Cleaning and split", expanded=True):
    cols = st.columns(3)
    missing = remembered(cols[0].selectbox, "Missing values", "missing", selection.missing, options=list(MISSING),
                         format_func=MISSING.get)
    outliers = remembered(cols[1].selectbox, "Outliers", "outliers", selection.outliers, options=list(OUTLIERS),
                          format_func=OUTLIERS.get, help="Bounds come from the training part only.")
    resample = remembered(cols[2].selectbox, "Resample", "resample", selection.resample or "keep",
                          options=list(RESAMPLE), format_func=RESAMPLE.get,
                          help="Average onto a coarser calendar first, e.g. hourly data to daily means.")
    resample = None if resample == "keep" else resample
    cols = st.columns(2)
    train_pct = remembered(cols[0].slider, "Training part (%)", "train_pct", int(selection.split[0] * 100),
                           min_value=40, max_value=90, step=5)
    val_pct = remembered(cols[1].slider, "Validation part (%)", "val_pct", int(round(selection.split[1] * 100)),
                         min_value=5, max_value=30, step=5,
                         help="Used for early stopping. The test part, never seen in training, is what is left.")
    test_pct = 100 - train_pct - val_pct
    st.caption(f"Test part: {test_pct}% (the most recent data; never used for training or early stopping).")

if test_pct < 5:
    st.error("The training and validation parts leave less than 5% for testing; make one of them smaller.")
    st.stop()
split = (train_pct / 100, val_pct / 100, test_pct / 100)
selection = selection.with_(target=target, features=tuple(features), missing=missing, outliers=outliers,
                            resample=resample, split=split)
state.set_selection(selection)

config = DataConfig(target=target, features=tuple(features), missing=missing, outliers=outliers, resample=resample,
                    split=split)
try:
    view = preview(dataset.frame, config, target)  # cleaned, split and clipped as training will see it
except (DataError, ConfigError) as error:
    st.error(str(error))
    st.stop()

raw = dataset.frame[[target, *features]]
gaps = calendar_gaps(raw, config)
widgets.data_summary(dataset, raw, gaps)
if len(gaps):
    # Said in words too, not only in the metric's help: these rows are invented (or knowingly left out).
    (st.warning if missing == "drop" else st.info)(gaps.note())
rows = len(view.frame)
if view.too_short is not None:
    # Nothing to shade: at least one part would hold no window. The data itself stays selected.
    st.error(view.too_short)
    st.plotly_chart(series_figure(view.frame, target, dataset.unit, (), features), width="stretch")
    st.caption(f"After cleaning: {rows:,} rows.")
    st.stop()
st.plotly_chart(series_figure(view.frame, target, dataset.unit, view.parts, features), width="stretch")
train_rows, val_rows, test_rows = view.sizes
clipped = (f" · {view.clipped:,} value{'s' if view.clipped != 1 else ''} clipped to the training part's bounds"
           if outliers != "none" else "")
st.caption(f"After cleaning: {rows:,} rows · train {train_rows:,} · validation {val_rows:,} · test {test_rows:,}"
           f"{clipped}.")
st.page_link("pages/train.py", label="Next: train a model on this data", icon=":material/arrow_forward:")
