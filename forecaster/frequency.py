"""What a frequency implies: its offset family, seasonal cycles, season length and default lookback."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries import offsets as pd_offsets
from pandas.tseries.frequencies import to_offset

from forecaster.contract import finite_series, positive_int

__all__ = ["Family", "Season", "family_of", "season_length", "default_window", "window_range", "is_daily",
           "describe_season", "choose_season", "infer_freq", "calendar_word"]

DEFAULT_WINDOW = 30  # lookback for a frequency with no known family


@dataclass(frozen=True)
class Family:
    """What an offset family implies, in steps of its base unit (a multiple such as "2h" divides cycles only)."""

    classes: tuple[type, ...]  # pandas offset classes of the family
    unit: str  # "days", "hours", ...
    cycles: tuple[tuple[int, str], ...]  # (period, name) of each seasonal cycle; the first is the default
    window: int  # default lookback in steps: one natural cycle (a week of days is too short for weather)
    windows: tuple[int, int]  # lookbacks worth searching: a few cycles' worth of context


_MONTHS = (pd_offsets.MonthEnd, pd_offsets.MonthBegin, pd_offsets.BusinessMonthEnd, pd_offsets.BusinessMonthBegin)
_QUARTERS = (pd_offsets.QuarterEnd, pd_offsets.QuarterBegin, pd_offsets.BQuarterEnd, pd_offsets.BQuarterBegin)
# Business days first: CustomBusinessDay is a BusinessDay, and neither is a Day.
FAMILIES = (
    Family((pd_offsets.BusinessDay, pd_offsets.CustomBusinessDay), "trading days", ((5, "weekly"), (252, "yearly")),
           20, (5, 60)),
    Family((pd_offsets.Day,), "days", ((7, "weekly"), (365, "yearly")), 30, (7, 60)),
    Family((pd_offsets.Hour,), "hours", ((24, "daily"), (168, "weekly")), 48, (12, 168)),
    Family((pd_offsets.Minute,), "minutes", ((60, "hourly"), (1440, "daily")), 60, (10, 120)),
    Family((pd_offsets.Week,), "weeks", ((52, "yearly"),), 26, (4, 52)),
    Family(_MONTHS, "months", ((12, "yearly"),), 12, (3, 24)),
    Family(_QUARTERS, "quarters", ((4, "yearly"),), 8, (2, 12)),
)

# Aliases older pandas accepted and pandas 3 refuses; users' CSVs and docs still use them.
_LEGACY_ALIASES = {"H": "h", "T": "min", "M": "ME", "BM": "BME", "Q": "QE", "BQ": "BQE"}


def _parse_offset(freq: str) -> pd_offsets.BaseOffset | None:
    """Parse a pandas offset alias, also accepting legacy ones; None if unparseable."""
    try:
        return to_offset(freq)
    except (ValueError, TypeError):
        pass
    match = re.fullmatch(r"\s*(\d*)\s*([A-Za-z]+)(-\w+)?\s*", str(freq))
    if match is None or match.group(2) not in _LEGACY_ALIASES:
        return None
    mult, base, anchor = match.group(1), _LEGACY_ALIASES[match.group(2)], match.group(3) or ""
    try:
        return to_offset(f"{mult}{base}{anchor}")
    except (ValueError, TypeError):
        return None


def family_of(freq: str | None) -> tuple[int, Family | None]:
    """(multiple, family) of a frequency alias, legacy ones too; (1, None) when it has no known family."""
    offset = None if not freq else _parse_offset(freq)
    if offset is None or offset.n < 1:
        return 1, None
    for family in FAMILIES:
        if isinstance(offset, family.classes):
            return offset.n, family
    return offset.n, None


def _candidates(freq: str | None) -> list[tuple[int, str]]:
    """(period in steps, name) of each cycle the frequency can have, default first; multiples divide."""
    n, family = family_of(freq)
    cycles = family.cycles if family else ()
    return [(period // n, name) for period, name in cycles if period % n == 0 and period // n > 1]


def season_length(freq: str | None) -> int:
    """Default seasonal period for a pandas frequency alias: D → 7, B → 5, h → 24, W → 52, ME → 12, ...

    Multiples divide the period when they can ("2h" → 12, "15min" → 4); otherwise, and for
    unknown or missing frequencies, 1 (no seasonality, so seasonal naive equals naive).
    """
    n, family = family_of(freq)
    if family is None:
        return 1
    period = family.cycles[0][0]
    return period // n if period % n == 0 else 1


def default_window(freq: str | None) -> int:
    """The lookback, in steps, that covers one natural cycle of the frequency's family; DEFAULT_WINDOW if unknown."""
    family = family_of(freq)[1]
    return family.window if family else DEFAULT_WINDOW


def window_range(freq: str | None) -> tuple[int, int] | None:
    """The lookbacks, in steps, worth searching at this frequency (daily: a week to two months); None if unknown."""
    family = family_of(freq)[1]
    return family.windows if family else None


def is_daily(freq: str | None) -> bool:
    """True for calendar days at any multiple ("D", "2D"); trading days are not daily here."""
    family = family_of(freq)[1]
    return family is not None and family.unit == "days"


@dataclass(frozen=True)
class Season:
    """A seasonal period and how to say it: `description` for sentences, `short` for labels."""

    period: int  # in steps of the series
    name: str  # "yearly", "weekly", ...; "" for a period with no name
    span: str  # "365 days", "12 steps of 2 hours", "30 steps"
    found: bool  # True when the training part showed this cycle
    note: str = ""  # why this period was taken without being found, e.g. "no clear cycle found"

    @property
    def description(self) -> str:
        """E.g. "yearly (365 days)" or "weekly (7 days; no clear cycle found)"."""
        inner = self.span + (f"; {self.note}" if self.note else "")
        return f"{self.name} ({inner})" if self.name else inner

    @property
    def short(self) -> str:
        """E.g. "yearly, 365 days" or "weekly, 7 days; no clear cycle found" (for a label in parentheses)."""
        head = f"{self.name}, {self.span}" if self.name else self.span
        return head + (f"; {self.note}" if self.note else "")


def describe_season(freq: str | None, period: int, found: bool = False, note: str = "") -> Season:
    """The Season of a given period at frequency `freq`: named when it is one of the frequency's cycles."""
    period = positive_int(period, "season")
    n, family = family_of(freq)
    if period == 1:
        return Season(1, "", "1 step: the same as naive", found, note)
    if family is None:
        span = f"{period} steps"
    elif n == 1:
        span = f"{period} {family.unit}"
    else:
        span = f"{period} steps of {n} {family.unit}"
    name = dict((p, name) for p, name in _candidates(freq)).get(period, "")
    return Season(period, name, span, found, note)


# A cycle must beat the half-period lag by 5%: real ones do by far (Seattle's year: 0.34, its day: 0.02),
# random walks lose (S&P 500: 1.5), and the VIX's year ties at 1.002, which noise could tip either way.
CYCLE_MARGIN = 0.95


def _lag_mae(y: np.ndarray, lag: int, start: int) -> float:
    """mean |y[t] − y[t − lag]| over t in [start, len(y)); start ≥ lag."""
    return float(np.mean(np.abs(y[start:] - y[start - lag: y.size - lag])))


def choose_season(freq: str | None, y_train: np.ndarray) -> Season:
    """The seasonal period the training part shows, among the frequency's cycles (D: 7 and 365, h: 24 and 168, ...).

    A cycle counts when the training part covers it at least twice and it is real: repeating the
    value one period back beats repeating the value half a period back, mean |y[t] − y[t−s]| <
    CYCLE_MARGIN · mean |y[t] − y[t−round(s/2)]| (half a period away a true cycle is at its opposite
    phase; mere persistence makes the shorter lag win; the margin keeps noise from deciding a near
    tie). Among real cycles the one with the lowest error wins.
    With none, the frequency's default period (season_length) comes back, saying so in its note.
    Pass only the training part: whatever it holds decides.
    """
    y = finite_series(y_train)
    errors = {}
    for period, _ in _candidates(freq):
        if y.size < 2 * period:
            continue  # fewer than two cycles: no way to tell a cycle from chance
        error = _lag_mae(y, period, period)
        if error < CYCLE_MARGIN * _lag_mae(y, max(1, round(period / 2)), period):
            errors[period] = error
    if errors:
        best = min(errors.values())
        # Ties (a clean daily cycle repeats weekly too) go to the shorter period: it needs less history.
        period = min(p for p, error in errors.items() if error <= best * (1 + 1e-9) + 1e-12)
        return describe_season(freq, period, found=True)
    default = season_length(freq)
    return describe_season(freq, default, note="no clear cycle found" if default > 1 else "")


# ---------------------------------------------------------------------------------------------- from timestamps

def _step_alias(step: pd.Timedelta) -> str:
    day = pd.Timedelta(days=1)
    if step % day == pd.Timedelta(0):
        return "D" if step == day else f"{step // day}D"  # to_offset would say "24h"
    return to_offset(step).freqstr


def infer_freq(index: pd.DatetimeIndex) -> str | None:
    """The series' pandas frequency alias; tolerates a few gaps (holidays, a skipped hour); None if irregular."""
    index = pd.DatetimeIndex(index).dropna().unique().sort_values()
    if len(index) < 3:
        return None
    with pd.option_context("future.infer_freq_returns_offset", True):
        exact = pd.infer_freq(index)
    if exact is not None:
        return getattr(exact, "freqstr", exact)
    steps = pd.Series(np.diff(index.to_numpy()))
    step = pd.Timedelta(steps.mode().iloc[0])
    midnight = bool((index == index.normalize()).all())
    if midnight and index.is_month_start.all():
        candidate = "MS"
    elif midnight and index.is_month_end.all():
        candidate = "ME"
    elif step == pd.Timedelta(days=1) and (index.day_of_week < 5).all():
        candidate = "B"  # trading days: weekdays with a few holidays missing
    elif step == pd.Timedelta(days=7) and index.day_of_week.nunique() == 1:
        candidate = f"W-{index[0].day_name()[:3].upper()}"
    else:
        candidate = _step_alias(step)
    # A gappy series must sit on the candidate's grid and fill most of it, else it is truly irregular.
    if candidate not in ("MS", "ME", "B") and (index[-1] - index[0]) / step > 1.25 * len(index):
        return None
    grid = pd.date_range(index[0], index[-1], freq=candidate)
    if len(grid) == 0 or not index.isin(grid).all() or len(index) < 0.8 * len(grid):
        return None
    return candidate


# (adjective for one step, noun for a multiple) of each calendar, for sentences like "the 2-hour calendar".
_CALENDAR_WORDS = {"D": ("daily", "day"), "h": ("hourly", "hour"), "min": ("minute", "minute"),
                   "s": ("second", "second"), "MS": ("monthly", "month"), "ME": ("monthly", "month"),
                   "W": ("weekly", "week"), "QS": ("quarterly", "quarter"), "QE": ("quarterly", "quarter"),
                   "YS": ("yearly", "year"), "YE": ("yearly", "year")}


def calendar_word(freq: str) -> str:
    """The calendar of a frequency in a word: "daily", "hourly", "2-hour"; the alias quoted when it has none."""
    offset = to_offset(freq)
    adjective, unit = _CALENDAR_WORDS.get(offset.rule_code.split("-")[0], (f"{freq!r}", ""))
    return adjective if offset.n == 1 or not unit else f"{offset.n}-{unit}"
