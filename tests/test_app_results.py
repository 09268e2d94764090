"""AppTest of the Results page: empty state, verdict, metrics, charts, downloads, multi-step views, loaded models."""

from __future__ import annotations

import copy
import json

import pandas as pd
from app_helpers import open_page
from streamlit.testing.v1 import AppTest

from forecaster.config import DataConfig, ForecasterConfig, ModelConfig, TrainConfig
from forecaster.datasets import Dataset
from forecaster.estimator import LSTMForecaster
from forecaster.evaluation import evaluate
from forecaster.training import configure_threads
from forecaster.ui.state import Selection

configure_threads(1)

PAGE = "pages/results.py"


def trained(frame: pd.DataFrame, horizon: int = 1) -> tuple[LSTMForecaster, object, Selection]:
    """(model, evaluation, selection) as the Train page leaves them, from a tiny fit on the synthetic series."""
    dataset = Dataset(frame=frame, name="syn", source="test", target="y", freq="D", unit="°C")
    config = ForecasterConfig(data=DataConfig(target="y", window=10, horizon=horizon),
                              model=ModelConfig(units=8, layers=1), train=TrainConfig(epochs=2, seed=0))
    model = LSTMForecaster(config).fit(dataset)
    return model, evaluate(model, unit=dataset.unit), Selection(dataset=dataset, target="y")


def open_results(result=None, selection: Selection | None = None) -> AppTest:
    return open_page(PAGE, result=result, selection=selection)


def charts(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def trace_names(figure: dict) -> list[str]:
    return [trace.get("name") for trace in figure["data"]]


def title_of(figure: dict) -> str:
    title = figure["layout"].get("title", {})
    return title.get("text", "") if isinstance(title, dict) else str(title)


def downloads(at: AppTest) -> list[str]:
    return [button.label for button in at.get("download_button")]


def verdicts(at: AppTest) -> list[str]:
    return [e.value for e in [*at.success, *at.warning] if "baseline" in e.value or "naive forecast" in e.value]


def test_without_a_model_says_so():
    at = open_results()
    assert [t.value for t in at.title] == ["Results"]
    assert len(at.info) == 1
    assert at.info[0].value.startswith("No trained model yet")
    assert any("Go to Train" in link.proto.label for link in at.get("page_link"))
    assert not at.dataframe and not at.get("plotly_chart") and not downloads(at)
    assert not at.error


def test_with_a_model_shows_verdict_metrics_charts_and_download(synthetic_series):
    model, evaluation, selection = result = trained(synthetic_series)
    at = open_results(result)
    assert not at.error
    assert verdicts(at) == [evaluation.verdict()]
    assert [m.label for m in at.metric] == ["Skill vs best baseline", "Skill vs naive"]
    assert "Metrics on the test part" in [s.value for s in at.subheader]
    assert len(at.dataframe) == 1
    table = at.dataframe[0].value
    lstm = evaluation.labels["lstm"]  # "LSTM", or what the model's settings make it ("LSTM + linear skip")
    assert list(table.index[:2]) == [lstm, "Naive (last value)"]
    assert table.loc[lstm, "MAE"] == f"{evaluation.metrics['lstm']['mae']:,.3f}"
    assert table.loc["Naive (last value)", "Direction %"] == "—"  # a forecast that never moves has no direction
    caption = at.caption[0].value
    assert "target **y**" in caption and "window 10 · horizon 1" in caption and "2 epochs" in caption

    figures = charts(at)
    # predicted vs actual, loss curves, residuals over time, residual histogram, residual ACF, conformal bands
    assert len(figures) == 6
    assert {"Actual", lstm, "Naive (last value)"} <= set(trace_names(figures[0]))
    assert "1 step ahead" in title_of(figures[0])
    assert downloads(at) == ["Download predictions (CSV)"]
    assert at.get("download_button")[0].proto.help
    # A one-step model has no per-step views.
    assert "Steps ahead" not in [n.label for n in at.number_input]
    assert "Error by step ahead" not in [s.value for s in at.subheader]


def test_overlaying_another_baseline_adds_its_line(synthetic_series):
    at = open_results(trained(synthetic_series))
    overlay = at.multiselect(key="_w_overlay")
    assert overlay.value == ["naive"]
    assert "Drift" in overlay.options  # shown by label
    assert "Drift" not in trace_names(charts(at)[0])
    overlay.set_value(["naive", "drift"]).run()
    assert not at.exception
    assert "Drift" in trace_names(charts(at)[0])


def test_multi_step_model_has_steps_ahead_and_error_by_step(synthetic_series):
    at = open_results(trained(synthetic_series, horizon=3))
    steps = [n for n in at.number_input if n.label == "Steps ahead"]
    assert len(steps) == 1
    assert (steps[0].value, steps[0].min, steps[0].max) == (1, 1, 3)
    assert "Error by step ahead" in [s.value for s in at.subheader]
    assert [s.label for s in at.selectbox] == ["Metric"]
    assert len(charts(at)) == 7  # the six above and the error by step ahead

    steps[0].set_value(3).run()
    assert not at.exception
    assert "3 steps ahead" in title_of(charts(at)[0])
    at.selectbox[0].set_value("rmse").run()
    assert not at.exception
    assert len(charts(at)) == 7


def test_loaded_model_is_evaluated_on_the_current_data(synthetic_series):
    model, _, selection = trained(synthetic_series)
    loaded = LSTMForecaster.from_bytes(model.to_bytes())
    at = open_results((loaded, None, None), selection)
    assert any("loaded from a file" in i.value for i in at.info)
    assert not verdicts(at)
    [evaluate_button] = [b for b in at.button if b.label == "Evaluate on the current data"]
    evaluate_button.click().run()
    assert not at.exception
    assert not at.error
    assert len(verdicts(at)) == 1
    assert len(at.dataframe) == 1
    assert downloads(at) == ["Download predictions (CSV)"]
    stored_model, evaluation, trained_on = at.session_state["result"]
    assert stored_model is loaded and evaluation is not None
    assert trained_on.dataset is selection.dataset


def test_loaded_model_on_data_without_its_column_shows_an_error(synthetic_series):
    model, _, _ = trained(synthetic_series)
    loaded = LSTMForecaster.from_bytes(model.to_bytes())
    at = open_results((loaded, None, None))  # the session's data is the default weather sample: no column "y"
    [evaluate_button] = [b for b in at.button if b.label == "Evaluate on the current data"]
    evaluate_button.click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("Column 'y' is not in the data")
    assert "temp_max" in at.error[0].value  # says what is there instead
    assert at.session_state["result"][1] is None  # still unevaluated


def with_maes(result, **maes: float):
    """The same (model, evaluation, selection) with these test MAEs: a known standing against the baselines."""
    model, evaluation, selection = result
    edited = copy.deepcopy(evaluation)
    for name in edited.metrics:
        edited.metrics[name]["mae"] = maes.get(name, maes.get("others", 5.0))
    return model, edited, selection


def styles(at: AppTest, index: int = 0) -> str:
    """The CSS the page's Styler sent along with a table."""
    return at.dataframe[index].proto.arrow_data.styler.styles


def test_headline_is_skill_vs_the_best_baseline_beside_skill_vs_naive(synthetic_series):
    base = trained(synthetic_series)
    # Beats naive (1.702) but not the ridge baseline (1.344): amber, and the ridge row in bold.
    model, evaluation, selection = result = with_maes(base, lstm=1.693, naive=1.702, linear=1.344)
    assert evaluation.best_baseline == "linear"
    at = open_results(result)
    assert not at.exception and not at.error
    best, naive = at.metric
    assert (best.label, best.value) == ("Skill vs best baseline", f"{1 - 1.693 / 1.344:+.1%}")
    assert best.proto.delta == "loses to linear (ridge on lags)"
    assert "Linear (ridge on lags)" in best.help or "linear (ridge on lags)" in best.help
    assert (naive.label, naive.value, naive.proto.delta) == ("Skill vs naive", f"{1 - 1.693 / 1.702:+.1%}", "beats naive")
    sentence = (f"The {evaluation.labels['lstm']} beats naive but not the linear (ridge on lags) baseline "
                "(MAE 1.693 vs 1.344), so that baseline is the forecast to use.")
    assert [w.value for w in at.warning] == [sentence] and not at.success
    captions = [c.value for c in at.caption]
    assert any(c.startswith("In bold: the best baseline, linear (ridge on lags) (lowest test MAE)") and
               "amber: it beats naive but not the best baseline" in c for c in captions), captions
    css = styles(at)
    assert "#fdf1d8" in css and "font-weight: bold" in css and "#e3f4e1" not in css

    # Beats every baseline: green, a success message, and the skill against the best is positive.
    model, evaluation, selection = result = with_maes(base, lstm=0.61, naive=1.0, seasonal_naive=0.69)
    at = open_results(result)
    best, naive = at.metric
    assert best.value == f"{1 - 0.61 / 0.69:+.1%}" and best.proto.delta.startswith("beats seasonal naive (")
    assert [s.value for s in at.success] == [evaluation.verdict()]
    assert evaluation.verdict().endswith("beats every baseline: its test MAE is 12% below the best, "
                                         f"{evaluation.labels['seasonal_naive'][:1].lower()}"
                                         f"{evaluation.labels['seasonal_naive'][1:]} (0.61 vs 0.69).")
    assert "#e3f4e1" in styles(at)

    # Loses to naive: red and a warning.
    result = with_maes(base, lstm=1.5, naive=1.0)
    at = open_results(result)
    assert [m.proto.delta for m in at.metric] == ["loses to naive (last value)", "loses to naive"]
    assert at.warning[0].value.startswith(f"The {result[1].labels['lstm']} does not beat the naive forecast")
    assert "#fbe3e1" in styles(at)
