"""Per-session state: the chosen data, settings that survive page switches, the current model."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Callable

import streamlit as st

from forecaster.config import ForecasterConfig, default_config, option_names
from forecaster.datasets import Dataset, load_sample
from forecaster.errors import ConfigError

DEFAULT_SAMPLE = "seattle-weather"
_SAVED = "_saved_settings"


@dataclass(frozen=True)
class Selection:
    """The data a session works on and how it is cleaned and split before training."""

    dataset: Dataset
    target: str
    features: tuple[str, ...] = ()
    missing: str = "interpolate"
    outliers: str = "none"
    resample: str | None = None
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)

    @property
    def identity(self) -> str:
        """Changes when the series itself changes, so per-dataset defaults can be re-chosen."""
        return f"{self.dataset.source}|{self.target}|{','.join(self.features)}|{self.resample}|{len(self.dataset.frame)}"

    def same_data(self, other: "Selection | None") -> bool:
        """True when a model trained on `other` was trained on exactly this data, cleaned and split alike."""
        return other is not None and (self.identity, self.missing, self.outliers, self.split) == (
            other.identity, other.missing, other.outliers, other.split)

    def with_(self, **changes: Any) -> "Selection":
        return replace(self, **changes)


@st.cache_data(show_spinner=False)
def cached_sample(name: str) -> Dataset:
    """Built-in samples are parsed once per server, not once per rerun."""
    return load_sample(name)


def selection() -> Selection:
    """The session's data; a new session starts on the default weather sample."""
    if "selection" not in st.session_state:
        dataset = cached_sample(DEFAULT_SAMPLE)
        st.session_state["selection"] = Selection(dataset=dataset, target=dataset.target,
                                                  features=tuple(dataset.features))
    return st.session_state["selection"]


def set_selection(new: Selection) -> None:
    st.session_state["selection"] = new


# The options the Train page sets: every config option except those the Data page chooses (a Selection's
# fields) and the two the app leaves at their defaults (the device, and no learning-rate schedule).
_NOT_ON_TRAIN_PAGE = {f.name for f in fields(Selection)} | {"device", "lr_schedule"}
TRAIN_OPTIONS = {section: tuple(n for n in option_names(section) if n not in _NOT_ON_TRAIN_PAGE)
                 for section in ("data", "model", "train")}
TRAIN_SETTINGS = tuple(name for names in TRAIN_OPTIONS.values() for name in names)


def train_defaults(current: Selection) -> ForecasterConfig:
    """The settings suited to this data, as the Train page starts from them, with the Data page's choices."""
    dataset = current.dataset
    config = default_config(current.resample or dataset.freq, len(dataset.frame), current.target, current.features)
    return config.replace(data={"split": current.split, "missing": current.missing, "outliers": current.outliers,
                                "resample": current.resample})


def start_train_settings(current: Selection) -> None:
    """Forget the Train page's settings when they were chosen for other data, so its defaults apply to this data."""
    if st.session_state.get("train_defaults_for") != current.identity:
        forget(*TRAIN_SETTINGS)
        st.session_state["train_defaults_for"] = current.identity


def train_config(current: Selection | None = None) -> ForecasterConfig:
    """The Train page's settings for the session's data as one config: its remembered values over the defaults.

    Values the Train page remembers for other data, or that do not make a valid config yet (a half-edited
    page: it shows the problem itself), are not used; the defaults for this data stand instead.
    """
    current = current or selection()
    config = train_defaults(current)
    if st.session_state.get("train_defaults_for") != current.identity:
        return config
    saved = st.session_state.get(_SAVED, {})
    try:
        return config.replace(**{section: {n: saved[n] for n in names if n in saved}
                                 for section, names in TRAIN_OPTIONS.items()})
    except (ConfigError, TypeError):
        return config


def remembered(widget: Callable[..., Any], label: str, name: str, default: Any, **kwargs: Any) -> Any:
    """Draw a widget whose value survives moving to another page and back.

    Streamlit forgets the state of widgets that a page did not draw; the value is kept in
    a plain session dict and handed back to the widget when the page is drawn again.
    """
    saved = st.session_state.setdefault(_SAVED, {})
    key = f"_w_{name}"
    if isinstance(default, tuple):
        # A range slider learns it is a range from `value`, so the value is passed rather than preset;
        # it must stay the same while the widget lives, or Streamlit would see a new widget.
        initial = st.session_state.setdefault("_range_initial", {})
        if key not in st.session_state:
            initial[name] = tuple(saved.get(name, default))
        value = widget(label, key=key, value=initial.get(name, default), **kwargs)
        saved[name] = value
        return value
    if key not in st.session_state:
        value = saved.get(name, default)
        options = kwargs.get("options")
        if options is not None:
            options = list(options)
            if isinstance(value, (list, tuple)):
                value = [v for v in value if v in options]
            elif value not in options:
                value = default if default in options else options[0]
        st.session_state[key] = value
    value = widget(label, key=key, **kwargs)
    saved[name] = value
    return value


def remember(name: str, value: Any) -> None:
    """Set a remembered widget's value from code (before the widget is drawn in this run)."""
    st.session_state.setdefault(_SAVED, {})[name] = value
    st.session_state[f"_w_{name}"] = value


def forget(*names: str) -> None:
    """Drop remembered widget values so their defaults apply again (e.g. for a new dataset)."""
    saved = st.session_state.setdefault(_SAVED, {})
    for name in names:
        saved.pop(name, None)
        st.session_state.pop(f"_w_{name}", None)


def per_model(name: str, objects: tuple, compute: Callable[[], Any], key: Any = None) -> Any:
    """A value computed once for these objects and this key, kept in the session.

    Objects are compared by identity, not id(): a new model may reuse a freed model's id.
    """
    cached = st.session_state.get(name)
    if (cached is not None and len(cached[0]) == len(objects) and all(a is b for a, b in zip(cached[0], objects))
            and cached[1] == key):
        return cached[2]
    value = compute()
    st.session_state[name] = (objects, key, value)
    return value


LOOPBACK_ADDRESSES = ("localhost", "::1", "[::1]")


def private_server() -> bool:
    """True when the server listens on this machine only (as scripts/start.sh starts it), so one person uses it."""
    address = str(st.get_option("server.address") or "").strip().lower()
    return address in LOOPBACK_ADDRESSES or address.startswith("127.")


def owner() -> str:
    """The owner of this session's work (set by app.py's sign-in gate before any page runs)."""
    value = st.session_state.get("owner")
    if value is None:  # a page run on its own (tests): the single-user workspace, never in per-user mode
        from forecaster.workspace import LOCAL_OWNER, workspace_mode

        if workspace_mode() != "single":
            raise RuntimeError("No one is signed in; pages run only after app.py's sign-in gate.")
        return LOCAL_OWNER
    return str(value)


def store_location(location: object) -> str | None:
    """Where the run store lives, for the person who owns it: None on a server others can open, never a password."""
    if not private_server():
        return None
    from forecaster.store_db import hide_password

    return hide_password(str(location))


def current_job():
    """The session's latest training job, or None."""
    return st.session_state.get("job")


def busy_jobs(*others: Any) -> list:
    """The session's jobs running now: its training and cell comparison, and any `others` (e.g. its search)."""
    jobs = (current_job(), st.session_state.get("compare_job"), *others)
    return [job for job in jobs if job is not None and job.running]


def current_model():
    """(model, evaluation, selection it was trained on) of the session, or (None, None, None)."""
    result = st.session_state.get("result")
    return result if result else (None, None, None)


def set_model(model: Any, evaluation: Any, trained_on: Selection | None) -> None:
    st.session_state["result"] = (model, evaluation, trained_on)


def collect_finished_job() -> None:
    """Move a finished job's model into the session, once."""
    job = current_job()
    if job is not None and not job.running and job.model is not None and not getattr(job, "collected", False):
        set_model(job.model, job.evaluation, st.session_state.get("job_selection"))
        job.collected = True
