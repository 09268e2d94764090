"""Tests for forecaster.workspace: owners, the store's URL and the workspace mode, read from the environment."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from forecaster import workspace
from forecaster.errors import ConfigError
from forecaster.workspace import LOCAL_OWNER, as_url, oidc_owner, store_location, workspace_mode


def test_the_local_owner_is_the_login_name_or_local(monkeypatch: pytest.MonkeyPatch) -> None:
    assert LOCAL_OWNER == getpass.getuser()

    def no_name() -> str:
        raise KeyError("uid not in passwd")

    monkeypatch.setattr(getpass, "getuser", no_name)
    assert workspace._local_user() == "local"


def test_a_signed_in_owner_is_issuer_and_subject_never_the_email() -> None:
    assert oidc_owner("https://accounts.example.com", "10769150350006150715113082367") == \
        "https://accounts.example.com#10769150350006150715113082367"
    assert oidc_owner("https://a.example", "x") != oidc_owner("https://b.example", "x")
    assert "#" not in LOCAL_OWNER  # a signed-in owner never collides with the local one


def test_the_store_defaults_to_the_sqlite_file_in_the_studio_home(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.delenv("FORECASTER_STORE", raising=False)
    monkeypatch.setenv("FORECASTER_HOME", str(tmp_path))
    assert store_location() == f"sqlite:///{tmp_path / 'runs.sqlite'}"
    from forecaster.runs import RunStore, default_store_path, storage_url

    assert default_store_path() == tmp_path / "runs.sqlite" and storage_url() == store_location()
    assert RunStore().path == tmp_path / "runs.sqlite"


@pytest.mark.parametrize("given, expected", [
    ("postgresql+psycopg://ann:pw@db.example:5432/studio", "postgresql+psycopg://ann:pw@db.example:5432/studio"),
    ("sqlite:////srv/studio/runs.sqlite", "sqlite:////srv/studio/runs.sqlite"),
    ("/srv/studio/runs.sqlite", "sqlite:////srv/studio/runs.sqlite"),
    ("  /srv/x.sqlite ", "sqlite:////srv/x.sqlite"),
])
def test_the_store_setting_takes_a_url_or_a_file_path(monkeypatch: pytest.MonkeyPatch, given: str,
                                                      expected: str) -> None:
    monkeypatch.setenv("FORECASTER_STORE", given)
    assert store_location() == expected


def test_a_relative_path_is_made_absolute_and_home_is_expanded(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert as_url("runs.sqlite") == f"sqlite:///{tmp_path / 'runs.sqlite'}"
    assert as_url(Path("~/x.sqlite")) == f"sqlite:///{Path.home() / 'x.sqlite'}"


def test_the_workspace_mode_is_single_unless_set_to_per_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORECASTER_WORKSPACES", raising=False)
    assert workspace_mode() == "single"
    monkeypatch.setenv("FORECASTER_WORKSPACES", "per-user")
    assert workspace_mode() == "per-user"
    monkeypatch.setenv("FORECASTER_WORKSPACES", "everyone")
    with pytest.raises(ConfigError, match=r"FORECASTER_WORKSPACES must be 'single' or 'per-user'; got 'everyone'\."):
        workspace_mode()


def test_the_module_needs_neither_torch_nor_sqlalchemy() -> None:
    import subprocess
    import sys

    code = ("import sys, forecaster.workspace; "
            "sys.exit(bool({'torch', 'sqlalchemy', 'pandas'} & set(sys.modules)))")
    from process_helpers import child_env

    assert subprocess.run([sys.executable, "-c", code], env=child_env()).returncode == 0
