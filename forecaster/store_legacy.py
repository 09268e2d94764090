"""Schema-1 run stores (one SQLite file, no owners, models in folders beside it) upgraded in place."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from sqlalchemy.engine import Connection

from forecaster.workspace import LOCAL_OWNER


def legacy_models_dir(path: Path) -> Path:
    """The folder beside a schema-1 store file where its models were kept."""
    return path.with_name(f"{path.stem}-models")


def _zip_folder(folder: Path) -> bytes | None:
    """A schema-1 model folder as the archive LSTMForecaster.to_bytes makes; None when it holds no model files.

    The files are copied as they are, unchecked: loading checks them, as it checked the folder before.
    """
    from forecaster.estimator import MODEL_FILES

    files = [folder / name for name in MODEL_FILES if (folder / name).is_file()]
    if not files:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, arcname=path.name)
    return buffer.getvalue()


def _owned(folder: str, path: Path) -> bool:
    """Only folders inside the old models folder beside the file are ever deleted."""
    try:
        return Path(folder).resolve().parent == legacy_models_dir(path).resolve()
    except OSError:
        return False


def upgrade_from_1(connection: Connection, path: Path | None) -> list[Path]:
    """Schema 1 -> 2 (SQLite only): owners (all the local user's), the model folders read into the database.

    The caller then adds the tables and index new in schema 2. Returns the folders to remove once the
    transaction has committed.
    """
    run = connection.exec_driver_sql
    run("ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
    run("UPDATE runs SET owner = ?", (LOCAL_OWNER,))
    run("ALTER TABLE runs ADD COLUMN model BLOB")
    leftovers = []
    for run_id, folder in run("SELECT id, model_dir FROM runs WHERE model_dir IS NOT NULL").fetchall():
        archive = _zip_folder(Path(folder))
        if archive is not None:
            run("UPDATE runs SET model = ? WHERE id = ?", (archive, run_id))
            if path is not None and _owned(folder, path):
                leftovers.append(Path(folder))
    run("ALTER TABLE runs DROP COLUMN model_dir")
    return leftovers
