"""Test MAE of the LSTM at the studio's defaults against the best baseline, on a panel of real series.

Run: python benchmarks/bench_accuracy.py [--quick] [--json] [--cases NAME,...] [--seeds 0,1,2]
     [--set section.key=value ...] [--variants "name:section.key=v,...;name2:..."] [--threads N]
A case is one series at one horizon (NAME is "series/hH", e.g. seattle-weather/h7, or a series name for
both its horizons). Each case is trained with `default_config` (as the CLI and the app do), once per seed,
and scored with `evaluation.evaluate` on the test part. The last line is
`lstm/best-baseline MAE: geometric mean G, worst W (case)`: the geometric mean over the cases of the
mean-over-seeds ratio LSTM MAE / best baseline MAE (below 1: the LSTM wins), and the worst case.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import importlib.util
import json
import math
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the library beside this file, not an installed copy

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from forecaster.config import ForecasterConfig, default_config  # noqa: E402
from forecaster.datasets import Dataset, infer_freq, list_samples, load_sample  # noqa: E402
from forecaster.errors import ConfigError, ForecasterError  # noqa: E402
from forecaster.estimator import LSTMForecaster  # noqa: E402
from forecaster.evaluation import LSTM, evaluate  # noqa: E402
from forecaster.training import configure_threads, warm_up  # noqa: E402

# The multi-step horizon of each frequency: one natural cycle, or the span a user plans over.
# Weekly follows the M4 competition's 13 (a quarter); a year (52) would outrun the default window of 26.
HORIZONS = {"h": 24, "D": 7, "B": 5, "W": 13, "MS": 12, "QS": 4, "YS": 5}
# Quick (CI): daily, hourly, business-daily and monthly, each at horizon 1 and its multi-step horizon.
QUICK = ("seattle-weather/h1", "seattle-weather/h7", "seattle-temps/h1", "seattle-temps/h24", "sp500/h1",
         "sp500/h5", "elnino/h1", "elnino/h12")
LAST_LINE = "lstm/best-baseline MAE: geometric mean {g:.3f}, worst {w:.3f} ({case})"


# ----------------------------------------------------------------------------------------- the panel

def _frame(values: pd.DataFrame | pd.Series, dates) -> pd.DataFrame:
    """Float64 columns on a DatetimeIndex named "date", as the loaders hand a Dataset to the library."""
    frame = values.to_frame() if isinstance(values, pd.Series) else values
    frame = frame.astype("float64").set_axis(pd.DatetimeIndex(dates, name="date"), axis=0)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _dataset(name: str, frame: pd.DataFrame, target: str, unit: str, description: str) -> Dataset:
    return Dataset(frame, name, f"bench:{name}", target, (), infer_freq(frame.index), unit, description)


def _statsmodels(name: str) -> pd.DataFrame:
    module = importlib.import_module(f"statsmodels.datasets.{name}")  # not statsmodels.api: 3x faster
    return module.load_pandas().data


def _arch_csv(folder: str, file: str) -> pd.DataFrame:
    spec = importlib.util.find_spec("arch")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("arch")
    return pd.read_csv(Path(list(spec.submodule_search_locations)[0]) / "data" / folder / file)


def _co2() -> Dataset:
    data = _statsmodels("co2")  # weekly (Saturdays), 1958-2001; 59 weeks are missing
    frame = _frame(data["co2"], data.index).interpolate(method="time")  # what cleaning would do, done up front
    return _dataset("co2", frame, "co2", "ppm", "Weekly atmospheric CO2 at Mauna Loa, 1958-2001 (statsmodels).")


def _sunspots() -> Dataset:
    data = _statsmodels("sunspots")
    dates = pd.to_datetime(data["YEAR"].astype(int).astype(str), format="%Y")
    return _dataset("sunspots", _frame(data["SUNACTIVITY"], dates), "SUNACTIVITY", "",
                    "Yearly sunspot numbers, 1700-2008 (statsmodels).")


def _nile() -> Dataset:
    data = _statsmodels("nile")
    dates = pd.to_datetime(data["year"].astype(int).astype(str), format="%Y")
    return _dataset("nile", _frame(data["volume"], dates), "volume", "1e8 m³",
                    "Yearly flow of the Nile at Aswan, 1871-1970 (statsmodels).")


def _elnino() -> Dataset:
    data = _statsmodels("elnino")  # one row per year, one column per month: melt to one series
    long = data.melt(id_vars="YEAR", var_name="month", value_name="sst")
    long["date"] = pd.to_datetime(long["YEAR"].astype(int).astype(str) + "-" + long["month"], format="%Y-%b")
    long = long.sort_values("date")
    return _dataset("elnino", _frame(long["sst"], long["date"]), "sst", "°C",
                    "Monthly sea surface temperature in the Nino 1+2 region, 1950-2010 (statsmodels).")


def _quarterly(data: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(int(y), 3 * int(q) - 2, 1) for y, q in zip(data["year"], data["quarter"])])


def _realgdp() -> Dataset:
    data = _statsmodels("macrodata")
    return _dataset("realgdp", _frame(data["realgdp"], _quarterly(data)), "realgdp", "bn 2005 USD",
                    "Quarterly US real GDP, 1959-2009 (statsmodels macrodata).")


def _interest() -> Dataset:
    data = _statsmodels("interest_inflation")
    return _dataset("interest", _frame(data["R"], _quarterly(data)), "R", "",
                    "Quarterly German long-term interest rate, 1972-1998 (statsmodels interest_inflation).")


def _core_cpi() -> Dataset:
    data = _arch_csv("core_cpi", "core-cpi.csv.gz")
    return _dataset("core-cpi", _frame(data["CPILFESL"], pd.to_datetime(data["Date"], format="%m/%d/%Y")),
                    "CPILFESL", "index", "Monthly US core CPI, 1957-2018 (arch).")


def _baa() -> Dataset:
    data = _arch_csv("default", "default.csv.gz")
    return _dataset("baa", _frame(data["BAA"], pd.to_datetime(data["Date"], format="%m/%d/%Y")), "BAA", "%",
                    "Monthly Moody's BAA corporate bond yield, 1919-2018 (arch).")


def _market() -> Dataset:
    data = _arch_csv("frenchdata", "frenchdata.csv.gz")
    dates = pd.to_datetime(data["Date"].astype(str), format="%Y%m")
    return _dataset("market-excess", _frame(data["Mkt-RF"], dates), "Mkt-RF", "%",
                    "Monthly US stock market excess return, 1926-2018 (Fama-French via arch).")


def _employment() -> Dataset:
    from vega_datasets import data

    raw = data.us_employment()
    return _dataset("us-employment", _frame(raw["nonfarm"], pd.to_datetime(raw["month"])), "nonfarm",
                    "thousands", "Monthly US nonfarm employment, 2006-2015 (vega_datasets).")


# Series that ship inside installed packages besides the studio's own samples, read offline, with the
# frequency `infer_freq` finds in them (declared, so the panel can be listed without loading every series).
EXTRA: dict[str, tuple[str, Callable[[], Dataset]]] = {
    "co2": ("W-SAT", _co2), "sunspots": ("YS-JAN", _sunspots), "nile": ("YS-JAN", _nile),
    "elnino": ("MS", _elnino), "realgdp": ("QS-JAN", _realgdp), "interest": ("QS-JAN", _interest),
    "core-cpi": ("MS", _core_cpi), "baa": ("MS", _baa), "market-excess": ("MS", _market),
    "us-employment": ("MS", _employment)}
_SAMPLE_FREQ = {info.name: info.freq for info in list_samples()}


@functools.lru_cache(maxsize=None)
def _load(series: str) -> Dataset:
    if series in EXTRA:
        return EXTRA[series][1]()
    return load_sample(series)


def load_series(series: str) -> Dataset:
    """The named series as a Dataset (a private copy of the frame: runs must not share state)."""
    cached = _load(series)
    return dataclasses.replace(cached, frame=cached.frame.copy())


def series_names() -> list[str]:
    return list(_SAMPLE_FREQ) + list(EXTRA)


def declared_freq(series: str) -> str:
    return EXTRA[series][0] if series in EXTRA else _SAMPLE_FREQ[series]


def multi_horizon(freq: str | None) -> int:
    """The panel's multi-step horizon for a pandas frequency alias (e.g. "W-SAT" -> 13, "QS-OCT" -> 4)."""
    base = (freq or "").lstrip("0123456789").split("-")[0]
    base = {"H": "h", "ME": "MS", "M": "MS", "QE": "QS", "Q": "QS", "Y": "YS", "YE": "YS", "A": "YS", "AS": "YS",
            "C": "B"}.get(base, base)
    return HORIZONS.get(base, 5)


@dataclass(frozen=True)
class Case:
    """One series at one horizon."""

    series: str
    horizon: int

    @property
    def name(self) -> str:
        return f"{self.series}/h{self.horizon}"

    def dataset(self) -> Dataset:
        return load_series(self.series)


def panel(quick: bool = False, names: list[str] | None = None) -> list[Case]:
    """The cases: every series at horizon 1 and at its frequency's multi-step horizon (quick: QUICK only).

    `names` picks cases ("sp500/h5") or whole series ("sp500": both horizons), in the panel's order.
    """
    cases = []
    for series in series_names():
        cases += [Case(series, 1), Case(series, multi_horizon(declared_freq(series)))]
    if names is None:
        names = list(QUICK) if quick else None
    if names is None:
        return cases
    known = {c.name for c in cases} | {c.series for c in cases}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(c.name for c in cases)}")
    return [c for c in cases if c.name in names or c.series in names]


# ---------------------------------------------------------------------------------------- the runner

def parse_value(text: str) -> Any:
    """An option's value from the command line: bool, None, int, float, a tuple (a|b|c), else the string."""
    text = text.strip()
    if "|" in text:
        return tuple(parse_value(part) for part in text.split("|") if part.strip())
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """["model.units=32", "train.lr=0.003"] -> {"model": {"units": 32}, "train": {"lr": 0.003}}, checked."""
    defaults = ForecasterConfig()
    sections = {f.name: {g.name for g in dataclasses.fields(getattr(defaults, f.name))}
                for f in dataclasses.fields(ForecasterConfig)}
    overrides: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        section, dot, option = key.strip().partition(".")
        if not sep or not dot:
            raise ValueError(f"--set {item!r}: write section.key=value, e.g. model.units=32")
        if section not in sections:
            raise ValueError(f"--set {item!r}: the section must be one of {', '.join(sections)}")
        if option not in sections[section]:
            raise ValueError(f"--set {item!r}: {section} has no option {option!r}; it has "
                             f"{', '.join(sorted(sections[section]))}")
        if (section, option) in (("data", "horizon"), ("train", "seed")):
            raise ValueError(f"--set {item!r}: the panel sets {key.strip()} itself (use --cases / --seeds)")
        overrides.setdefault(section, {})[option] = parse_value(value)
    try:
        ForecasterConfig().replace(**overrides)  # a wrong value fails here, once, not in every case
    except ConfigError as error:
        raise ValueError(f"--set: {error}") from None
    return overrides


def parse_variants(text: str) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """"base:;small:model.units=32,train.lr=0.003" -> [("base", {}), ("small", {...})]."""
    variants = []
    for chunk in filter(None, (c.strip() for c in text.split(";"))):
        name, sep, settings = chunk.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--variants {chunk!r}: write name:section.key=value,... (settings may be empty)")
        variants.append((name.strip(), parse_overrides([s for s in settings.split(",") if s.strip()])))
    if len({name for name, _ in variants}) != len(variants):
        raise ValueError("--variants: two variants have the same name")
    return variants


def _merge(first: dict, second: dict) -> dict:
    merged = {section: dict(options) for section, options in first.items()}
    for section, options in second.items():
        merged.setdefault(section, {}).update(options)
    return merged


def case_config(case: Case, dataset: Dataset, seed: int, overrides: dict | None = None) -> ForecasterConfig:
    """The studio's defaults for this series, at the case's horizon, with the overrides, for one seed."""
    target = dataset.target
    features = tuple(f for f in dataset.features if f != target)
    config = default_config(dataset.freq, len(dataset.frame), target, features)
    config = config.replace(data={"horizon": case.horizon})
    if overrides:
        config = config.replace(**overrides)
    return config.replace(train={"seed": seed})


def run_case(case: Case, seed: int, overrides: dict | None = None) -> dict:
    """Train and score one case for one seed; `skipped` holds the one-line reason when it could not run."""
    start = time.perf_counter()
    dataset = case.dataset()
    result: dict[str, Any] = {"case": case.name, "seed": seed, "freq": dataset.freq, "rows": len(dataset.frame)}
    try:
        config = case_config(case, dataset, seed, overrides)
        result["window"] = config.data.window
        model = LSTMForecaster(config).fit(dataset)
        evaluation = evaluate(model, unit=dataset.unit)
    except ForecasterError as error:
        return {**result, "skipped": str(error).splitlines()[0], "seconds": round(time.perf_counter() - start, 2)}
    mae = {name: metrics["mae"] for name, metrics in evaluation.metrics.items()}
    best = evaluation.best_baseline
    return {**result, "skipped": None, "lstm_mae": mae[LSTM], "best": best, "best_label": evaluation.labels[best],
            "best_mae": mae[best], "naive_mae": mae["naive"], "ratio": _ratio(mae[LSTM], mae[best]),
            "ratio_naive": _ratio(mae[LSTM], mae["naive"]),
            "baselines": {evaluation.labels[n]: v for n, v in mae.items() if n != LSTM},
            "epochs": model.history_.epochs_run, "best_epoch": model.history_.best_epoch,
            "test_windows": int(len(evaluation.origins)), "seconds": round(time.perf_counter() - start, 2)}


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else (1.0 if a == b else math.inf)


def summarize_case(case: Case, runs: list[dict]) -> dict:
    """One case over its seeds: mean and spread of the LSTM's MAE, the best baseline, the ratios."""
    done = [r for r in runs if not r["skipped"]]
    summary: dict[str, Any] = {"case": case.name, "series": case.series, "horizon": case.horizon,
                               "freq": runs[0]["freq"], "rows": runs[0]["rows"], "window": runs[0].get("window"),
                               "seconds": round(sum(r["seconds"] for r in runs), 1), "runs": runs}
    if not done:
        return {**summary, "skipped": runs[0]["skipped"]}
    lstm = [r["lstm_mae"] for r in done]
    mean = statistics.fmean(lstm)
    best_mae, naive_mae = done[0]["best_mae"], done[0]["naive_mae"]  # baselines do not depend on the seed
    return {**summary, "skipped": None, "seeds_done": len(done), "lstm_mae": mean, "lstm_mae_min": min(lstm),
            "lstm_mae_max": max(lstm), "best": done[0]["best"], "best_label": done[0]["best_label"],
            "best_mae": best_mae, "naive_mae": naive_mae, "ratio": _ratio(mean, best_mae),
            "ratios": [r["ratio"] for r in done], "ratio_naive": _ratio(mean, naive_mae),
            "epochs": [r["epochs"] for r in done]}


def geometric_mean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


def summarize(cases: list[dict]) -> dict:
    """Over the cases that ran: geometric means of the ratios, the worst case and the worst single seed."""
    done = [c for c in cases if not c["skipped"]]
    summary: dict[str, Any] = {"cases": len(cases), "ran": len(done), "skipped": len(cases) - len(done),
                               "geomean_ratio": geometric_mean([c["ratio"] for c in done]),
                               "geomean_ratio_naive": geometric_mean([c["ratio_naive"] for c in done]),
                               "wins": sum(c["ratio"] < 1 for c in done)}
    if done:
        worst = max(done, key=lambda c: c["ratio"])
        seed_worst = max(((r["ratio"], c["case"], r["seed"]) for c in done for r in c["runs"] if not r["skipped"]))
        summary.update(worst=worst["ratio"], worst_case=worst["case"], worst_seed=seed_worst[0],
                       worst_seed_case=seed_worst[1], worst_seed_seed=seed_worst[2])
    return summary


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def case_line(summary: dict, variant: str | None = None) -> str:
    head = f"{(variant + ' ') if variant else ''}{summary['case']:<22} {summary['freq'] or '?':<6} " \
           f"{summary['rows']:>5} rows"
    if summary["skipped"]:
        return f"{head}: skipped: {summary['skipped']}  [{summary['seconds']:.1f} s, {summary.get('threads', '?')} thr]"
    ratios = " ".join(f"{r:.3f}" for r in summary["ratios"])
    return (f"{head}, window {summary['window']}: LSTM MAE {_fmt(summary['lstm_mae'])} "
            f"({_fmt(summary['lstm_mae_min'])}-{_fmt(summary['lstm_mae_max'])}), best {summary['best_label']} "
            f"{_fmt(summary['best_mae'])}, lstm/best {summary['ratio']:.3f} (seeds {ratios}), "
            f"lstm/naive {summary['ratio_naive']:.3f}, epochs {'/'.join(map(str, summary['epochs']))}  "
            f"[{summary['seconds']:.1f} s, {summary.get('threads', '?')} thr]")


def final_lines(summary: dict) -> list[str]:
    """The two closing lines: the worst single seed, then the headline."""
    if not summary["ran"]:
        return [f"no case ran ({summary['skipped']} skipped)",
                "lstm/best-baseline MAE: geometric mean nan, worst nan (none)"]
    return [f"worst single seed: lstm/best {summary['worst_seed']:.3f} ({summary['worst_seed_case']}, seed "
            f"{summary['worst_seed_seed']}); {summary['ran']} cases ran, {summary['skipped']} skipped, LSTM better "
            f"than the best baseline in {summary['wins']}; lstm/naive geometric mean "
            f"{summary['geomean_ratio_naive']:.3f}",
            LAST_LINE.format(g=summary["geomean_ratio"], w=summary["worst"], case=summary["worst_case"])]


def variants_table(names: list[str], per_variant: dict[str, list[dict]]) -> list[str]:
    """Geometric means per variant, over its own cases and over the cases every variant ran."""
    common = set.intersection(*({c["case"] for c in cases if not c["skipped"]} for cases in per_variant.values()))
    lines = [f"{'variant':<16} {'ran':>4} {'skipped':>7} {'lstm/best':>9} {'lstm/naive':>10} "
             f"{'on common':>9} {'worst':>7}  worst case"]
    for name in names:
        cases = per_variant[name]
        s = summarize(cases)
        on_common = geometric_mean([c["ratio"] for c in cases if c["case"] in common])
        lines.append(f"{name:<16} {s['ran']:>4} {s['skipped']:>7} {s['geomean_ratio']:>9.3f} "
                     f"{s['geomean_ratio_naive']:>10.3f} {on_common:>9.3f} {s.get('worst', math.nan):>7.3f}  "
                     f"{s.get('worst_case', '-')}")
    return lines


def run_panel(cases: list[Case], seeds: list[int], variants: list[tuple[str, dict]],
              report: Callable[[str], None] = print, threads: int | None = None) -> dict[str, list[dict]]:
    """Every case for every variant and seed, variants interleaved case by case; one line per case and variant.

    Threads follow the library's policy (`configure_threads`, as the CLI), asked again before each case:
    a long run on a shared machine must not keep 2 threads on cores that others have taken since
    (measured here: an hourly case went from 26 s at 1 thread to 180 s at 2 threads on 2 busy cores).
    """
    results: dict[str, list[dict]] = {name: [] for name, _ in variants}
    for case in cases:
        used = configure_threads(threads)
        for name, overrides in variants:
            summary = summarize_case(case, [run_case(case, seed, overrides) for seed in seeds])
            summary["threads"] = used
            results[name].append(summary)
            report(case_line(summary, name if len(variants) > 1 else None))
    return results


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def code_version() -> str:
    """The commit the library comes from, and whether forecaster/ has changes not committed (figures move with it)."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "forecaster"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"at {ROOT} (not a git checkout)"
    return f"{commit}{' + uncommitted changes in forecaster/' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=(
        "With --variants the last line refers to the FIRST variant; a table of geometric means per variant "
        "comes before it. Horizons: " + ", ".join(f"{k} {v}" for k, v in HORIZONS.items()) + "."))
    parser.add_argument("--quick", action="store_true", help=f"CI: {', '.join(QUICK)}, seed 0 only")
    parser.add_argument("--json", action="store_true", help="one JSON object (per-case lines go to stderr), "
                        "then the last line")
    parser.add_argument("--cases", help="comma-separated cases (series/hH) or series names (both horizons)")
    parser.add_argument("--seeds", help="comma-separated seeds (default 0,1,2; quick: 0)")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="change a default in every case, e.g. model.units=32 (repeatable; a|b for a tuple)")
    parser.add_argument("--variants", help='several settings compared in one process, e.g. '
                        '"base:;small:model.units=32,train.lr=0.003" (--set applies to all of them)')
    parser.add_argument("--threads", type=int, help="torch threads (default: the library's policy, as the CLI)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args(argv)
    try:
        base = parse_overrides(args.settings)
        variants = parse_variants(args.variants) if args.variants else [("default", {})]
        variants = [(name, _merge(base, overrides)) for name, overrides in variants]
        seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else ([0] if args.quick else [0, 1, 2])
        cases = panel(args.quick, [n.strip() for n in args.cases.split(",") if n.strip()] if args.cases else None)
    except ValueError as error:
        parser.error(str(error))
    if args.list:
        for case in cases:
            dataset = _load(case.series)
            print(f"{case.name:<22} {dataset.freq or '?':<6} {len(dataset.frame):>5} rows  {dataset.description}")
        return 0

    threads = configure_threads(args.threads)  # as the CLI: the cores other processes leave idle now (and per case)
    stream = sys.stderr if args.json else sys.stdout
    warm_up()  # torch's one-time costs (the first optimizer imports torch._dynamo) stay out of the first case
    version = code_version()
    header = (f"torch {torch.__version__}, {threads} thread(s) {'(--threads)' if args.threads else 'now (asked again per case)'}, device {'cuda' if torch.cuda.is_available() else 'cpu'}, "
              f"library {version}, {len(cases)} cases x seeds {','.join(map(str, seeds))}"
              + "".join(f"; variant {name}: {json.dumps(o) if o else 'defaults'}" for name, o in variants))
    print(header, file=stream, flush=True)
    start = time.perf_counter()
    results = run_panel(cases, seeds, variants, lambda line: print(line, file=stream, flush=True), args.threads)
    elapsed = time.perf_counter() - start
    names = [name for name, _ in variants]
    summaries = {name: summarize(results[name]) for name in names}
    first = summaries[names[0]]
    used = sorted({c["threads"] for cases_ in results.values() for c in cases_})
    print(f"elapsed {elapsed:.0f} s; torch threads per case: {', '.join(map(str, used))}", file=stream)
    if len(variants) > 1:
        print("\n".join(variants_table(names, results)), file=stream)
        print(f"(the lines below are for the first variant, {names[0]})", file=stream)
    if args.json:
        print(json.dumps(_clean({"torch": torch.__version__, "threads_at_start": threads, "threads_used": used,
                                 "date": str(datetime.date.today()), "library": version, "seeds": seeds,
                                 "quick": args.quick, "seconds": round(elapsed, 1),
                                 "variants": [{"name": n, "overrides": o} for n, o in variants],
                                 "cases": results, "summary": summaries}), indent=2))
    worst_seed, headline = final_lines(first)
    print(worst_seed, file=stream)  # in JSON mode stdout is the object and the headline only
    print(headline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
