"""What training will see of a series before any window: cleaned, outliers clipped, and where the split falls."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from forecaster.config import DataConfig
from forecaster.prepare import clean, clip_outliers, short_series_message, split_points


@dataclass(frozen=True)
class Preview:
    """A cleaned series as `prepare` hands it to the windows, and its chronological split."""

    frame: pd.DataFrame  # target and features, cleaned and (with an outlier option) clipped
    train_end: int  # the row where the validation part begins
    val_end: int  # the row where the test part begins
    clipped: int  # how many values clipping changed (bounds from the training part only)
    too_short: str | None = None  # why no model fits this series with this split; None when one does

    @property
    def parts(self) -> tuple[tuple[str, pd.Timestamp, pd.Timestamp], ...]:
        """(name, first date, last date) of the training, validation and test parts; () for a series too short."""
        if self.too_short is not None:
            return ()
        index = self.frame.index
        return (("train", index[0], index[self.train_end - 1]),
                ("validation", index[self.train_end], index[self.val_end - 1]),
                ("test", index[self.val_end], index[-1]))

    @property
    def sizes(self) -> tuple[int, int, int]:
        """Rows in the training, validation and test parts."""
        return self.train_end, self.val_end - self.train_end, len(self.frame) - self.val_end


def preview(frame: pd.DataFrame, config: DataConfig, target: str) -> Preview:
    """The series exactly as training will see it before windows: `prepare`'s cleaning, split and clipping.

    Raises DataError or ConfigError as `prepare` would for data that cannot be cleaned. A series too short
    for any model is not an error here: `too_short` says why, and the frame is shown unclipped, with no split.
    """
    cleaned = clean(frame, config, target)
    train_end, val_end = split_points(len(cleaned), config.split)
    too_short = short_series_message(len(cleaned), config.split, config.transform, resample=config.resample)
    if too_short is not None:
        return Preview(frame=cleaned, train_end=train_end, val_end=val_end, clipped=0, too_short=too_short)
    clipped = clip_outliers(cleaned, config.outliers, train_end)  # the bounds prepare() uses, from training rows
    changed = int((clipped != cleaned).to_numpy().sum())
    return Preview(frame=clipped, train_end=train_end, val_end=val_end, clipped=changed)
