"""AppTest of sign-in and workspaces: the single-user default, per-user sign-in, and who sees which runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from app_helpers import APP
from streamlit.testing.v1 import AppTest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.runs import RunStore
from forecaster.training import configure_threads
from forecaster.ui.auth import preflight, providers
from forecaster.workspace import LOCAL_OWNER, oidc_owner

configure_threads(1)
ISSUER = "http://127.0.0.1:9400"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 40, "client_id": "studio",
        "client_secret": "secret", "server_metadata_url": f"{ISSUER}/.well-known/openid-configuration"}
ANN = {"is_logged_in": True, "iss": ISSUER, "sub": "ann-1", "name": "Ann", "email": "ann@example.com"}
BOB = {"is_logged_in": True, "iss": ISSUER, "sub": "bob-2", "name": "Bob", "email": "bob@example.com"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FORECASTER_HOME", str(tmp_path))
    monkeypatch.delenv("FORECASTER_STORE", raising=False)
    return tmp_path


@pytest.fixture
def per_user(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FORECASTER_WORKSPACES", "per-user")
    return home


def app(user: dict | None = None, auth: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if auth is not None:
        at.secrets["auth"] = auth
    if user is not None:
        at.user = user
    return at.run()


def record_for(owner: str, frame: pd.DataFrame, name: str) -> int:
    data = Dataset(frame=frame, name=name, source=f"upload:{name}", target="y", features=(), freq="D")
    config = ForecasterConfig(data=DataConfig(target="y", window=10), model=ModelConfig(units=8),
                              train=TrainConfig(epochs=1, seed=0))
    model = LSTMForecaster(config).fit(data)
    return RunStore(owner=owner).record(model, evaluate(model), data, origin="test")


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "error", "info", "warning", "title")
                    for e in getattr(at, kind))


def test_single_user_mode_asks_no_one_to_sign_in(home: Path) -> None:
    at = app()
    assert not at.exception
    assert at.session_state["owner"] == LOCAL_OWNER
    assert not [b for b in at.button if b.label.startswith("Sign in")]
    assert any(b.label == "Train a quick model" for b in at.button)


def test_per_user_mode_without_sign_in_configured_says_so_and_shows_nothing_else(per_user: Path) -> None:
    at = app()
    assert not at.exception
    assert len(at.error) == 1 and "[auth]" in at.error[0].value and "FORECASTER_WORKSPACES=single" in at.error[0].value
    assert not at.button  # no page ran


def test_a_signed_out_person_sees_only_the_sign_in_screen(per_user: Path) -> None:
    at = app(auth=AUTH)
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "private to you" in texts(at)


def test_named_providers_each_get_a_button(per_user: Path) -> None:
    named = {key: AUTH[key] for key in ("redirect_uri", "cookie_secret")}
    named["okta"] = {key: AUTH[key] for key in ("client_id", "client_secret", "server_metadata_url")}
    named["google"] = dict(named["okta"])
    assert providers(named) == ["google", "okta"]
    at = app(auth=named)
    assert [b.label for b in at.button] == ["Sign in with google", "Sign in with okta"]


def test_a_signed_in_person_works_in_their_own_workspace(per_user: Path) -> None:
    at = app(ANN, AUTH)
    assert not at.exception
    assert at.session_state["owner"] == oidc_owner(ISSUER, "ann-1")
    assert "Signed in as **Ann**" in [c.value for c in at.sidebar.caption]
    assert any(b.label == "Sign out" for b in at.sidebar.button)
    assert f"--owner '{oidc_owner(ISSUER, 'ann-1')}'" in [c.value for c in at.sidebar.code]


def test_each_person_sees_only_their_own_runs(per_user: Path, synthetic_series: pd.DataFrame) -> None:
    record_for(oidc_owner(ISSUER, "ann-1"), synthetic_series, "ann_secret.csv")
    ann = app(ANN, AUTH)
    ann.switch_page("pages/experiments.py").run()
    assert not ann.exception and "ann_secret.csv" in ann.dataframe[0].value.to_string()
    bob = app(BOB, AUTH)
    bob.switch_page("pages/experiments.py").run()
    assert not bob.exception
    assert "No runs yet" in bob.info[0].value and "ann_secret.csv" not in texts(bob)


def test_another_person_signing_in_in_the_same_session_leaves_nothing_of_the_first(per_user: Path) -> None:
    at = app(ANN, AUTH)
    at.session_state["upload"] = ("ann_secret.csv", b"date,y\n2020-01-01,1\n")
    at.user = BOB
    at.run()
    assert at.session_state["owner"] == oidc_owner(ISSUER, "bob-2")
    assert "upload" not in at.session_state


def test_a_server_open_to_other_machines_says_the_workspace_is_shared(home: Path) -> None:
    at = app()  # AppTest sets no server address: Streamlit then listens on every interface
    assert any("One shared workspace" in c.value for c in at.sidebar.caption)
    assert any("shares one workspace" in t.value for t in at.toast)


def test_the_start_script_refuses_per_user_mode_without_sign_in(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.toml"
    monkeypatch.delenv("FORECASTER_WORKSPACES", raising=False)
    assert preflight(secrets) is None  # single user needs nothing
    monkeypatch.setenv("FORECASTER_WORKSPACES", "per-user")
    assert "[auth]" in preflight(secrets)
    secrets.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n')
    assert "cookie_secret" in preflight(secrets)
    secrets.write_text("[auth]\n" + "".join(f'{key} = "{value}"\n' for key, value in AUTH.items()))
    assert preflight(secrets) is None
    secrets.write_text("[auth\n")
    assert "cannot be read" in preflight(secrets)
    monkeypatch.setenv("FORECASTER_WORKSPACES", "everyone")
    assert "'single' or 'per-user'" in preflight(secrets)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame[["y"]].rename_axis("date").to_csv().encode()


def test_a_run_on_an_upload_reloads_with_its_data_from_the_workspace(per_user: Path,
                                                                     synthetic_series: pd.DataFrame) -> None:
    from forecaster.csv_reader import read_csv

    ann = oidc_owner(ISSUER, "ann-1")
    payload = _csv(synthetic_series)
    RunStore(owner=ann).save_upload("ann_secret.csv", payload)
    data = read_csv(payload, name="ann_secret.csv", target="y")
    config = ForecasterConfig(data=DataConfig(target="y", window=10), model=ModelConfig(units=8),
                              train=TrainConfig(epochs=1, seed=0))
    model = LSTMForecaster(config).fit(data)
    run_id = RunStore(owner=ann).record(model, evaluate(model), data, origin="test")
    at = app(ANN, AUTH)
    at.switch_page("pages/experiments.py").run()
    at.session_state["runs_table_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    next(b for b in at.button if b.label == f"Load run {run_id}'s model").click().run()
    assert not at.exception and "and its data (ann_secret.csv)" in at.success[0].value
    assert at.session_state["result"][1] is not None  # evaluated on the data kept in Ann's workspace


def test_uploads_are_kept_in_the_workspace_and_offered_again(per_user: Path, synthetic_series: pd.DataFrame) -> None:
    at = app(ANN, AUTH)
    at.session_state["upload"] = ("ann_secret.csv", _csv(synthetic_series))
    at.switch_page("pages/data.py").run()
    at.radio(key="_w_data_source").set_value("Upload CSV").run()
    assert not at.exception
    assert [u.name for u in RunStore(owner=oidc_owner(ISSUER, "ann-1")).uploads()] == ["ann_secret.csv"]
    assert RunStore(owner=oidc_owner(ISSUER, "bob-2")).uploads() == []
    fresh = app(ANN, AUTH)  # another browser session of Ann's: the file is offered
    fresh.switch_page("pages/data.py").run()
    fresh.radio(key="_w_data_source").set_value("Upload CSV").run()
    box = next(s for s in fresh.selectbox if s.label == "Or open one of your earlier uploads")
    assert box.options == ["ann_secret.csv"]
    box.set_value("ann_secret.csv").run()
    assert not fresh.exception and fresh.session_state["upload"][0] == "ann_secret.csv"


def test_an_unknown_workspace_mode_is_one_sentence_and_nothing_else(home: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORECASTER_WORKSPACES", "everyone")
    at = app()
    assert not at.exception
    assert len(at.error) == 1 and "'single' or 'per-user'" in at.error[0].value and not at.button
