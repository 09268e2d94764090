"""The Data page's preview: the frame and split that training sees, outliers clipped as prepare clips them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecaster.cleaning import clean
from forecaster.config import DataConfig
from forecaster.errors import DataError
from forecaster.prepare import prepare
from forecaster.preview import preview


@pytest.fixture
def spiky(synthetic_series: pd.DataFrame) -> pd.DataFrame:
    frame = synthetic_series.copy()
    frame.iloc[500, 0] = 1_000.0  # one wild value in the test part: the training part's bounds clip it
    frame.iloc[50, 1] = np.nan  # a gap to fill
    return frame


@pytest.mark.parametrize("outliers", ["iqr", "zscore"])
def test_the_preview_is_the_frame_and_split_prepare_trains_on(spiky: pd.DataFrame, outliers: str) -> None:
    config = DataConfig(target="y", features=("x",), window=10, outliers=outliers, split=(0.6, 0.2, 0.2))
    view = preview(spiky, config, "y")
    prepared = prepare(spiky, config, "y")
    pd.testing.assert_frame_equal(view.frame, prepared.frame)
    assert (view.train_end, view.val_end) == (prepared.train_end, prepared.val_end) == (360, 480)
    assert view.frame["y"].iloc[500] < 100 and view.clipped >= 1
    assert view.too_short is None and view.sizes == (360, 120, 120)
    index = view.frame.index
    assert view.parts == (("train", index[0], index[359]), ("validation", index[360], index[479]),
                          ("test", index[480], index[-1]))


def test_without_an_outlier_option_the_preview_is_the_cleaned_series(spiky: pd.DataFrame) -> None:
    config = DataConfig(target="y", features=("x",))
    view = preview(spiky, config, "y")
    pd.testing.assert_frame_equal(view.frame, clean(spiky, config, "y"))
    assert view.clipped == 0 and view.frame["y"].max() == 1_000.0


def test_a_series_too_short_to_split_says_why_and_shades_nothing(synthetic_series: pd.DataFrame) -> None:
    view = preview(synthetic_series.head(5), DataConfig(target="y", outliers="iqr"), "y")
    assert view.too_short is not None and "too few for any model" in view.too_short
    assert view.parts == () and len(view.frame) == 5 and view.clipped == 0


def test_data_that_cannot_be_cleaned_raises_as_prepare_does(synthetic_series: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="'nope' is not in the data"):
        preview(synthetic_series, DataConfig(target="nope"), "nope")
