"""The search space: importable without torch or Optuna, window ranges from the frequency, values per config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from process_helpers import child_env

from forecaster.config import ForecasterConfig, option_names
from forecaster.frequency import window_range
from forecaster.search_space import DEFAULT_SPACE, PARAMS, SearchSpace, apply_params, default_space, searchable_values

REPO = Path(__file__).resolve().parents[1]

# The ranges tuning kept in its own table before frequency.py knew them: the same values for every alias.
EARLIER_RANGES = {"D": (7, 60), "B": (5, 60), "C": (5, 60), "h": (12, 168), "H": (12, 168), "W": (4, 52),
                  "MS": (3, 24), "M": (3, 24), "ME": (3, 24), "QS": (2, 12), "Q": (2, 12), "QE": (2, 12),
                  "min": (10, 120), "T": (10, 120)}


def test_importing_the_space_loads_neither_torch_nor_optuna() -> None:
    code = ("import sys, forecaster.search_space as s; s.default_space('D', 1000); "
            "print(sorted(m for m in ('torch', 'optuna') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=child_env(), capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("freq, expected", sorted(EARLIER_RANGES.items()))
def test_window_ranges_come_from_the_frequency_and_match_the_earlier_table(freq, expected) -> None:
    assert window_range(freq) == expected
    assert default_space(freq, 100_000).window == expected


@pytest.mark.parametrize("freq", ["2h", "15min", "W-SUN", "QS-OCT", "3D"])
def test_multiples_and_anchors_take_their_family_s_range(freq) -> None:
    assert default_space(freq, 100_000).window == EARLIER_RANGES[freq.lstrip("0123456789").split("-")[0]]


@pytest.mark.parametrize("freq", [None, "", "YS", "not a frequency"])
def test_an_unknown_frequency_takes_the_default_range(freq) -> None:
    assert default_space(freq, 100_000).window == DEFAULT_SPACE.window


def test_searchable_values_and_apply_params_follow_the_config_sections() -> None:
    assert all(any(name in option_names(section) for section in ("data", "model", "train")) for name in PARAMS)
    base = ForecasterConfig()
    changed = apply_params(base, {"units": 16, "window": 9, "lr": 0.01, "cell": "gru"})
    assert (changed.model.units, changed.data.window, changed.train.lr, changed.model.cell) == (16, 9, 0.01, "gru")
    assert searchable_values(changed) == {**searchable_values(base), "units": 16, "window": 9, "lr": 0.01,
                                          "cell": "gru"}
    assert SearchSpace(units=(8, 16), cell=("gru",)).contains(changed)
    assert not SearchSpace(units=(32, 64)).contains(changed)
