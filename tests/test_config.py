"""Tests for forecaster.config: defaults, validation messages, immutability, round trips, default_config."""

from __future__ import annotations

import dataclasses
import json

import pytest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig, default_config
from forecaster.errors import ConfigError


def test_defaults_are_valid() -> None:
    config = ForecasterConfig()
    assert config.data.window >= 2 and config.data.horizon >= 1
    assert sum(config.data.split) == pytest.approx(1.0)
    assert config.model.cell == "lstm" and config.train.loss == "mae"
    # Every default also passes validation when rebuilt from scratch.
    assert ForecasterConfig.from_dict(config.to_dict()) == config


# (section class, option, bad value, words the message must contain to name the option)
INVALID = [
    (DataConfig, "window", 1, "window"),
    (DataConfig, "window", 1001, "window"),
    (DataConfig, "window", 2.5, "window"),
    (DataConfig, "window", True, "window"),
    (DataConfig, "horizon", 0, "horizon"),
    (DataConfig, "horizon", -3, "horizon"),
    (DataConfig, "horizon", False, "horizon"),
    (DataConfig, "split", (0.5, 0.5, 0.5), "split"),
    (DataConfig, "split", (0.7, 0.3, 0.0), "split"),
    (DataConfig, "split", (0.7, 0.3), "split"),
    (DataConfig, "missing", "zero", "missing"),
    (DataConfig, "outliers", "mad", "outliers"),
    (DataConfig, "scaler", "quantile", "scaler"),
    (DataConfig, "transform", "boxcox", "transform"),
    (DataConfig, "target", "", "target"),
    (DataConfig, "resample", "   ", "resample"),
    (ModelConfig, "cell", "transformer", "cell"),
    (ModelConfig, "units", 3, "units"),
    (ModelConfig, "units", 513, "units"),
    (ModelConfig, "units", True, "units"),
    (ModelConfig, "layers", 0, "layers"),
    (ModelConfig, "layers", 5, "layers"),
    (ModelConfig, "dropout", 1.0, "dropout"),
    (ModelConfig, "dropout", -0.1, "dropout"),
    (ModelConfig, "residual", 1, "residual"),
    (TrainConfig, "epochs", 0, "epochs"),
    (TrainConfig, "epochs", 1001, "epochs"),
    (TrainConfig, "epochs", True, "epochs"),
    (TrainConfig, "batch_size", 0, "batch size"),
    (TrainConfig, "lr", 0, "learning rate"),
    (TrainConfig, "lr", -1e-3, "learning rate"),
    (TrainConfig, "lr", 2.0, "learning rate"),
    (TrainConfig, "weight_decay", -1e-4, "weight decay"),
    (TrainConfig, "patience", -1, "patience"),
    (TrainConfig, "patience", True, "patience"),
    (TrainConfig, "loss", "hinge", "loss"),
    (TrainConfig, "clip_norm", -1.0, "clip norm"),
    (TrainConfig, "seed", -1, "seed"),
    (TrainConfig, "seed", 2**32, "seed"),
    (TrainConfig, "device", "tpu", "device"),
]


@pytest.mark.parametrize(("kind", "option", "value", "words"), INVALID,
                         ids=[f"{k.__name__}.{o}={v!r}" for k, o, v, _ in INVALID])
def test_invalid_value_raises_config_error_naming_option_and_value(kind, option, value, words) -> None:
    with pytest.raises(ConfigError) as caught:
        kind(**{option: value})
    message = str(caught.value)
    assert words in message
    shown = repr(tuple(float(v) for v in value)) if option == "split" else repr(value)
    assert shown in message


def test_target_listed_as_feature_is_refused() -> None:
    with pytest.raises(ConfigError, match="'y' is also listed as a feature"):
        DataConfig(target="y", features=("x", "y"))


def test_duplicate_features_are_refused() -> None:
    with pytest.raises(ConfigError, match="twice"):
        DataConfig(features=("x", "x"))


def test_config_error_is_a_value_error() -> None:
    # Callers that only know ValueError still catch it.
    with pytest.raises(ValueError):
        ModelConfig(units=3)


def test_sections_must_have_the_right_type() -> None:
    with pytest.raises(ConfigError, match="model must be a ModelConfig"):
        ForecasterConfig(model=TrainConfig())


def test_lists_are_stored_as_tuples() -> None:
    data = DataConfig(features=["x", "z"], split=[0.6, 0.2, 0.2])
    assert data.features == ("x", "z")
    assert data.split == (0.6, 0.2, 0.2)
    hash(data)  # frozen and hashable once lists became tuples


@pytest.mark.parametrize("section", [DataConfig(), ModelConfig(), TrainConfig(), ForecasterConfig()],
                         ids=lambda s: type(s).__name__)
def test_configs_are_frozen(section) -> None:
    name = dataclasses.fields(section)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(section, name, getattr(section, name))


def test_to_dict_from_dict_round_trip_through_json() -> None:
    config = ForecasterConfig(
        data=DataConfig(target="y", features=("x", "z"), window=12, horizon=3, split=(0.6, 0.2, 0.2),
                        missing="ffill", outliers="iqr", resample="W", scaler="robust", transform="diff"),
        model=ModelConfig(cell="peephole", layers=3, units=16, dropout=0.25, residual=False),
        train=TrainConfig(epochs=7, batch_size=8, lr=0.01, weight_decay=1e-5, patience=0, loss="huber",
                          clip_norm=0.0, seed=123, device="cpu"),
    )
    raw = json.loads(json.dumps(config.to_dict()))  # lists instead of tuples, as on disk
    assert raw["data"]["features"] == ["x", "z"]
    assert ForecasterConfig.from_dict(raw) == config


def test_from_dict_fills_missing_sections_with_defaults() -> None:
    assert ForecasterConfig.from_dict({"model": {"units": 8}}) == ForecasterConfig(model=ModelConfig(units=8))


@pytest.mark.parametrize("raw, words", [
    ({"data": {"windw": 10}}, "'windw'"),
    ({"model": {"units": 8, "heads": 2}}, "'heads'"),
    ({"train": {"optimizer": "sgd"}}, "'optimizer'"),
])
def test_from_dict_refuses_unknown_keys(raw, words) -> None:
    with pytest.raises(ConfigError, match="unknown options") as caught:
        ForecasterConfig.from_dict(raw)
    assert words in str(caught.value)


@pytest.mark.parametrize("raw", [[1, 2], "config", None, {"data": [1]}])
def test_from_dict_refuses_non_objects(raw) -> None:
    with pytest.raises(ConfigError):
        ForecasterConfig.from_dict(raw)


def test_from_dict_revalidates_values() -> None:
    with pytest.raises(ConfigError, match="units"):
        ForecasterConfig.from_dict({"model": {"units": 10_000}})


def test_replace_changes_only_the_named_options() -> None:
    config = ForecasterConfig()
    changed = config.replace(model={"units": 32}, train={"epochs": 5})
    assert changed.model.units == 32 and changed.train.epochs == 5
    assert changed.model.layers == config.model.layers and changed.data == config.data
    assert config.model.units == ModelConfig().units  # the original is untouched
    whole = config.replace(data=DataConfig(window=7))
    assert whole.data.window == 7


def test_replace_validates() -> None:
    with pytest.raises(ConfigError, match="window"):
        ForecasterConfig().replace(data={"window": 1})


@pytest.mark.parametrize("freq, window", [("D", 30), ("h", 48), ("MS", 12), ("B", 20), ("W-SUN", 26),
                                          ("2D", 30), (None, 30), ("unknown", 30), ("H", 48), ("QS-OCT", 8),
                                          ("BMS", 12), ("15min", 60)])
def test_default_config_window_follows_frequency(freq, window) -> None:
    config = default_config(freq, 5000, target="y", features=("x",))
    assert config.data.window == window
    assert config.data.target == "y" and config.data.features == ("x",)


def test_default_config_shortens_the_window_on_short_series() -> None:
    config = default_config("h", 100)
    # The smallest part (15% = 15 rows) must hold a window plus a target.
    assert config.data.window == 12
    assert default_config("D", 10).data.window == 2


def test_default_config_batch_size_grows_with_length() -> None:
    assert default_config("D", 200).train.batch_size == 16
    assert default_config("D", 1000).train.batch_size == 32
    assert default_config("D", 10_000).train.batch_size == 64


@pytest.mark.parametrize("freq, calendar", [("D", True), ("2D", True), ("h", False), ("B", False), ("MS", False),
                                            (None, False)])
def test_calendar_inputs_are_on_by_default_where_they_were_measured_to_help(freq, calendar) -> None:
    assert default_config(freq, 5000).data.calendar is calendar
    assert DataConfig().calendar is False  # the plain dataclass default stays off
