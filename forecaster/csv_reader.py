"""Forgiving CSV reading: delimiter, decimal mark, encoding and date column detected, each overridable."""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from forecaster.csv_dates import find_dates, spread
from forecaster.errors import DataError
from forecaster.frequency import infer_freq
from forecaster.series import Dataset, tidy

MIN_ROWS = 3  # fewer rows cannot even hold one input step, one target and one check
MAX_ROWS = 2_000_000  # caps memory and training time for one upload
MAX_COLUMNS = 500
MAX_BYTES = 200 * 1024 * 1024

_DELIMITERS = (",", ";", "\t", "|")  # ties go to the earlier one
_EXTRA_NA = [".", "-", "--", "—", "#VALUE!", "#DIV/0!", "n.a.", "k.A."]  # FRED, spreadsheets, German exports
_TARGET_NAME = re.compile(r"temp|value|price|^y$|wert|preis|kurs", re.I)
_COMMA_DECIMAL = re.compile(r"[-+]?(\d+,(\d{1,2}|\d{4,})|\d{1,3}(\.\d{3})+,\d+)")
_DOT_DECIMAL = re.compile(r"[-+]?(\d+\.(\d{1,2}|\d{4,})|\d{1,3}(,\d{3})+\.\d+)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEAD_CHARS = 65536  # sniff delimiter and decimal from this much of the file


def _read_source(source: str | Path | bytes, name: str | None) -> tuple[bytes, str, str]:
    """Raw bytes, display name and reload source of a path or an upload."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "upload.csv"
        data, origin = bytes(source), f"upload:{label}"  # bytes() copies, so the caller's buffer is never touched
    else:
        path = Path(source).expanduser()
        label, origin = name or path.name, str(path)
        try:
            if path.is_dir():
                raise DataError(f"{path} is a folder, not a file; choose a CSV file.")
            if path.stat().st_size > MAX_BYTES:
                raise DataError(f"{path.name} is larger than {MAX_BYTES // 2**20} MB; keep fewer rows or columns.")
            data = path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"There is no file at {path}; check the path.") from None
        except (OSError, ValueError) as exc:
            raise DataError(f"Could not open {path} ({getattr(exc, 'strerror', None) or exc}); "
                            "check the path and its permissions.") from None
    if len(data) > MAX_BYTES:
        raise DataError(f"The file is larger than {MAX_BYTES // 2**20} MB; keep fewer rows or columns.")
    if not data.strip():
        raise DataError("The file is empty; choose a CSV file with a header row and rows of dates and numbers.")
    return data, label, origin


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """The file's text and the encoding that read it; refuses binary files."""
    if encoding:
        candidates: tuple[str, ...] = (encoding,)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ("utf-16",)
    elif b"\x00" in data[:_HEAD_CHARS]:
        candidates = ()  # NUL bytes never occur in a single-byte or UTF-8 text file
    else:
        candidates = ("utf-8-sig", "cp1252", "latin-1")  # latin-1 reads any byte, so one always succeeds
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except LookupError:
            raise DataError(f"{encoding!r} is not a text encoding Python knows; try utf-8 or latin-1.") from None
        except UnicodeDecodeError:
            if encoding:
                raise DataError(f"The file is not valid {encoding} text; leave the encoding empty to detect it.") from None
            continue
        head = text[:_HEAD_CHARS]
        if len(_CONTROL.findall(head)) > 0.01 * len(head):
            break  # control characters are what binary data looks like when read as text
        if candidate == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            candidate = "utf-8"
        return text.lstrip("\ufeff"), candidate
    raise DataError("The file looks binary, not like text; export the data as CSV (comma, semicolon or tab separated).")


def _head_lines(text: str) -> list[str]:
    lines = text[:_HEAD_CHARS].splitlines()
    if len(text) > _HEAD_CHARS:
        lines = lines[:-1]  # the last one may be cut in the middle
    return [line for line in lines if line.strip()][:100]


def _split(lines: list[str], delimiter: str) -> list[list[str]]:
    try:
        return [row for row in csv.reader(lines, delimiter=delimiter) if any(cell.strip() for cell in row)]
    except csv.Error:
        return []


def _sniff_delimiter(lines: list[str]) -> str:
    # csv.Sniffer guesses wildly on numeric data; instead pick the delimiter that splits the header
    # into several fields and splits (nearly) every other line into the same number of fields.
    best, best_key = None, None
    for delimiter in _DELIMITERS:
        rows = _split(lines, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        width, body = len(rows[0]), rows[1:]
        consistency = sum(len(row) == width for row in body) / len(body) if body else 1.0
        key = (consistency >= 0.9, width if consistency >= 0.9 else consistency)
        if best_key is None or key > best_key:
            best, best_key = delimiter, key
    if best is None:
        raise DataError("The file has only one column; it needs a date column and a column of numbers, "
                        "separated by commas, semicolons, tabs or |.")
    return best


def _sniff_decimal(rows: list[list[str]], delimiter: str) -> str:
    cells = [cell.strip() for row in rows[1:] for cell in row]
    comma = sum(bool(_COMMA_DECIMAL.fullmatch(c)) for c in cells)
    dot = sum(bool(_DOT_DECIMAL.fullmatch(c)) for c in cells)
    if comma != dot:
        return "," if comma > dot else "."
    # Only "1,234"-like cells: semicolon files are European exports, where the comma is the decimal mark.
    return "," if delimiter == ";" and any(re.fullmatch(r"[-+]?\d{1,3},\d{3}", c) for c in cells) else "."


def _parse_table(text: str, delimiter: str, decimal: str) -> tuple[pd.DataFrame, int]:
    """The text as a table of strings and numbers, and how many malformed lines were skipped."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            table = pd.read_csv(io.StringIO(text), sep=delimiter, decimal=decimal if decimal != delimiter else ".",
                                index_col=False, skipinitialspace=True, on_bad_lines="warn",
                                na_values=_EXTRA_NA, nrows=MAX_ROWS + 1, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError("The file has no header row; the first line must name the columns.") from None
    except (pd.errors.ParserError, ValueError, OverflowError, csv.Error) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise DataError(f"The file could not be read as a table ({reason}); "
                        "check that it is a CSV file with one header row.") from None
    skipped = sum(str(w.message).count("Skipping line") for w in caught)
    names: list[str] = []
    for i, column in enumerate(table.columns):
        base = str(column).strip() or f"column {i + 1}"
        unique, n = base, 1
        while unique in names:  # names equal after trimming spaces would clash
            n += 1
            unique = f"{base} ({n})"
        names.append(unique)
    return table.set_axis(names, axis=1), skipped


def _to_numbers(values: pd.Series, decimal: str) -> pd.Series:
    """The column as float64; cells that are not numbers become NaN."""
    if is_numeric_dtype(values) or is_bool_dtype(values):
        return values.astype("float64")
    text = values.astype(str).str.strip()
    quick = pd.to_numeric(text.str.replace(",", ".", regex=False) if decimal == "," else text, errors="coerce")
    if quick.notna().sum() == text.notna().sum():
        return quick.astype("float64")
    # Slower clean-up of "$1,234.50", "12 %", "1.234,5" and "1 234". No look-arounds in these patterns:
    # pandas then runs them in C through pyarrow instead of row by row in Python.
    text = text.str.replace(r"^([-+]?)[$€£¥]\s*", r"\1", regex=True).str.replace(r"\s*%$", "", regex=True)
    separators = "\\s\u00a0'’" + ("." if decimal == "," else ",")
    for _ in range(2):  # one pass removes every other separator of 1.234.567
        text = text.str.replace(rf"(\d)[{separators}](\d\d\d)(\D|$)", r"\1\2\3", regex=True)
    if decimal == ",":
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _numeric_columns(table: pd.DataFrame, decimal: str) -> tuple[dict[str, pd.Series], list[str], list[str], int]:
    """Columns that hold numbers, those dropped as text, those empty, and how many cells were not numbers."""
    numbers, dropped, empty, bad = {}, [], [], 0
    for column in table.columns:
        values = table[column]
        present = int(values.notna().sum())
        if present == 0:
            empty.append(column)
        elif _to_numbers(spread(values), decimal).notna().mean() < 0.5:  # mostly text: skip the full pass
            dropped.append(column)
        else:
            parsed = _to_numbers(values, decimal)
            ok = int(parsed.notna().sum())
            if ok >= 0.5 * present:  # mostly numbers: the odd "n/a" or typo becomes a gap
                numbers[column], bad = parsed, bad + present - ok
            else:
                dropped.append(column)
    return numbers, dropped, empty, bad


def _check_column(column: str, role: str, frame: pd.DataFrame, empty: list[str], date_column: str) -> None:
    available = ", ".join(frame.columns)
    if column in frame.columns and frame[column].notna().any():
        return
    if column in frame.columns or column in empty:
        raise DataError(f"The {role} column {column!r} has no values in any row; choose one of: {available}.")
    if column == date_column:
        raise DataError(f"{column!r} is the date column, so it cannot be the {role}; choose one of: {available}.")
    raise DataError(f"There is no numeric column {column!r} for the {role}; choose one of: {available}.")


def read_csv(source: str | Path | bytes, *, name: str | None = None, date_column: str | None = None,
             target: str | None = None, features: Sequence[str] | None = None,
             delimiter: str | None = None, decimal: str | None = None, encoding: str | None = None) -> Dataset:
    """Read a CSV path or uploaded bytes, detecting encoding, delimiter, decimal mark and date column."""
    data, label, origin = _read_source(source, name)
    text, encoding = _decode(data, encoding)
    if not text.strip():
        raise DataError("The file is empty; choose a CSV file with a header row and rows of dates and numbers.")
    lines = _head_lines(text)
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise DataError(f"Delimiter {delimiter!r} cannot separate columns; use one character such as , ; | or tab.")
    delimiter = delimiter or _sniff_delimiter(lines)
    rows = _split(lines, delimiter)
    if rows and len(rows[0]) > MAX_COLUMNS:
        raise DataError(f"The file has {len(rows[0])} columns; at most {MAX_COLUMNS} are supported, so keep fewer.")
    if decimal is not None and decimal not in (".", ","):
        raise DataError(f"Decimal mark {decimal!r} is not supported; use . or , (or leave it empty to detect it).")
    decimal = decimal or _sniff_decimal(rows, delimiter)

    table, skipped = _parse_table(text, delimiter, decimal)
    if len(table.columns) > MAX_COLUMNS:
        raise DataError(f"The file has {len(table.columns)} columns; at most {MAX_COLUMNS} are supported, so keep fewer.")
    if len(table.columns) < 2:
        raise DataError("The file has only one column; it needs a date column and a column of numbers, "
                        "separated by commas, semicolons, tabs or |.")
    if table.empty:
        raise DataError(f"The file has a header row but no data rows; add at least {MIN_ROWS} rows below the header.")
    if len(table) > MAX_ROWS:
        raise DataError(f"The file has more than {MAX_ROWS:,} rows; keep fewer rows or aggregate them first.")
    date_col, dates = find_dates(table, date_column)
    numbers, dropped, empty, bad = _numeric_columns(table.drop(columns=date_col), decimal)
    if not numbers:
        raise DataError(f"The file has dates in {date_col!r} but no column of numbers; add a numeric column to forecast.")

    notes = []
    if skipped:
        notes.append(f"Skipped {skipped} malformed lines that had the wrong number of fields.")
    unread = int(dates.isna().sum())
    if unread:
        notes.append(f"Dropped {unread} rows whose date is missing or could not be read.")
    if dropped:
        notes.append(f"Ignored columns that do not hold numbers: {', '.join(dropped)}.")
    if bad:
        notes.append(f"Treated {bad} values that are not numbers as missing.")
    raw = pd.DataFrame(numbers).set_axis(pd.DatetimeIndex(dates), axis=0).loc[dates.notna().to_numpy()]
    frame, tidy_notes = tidy(raw)

    if target is None:
        filled = [c for c in frame.columns if frame[c].notna().any()]
        named = [c for c in filled if _TARGET_NAME.search(c)]
        target = next((c for c in ("Close", "Adj Close") if c in filled), None) or (named or filled or [None])[0]
        if target is None:
            raise DataError("Every numeric column is empty in the rows that have dates; check the file's values.")
    _check_column(target, "target", frame, empty, date_col)
    features = [features] if isinstance(features, str) else features or ()
    chosen = tuple(dict.fromkeys(str(f) for f in features if f != target))
    for feature in chosen:
        _check_column(feature, "feature", frame, empty, date_col)
    usable = int(frame[target].notna().sum())
    if usable < MIN_ROWS:
        raise DataError(f"Only {usable} rows have both a date and a value in {target!r}; at least {MIN_ROWS} "
                        "are needed, so add more rows.")

    unit = re.search(r"[(\[]\s*([^()\[\]]{1,12}?)\s*[)\]]\s*$", target)
    first, last = frame.index[0], frame.index[-1]
    return Dataset(frame, label, origin, target, chosen, infer_freq(frame.index), unit.group(1) if unit else "",
                   f"{len(frame)} rows from {first:%Y-%m-%d} to {last:%Y-%m-%d} read from {label}.",
                   tuple(notes + tidy_notes),
                   {"delimiter": delimiter, "decimal": decimal, "encoding": encoding, "date_column": date_col,
                    "numeric_columns": list(frame.columns), "dropped_columns": dropped + empty,
                    "rows": len(frame), "skipped_lines": skipped})
