"""Model files: a fitted LSTMForecaster saved as a folder or one .zip, and read back checked, never executed."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from forecaster.calendar_inputs import calendar_terms
from forecaster.config import ForecasterConfig
from forecaster.errors import ModelFileError
from forecaster.model import network_for
from forecaster.prepare import Scaler
from forecaster.training import History, resolve_device

FORMAT_VERSION = 2  # 2: relative inputs and the linear skip; version 1 files load with both off
READABLE_VERSIONS = (1, 2)
CONFIG_FILE, META_FILE, WEIGHTS_FILE = "config.json", "model.json", "weights.safetensors"
MODEL_FILES = (CONFIG_FILE, META_FILE, WEIGHTS_FILE)
MAX_JSON_BYTES = 20 * 1024 * 1024  # a model's metadata is small; anything bigger is not ours
MAX_WEIGHTS_BYTES = 200 * 1024 * 1024  # 4 layers of 512 units is about 35 MB
TOO_LARGE = "The model file is far larger than any model this studio saves; it was refused."


def save(model: Any, directory: str | Path, extra: dict | None = None) -> Path:
    """Write config.json, model.json (scaler, history, tail) and weights.safetensors."""
    from safetensors.torch import save_file

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch_version": torch.__version__,
        "target": model.target_,
        "columns": model.columns_,
        "freq": model.freq_,
        "calendar": list(getattr(model, "calendar_", ())),  # calendar inputs after the columns, built for freq
        "n_inputs": len(model.columns_) + len(getattr(model, "calendar_", ())),
        "scaler": model.scaler_.to_dict(),
        "skip_start": getattr(model, "skip_start_", None),  # the baseline the linear skip was set to
        "history": model.history_.to_dict(),
        "data": model.data_info_,
        "tail": {"index": [ts.isoformat() for ts in model.tail_.index],
                 "values": model.tail_[model.columns_].to_numpy().tolist()},
        "extra": extra or {},
    }
    (folder / CONFIG_FILE).write_text(json.dumps(model.config.to_dict(), indent=2))
    (folder / META_FILE).write_text(json.dumps(meta, indent=2))
    state = {k: v.detach().cpu().contiguous() for k, v in model.net_.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE))
    return folder


def to_bytes(model: Any, extra: dict | None = None) -> bytes:
    """The model as one zip archive (the saved folder's three files), for downloads."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = save(model, tmp, extra=extra)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in MODEL_FILES:
                archive.write(folder / name, arcname=name)
    return buffer.getvalue()


def parts_of_folder(directory: str | Path) -> tuple[bytes, bytes, bytes] | bytes:
    """The three files of a saved folder, or the bytes of a .zip given as a file; refuses anything else."""
    folder = Path(directory)
    if folder.is_file():
        if folder.stat().st_size > MAX_WEIGHTS_BYTES + 2 * MAX_JSON_BYTES:
            raise ModelFileError(TOO_LARGE)
        return folder.read_bytes()
    if not folder.is_dir():
        raise ModelFileError(f"No saved model at {str(folder)!r}; give the folder or .zip file that train --out "
                             "wrote.")
    files = {name: folder / name for name in MODEL_FILES}
    missing = [name for name, path in files.items() if not path.is_file()]
    if missing:
        raise ModelFileError(f"The model folder {str(folder)!r} lacks {', '.join(missing)}; save the model again.")
    return tuple(files[name].read_bytes() for name in MODEL_FILES)


def parts_of_archive(payload: bytes) -> tuple[bytes, bytes, bytes]:
    """The three files of a model archive made by to_bytes; reads only those, each size-checked."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
        members = {info.filename: info for info in archive.infolist()}
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ModelFileError("This is not a model file saved by the studio (not a valid archive); "
                             "upload the .zip that 'Download model' gave you.") from None
    missing = [name for name in MODEL_FILES if name not in members]
    if missing:
        raise ModelFileError(f"The model archive lacks {', '.join(missing)}; upload a complete model file.")
    limits = {CONFIG_FILE: MAX_JSON_BYTES, META_FILE: MAX_JSON_BYTES, WEIGHTS_FILE: MAX_WEIGHTS_BYTES}
    if any(members[name].file_size > limits[name] for name in MODEL_FILES):
        raise ModelFileError("The model archive holds files far larger than any model this studio saves; it was refused.")
    try:
        return tuple(archive.read(name) for name in MODEL_FILES)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as error:  # truncated or corrupt members
        raise ModelFileError(f"The model archive is damaged ({error}); download the model again.") from None


def build(cls: type, config_bytes: bytes, meta_bytes: bytes, weights: bytes, device: str | None) -> Any:
    """A fitted `cls` (LSTMForecaster) from the three files, every part checked before any is used."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    if len(config_bytes) > MAX_JSON_BYTES or len(meta_bytes) > MAX_JSON_BYTES or len(weights) > MAX_WEIGHTS_BYTES:
        raise ModelFileError(TOO_LARGE)
    try:
        config = ForecasterConfig.from_dict(json.loads(config_bytes))
        meta = json.loads(meta_bytes)
    except (ValueError, TypeError) as error:  # JSONDecodeError and ConfigError are ValueErrors
        raise ModelFileError(f"The model's settings are damaged or from an unknown version ({error}); "
                             "train and save the model again.") from None
    if not isinstance(meta, dict) or meta.get("format_version") not in READABLE_VERSIONS:
        version = meta.get("format_version") if isinstance(meta, dict) else None
        raise ModelFileError(f"The model file has format version {version!r}, this studio reads versions "
                             f"{', '.join(map(str, READABLE_VERSIONS))}; save the model again with this version.")
    if meta["format_version"] == 1:  # saved before relative inputs and the skip existed: their weights had neither
        config = config.replace(model={"relative": False, "skip": False})
    model = cls(config)
    try:
        columns = [str(c) for c in meta["columns"]]
        calendar = tuple(str(c) for c in meta.get("calendar", ()))  # absent before calendar inputs: none
        if int(meta["n_inputs"]) != len(columns) + len(calendar) or not columns or columns[0] != meta["target"]:
            raise ValueError("columns do not match the inputs")
        if calendar and not config.data.calendar:
            raise ValueError("calendar inputs without the calendar setting")
        calendar_terms(pd.DatetimeIndex([]), meta.get("freq"), calendar)  # each a term of that frequency
        scaler = Scaler.from_dict(meta["scaler"])
        if scaler.center.shape != (len(columns),):
            raise ValueError("scaler does not match the columns")
        tail = pd.DataFrame(np.asarray(meta["tail"]["values"], dtype=np.float64), columns=columns,
                            index=pd.DatetimeIndex(pd.to_datetime(meta["tail"]["index"]), name="date"))
        history = History.from_dict(meta.get("history", {}))
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"The model's metadata is damaged ({error}); train and save the model again.") from None
    try:
        state = load_safetensors(weights)
    except (SafetensorError, ValueError, RuntimeError, OSError) as error:
        raise ModelFileError(f"The model's weights file is damaged or not a safetensors file ({error}); "
                             "save the model again.") from None
    net = network_for(config, len(columns) + len(calendar))
    expected = net.state_dict()
    if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in expected):
        raise ModelFileError("The model's weights do not match its settings (different tensors or shapes); "
                             "the file was altered or mixed with another model's.")
    if any(not torch.isfinite(state[k]).all() for k in state):
        raise ModelFileError("The model's weights contain NaN or infinite values; train the model again.")
    net.load_state_dict(state)
    # A model trained with device "cuda" still opens where there is no GPU: the place it was
    # trained is no order to load it there. Only an explicit `device` argument insists.
    saved = "auto" if config.train.device == "cuda" else config.train.device
    net.to(resolve_device(device or saved)).eval()
    model.net_, model.scaler_, model.history_, model.tail_ = net, scaler, history, tail
    model.target_, model.columns_, model.freq_ = columns[0], columns, meta.get("freq")
    model.calendar_ = calendar
    model.data_info_ = meta.get("data", {}) if isinstance(meta.get("data"), dict) else {}
    model.extra_ = meta.get("extra", {})
    model.skip_start_ = meta.get("skip_start") if net.skip is not None else None
    return model
