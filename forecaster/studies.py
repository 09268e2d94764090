"""Optuna studies in the run store's database: the storage, names per owner, and workers joining a study."""

from __future__ import annotations

import os
import re
import sqlite3
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import optuna

from forecaster.errors import ConfigError
from forecaster.store_db import BUSY_TIMEOUT_S, wal_file
from forecaster.workspace import LOCAL_OWNER, store_location

_SETTINGS = ("forecaster_space", "forecaster_base", "forecaster_data")  # study user attrs, set by its creator
_OWNER, _NAME = "forecaster_owner", "forecaster_name"  # study user attrs: whose it is, and its name as they gave it
PRUNER_STARTUP_TRIALS = 3  # completed trials before anything is pruned: the median needs a few
PRUNER_WARMUP_EPOCHS = 3  # the first two epochs are noisy: no trial is judged on them
JOIN_WAIT_S = 30.0  # how long a joining worker waits for the creator to record the study's settings
# A running trial writes a heartbeat every minute; one silent for five is a killed worker's, and is failed
# and queued again with the same values (at most STALE_RETRIES times, so a setting that kills its worker
# every time does not loop for ever).
HEARTBEAT_INTERVAL_S, HEARTBEAT_GRACE_S = 60, 300
STALE_RETRIES = 2


def _mask(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: nothing recognisable to hide, but never echo a secret
        return re.sub(r"://[^@/]*@", "://***@", url)


# Modules SQLAlchemy imports for a URL, and the pip package that provides each. SQLAlchemy 2.1 reads
# postgresql:// with psycopg 3; postgresql+psycopg2:// asks for psycopg2.
_DRIVERS = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
            "pymysql": "PyMySQL"}


def open_storage(url: str | None = None) -> optuna.storages.RDBStorage:
    """Optuna's storage for a database URL (default: the run store's, FORECASTER_STORE), ready for several workers."""
    from sqlalchemy.exc import SQLAlchemyError

    if url is None:
        url = store_location()
    url = str(url).strip()
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///").split("?")[0]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                wal_file(path)
            except (OSError, sqlite3.Error) as error:
                raise ConfigError(f"Cannot open the study database {path!r} ({error}); give a writable file, "
                                  "e.g. --storage sqlite:///studies.sqlite.") from None
        engine_kwargs = {"connect_args": {"timeout": BUSY_TIMEOUT_S}}  # writers queue, not fail
    try:
        return _rdb_storage(url, engine_kwargs)
    except ImportError as error:
        missing = getattr(error.__cause__, "name", None) or getattr(error, "name", None) or ""
        package = _DRIVERS.get(missing.split(".")[0], "the driver for that database")
        raise ConfigError(f"The database driver for {_mask(url)} is not installed (no module {missing!r}); "
                          f"install it with pip install {package}.") from None
    except (SQLAlchemyError, ValueError, RuntimeError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise ConfigError(f"Cannot use the study storage {_mask(url)} ({reason}); give a database URL such as "
                          "sqlite:///studies.sqlite or postgresql://user:password@host/db.") from None


def _rdb_storage(url: str, engine_kwargs: dict[str, Any]) -> optuna.storages.RDBStorage:
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    # Workers that start together on a new database race to create its tables; the loser retries (on
    # PostgreSQL as "already exists"). Only SQLite's locking errors are retried otherwise: an unreachable
    # server should fail at once.
    retried = (IntegrityError, OperationalError) if url.startswith("sqlite") else (IntegrityError, ProgrammingError)

    def storage() -> optuna.storages.RDBStorage:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=STALE_RETRIES)
            return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                              heartbeat_interval=HEARTBEAT_INTERVAL_S,
                                              grace_period=HEARTBEAT_GRACE_S, heartbeat_stale_trial_callback=retry)

    for delay in (0.5, 1.5):
        try:
            return storage()
        except retried:
            time.sleep(delay)
    return storage()


def default_study_name(data_name: str, target: str) -> str:
    """e.g. seattle-weather-temp_max-20261122-153000."""
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", f"{data_name}-{target}").strip("-") or "study"
    return f"{slug}-{datetime.now():%Y%m%d-%H%M%S}"


def stored_name(name: str, owner: str = LOCAL_OWNER) -> str:
    """The name a study is kept under: its owner (quoted, so it holds no ':') and the name they gave it.

    Two owners may each have a study called "sales"; neither can reach the other's by any name.
    """
    return f"{quote(owner, safe='@')}:{name}"


def _legacy(attrs: dict[str, Any]) -> bool:
    """A study this studio made before workspaces: search settings, no owner (the local user's, then)."""
    return _OWNER not in attrs and all(key in attrs for key in _SETTINGS)


def _find(rdb: optuna.storages.RDBStorage, name: str, owner: str) -> str | None:
    """The stored name of `owner`'s study `name`, or None when they have none of that name."""
    stored = stored_name(name, owner)
    for candidate in (stored, name) if owner == LOCAL_OWNER else (stored,):
        try:
            attrs = rdb.get_study_user_attrs(rdb.get_study_id_from_name(candidate))
        except KeyError:
            continue
        if candidate == stored and attrs.get(_OWNER, owner) == owner:  # no owner yet: its creator is recording it
            return candidate
        if candidate != stored and _legacy(attrs):
            return candidate
    return None


def _no_study(name: str) -> ConfigError:
    return ConfigError(f"There is no study {name!r} in that storage; check the --study name.")


def load_study(study_name: str, storage: str | None = None, *, owner: str = LOCAL_OWNER) -> optuna.Study:
    """One of `owner`'s studies by the name they gave it, e.g. to show its trials; another owner's is unknown."""
    rdb = open_storage(storage)
    stored = _find(rdb, study_name, owner)
    if stored is None:
        raise _no_study(study_name)
    return optuna.load_study(study_name=stored, storage=rdb)


def study_label(study: optuna.Study) -> str:
    """The name the study's owner gave it (the stored name carries the owner too)."""
    return str(study.user_attrs.get(_NAME, study.study_name))


@dataclass(frozen=True)
class StudyInfo:
    """One of an owner's studies, as list_studies gives it."""

    name: str
    started: datetime | None  # when its first trial started; None before any did
    n_trials: int


def list_studies(storage: str | None = None, *, owner: str = LOCAL_OWNER) -> list[StudyInfo]:
    """`owner`'s studies in the storage, newest first; no other owner's appear."""
    rdb = open_storage(storage)
    studies = []
    for summary in optuna.get_all_study_summaries(rdb, include_best_trial=False):
        attrs = summary.user_attrs
        mine = attrs.get(_OWNER) == owner if _OWNER in attrs else owner == LOCAL_OWNER and _legacy(attrs)
        if mine:
            studies.append(StudyInfo(name=str(attrs.get(_NAME, summary.study_name)), started=summary.datetime_start,
                                     n_trials=summary.n_trials))
    return sorted(studies, key=lambda s: (s.started is not None, s.started or datetime.min), reverse=True)


def _join(rdb: optuna.storages.RDBStorage, stored: str, settings: dict[str, Any], name: str,
          **kwargs: Any) -> optuna.Study:
    study = optuna.load_study(study_name=stored, storage=rdb, **kwargs)
    deadline = time.monotonic() + JOIN_WAIT_S
    while not all(key in study.user_attrs for key in _SETTINGS):  # its creator may still be recording them
        if time.monotonic() > deadline:
            raise ConfigError(f"The study {name!r} was not started by this studio's search (it records no search "
                              "settings); use another --study name.")
        time.sleep(0.2)
    attrs = study.user_attrs
    differ = [label for key, label in zip(_SETTINGS, ("search space", "base settings", "data"))
              if attrs[key] != settings[key]]
    if differ:
        raise ConfigError(f"The study {name!r} was started with other settings (its {', '.join(differ)} "
                          "differ); use another --study name, or the same data and settings to join it.")
    return study


def _open_study(rdb, name: str, owner: str, settings: dict[str, Any], base_values: dict[str, Any] | None,
                seed: int) -> optuna.Study:
    pruner = optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS,
                                         n_warmup_steps=PRUNER_WARMUP_EPOCHS)
    # A joining worker draws other random numbers, so two workers do not try the same values.
    joining = optuna.samplers.TPESampler(seed=(seed + os.getpid()) % 2**32)
    existing = _find(rdb, name, owner)
    if existing is not None:
        return _join(rdb, existing, settings, name, sampler=joining, pruner=pruner)
    stored = stored_name(name, owner)
    try:
        study = optuna.create_study(storage=rdb, study_name=stored, direction="minimize", pruner=pruner,
                                    sampler=optuna.samplers.TPESampler(seed=seed))
    except optuna.exceptions.DuplicatedStudyError:
        return _join(rdb, stored, settings, name, sampler=joining, pruner=pruner)
    study.set_user_attr(_OWNER, owner)  # first: a joiner waits for the settings, recorded after these
    study.set_user_attr(_NAME, name)
    if base_values is not None:
        study.enqueue_trial(base_values, user_attrs={"base": True})
    for key in _SETTINGS:  # recorded last: a joining worker waits for them, so it never runs before the base
        study.set_user_attr(key, settings[key])
    return study
