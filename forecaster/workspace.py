"""Who owns the work and where it is kept: the local owner, sign-in identities, the store URL, the mode."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from forecaster.errors import ConfigError

STORE_ENV = "FORECASTER_STORE"  # a SQLAlchemy URL or a SQLite file path; unset: $FORECASTER_HOME/runs.sqlite
MODE_ENV = "FORECASTER_WORKSPACES"
MODES = ("single", "per-user")
STORE_FILE = "runs.sqlite"


def _local_user() -> str:
    try:
        return getpass.getuser() or "local"
    except (KeyError, OSError):  # a container user without a passwd entry or login name
        return "local"


# The owner of everything the CLI and a single-user app record; sign-in owners never look like it,
# since theirs always carry a '#'.
LOCAL_OWNER: str = _local_user()


def oidc_owner(issuer: str, subject: str) -> str:
    """The owner for a signed-in person: the pair (iss, sub), never the e-mail, which can change or be reused."""
    return f"{issuer}#{subject}"


def is_url(location: str | Path) -> bool:
    """Whether a store location is a database URL (it names a scheme) rather than a file path."""
    return isinstance(location, str) and "://" in location


def as_url(location: str | Path) -> str:
    """A store location as a SQLAlchemy URL: URLs as they are, a file path as its SQLite URL (absolute)."""
    if is_url(location):
        return str(location).strip()
    return f"sqlite:///{Path(location).expanduser().absolute()}"


def default_store_file() -> Path:
    """$FORECASTER_HOME/runs.sqlite, FORECASTER_HOME defaulting to ~/.forecaster (created when first written)."""
    home = os.environ.get("FORECASTER_HOME") or Path.home() / ".forecaster"
    return Path(home).expanduser() / STORE_FILE


def store_location() -> str:
    """The store's URL: $FORECASTER_STORE (a URL or a file path), else the default SQLite file."""
    given = os.environ.get(STORE_ENV, "").strip()
    return as_url(given or default_store_file())


def workspace_mode() -> str:
    """$FORECASTER_WORKSPACES: "single" (the default: one shared workspace) or "per-user" (sign-in required)."""
    mode = os.environ.get(MODE_ENV, "").strip() or MODES[0]
    if mode not in MODES:
        raise ConfigError(f"{MODE_ENV} must be 'single' or 'per-user'; got {mode!r}.")
    return mode
