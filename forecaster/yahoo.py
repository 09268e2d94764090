"""Talking to Yahoo Finance through yfinance: a quiet download, and telling a network failure from no data."""

from __future__ import annotations

import logging
import re
import socket
import threading
import urllib.request
import warnings
from contextlib import contextmanager
from typing import Iterator

import pandas as pd

__all__ = ["PRICE_FIELDS", "INTERVALS", "YahooUnreachable", "download", "price_frame", "failure_note",
           "failure_message"]

PRICE_FIELDS = ("Open", "High", "Low", "Close", "Adj Close", "Volume")
INTERVALS = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk", "1mo", "3mo")  # yfinance's list
TICKER_TIMEOUT_S = 10  # seconds a Yahoo request may take before it counts as unreachable (then: cache or message)
YAHOO_HOST = "query2.finance.yahoo.com"  # where yfinance 1.x asks for prices
PROBE_TIMEOUT_S = 3  # seconds the reachability check may take when an answer came back empty


class YahooUnreachable(ConnectionError):
    """Yahoo Finance did not answer; `kind` is "offline", "timeout" or "limited" (it refuses: too many requests)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind


# What yfinance logs per symbol when the network, not the symbol, failed; and when Yahoo throttles us.
_NETWORK_WORDS = re.compile(r"DNSError|ConnectionError|ConnectTimeout|Could not resolve|Failed to perform, curl|"
                            r"Network is unreachable|Connection refused|No route to host|timed out|Timeout", re.I)
_LIMIT_WORDS = re.compile(r"RateLimit|Too Many Requests|Rate limited", re.I)


class _SymbolErrors(logging.Handler):
    """Collects the yfinance log lines about one symbol that the calling thread produces."""

    def __init__(self, symbol: str) -> None:
        super().__init__(logging.WARNING)
        self.thread, self.symbol, self.messages = threading.get_ident(), symbol.upper(), []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record must not break the download
            return
        # Only lines naming the symbol: a failed cookie fetch alone (ad blockers) does not stop prices.
        if record.thread == self.thread and (f"'{self.symbol}'" in message or f"${self.symbol}" in message):
            self.messages.append(message)


_quiet_lock = threading.Lock()
_quiet_state = {"depth": 0, "propagate": True}  # calls inside _quiet_yfinance now; the logger's own setting


@contextmanager
def _quiet_yfinance(symbol: str) -> Iterator[list[str]]:
    """Keep yfinance's log lines and warnings off the console during a call; yield its lines about `symbol`.

    yfinance 1.x keeps its per-symbol errors in a per-call object (yfinance.shared._ERRORS stays empty), so its
    log lines are the record of what went wrong. Stdout is not redirected: that would swallow other threads'.
    """
    logger = logging.getLogger("yfinance")
    collector = _SymbolErrors(symbol)
    # Its own warnings (pandas deprecations inside yfinance) are not the user's business; the filter is idempotent.
    warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
    with _quiet_lock:  # several sessions may download at once: the first in silences, the last out restores
        if _quiet_state["depth"] == 0:
            _quiet_state["propagate"] = logger.propagate
            logger.propagate = False
        _quiet_state["depth"] += 1
        logger.addHandler(collector)  # a handler present also keeps logging's last-resort printer away
    try:
        yield collector.messages
    finally:
        with _quiet_lock:
            logger.removeHandler(collector)
            _quiet_state["depth"] -= 1
            if _quiet_state["depth"] == 0:
                logger.propagate = _quiet_state["propagate"]


def _reachable(host: str = YAHOO_HOST, port: int = 443, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to host:port opens within about `timeout` seconds (name lookup included)."""
    result: list[bool] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    # getaddrinfo has no timeout of its own: a thread bounds the whole check.
    worker = threading.Thread(target=connect, name="yahoo-probe", daemon=True)
    worker.start()
    worker.join(2 * timeout)
    return bool(result and result[0])


def _behind_proxy() -> bool:
    """A proxy may reach Yahoo where a direct connection cannot, so a failed direct probe would prove nothing."""
    proxies = urllib.request.getproxies()
    if any(proxies.get(scheme) for scheme in ("https", "all")):
        return True
    try:
        import yfinance

        return bool(yfinance.config.network.proxy)
    except (ImportError, AttributeError):
        return False


def download(symbol: str, *, start: str | None, end: str | None, interval: str) -> pd.DataFrame:
    """yfinance.download, quiet; raises YahooUnreachable when an empty answer is the network's fault, not the symbol's."""
    import yfinance  # imported here: slow to import and only needed for live tickers

    with _quiet_yfinance(symbol) as errors:
        raw = yfinance.download(symbol, start=start, end=end, interval=interval, progress=False,
                                auto_adjust=False, threads=False, timeout=TICKER_TIMEOUT_S)
    if price_frame(raw) is not None:
        return raw
    said = " ".join(errors)
    if _LIMIT_WORDS.search(said):
        raise YahooUnreachable("limited", said)
    if _NETWORK_WORDS.search(said):
        raise YahooUnreachable("timeout" if re.search(r"timed out|Timeout", said, re.I) else "offline", said)
    # yfinance said nothing useful (or changed how it says it): check the network ourselves.
    if not _behind_proxy() and not _reachable():
        raise YahooUnreachable("offline", f"no connection to {YAHOO_HOST}")
    return raw


def price_frame(raw: object) -> pd.DataFrame | None:
    """yfinance's answer as a flat frame of the known price columns, or None when it is empty."""
    if not isinstance(raw, pd.DataFrame) or raw.empty:
        return None
    columns = raw.columns
    if isinstance(columns, pd.MultiIndex):
        # yfinance 1.x answers with (field, ticker) columns; keep the level that names the fields.
        known = {f.lower() for f in PRICE_FIELDS}
        level = next((i for i in range(columns.nlevels)
                      if known & {str(v).lower() for v in columns.get_level_values(i)}), 0)
        columns = columns.get_level_values(level)
    canonical = {f.lower(): f for f in PRICE_FIELDS}
    frame = raw.set_axis([canonical.get(str(c).strip().lower(), str(c)) for c in columns], axis=1)
    frame = frame.loc[:, ~frame.columns.duplicated()][[f for f in PRICE_FIELDS if f in frame.columns]]
    frame = frame.apply(pd.to_numeric, errors="coerce").dropna(how="all")
    if frame.empty:
        return None
    frame.index = pd.to_datetime(frame.index, errors="coerce", utc=False)
    return frame


# ---------------------------------------------------------------------------------------------- failures in words

def _failure_kind(exc: BaseException) -> str:
    """What a failed download means: "offline", "timeout", "limited" (Yahoo throttles) or "error" (anything else)."""
    if isinstance(exc, YahooUnreachable):
        return exc.kind
    if _LIMIT_WORDS.search(f"{type(exc).__name__} {exc}"):
        return "limited"
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        return "timeout"
    return "offline" if isinstance(exc, OSError) else "error"  # ConnectionError, socket.gaierror, curl errors


def _failure_reason(exc: BaseException) -> str:
    """The words in parentheses after "could not reach Yahoo Finance"; names the exception a caller raised."""
    kind = _failure_kind(exc)
    name = "" if isinstance(exc, YahooUnreachable) else f"{type(exc).__name__}: "
    if kind == "timeout":
        return f"{name}no answer in time; a slow or missing network connection?"
    if kind == "limited":
        return f"{name}it is limiting requests from here for now"
    if kind == "offline":
        return f"{name}no network connection?"
    return f"{type(exc).__name__}: {str(exc)[:200]}" if str(exc) else type(exc).__name__


def failure_note(exc: BaseException | None) -> str:
    """The start of the note on a cached copy used because the download failed (None: it came back empty)."""
    if exc is None:
        return "Yahoo Finance returned no data"
    if _failure_kind(exc) == "error":
        return f"Downloading from Yahoo Finance failed ({_failure_reason(exc)})"
    return f"Yahoo Finance could not be reached ({_failure_reason(exc)})"


def failure_message(symbol: str, exc: BaseException, cached: list[str]) -> str:
    """One sentence for a download that failed with no cached copy of the range: what happened, what to do."""
    ways = (f"use a cached download (ask again for {', or '.join(cached)}), a built-in sample or upload a CSV"
            if cached else "use a built-in sample or upload a CSV")
    kind = _failure_kind(exc)
    if kind == "limited":
        return (f"Yahoo Finance refused to send {symbol} because it is limiting requests from here for now; "
                f"wait a few minutes and try again, or {ways}.")
    if kind == "error":
        return f"Downloading {symbol} from Yahoo Finance failed ({_failure_reason(exc)}); try again later, or {ways}."
    return f"Could not reach Yahoo Finance to download {symbol} ({_failure_reason(exc)}); {ways}."
