"""A real PostgreSQL server for the tests: $FORECASTER_TEST_POSTGRES, or a throw-away cluster on a loopback port."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "postgres.sh"
ENV = "FORECASTER_TEST_POSTGRES"
APT = "apt-get install -y postgresql"
# Durability is not under test (a server crash is not), so the throw-away cluster skips fsync; many
# test databases and worker processes hold connections at once.
TEST_OPTIONS = "-c fsync=off -c full_page_writes=off -c max_connections=300"


def binaries_missing() -> bool:
    """True when no /usr/lib/postgresql/*/bin/postgres is installed."""
    return not any(os.access(path, os.X_OK) for path in glob.glob("/usr/lib/postgresql/*/bin/postgres"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A cluster started by scripts/postgres.sh in a temporary folder; stop() ends it and removes the folder."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="forecaster-pg-"))
        self.url = ""
        for _ in range(3):  # the free port may be taken between looking and listening
            env = {**os.environ, "FORECASTER_PG_PORT": str(free_port()), "FORECASTER_PG_OPTIONS": TEST_OPTIONS}
            done = subprocess.run(["bash", str(SCRIPT), "start", str(self.folder)], env=env, capture_output=True,
                                  text=True, timeout=120)
            if done.returncode == 0:
                self.url = done.stdout.strip().splitlines()[-1]
                return
            self.stop()
            self.folder = Path(tempfile.mkdtemp(prefix="forecaster-pg-"))
        raise RuntimeError(f"PostgreSQL did not start: {done.stderr.strip()[-2000:]}")

    def stop(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(self.folder)], capture_output=True, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)


def _admin(url: str):
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    return psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True, connect_timeout=10)


def fresh_database(url: str) -> str:
    """A new, empty database on the server of `url` (its role needs CREATEDB), as a URL like `url`."""
    from sqlalchemy.engine import make_url

    name = f"test_{uuid.uuid4().hex[:12]}"
    with _admin(url) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database of `url`, closing whatever connections are still open to it."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    with _admin(parsed.set(database="postgres").render_as_string(hide_password=False)) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
