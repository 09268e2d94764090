"""Where the windows lie: the chronological split, each part's forecast origins, what fits, and the inputs."""

from __future__ import annotations

import numpy as np

from forecaster.config import MAX_HORIZON, MAX_WINDOW, DataConfig

__all__ = ["split_points", "origins_between", "origin_ranges", "window_counts", "fits", "largest_window",
           "largest_horizon", "rows_needed", "short_series_message", "too_few_rows_message", "input_windows"]


def split_points(n_rows: int, split: tuple[float, float, float]) -> tuple[int, int]:
    """Row indices where validation and test begin, for a chronological split."""
    train_end = int(round(n_rows * split[0]))
    val_end = int(round(n_rows * (split[0] + split[1])))
    return train_end, val_end


def origins_between(first: int, last: int) -> np.ndarray:
    """Origins first..last inclusive (empty when last < first)."""
    return np.arange(first, last + 1, dtype=np.int64) if last >= first else np.empty(0, dtype=np.int64)


def origin_ranges(n_rows: int, window: int, horizon: int, split: tuple[float, float, float],
                  transform: str) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(first, last) origin of the training, validation and test windows; the one rule prepare uses."""
    train_end, val_end = split_points(n_rows, split)
    first_origin = (0 if transform == "none" else 1) + window - 1  # a transform loses the first row
    return ((first_origin, train_end - 1 - horizon), (max(first_origin, train_end - 1), val_end - 1 - horizon),
            (max(first_origin, val_end - 1), n_rows - 1 - horizon))


def window_counts(n_rows: int, window: int, horizon: int, split: tuple[float, float, float],
                  transform: str = "none") -> tuple[int, int, int]:
    """How many training, validation and test windows a cleaned series of `n_rows` gives."""
    counts = (max(0, last - first + 1) for first, last in origin_ranges(n_rows, window, horizon, split, transform))
    return tuple(counts)  # type: ignore[return-value]


def fits(n_rows: int, window: int, horizon: int, split: tuple[float, float, float], transform: str = "none") -> bool:
    """Whether prepare accepts the series: at least 2 training windows, 1 validation and 1 test window."""
    train, val, test = window_counts(n_rows, window, horizon, split, transform)
    return train >= 2 and val >= 1 and test >= 1


def _last_fitting(fit, candidates: range) -> int | None:
    """The last candidate before the first that does not fit (None if the first does not)."""
    best = None
    for candidate in candidates:
        if not fit(candidate):
            break
        best = candidate
    return best


def largest_window(n_rows: int, horizon: int, split: tuple[float, float, float], transform: str = "none") -> int | None:
    """The longest window (2 to MAX_WINDOW) that fits with this horizon; None when not even 2 does."""
    # A longer window only removes training windows, so the first misfit ends the search.
    return _last_fitting(lambda window: fits(n_rows, window, horizon, split, transform), range(2, MAX_WINDOW + 1))


def largest_horizon(n_rows: int, window: int, split: tuple[float, float, float], transform: str = "none") -> int | None:
    """The longest horizon (1 to MAX_HORIZON) that fits with this window; None when not even 1 does."""
    # A longer horizon removes windows from every part, so again the first misfit ends the search.
    return _last_fitting(lambda horizon: fits(n_rows, window, horizon, split, transform), range(1, MAX_HORIZON + 1))


def rows_needed(window: int, horizon: int, split: tuple[float, float, float], transform: str = "none") -> int:
    """The fewest rows from which on every longer series fits this window, horizon and split."""
    first_row = 0 if transform == "none" else 1
    # From here on each part is big enough whatever the rounding of the split (each part's rows are
    # at least n * share - 1); below it, rounding can make a longer series fail where a shorter one fit.
    bound = int(np.ceil((window + horizon + first_row + 2) / min(split)))
    needed = bound
    while needed > 1 and fits(needed - 1, window, horizon, split, transform):
        needed -= 1
    return needed


def short_series_message(n_rows: int, split: tuple[float, float, float], transform: str = "none",
                         resample: str | None = None) -> str | None:
    """The sentence saying why no model at all fits `n_rows` with this split; None when the smallest one fits."""
    if fits(n_rows, 2, 1, split, transform):
        return None
    counts = window_counts(n_rows, 2, 1, split, transform)
    short = [name for name, count, least in zip(("training", "validation", "test"), counts, (2, 1, 1)) if count < least]
    advice = ["load more data"]
    if n_rows >= (0 if transform == "none" else 1) + 6:  # 4 rows for two training windows of 2 + 1, 1 each for the rest
        advice.append(f"give the {' and '.join(short)} part{'s' if len(short) > 1 else ''} a larger share")
    if resample:
        advice.append("resample less coarsely")
    return (f"The series has {n_rows} usable rows, too few for any model with a "
            f"{'/'.join(f'{s:.0%}' for s in split)} split: even the smallest (a window of 2 and a horizon of 1) "
            f"needs at least {rows_needed(2, 1, split, transform)} rows; {', '.join(advice[:-1])}"
            f"{' or ' if len(advice) > 1 else ''}{advice[-1]}.")


def too_few_rows_message(n_rows: int, config: DataConfig) -> str:
    """The sentence saying why this window and horizon do not fit `n_rows`, and what would."""
    window, horizon, split, transform = config.window, config.horizon, config.split, config.transform
    hopeless = short_series_message(n_rows, split, transform, config.resample)
    if hopeless is not None:
        return hopeless
    shorter_window = largest_window(n_rows, horizon, split, transform)
    shorter_horizon = largest_horizon(n_rows, window, split, transform)
    options = []
    if shorter_window is not None:
        options.append(f"a shorter window (the largest window that fits is {shorter_window})")
    if shorter_horizon is not None:
        options.append(f"a shorter horizon (at most {shorter_horizon} with a window of {window})")
    if not options:
        options.append(f"a shorter window and horizon (with a horizon of 1 the largest window that fits is "
                       f"{largest_window(n_rows, 1, split, transform)})")
    return (f"The series has {n_rows} usable rows, too few for a window of {window} and a horizon of {horizon} "
            f"with a {'/'.join(f'{s:.0%}' for s in split)} split; use {' or '.join(options)}, or more data.")


def input_windows(values: np.ndarray, origins: np.ndarray, window: int) -> np.ndarray:
    """Only the inputs for each origin; targets may lie beyond the data (forecasting)."""
    origins = np.asarray(origins, dtype=np.int64)
    return values[origins[:, None] + np.arange(-window + 1, 1)]  # (n, window, n_columns)
