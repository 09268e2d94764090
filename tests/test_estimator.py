"""Tests for forecaster.estimator: the estimator contract, determinism, no leakage, forecasting, model files."""

from __future__ import annotations

import io
import json
import pathlib
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.errors import ConfigError, DataError, ModelFileError, NotFittedError
from forecaster.estimator import CONFIG_FILE, META_FILE, MODEL_FILES, WEIGHTS_FILE, LSTMForecaster, future_index
from forecaster.training import configure_threads

configure_threads(1)


def tiny(**data) -> ForecasterConfig:
    """A model small and short enough for plumbing tests (well under a second to fit)."""
    return ForecasterConfig(data=DataConfig(**{"target": "y", "window": 10, **data}),
                            model=ModelConfig(units=8, layers=1),
                            train=TrainConfig(epochs=2, batch_size=32, seed=0))


def fitted(frame: pd.DataFrame, config: ForecasterConfig | None = None) -> LSTMForecaster:
    return LSTMForecaster(config or tiny()).fit(frame)


def _state(model: LSTMForecaster) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.net_.state_dict().items()}


def _same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _test_predictions(model: LSTMForecaster) -> np.ndarray:
    return model.predict_origins(model.prepared_, model.prepared_.test_origins)


# ---------------------------------------------------------------- the estimator contract

def test_init_only_stores_the_config() -> None:
    config = tiny()
    model = LSTMForecaster(config)
    assert vars(model) == {"config": config}
    assert LSTMForecaster().config == ForecasterConfig()


def test_fit_returns_self_and_learned_attributes_end_in_underscore(synthetic_series: pd.DataFrame) -> None:
    model = LSTMForecaster(tiny())
    assert model.fit(synthetic_series) is model
    learned = set(vars(model)) - {"config"}
    assert learned and all(name.endswith("_") for name in learned)
    assert {"net_", "scaler_", "history_", "target_", "columns_", "freq_"} <= learned
    assert model.target_ == "y" and model.columns_ == ["y"] and model.freq_ == "D"
    assert model.history_.epochs_run == 2


@pytest.mark.parametrize("call", [
    lambda m: m.predict(np.zeros((1, 10, 1))),
    lambda m: m.forecast(5),
    lambda m: m.save("unused"),
    lambda m: m.to_bytes(),
    lambda m: m.prepare(pd.DataFrame({"y": [1.0]})),
    lambda m: m.device,
], ids=["predict", "forecast", "save", "to_bytes", "prepare", "device"])
def test_unfitted_model_refuses_with_not_fitted_error(call, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFittedError, match="fit"):
        call(LSTMForecaster(tiny()))
    assert not (tmp_path / "unused").exists()


def test_target_defaults_to_first_column_or_dataset_target(synthetic_series: pd.DataFrame) -> None:
    config = ForecasterConfig(data=DataConfig(window=10), model=ModelConfig(units=8, layers=1),
                              train=TrainConfig(epochs=1))
    assert LSTMForecaster(config).fit(synthetic_series).target_ == "y"
    dataset = Dataset(synthetic_series[["x", "y"]], "synthetic", "upload:synthetic.csv", "y", freq="D", unit="m")
    model = LSTMForecaster(config).fit(dataset)
    assert model.target_ == "y" and model.freq_ == "D"
    assert model.data_info_["name"] == "synthetic" and model.data_info_["rows"] == len(synthetic_series)


def test_fit_refuses_non_frames() -> None:
    with pytest.raises(DataError, match="DataFrame"):
        LSTMForecaster(tiny()).fit([1.0, 2.0, 3.0])


# ---------------------------------------------------------------- determinism and leakage

def test_same_seed_gives_identical_weights_and_predictions(synthetic_series: pd.DataFrame) -> None:
    first, second = fitted(synthetic_series), fitted(synthetic_series)
    assert _same_state(_state(first), _state(second))
    np.testing.assert_array_equal(_test_predictions(first), _test_predictions(second))
    assert first.history_.val_loss == second.history_.val_loss


def test_different_seed_gives_different_weights(synthetic_series: pd.DataFrame) -> None:
    # Without the skip: with it, two tiny runs may both keep the same closed-form start.
    plain = tiny().replace(model={"skip": False})
    first = fitted(synthetic_series, plain)
    other = fitted(synthetic_series, plain.replace(train={"seed": 1}))
    assert not _same_state(_state(first), _state(other))
    assert not np.array_equal(_test_predictions(first), _test_predictions(other))


@pytest.mark.parametrize("data", [{}, {"transform": "diff", "outliers": "iqr", "features": ("x",)}])
def test_no_leakage_test_part_does_not_change_weights_or_scaler(synthetic_series: pd.DataFrame, data) -> None:
    config = tiny(**data)
    base = fitted(synthetic_series, config)
    val_end = base.prepared_.val_end
    altered = synthetic_series.copy()
    rng = np.random.default_rng(7)
    altered.iloc[val_end:, 0] = 100.0 + rng.normal(0.0, 20.0, len(altered) - val_end)
    altered.iloc[val_end:, 1] = 9.0
    other = fitted(altered, config)
    assert _same_state(_state(base), _state(other))
    np.testing.assert_array_equal(base.scaler_.center, other.scaler_.center)
    np.testing.assert_array_equal(base.scaler_.scale, other.scaler_.scale)
    assert base.history_.train_loss == other.history_.train_loss
    # The test part really differs, so the model's test forecasts do too.
    assert not np.array_equal(_test_predictions(base), _test_predictions(other))


# ---------------------------------------------------------------- predicting and forecasting

@pytest.mark.parametrize("transform", ["none", "diff", "logret"])
def test_predict_raw_windows_equals_predict_origins(synthetic_series: pd.DataFrame, transform: str) -> None:
    model = fitted(synthetic_series, tiny(transform=transform, features=("x",), horizon=2))
    prepared = model.prepared_
    origins = prepared.test_origins[:7]
    rows = 10 + (0 if transform == "none" else 1)
    values = prepared.frame[model.columns_].to_numpy()
    windows = np.stack([values[o - rows + 1:o + 1] for o in origins])  # (n, rows, 2)
    expected = model.predict_origins(prepared, origins)
    assert expected.shape == (7, 2)
    np.testing.assert_allclose(model.predict(windows), expected, rtol=1e-6, atol=1e-9)


def test_predict_checks_window_shape_and_values(synthetic_series: pd.DataFrame) -> None:
    model = fitted(synthetic_series)
    with pytest.raises(DataError, match=r"\(n, 10, 1\)"):
        model.predict(np.zeros((2, 9, 1)))
    bad = np.ones((1, 10, 1))
    bad[0, 3, 0] = np.nan
    with pytest.raises(DataError, match="missing or infinite"):
        model.predict(bad)


def test_forecast_frame_rows_dates_and_values(synthetic_series: pd.DataFrame) -> None:
    model = fitted(synthetic_series)
    forecast = model.forecast(5)
    assert isinstance(forecast, pd.DataFrame) and list(forecast.columns) == ["y"]
    assert len(forecast) == 5
    last = synthetic_series.index[-1]
    expected = pd.date_range(last + pd.Timedelta(days=1), periods=5, freq="D")
    assert list(forecast.index) == list(expected)
    assert forecast.index.name == "date"
    assert np.all(np.isfinite(forecast["y"].to_numpy()))
    # The first step is the one-step forecast from the last window.
    window = synthetic_series[["y"]].to_numpy()[-10:][None]
    assert forecast["y"].iloc[0] == pytest.approx(model.predict(window)[0, 0])


def test_forecast_beyond_horizon_is_recursive(synthetic_series: pd.DataFrame) -> None:
    model = fitted(synthetic_series, tiny(horizon=3))
    forecast = model.forecast(10)
    assert len(forecast) == 10 and np.all(np.isfinite(forecast["y"].to_numpy()))
    values = synthetic_series[["y"]].to_numpy()
    first_path = model.predict(values[-10:][None])[0]
    np.testing.assert_allclose(forecast["y"].to_numpy()[:3], first_path)
    # The next block starts from a window that ends with the first block's forecasts.
    extended = np.vstack([values, first_path[:, None]])
    np.testing.assert_allclose(forecast["y"].to_numpy()[3:6], model.predict(extended[-10:][None])[0])


def test_forecast_with_new_data_uses_its_end(synthetic_series: pd.DataFrame) -> None:
    model = fitted(synthetic_series)
    same = model.forecast(4, data=synthetic_series)
    pd.testing.assert_frame_equal(same, model.forecast(4))
    shorter = synthetic_series.iloc[:500]
    moved = model.forecast(4, data=shorter)
    assert moved.index[0] == shorter.index[-1] + pd.Timedelta(days=1)


def test_forecast_on_irregular_dates_steps_by_the_median_spacing(synthetic_series: pd.DataFrame) -> None:
    # Every fourth day missing: too gappy for any frequency, but the typical spacing is still one day.
    irregular = synthetic_series.drop(synthetic_series.index[3::4])
    model = fitted(irregular)
    assert model.freq_ is None
    forecast = model.forecast(3)
    last = irregular.index[-1]
    assert list(forecast.index) == [last + pd.Timedelta(days=k) for k in (1, 2, 3)]


@pytest.mark.parametrize("steps", [0, -1, 10_001, 2.5, "5"])
def test_forecast_refuses_bad_steps(synthetic_series: pd.DataFrame, steps) -> None:
    model = fitted(synthetic_series)
    with pytest.raises(ConfigError, match="steps"):
        model.forecast(steps)


@pytest.mark.parametrize("transform", ["diff", "logret"])
def test_transforms_fit_and_forecast(synthetic_series: pd.DataFrame, transform: str) -> None:
    model = fitted(synthetic_series, tiny(transform=transform, horizon=2))
    forecast = model.forecast(6)
    values = forecast["y"].to_numpy()
    assert len(values) == 6 and np.all(np.isfinite(values))
    # Levels, not changes: near the series' last values (range about 9 to 17).
    assert np.all(np.abs(values - synthetic_series["y"].iloc[-1]) < 10)
    assert np.all(np.isfinite(_test_predictions(model)))


def test_features_are_used(synthetic_series: pd.DataFrame) -> None:
    model = fitted(synthetic_series, tiny(features=("x",)))
    assert model.columns_ == ["y", "x"]
    assert model.net_.rnn.input_size == 2
    forecast = model.forecast(3)
    assert len(forecast) == 3 and np.all(np.isfinite(forecast["y"].to_numpy()))
    # The feature column changes the forecast.
    windows = synthetic_series[["y", "x"]].to_numpy()[-10:][None]
    flipped = windows.copy()
    flipped[..., 1] *= -1
    assert model.predict(windows)[0, 0] != model.predict(flipped)[0, 0]


def test_future_index_falls_back_to_median_spacing() -> None:
    index = pd.DatetimeIndex(["2024-01-01", "2024-01-03", "2024-01-05", "2024-01-08"])
    future = future_index(index[-1], None, 2, index)
    assert list(future) == [pd.Timestamp("2024-01-10"), pd.Timestamp("2024-01-12")]
    assert list(future_index(pd.Timestamp("2024-01-01"), "MS", 2)) == [pd.Timestamp("2024-02-01"),
                                                                       pd.Timestamp("2024-03-01")]
    assert list(future_index(pd.Timestamp("2024-01-05"), "B", 2)) == [pd.Timestamp("2024-01-08"),
                                                                      pd.Timestamp("2024-01-09")]


# ---------------------------------------------------------------- saving and loading

def test_save_load_gives_identical_predictions(synthetic_series: pd.DataFrame, tmp_path: Path) -> None:
    model = fitted(synthetic_series, tiny(features=("x",), transform="diff", horizon=2))
    folder = model.save(tmp_path / "model", extra={"note": "hello"})
    assert sorted(p.name for p in folder.iterdir()) == sorted(MODEL_FILES)
    loaded = LSTMForecaster.load(folder)
    assert loaded.config == model.config
    assert loaded.target_ == "y" and loaded.columns_ == ["y", "x"] and loaded.freq_ == "D"
    assert loaded.extra_ == {"note": "hello"}
    assert loaded.history_.val_loss == model.history_.val_loss
    assert _same_state(_state(loaded), _state(model))
    prepared = loaded.prepare(synthetic_series)
    np.testing.assert_array_equal(loaded.predict_origins(prepared, prepared.test_origins), _test_predictions(model))
    pd.testing.assert_frame_equal(loaded.forecast(7), model.forecast(7))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("cell", ["lstm", "gru", "peephole"])
def test_auto_device_trains_on_cuda_and_the_model_moves_to_cpu(synthetic_series: pd.DataFrame, tmp_path: Path,
                                                                cell: str) -> None:
    config = tiny(features=("x",), horizon=3).replace(model={"cell": cell, "layers": 2, "dropout": 0.2})
    model = fitted(synthetic_series, config)  # device "auto": no setting names the GPU
    assert model.device.type == "cuda"
    on_gpu = _test_predictions(model)
    assert np.isfinite(on_gpu).all() and on_gpu.shape[1] == 3
    loaded = LSTMForecaster.load(model.save(tmp_path / "model"), device="cpu")
    assert loaded.device.type == "cpu"
    prepared = loaded.prepare(synthetic_series)
    # cuDNN and the CPU kernels sum in different orders: equal to float32 rounding (no TF32), not bit for bit.
    np.testing.assert_allclose(loaded.predict_origins(prepared, prepared.test_origins), on_gpu, rtol=1e-5, atol=1e-5)
    assert np.isfinite(model.forecast(5).to_numpy(dtype=float)).all()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_model_trained_on_cuda_loads_on_a_machine_without_a_gpu(synthetic_series: pd.DataFrame,
                                                                 tmp_path: Path) -> None:
    folder = fitted(synthetic_series).save(tmp_path / "model")
    settings = json.loads((folder / CONFIG_FILE).read_text())
    settings["train"]["device"] = "cuda"  # as `train --device cuda` on a GPU machine writes it
    (folder / CONFIG_FILE).write_text(json.dumps(settings))
    loaded = LSTMForecaster.load(folder)
    assert loaded.device.type == "cpu" and loaded.config.train.device == "cuda"
    assert np.isfinite(loaded.forecast(3).to_numpy(dtype=float)).all()
    with pytest.raises(ConfigError, match="no CUDA GPU"):  # asking for the GPU outright still says why not
        LSTMForecaster.load(folder, device="cuda")


def test_bytes_round_trip(synthetic_series: pd.DataFrame) -> None:
    model = fitted(synthetic_series)
    payload = model.to_bytes(extra={"k": 1})
    assert zipfile.ZipFile(io.BytesIO(payload)).namelist() == list(MODEL_FILES)
    loaded = LSTMForecaster.from_bytes(payload)
    pd.testing.assert_frame_equal(loaded.forecast(5), model.forecast(5))
    assert loaded.extra_ == {"k": 1}


@pytest.fixture
def saved(synthetic_series: pd.DataFrame, tmp_path: Path) -> Path:
    return fitted(synthetic_series).save(tmp_path / "saved")


def _edit_json(path: Path, edit) -> None:
    raw = json.loads(path.read_text())
    edit(raw)
    path.write_text(json.dumps(raw))


def _tamper_missing_weights(folder: Path, **_) -> None:
    (folder / WEIGHTS_FILE).unlink()


def _tamper_garbage_config(folder: Path, **_) -> None:
    (folder / CONFIG_FILE).write_text("{not json at all")


def _tamper_unknown_key(folder: Path, **_) -> None:
    _edit_json(folder / CONFIG_FILE, lambda raw: raw["model"].update(attention_heads=4))


def _tamper_format_version(folder: Path, **_) -> None:
    _edit_json(folder / META_FILE, lambda raw: raw.update(format_version=99))


def _tamper_other_units(folder: Path, frame: pd.DataFrame, tmp: Path) -> None:
    other = fitted(frame, tiny().replace(model={"units": 16})).save(tmp / "other")
    (folder / WEIGHTS_FILE).write_bytes((other / WEIGHTS_FILE).read_bytes())


def _tamper_truncated_weights(folder: Path, **_) -> None:
    data = (folder / WEIGHTS_FILE).read_bytes()
    (folder / WEIGHTS_FILE).write_bytes(data[: len(data) // 2])


def _tamper_nan_weights(folder: Path, **_) -> None:
    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / WEIGHTS_FILE))
    state["head.bias"] = torch.full_like(state["head.bias"], float("nan"))
    save_file(state, str(folder / WEIGHTS_FILE))


def _tamper_meta_columns(folder: Path, **_) -> None:
    _edit_json(folder / META_FILE, lambda raw: raw.update(columns=["y", "x"]))


def _tamper_meta_calendar(folder: Path, **_) -> None:
    _edit_json(folder / META_FILE, lambda raw: raw.update(calendar=["dow_sin", "dow_cos"], n_inputs=3))


TAMPERING = {
    "missing weights": (_tamper_missing_weights, "lacks weights.safetensors"),
    "garbage config": (_tamper_garbage_config, "settings are damaged"),
    "unknown key": (_tamper_unknown_key, "unknown options ['attention_heads']"),
    "format version": (_tamper_format_version, "format version 99"),
    "other units": (_tamper_other_units, "do not match its settings"),
    "truncated weights": (_tamper_truncated_weights, "not a safetensors file"),
    "nan weights": (_tamper_nan_weights, "NaN or infinite"),
    "meta columns": (_tamper_meta_columns, "metadata is damaged"),
    "calendar without its setting": (_tamper_meta_calendar, "metadata is damaged"),
}


def test_tampered_model_folders_raise_distinct_model_file_errors(saved: Path, synthetic_series: pd.DataFrame,
                                                                  tmp_path: Path) -> None:
    messages = {}
    for name, (tamper, words) in TAMPERING.items():
        folder = tmp_path / name.replace(" ", "-")
        folder.mkdir()
        for file in MODEL_FILES:
            (folder / file).write_bytes((saved / file).read_bytes())
        LSTMForecaster.load(folder)  # an untouched copy loads
        tamper(folder, frame=synthetic_series, tmp=tmp_path)
        with pytest.raises(ModelFileError) as caught:
            LSTMForecaster.load(folder)
        messages[name] = str(caught.value)
        assert words in messages[name], name
    # Each kind of damage is told apart, so a person knows what happened.
    assert len(set(messages.values())) == len(messages)


def test_load_refuses_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="No saved model"):
        LSTMForecaster.load(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelFileError, match="lacks config.json, model.json, weights.safetensors"):
        LSTMForecaster.load(tmp_path)


# ---------------------------------------------------------------- archives

def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _members(saved: Path) -> dict[str, bytes]:
    return {name: (saved / name).read_bytes() for name in MODEL_FILES}


@pytest.mark.parametrize("payload", [b"", b"hello", bytes(np.random.default_rng(0).integers(0, 256, 4096,
                                                                                          dtype=np.uint8))],
                         ids=["empty", "text", "random"])
def test_from_bytes_refuses_non_archives(payload: bytes) -> None:
    with pytest.raises(ModelFileError, match="not a valid archive"):
        LSTMForecaster.from_bytes(payload)


def test_from_bytes_refuses_truncated_archive(saved: Path) -> None:
    payload = _zip(_members(saved))
    for cut in (len(payload) // 2, len(payload) - 10):
        with pytest.raises(ModelFileError):
            LSTMForecaster.from_bytes(payload[:cut])


def test_from_bytes_refuses_corrupted_member(saved: Path) -> None:
    members = _members(saved)
    payload = bytearray(_zip(members))
    start = payload.find(b"weights.safetensors") + len("weights.safetensors")  # local header, then the data
    for offset in range(start + 20, start + 60):
        payload[offset] ^= 0xFF
    with pytest.raises(ModelFileError):
        LSTMForecaster.from_bytes(bytes(payload))


@pytest.mark.parametrize("missing", MODEL_FILES)
def test_from_bytes_refuses_archive_missing_a_member(saved: Path, missing: str) -> None:
    members = _members(saved)
    del members[missing]
    with pytest.raises(ModelFileError, match=f"lacks {missing}"):
        LSTMForecaster.from_bytes(_zip(members))


def test_from_bytes_ignores_extra_members(saved: Path) -> None:
    members = {**_members(saved), "readme.txt": b"extra"}
    assert LSTMForecaster.from_bytes(_zip(members)).target_ == "y"


# ---------------------------------------------------------------- hostile files

class _Payload:
    """Unpickling this calls Path(marker).touch(): proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def _torch_pickle(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"head.weight": _Payload(marker)}, buffer)
    return buffer.getvalue()


def test_hostile_payload_is_live(tmp_path: Path) -> None:
    # The control: an unsafe loader really would run it, so the tests below mean something.
    marker = tmp_path / "control-ran"
    torch.load(io.BytesIO(_torch_pickle(marker)), weights_only=False)
    assert marker.exists()
    other = tmp_path / "control-pickle-ran"
    pickle.loads(pickle.dumps(_Payload(other)))
    assert other.exists()


def test_pickled_weights_never_execute(saved: Path, tmp_path: Path) -> None:
    marker = tmp_path / "weights-ran"
    members = {**_members(saved), WEIGHTS_FILE: _torch_pickle(marker)}
    with pytest.raises(ModelFileError):
        LSTMForecaster.from_bytes(_zip(members))
    assert not marker.exists()

    (saved / WEIGHTS_FILE).write_bytes(_torch_pickle(marker))
    with pytest.raises(ModelFileError, match="weights"):
        LSTMForecaster.load(saved)
    assert not marker.exists()


@pytest.mark.parametrize("member", [CONFIG_FILE, META_FILE])
def test_pickled_json_never_executes(saved: Path, tmp_path: Path, member: str) -> None:
    marker = tmp_path / f"{member}-ran"
    members = {**_members(saved), member: pickle.dumps(_Payload(marker))}
    with pytest.raises(ModelFileError):
        LSTMForecaster.from_bytes(_zip(members))
    assert not marker.exists()
    (saved / member).write_bytes(pickle.dumps(_Payload(marker), protocol=0))  # text-like pickle too
    with pytest.raises(ModelFileError):
        LSTMForecaster.load(saved)
    assert not marker.exists()


def test_load_reads_a_model_zip_file_too(synthetic_series: pd.DataFrame, tmp_path: Path) -> None:
    model = fitted(synthetic_series)
    archive = tmp_path / "model.zip"
    archive.write_bytes(model.to_bytes())
    pd.testing.assert_frame_equal(LSTMForecaster.load(archive).forecast(4), model.forecast(4))


def test_load_refuses_an_absurdly_large_file_before_reading_it(tmp_path: Path) -> None:
    from forecaster.model_files import MAX_JSON_BYTES, MAX_WEIGHTS_BYTES

    huge = tmp_path / "huge.zip"
    with open(huge, "wb") as handle:  # sparse: takes no disk space
        handle.truncate(MAX_WEIGHTS_BYTES + 2 * MAX_JSON_BYTES + 1)
    with pytest.raises(ModelFileError, match="far larger"):
        LSTMForecaster.load(huge)


# ---------------------------------------------------------------- relative inputs and the linear skip

@pytest.mark.parametrize("calendar", [False, True])
def test_before_any_training_step_the_skip_forecasts_exactly_as_the_ridge_baseline(synthetic_series, calendar):
    from forecaster.baselines import make_baselines
    from forecaster.estimator import ridge_in_scaled_space
    from forecaster.model import network_for
    from forecaster.prepare import prepare

    config = tiny(features=("x",), horizon=3, calendar=calendar)
    prepared = prepare(synthetic_series, config.data, "y")
    assert prepared.inputs.shape[1] == (4 if calendar else 2)
    net = network_for(config, prepared.inputs.shape[1]).eval()
    weight, bias = ridge_in_scaled_space(prepared, 10, 3)
    assert weight.shape == (3, 10 * prepared.inputs.shape[1])
    assert not weight.reshape(3, 10, -1)[:, :, 2:].any()  # ridge knows no calendar
    with torch.no_grad():
        net.skip.weight.copy_(torch.as_tensor(weight))
        net.skip.bias.copy_(torch.as_tensor(bias))
        net.head.weight.zero_()
        net.head.bias.zero_()
    model = LSTMForecaster(config)
    model.net_, model.scaler_ = net, prepared.scaler
    ours = model.predict_origins(prepared, prepared.test_origins)
    features = prepared.frame.to_numpy()[:, 1:]
    ridge = make_baselines("D", 10)["linear"].fit(prepared.y, prepared.train_end, 3, features)
    theirs = ridge.predict_at(prepared.y, prepared.test_origins, features)
    spread = float(np.std(prepared.y))
    assert np.max(np.abs(ours - theirs)) <= 1e-6 * spread  # float32 network, float64 ridge


def test_training_never_keeps_weights_worse_on_validation_than_the_start(synthetic_series):
    from forecaster.estimator import simple_starts
    from forecaster.prepare import input_windows

    config = tiny(horizon=2).replace(train={"epochs": 4, "lr": 0.05})  # a rough lr that can make things worse
    model = fitted(synthetic_series, config)
    prepared = model.prepared_
    assert model.skip_start_ in simple_starts(prepared, 10, 2, "D")
    windows = input_windows(prepared.inputs, prepared.val_origins, 10).reshape(len(prepared.val_origins), -1)
    targets = prepared.target[prepared.val_origins[:, None] + np.arange(1, 3)]
    weight, bias = simple_starts(prepared, 10, 2, "D")[model.skip_start_]
    start = float(np.mean((windows @ weight.T + bias - targets) ** 2))
    assert min(model.history_.val_loss) >= 0 and model.history_.best_epoch >= 0
    kept = float(np.mean((model.predict_origins(prepared, prepared.val_origins) - prepared.y[
        prepared.val_origins[:, None] + np.arange(1, 3)]) ** 2)) / prepared.scaler.scale[0] ** 2
    assert kept <= start * (1 + 1e-4)


def test_the_skip_is_named_and_only_used_on_levels(synthetic_series):
    assert fitted(synthetic_series).label == "LSTM + linear skip"
    diffed = fitted(synthetic_series, tiny(transform="diff"))
    assert diffed.net_.skip is None and diffed.label == "LSTM" and diffed.skip_start_ is None
    off = fitted(synthetic_series, tiny().replace(model={"skip": False, "cell": "gru"}))
    assert off.label == "GRU" and off.net_.skip is None


def test_a_model_saved_before_relative_inputs_and_the_skip_still_loads_and_forecasts_the_same(synthetic_series,
                                                                                                tmp_path):
    """Format version 1 files had neither; they load with both off and forecast exactly as they did."""
    old = fitted(synthetic_series, tiny().replace(model={"relative": False, "skip": False}))
    folder = old.save(tmp_path / "v1")
    config = json.loads((folder / CONFIG_FILE).read_text())
    del config["model"]["relative"], config["model"]["skip"]  # what a version 1 file holds
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    _edit_json(folder / META_FILE, lambda raw: (raw.update(format_version=1), raw.pop("skip_start")))
    loaded = LSTMForecaster.load(folder)
    assert not loaded.config.model.relative and not loaded.config.model.skip and loaded.net_.skip is None
    pd.testing.assert_frame_equal(loaded.forecast(12), old.forecast(12))


def test_a_saved_skip_model_round_trips(synthetic_series, tmp_path):
    model = fitted(synthetic_series, tiny(features=("x",), horizon=2))
    loaded = LSTMForecaster.load(model.save(tmp_path / "m"))
    assert loaded.skip_start_ == model.skip_start_ and loaded.label == "LSTM + linear skip"
    np.testing.assert_allclose(loaded.predict_origins(model.prepared_, model.prepared_.test_origins),
                               model.predict_origins(model.prepared_, model.prepared_.test_origins), atol=1e-9)


# ---------------------------------------------------------------- calendar inputs

def _windows_at(prepared, origins: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw windows (n, rows, columns) and their timestamps (n, rows) ending at each origin."""
    values = prepared.frame.to_numpy()
    windows = np.stack([values[o - rows + 1:o + 1] for o in origins])
    return windows, np.stack([prepared.index[o - rows + 1:o + 1] for o in origins])


def test_a_calendar_model_reads_the_calendar_after_its_columns(synthetic_series):
    model = fitted(synthetic_series, tiny(features=("x",), calendar=True))
    assert model.calendar_ == ("dow_sin", "dow_cos")  # 600 days: too short for day of year
    assert model.columns_ == ["y", "x"] and model.scaler_.center.shape == (2,)
    assert model.net_.rnn.input_size == 4 and model.net_.skip.in_features == 10 * 4
    assert model.prepared_.inputs.shape == (600, 4)


def test_calendar_inputs_let_the_lstm_learn_a_weekday_pattern():
    """Sundays are 4 higher; a 3-day window cannot see which day comes next, the calendar says so."""
    index = pd.date_range("2020-01-01", periods=600, freq="D")
    frame = pd.DataFrame({"y": 10 + 4.0 * (index.day_of_week == 6) + np.random.default_rng(0).normal(0, 0.3, 600)},
                         index=index)
    errors = {}
    for calendar in (False, True):
        config = ForecasterConfig(data=DataConfig(target="y", window=3, calendar=calendar), model=ModelConfig(units=8),
                                  train=TrainConfig(epochs=30, lr=1e-2, patience=0, seed=0))
        model = LSTMForecaster(config).fit(frame)
        prepared = model.prepared_
        forecasts = model.predict_origins(prepared, prepared.test_origins)[:, 0]
        errors[calendar] = float(np.mean(np.abs(forecasts - prepared.y[prepared.test_origins + 1])))
    assert errors[True] < 0.5 * errors[False], errors
    assert errors[True] < 0.4, errors  # near the noise (mean absolute noise 0.24)


@pytest.mark.parametrize("transform", ["none", "diff"])
def test_predict_of_a_calendar_model_takes_the_windows_times(synthetic_series, transform):
    # Without the skip: a model that kept its ridge start (recurrent head at zero) ignores the calendar.
    config = tiny(features=("x",), horizon=2, transform=transform, calendar=True).replace(model={"skip": False})
    model = fitted(synthetic_series, config)
    prepared = model.prepared_
    origins = prepared.test_origins[:6]
    windows, stamps = _windows_at(prepared, origins, 10 + (transform != "none"))
    expected = model.predict_origins(prepared, origins)
    with pytest.raises(DataError, match=r"^This model reads calendar inputs, so predict needs times"):
        model.predict(windows)
    np.testing.assert_allclose(model.predict(windows, times=stamps), expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(model.predict(windows, times=prepared.index[origins]), expected, rtol=1e-6, atol=1e-9)
    later = model.predict(windows, times=prepared.index[origins] + pd.Timedelta(days=1))
    assert not np.allclose(later, expected)  # the same values on other days forecast otherwise
    with pytest.raises(DataError, match="one per window"):
        model.predict(windows, times=prepared.index[origins[:2]])
    with pytest.raises(DataError, match=r"\(n, steps\)"):
        model.predict(windows, times=stamps[:, 1:])


def test_a_calendar_model_forecasts_with_the_calendar_of_the_future_dates(synthetic_series):
    from forecaster.prepare import calendar_terms

    model = fitted(synthetic_series, tiny(horizon=3, calendar=True).replace(model={"skip": False}))
    forecast = model.forecast(7)
    dates, values = synthetic_series.index, synthetic_series[["y"]].to_numpy()
    future = future_index(dates[-1], "D", 7)
    assert forecast.index.equals(pd.DatetimeIndex(future, name="date"))
    # The first block: the last window's rows carry the calendar of the day after each, the origin's of future[0].
    def by_hand(stamps: pd.DatetimeIndex) -> np.ndarray:
        known = calendar_terms(stamps, "D", model.calendar_).to_numpy()  # (10, 2)
        x = np.concatenate([model.scaler_.transform(values[-10:]), known], axis=1)[None]  # (1, window, 3)
        with torch.no_grad():
            scaled = model.net_(torch.as_tensor(x, dtype=torch.float32)).double().numpy()[0]  # (horizon,)
        return model.scaler_.inverse(scaled, column=0)

    np.testing.assert_allclose(forecast["y"].to_numpy()[:3], by_hand(dates[-9:].append(future[:1])), rtol=1e-6)
    assert not np.allclose(forecast["y"].to_numpy()[:3], by_hand(dates[-10:]))  # each row's own date: not it
    # The next block reads the first block's forecasts as today, dated by future_index.
    first = forecast["y"].to_numpy()[:3]
    extended = np.vstack([values, first[:, None]])
    stamps = dates.append(future[:3])
    np.testing.assert_allclose(forecast["y"].to_numpy()[3:6],
                               model.predict(extended[-10:][None], times=[stamps[-10:]])[0], rtol=1e-6)


def test_a_calendar_model_saves_and_loads(synthetic_series, tmp_path):
    model = fitted(synthetic_series, tiny(features=("x",), horizon=2, calendar=True))
    folder = model.save(tmp_path / "m")
    meta = json.loads((folder / META_FILE).read_text())
    assert meta["calendar"] == ["dow_sin", "dow_cos"] and meta["n_inputs"] == 4
    assert len(meta["scaler"]["center"]) == 2  # the scaler stays sized for the data columns
    loaded = LSTMForecaster.load(folder)
    assert loaded.calendar_ == model.calendar_ and loaded.config.data.calendar and loaded.columns_ == ["y", "x"]
    prepared = loaded.prepare(synthetic_series)
    assert prepared.calendar_columns == model.calendar_
    np.testing.assert_array_equal(loaded.predict_origins(prepared, prepared.test_origins), _test_predictions(model))
    pd.testing.assert_frame_equal(loaded.forecast(9), model.forecast(9))
    pd.testing.assert_frame_equal(LSTMForecaster.from_bytes(model.to_bytes()).forecast(4), model.forecast(4))
    windows, stamps = _windows_at(prepared, prepared.test_origins[:3], 10)
    np.testing.assert_allclose(loaded.predict(windows, times=stamps), model.predict(windows, times=stamps))


def test_a_calendar_model_keeps_its_columns_on_shorter_new_data(synthetic_series):
    long = pd.concat([synthetic_series, synthetic_series.set_axis(synthetic_series.index + pd.Timedelta(days=600))])
    model = fitted(long, tiny(calendar=True))
    assert model.calendar_ == ("dow_sin", "dow_cos", "doy_sin", "doy_cos")  # 1,200 days
    recent = long.iloc[-200:]
    assert model.prepare(recent).calendar_columns == model.calendar_  # 200 days alone would get no day of year
    assert np.isfinite(model.forecast(3, data=recent)["y"].to_numpy()).all()
    from forecaster.prepare import prepare

    with pytest.raises(DataError, match=r"prepare it with model\.prepare"):
        model.predict_origins(prepare(recent, model.config.data, "y"), np.array([150]))


def test_calendar_on_yearly_data_changes_nothing():
    years = pd.date_range("1900-01-01", periods=120, freq="YS")
    frame = pd.DataFrame({"y": np.sin(np.arange(120) / 3.0) + np.arange(120) / 50}, index=years)
    on, off = (fitted(frame, tiny(window=5, calendar=calendar)) for calendar in (True, False))
    assert on.calendar_ == () and on.net_.rnn.input_size == 1
    assert _same_state(_state(on), _state(off))
    pd.testing.assert_frame_equal(on.forecast(3), off.forecast(3))
    assert on.predict(frame[["y"]].to_numpy()[-5:][None]).shape == (1, 1)  # no calendar: no times needed


def test_a_model_saved_before_calendar_inputs_loads_unchanged(synthetic_series, tmp_path):
    old = fitted(synthetic_series, tiny(features=("x",)))
    folder = old.save(tmp_path / "old")
    _edit_json(folder / CONFIG_FILE, lambda raw: raw["data"].pop("calendar"))  # what files from before hold
    _edit_json(folder / META_FILE, lambda raw: raw.pop("calendar"))
    loaded = LSTMForecaster.load(folder)
    assert loaded.config.data.calendar is False and loaded.calendar_ == ()
    pd.testing.assert_frame_equal(loaded.forecast(5), old.forecast(5))
    prepared = loaded.prepare(synthetic_series)
    np.testing.assert_array_equal(loaded.predict_origins(prepared, prepared.test_origins), _test_predictions(old))


def test_a_calendar_file_naming_a_foreign_term_is_refused(synthetic_series, tmp_path):
    folder = fitted(synthetic_series, tiny(calendar=True)).save(tmp_path / "m")
    _edit_json(folder / META_FILE, lambda raw: raw.update(calendar=["month_sin", "month_cos"]))
    with pytest.raises(ModelFileError, match="metadata is damaged"):
        LSTMForecaster.load(folder)


def test_every_start_of_the_skip_forecasts_exactly_as_its_baseline(synthetic_series):
    """Naive, moving average and seasonal naive are linear maps of the window too: each start is its baseline."""
    from forecaster.baselines import MovingAverage, NaiveForecast, SeasonalNaive
    from forecaster.estimator import (
        moving_average_in_scaled_space,
        naive_in_scaled_space,
        seasonal_naive_in_scaled_space,
    )
    from forecaster.prepare import input_windows, prepare

    config = tiny(features=("x",), horizon=5)
    prepared = prepare(synthetic_series, config.data, "y")
    columns, origins = prepared.inputs.shape[1], prepared.test_origins
    windows = input_windows(prepared.inputs, origins, 10).reshape(len(origins), -1).astype(np.float64)
    scale, center = prepared.scaler.scale[0], prepared.scaler.center[0]
    for start, baseline in ((naive_in_scaled_space(columns, 10, 5), NaiveForecast()),
                            (moving_average_in_scaled_space(columns, 10, 5), MovingAverage(10)),
                            (seasonal_naive_in_scaled_space(columns, 10, 5, 3), SeasonalNaive(3))):
        weight, bias = start
        ours = (windows @ weight.T + bias) * scale + center
        theirs = baseline.fit(prepared.y, prepared.train_end, 5).predict_at(prepared.y, origins)
        np.testing.assert_allclose(ours, theirs, atol=1e-5 * scale, err_msg=baseline.label)


# ---------------------------------------------------------------- where the skip starts

def test_the_start_stays_with_naive_then_ridge_unless_another_is_clearly_better() -> None:
    from forecaster.estimator import START_CHOICE_SE, choose_start

    rng = np.random.default_rng(0)
    naive = 1.0 + rng.normal(0, 0.1, 200)
    drift = naive - 0.001 + rng.normal(0, 0.05, 200)  # a hair better on average, well inside its noise
    assert choose_start({"naive": naive, "drift": drift}, 1) == "naive"
    ridge = naive - 0.5 + rng.normal(0, 0.05, 200)
    assert choose_start({"naive": naive, "ridge": ridge}, 1) == "ridge"
    level = ridge - 0.002 + rng.normal(0, 0.05, 200)  # better on average, well inside its noise
    assert choose_start({"naive": naive, "ridge": ridge, "exponential smoothing": level}, 1) == "ridge"
    clear = ridge - 0.2 + rng.normal(0, 0.01, 200)
    assert choose_start({"naive": naive, "ridge": ridge, "exponential smoothing": clear, "drift": naive},
                        1) == "exponential smoothing"
    assert choose_start({"naive": naive, "ridge": np.full(200, np.nan)}, 1) == "naive"
    # Losses of overlapping 24-step windows move together: the same mean gain that is clear for 1-step windows
    # is not when the differences wander (an AR(1) with long memory), as the long-run variance says.
    wander = np.zeros(200)
    for t in range(1, 200):
        wander[t] = 0.95 * wander[t - 1] + rng.normal(0, 0.01)
    gain = 0.012 + wander - wander.mean()
    iid_se = gain.std(ddof=1) / np.sqrt(gain.size)
    assert gain.mean() > START_CHOICE_SE * iid_se  # clear if the windows were independent
    assert choose_start({"naive": naive, "ridge": naive - gain}, 24) == "naive"


def test_the_smoothing_start_reproduces_the_smoothing_baseline_on_training_windows() -> None:
    """A local level (random walk plus noise): simple smoothing's memory fits in the window, so the distilled
    map is close to the baseline's own forecasts, and on the validation windows too."""
    from forecaster.baselines import make_baselines
    from forecaster.estimator import smoothing_in_scaled_space
    from forecaster.prepare import input_windows, prepare

    rng = np.random.default_rng(1)
    level = 50 + np.cumsum(rng.normal(0, 0.3, 800))
    frame = pd.DataFrame({"y": level + rng.normal(0, 1.0, 800)},
                         index=pd.date_range("2020-01-06", periods=800, freq="W-MON", name="date"))
    config = DataConfig(window=26, horizon=4)
    prepared = prepare(frame, config, "y", freq="W-MON")
    weight, bias = smoothing_in_scaled_space(prepared, 26, 4, "W-MON")
    assert weight.shape == (4, 26) and bias.shape == (4,)
    ets = make_baselines("W-MON", 26, y_train=prepared.y[:prepared.train_end])["ets"]
    ets.fit(prepared.y, prepared.train_end, 4)
    for origins in (prepared.train_origins[100:], prepared.val_origins):
        windows = input_windows(prepared.inputs, origins, 26).reshape(len(origins), -1)
        ours = (windows @ weight.T + bias) * prepared.scaler.scale[0] + prepared.scaler.center[0]
        theirs = ets.predict_at(prepared.y, origins)
        error = prepared.y[origins[:, None] + np.arange(1, 5)] - theirs
        assert np.sqrt(np.mean((ours - theirs) ** 2)) < 0.1 * np.sqrt(np.mean(error ** 2))


def test_no_smoothing_start_without_enough_training_windows_to_distil_it(synthetic_series) -> None:
    from forecaster.estimator import simple_starts, smoothing_in_scaled_space
    from forecaster.prepare import prepare

    short = synthetic_series.iloc[:40]  # 17 training windows of 10 once smoothing's states warm up: < 2 · 11
    prepared = prepare(short, DataConfig(window=10, horizon=1), "y", freq="D")
    assert smoothing_in_scaled_space(prepared, 10, 1, "D") is None
    assert "exponential smoothing" not in simple_starts(prepared, 10, 1, "D")
    long = prepare(synthetic_series, DataConfig(window=10, horizon=2), "y", freq="D")
    assert "exponential smoothing" in simple_starts(long, 10, 2, "D")
