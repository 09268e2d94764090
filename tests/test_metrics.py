"""Each metric checked against a hand-written reference on small concrete numbers."""

import math

import numpy as np
import pytest

from forecaster import metrics as m
from forecaster.errors import ConfigError, DataError

Y = [3.0, -0.5, 2.0, 7.0]
P = [2.5, 0.0, 2.0, 8.0]


# ----------------------------------------------------------------- plain-loop references


def ref_mae(t, p):
    total = 0.0
    for a, b in zip(t, p):
        total += abs(a - b)
    return total / len(t)


def ref_rmse(t, p):
    total = 0.0
    for a, b in zip(t, p):
        total += (a - b) ** 2
    return math.sqrt(total / len(t))


def ref_mape(t, p):
    terms = []
    for a, b in zip(t, p):
        if a != 0:
            terms.append(abs((a - b) / a))
    return 100 * sum(terms) / len(terms)


def ref_smape(t, p):
    total = 0.0
    for a, b in zip(t, p):
        if abs(a) + abs(b) > 0:
            total += 2 * abs(a - b) / (abs(a) + abs(b))
    return 100 * total / len(t)


def ref_r2(t, p):
    mean = sum(t) / len(t)
    sse = sum((a - b) ** 2 for a, b in zip(t, p))
    sst = sum((a - mean) ** 2 for a in t)
    return 1 - sse / sst


def ref_mase(t, p, train, season):
    diffs = [abs(train[i] - train[i - season]) for i in range(season, len(train))]
    return ref_mae(t, p) / (sum(diffs) / len(diffs))


def ref_direction(t_rows, p_rows, last):
    hits = total = 0
    for row_t, row_p, base in zip(t_rows, p_rows, last):
        for a, b in zip(row_t, row_p):
            actual = (a > base) - (a < base)
            if actual == 0:
                continue
            predicted = (b > base) - (b < base)
            hits += actual == predicted
            total += 1
    return 100 * hits / total


# ----------------------------------------------------------------- literal values


def test_mae_literal():
    # |0.5| + |0.5| + 0 + |1| = 2 over 4 points
    assert m.mae(Y, P) == pytest.approx(0.5)
    assert m.mae(Y, P) == pytest.approx(ref_mae(Y, P))


def test_rmse_literal():
    # squares 0.25 + 0.25 + 0 + 1 = 1.5; sqrt(1.5 / 4)
    assert m.rmse(Y, P) == pytest.approx(math.sqrt(0.375))
    assert m.rmse(Y, P) == pytest.approx(ref_rmse(Y, P))


def test_mape_literal():
    t, p = [100.0, 200.0, 50.0], [110.0, 180.0, 50.0]
    # 10% + 10% + 0% over 3 points
    assert m.mape(t, p) == pytest.approx(20.0 / 3)
    assert m.mape(Y, P) == pytest.approx(ref_mape(Y, P))


def test_smape_literal():
    t, p = [100.0, 0.0, 50.0], [300.0, 0.0, 0.0]
    # 2·200/400 = 1, both zero → 0, 2·50/50 = 2: mean 1 → 100 %
    assert m.smape(t, p) == pytest.approx(100.0)
    assert m.smape(Y, P) == pytest.approx(ref_smape(Y, P))


def test_smape_bounds():
    assert m.smape([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert m.smape([1.0, 2.0], [-1.0, -2.0]) == pytest.approx(200.0)


def test_r2_against_reference():
    assert m.r2(Y, P) == pytest.approx(ref_r2(Y, P))
    assert m.r2(Y, Y) == 1.0


def test_mase_against_reference():
    train = [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]
    assert m.mase(Y, P, train) == pytest.approx(ref_mase(Y, P, train, 1))
    assert m.mase(Y, P, train, season=2) == pytest.approx(ref_mase(Y, P, train, 2))
    # naive in-sample MAE with season 1: (2 + 1 + 3 + 1 + 2) / 5 = 1.8
    assert m.mase(Y, P, train) == pytest.approx(0.5 / 1.8)


def test_direction_against_reference():
    t = [[11.0, 12.0, 9.0], [20.0, 19.0, 21.0]]
    p = [[10.5, 13.0, 10.0], [22.0, 18.0, 19.0]]
    last = [10.0, 20.0]
    # row 0: up/up ✓, up/up ✓, down/flat ✗; row 1: no actual change (skipped), down/down ✓,
    # up/down ✗ → 3 hits of 5 pairs
    assert m.direction_accuracy(t, p, last) == pytest.approx(60.0)
    assert m.direction_accuracy(t, p, last) == pytest.approx(ref_direction(t, p, last))


def test_direction_one_dimensional_is_one_step_per_origin():
    assert m.direction_accuracy([2.0, 0.0], [3.0, 2.0], [1.0, 1.0]) == pytest.approx(50.0)


def test_random_inputs_match_references():
    rng = np.random.default_rng(0)
    t = rng.normal(10, 3, size=(6, 4))
    p = t + rng.normal(0, 1, size=(6, 4))
    last = rng.normal(10, 3, size=6)
    train = rng.normal(10, 3, size=30)
    flat_t, flat_p = t.ravel().tolist(), p.ravel().tolist()
    got = m.compute_metrics(t, p, last, train, season=3)
    assert got["mae"] == pytest.approx(ref_mae(flat_t, flat_p))
    assert got["rmse"] == pytest.approx(ref_rmse(flat_t, flat_p))
    assert got["mape"] == pytest.approx(ref_mape(flat_t, flat_p))
    assert got["smape"] == pytest.approx(ref_smape(flat_t, flat_p))
    assert got["r2"] == pytest.approx(ref_r2(flat_t, flat_p))
    assert got["mase"] == pytest.approx(ref_mase(flat_t, flat_p, train.tolist(), 3))
    assert got["direction"] == pytest.approx(ref_direction(t.tolist(), p.tolist(), last.tolist()))


# ----------------------------------------------------------------- edge cases


def test_mape_skips_zero_actuals():
    t, p = [0.0, 100.0, 0.0], [5.0, 90.0, -3.0]
    assert m.mape(t, p) == pytest.approx(10.0)
    assert m.zero_actuals(t) == 2


def test_mape_all_zero_actuals_is_nan():
    assert math.isnan(m.mape([0.0, 0.0], [1.0, 2.0]))
    assert m.zero_actuals([0.0, 0.0]) == 2


def test_r2_constant_actuals_is_nan():
    # 0.1 repeated: the float mean is not exactly 0.1, yet R² must still be NaN
    assert math.isnan(m.r2([0.1, 0.1, 0.1], [0.1, 0.2, 0.0]))


def test_mase_constant_or_short_training_series_is_nan():
    assert math.isnan(m.mase(Y, P, [5.0, 5.0, 5.0]))
    assert math.isnan(m.mase(Y, P, [1.0, 2.0], season=2))
    assert math.isnan(m.mase(Y, P, [1.0, 2.0, 1.0, 2.0], season=2))  # seasonal diffs all 0


def test_mase_bad_season():
    with pytest.raises(ConfigError, match="season"):
        m.mase(Y, P, [1.0, 2.0, 3.0], season=0)


def test_direction_all_zero_changes_is_nan():
    assert math.isnan(m.direction_accuracy([[5.0, 5.0]], [[6.0, 4.0]], [5.0]))


def test_direction_flat_step_counts_as_wrong():
    # origin 0 predicts no move while the actual rises: a miss; origin 1 is right.
    assert m.direction_accuracy([[6.0], [4.0]], [[5.0], [3.0]], [5.0, 5.0]) == 50.0


def test_direction_of_a_forecast_that_never_moves_is_undefined():
    assert math.isnan(m.direction_accuracy([[6.0], [4.0]], [[5.0], [5.0]], [5.0, 5.0]))


def test_skill():
    assert m.skill(1.0, 4.0) == pytest.approx(0.75)
    assert m.skill(4.0, 4.0) == 0.0
    assert m.skill(8.0, 4.0) == pytest.approx(-1.0)
    assert math.isnan(m.skill(1.0, 0.0))


# ----------------------------------------------------------------- shapes and validation


def test_two_dimensional_equals_flattened():
    rng = np.random.default_rng(1)
    t = rng.normal(5, 2, size=(5, 3))
    p = rng.normal(5, 2, size=(5, 3))
    for fn in (m.mae, m.rmse, m.mape, m.smape, m.r2):
        assert fn(t, p) == pytest.approx(fn(t.ravel(), p.ravel()))
    train = rng.normal(5, 2, size=20)
    assert m.mase(t, p, train) == pytest.approx(m.mase(t.ravel(), p.ravel(), train))


def test_shape_mismatch_raises():
    with pytest.raises(DataError, match=r"shape \(3,\).*shape \(2,\)"):
        m.mae([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="must match"):
        m.rmse(np.zeros((2, 3)), np.zeros(6))


def test_empty_input_raises():
    with pytest.raises(DataError, match="empty"):
        m.mae([], [])


def test_nan_raises():
    with pytest.raises(DataError, match="NaN"):
        m.mae([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(DataError, match="y_pred"):
        m.smape([1.0, 2.0], [1.0, float("inf")])


def test_y_last_shape_checked():
    with pytest.raises(DataError, match="y_last"):
        m.direction_accuracy(np.ones((3, 2)), np.ones((3, 2)), np.ones(2))


def test_inputs_not_mutated():
    t = np.array([[1.0, 0.0], [2.0, 3.0]])
    p = np.array([[1.5, 0.0], [1.0, 4.0]])
    t0, p0 = t.copy(), p.copy()
    m.compute_metrics(t, p, np.array([1.0, 2.0]), np.arange(5.0))
    m.per_step_metrics(t, p, np.array([1.0, 2.0]), np.arange(5.0))
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(p, p0)


# ----------------------------------------------------------------- aggregates


def test_compute_metrics_keys_in_order():
    got = m.compute_metrics([[1.0, 2.0]], [[1.5, 2.5]], [1.2], [1.0, 2.0, 4.0])
    assert list(got) == ["mae", "rmse", "mape", "smape", "r2", "mase", "direction"]
    assert list(m.METRIC_LABELS) == list(got)
    assert list(m.LOWER_IS_BETTER) == list(got)
    assert all(isinstance(v, float) for v in got.values())


def test_labels_and_directions():
    assert m.METRIC_LABELS["r2"] == "R²"
    assert m.METRIC_LABELS["direction"] == "Direction %"
    assert [k for k, v in m.LOWER_IS_BETTER.items() if not v] == ["r2", "direction"]


def test_per_step_metrics_are_columns():
    t = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 1.0], [5.0, 3.0, 2.0]])
    p = np.array([[1.5, 2.0, 2.0], [2.5, 3.0, 1.5], [4.0, 3.5, 2.5]])
    last = np.array([1.0, 3.0, 4.0])
    train = np.array([1.0, 2.0, 4.0, 3.0])
    steps = m.per_step_metrics(t, p, last, train)
    assert len(steps) == 3
    for k, got in enumerate(steps):
        assert got == pytest.approx(m.compute_metrics(t[:, k], p[:, k], last, train), nan_ok=True)
    assert steps[0]["mae"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)


@pytest.mark.parametrize("value, expected", [(1.5, 1.5), (np.float32(0.25), 0.25), (3, 3.0), (0.0, 0.0),
                                             (None, None), (float("nan"), None), (float("inf"), None),
                                             (-np.inf, None), (np.nan, None)])
def test_finite_or_none_keeps_finite_numbers_as_floats_and_drops_the_rest(value, expected):
    result = m.finite_or_none(value)
    assert result == expected and (result is None or type(result) is float)
