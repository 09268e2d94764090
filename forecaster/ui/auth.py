"""Whose workspace a browser session works in: sign-in with OpenID Connect, or the one shared local workspace."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any, Callable

import streamlit as st

from forecaster.errors import ConfigError

SIGNED_OUT = "signed-out"  # session_state["owner"] before sign-in; never an owner in the store
SHARED_NOTE_SHOWN = "shared_workspace_note_shown"
SHARED_NOTE = ("This server is open to other machines and runs in single-user mode: everyone who opens it shares "
               "one workspace and sees every run, model and search in it. For private workspaces, see the README's "
               "'Running it for a team'.")


def _auth_section() -> dict[str, Any]:
    """The [auth] table of the secrets Streamlit reads (empty when there is none or the file cannot be read)."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # noqa: BLE001 - Streamlit raises its own errors for a missing or unreadable secrets file
        return {}
    return dict(section) if section is not None else {}


def providers(section: dict[str, Any] | None = None) -> list[str | None]:
    """The configured sign-in providers: [None] for one provider set in [auth] itself, else the [auth.NAME] names.

    A provider is usable only with a client id and the provider's metadata URL, as Streamlit needs them.
    """
    section = _auth_section() if section is None else section

    def usable(table: Any) -> bool:
        return isinstance(table, dict) and bool(table.get("client_id")) and bool(table.get("server_metadata_url"))

    named = [name for name, table in section.items() if usable(dict(table) if hasattr(table, "items") else table)]
    return [None] if usable(section) else sorted(named)


def auth_problem(section: dict[str, Any]) -> str | None:
    """Why this [auth] table cannot sign anyone in, as one sentence; None when it can."""
    if not section:
        return ("Per-user workspaces need sign-in, and .streamlit/secrets.toml has no [auth] section: add one as the "
                "README's 'Running it for a team' shows, or set FORECASTER_WORKSPACES=single.")
    missing = [key for key in ("redirect_uri", "cookie_secret") if not section.get(key)]
    if missing:
        return (f"The [auth] section of .streamlit/secrets.toml lacks {' and '.join(missing)}; add "
                f"{'them' if len(missing) > 1 else 'it'} as the README's 'Running it for a team' shows.")
    if not providers(section):
        return ("The [auth] section of .streamlit/secrets.toml names no provider with a client_id and a "
                "server_metadata_url; add one as the README's 'Running it for a team' shows.")
    return None


SECRETS_FILES = (Path.home() / ".streamlit" / "secrets.toml", Path(".streamlit") / "secrets.toml")  # Streamlit's


def preflight(*secrets_files: str | Path) -> str | None:
    """Before the server starts: why it must not (one sentence), or None. Only per-user mode needs sign-in.

    Reads the secrets files Streamlit reads by default (later ones win, as in Streamlit).
    """
    from forecaster.workspace import workspace_mode

    try:
        if workspace_mode() != "per-user":
            return None
    except ConfigError as error:
        return str(error)
    section: dict[str, Any] = {}
    for path in map(Path, secrets_files or SECRETS_FILES):
        try:
            found = tomllib.loads(path.read_text(encoding="utf-8")).get("auth", {}) if path.exists() else {}
        except (OSError, tomllib.TOMLDecodeError) as error:
            return f"{path} cannot be read ({error}); fix it, or set FORECASTER_WORKSPACES=single."
        section.update(found if isinstance(found, dict) else {})
    return auth_problem(section)


def main() -> int:
    """`python -m forecaster.ui.auth`: exit 1 with the reason when the server must not start (scripts/start.sh)."""
    problem = preflight()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def _signed_in_owner() -> str:
    from forecaster.workspace import oidc_owner

    return oidc_owner(str(st.user["iss"]), str(st.user["sub"]))


def _display_name() -> str:
    for claim in ("name", "email", "preferred_username", "sub"):
        value = st.user.get(claim)
        if value:
            return str(value)
    return "you"


def sign_in_screen(names: list[str | None]) -> None:
    """What a signed-out person sees: what the studio is, that work is private, and a button per provider."""
    st.title("LSTM Forecasting Studio")
    st.write("Sign in to open your workspace. Your data, runs, models and searches are private to you: "
             "nobody else who uses this server can see them.")
    for name in names:
        label = "Sign in" if name is None else f"Sign in with {name}"
        st.button(label, type="primary", key=f"sign_in_{name or 'default'}",
                  on_click=st.login, args=() if name is None else (name,))


def _only_page(title: str, draw: Callable[[], None]) -> st.Page:
    return st.Page(draw, title=title, icon=":material/login:", url_path="sign-in")


def gate() -> st.Page | None:
    """None once this session's owner is known (kept in session_state["owner"]); else the one page to show.

    Single user: the local owner, shared with the CLI (with a note, once, when other machines can connect).
    Per user: the signed-in person's (issuer, subject), with who they are and Sign out in the sidebar; before
    sign-in, or with sign-in not configured, the only page is the sign-in screen or the one-sentence reason,
    so no other page (nor the pages/ folder's own navigation) can run.
    """
    from forecaster.ui import state
    from forecaster.workspace import LOCAL_OWNER, workspace_mode

    try:
        mode = workspace_mode()
    except ConfigError as error:
        message = str(error)  # the name `error` is unbound once the except block ends
        return _only_page("Settings", lambda: st.error(message))
    if mode == "single":
        st.session_state["owner"] = LOCAL_OWNER
        if not state.private_server():
            if not st.session_state.get(SHARED_NOTE_SHOWN):
                st.session_state[SHARED_NOTE_SHOWN] = True
                st.toast(SHARED_NOTE, icon=":material/group:")
            st.sidebar.caption(":material/group: One shared workspace: everyone who opens this server sees the "
                               "same runs, models and searches.")
        return None
    section = _auth_section()
    problem = auth_problem(section)
    if problem:
        st.session_state["owner"] = SIGNED_OUT
        return _only_page("Settings", lambda: st.error(problem))
    if not st.user.get("is_logged_in"):
        st.session_state["owner"] = SIGNED_OUT
        names = providers(section)
        return _only_page("Sign in", lambda: sign_in_screen(names))
    owner = _signed_in_owner()
    if st.session_state.get("owner") not in (owner, None, SIGNED_OUT):
        # Another person signed in in this browser session: nothing of the previous one's may remain.
        keep = {"owner"}
        for key in [key for key in st.session_state if key not in keep]:
            del st.session_state[key]
    st.session_state["owner"] = owner
    with st.sidebar:
        st.caption(f"Signed in as **{_display_name()}**")
        st.button("Sign out", key="sign_out", on_click=st.logout, icon=":material/logout:")
        with st.expander("Your workspace from the command line"):
            st.caption("The CLI records into this workspace with these options (and the server's store URL):")
            st.code(f"--owner '{owner}'", language="bash")
    return None
