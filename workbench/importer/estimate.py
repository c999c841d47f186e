"""What ANALYZE will estimate: the distinct count it reports for a generated column.

pg_stats' n_distinct is itself an estimate: ANALYZE samples 300 x statistics target rows and
applies the Haas-Stokes estimator ``n d / (n - f1 + f1 n / N)`` (d values seen in the sample, f1
of them once, n sampled and N total non-null rows). On a table larger than the sample it
underestimates skewed columns, on the source as on the clone. The generator therefore chooses
its number of distinct values so that the *estimate* ANALYZE will make of the clone matches the
source's, not the number itself: for a value that takes ``k`` positions, each of which holds it
with probability ``rho``, the sample holds it Binomial(k, rho phi) times (phi: sampled fraction).

>>> round(expected_estimate([], [(1000, 10.0)], 1.0, 10_000, 30_000))   # the whole table sampled
1000
"""

from __future__ import annotations

from collections.abc import Callable

ROWS_PER_TARGET = 300            # ANALYZE samples 300 x statistics target rows
DEFAULT_TARGET = 100             # default_statistics_target of the clone's server


def sample_rows(target: int | None) -> int:
    """Rows ANALYZE samples for a statistics target (None or negative: the default)."""
    return ROWS_PER_TARGET * (target if target and target > 0 else DEFAULT_TARGET)


def expected_estimate(common_rows: list[float], groups: list[tuple[float, float]], rho: float,
                      rows: float, sample: float, null_frac: float = 0.0) -> float:
    """ANALYZE's expected n_distinct (as a count) for common values of ``common_rows`` rows each
    and ``groups`` of (values, positions per value), a position holding its value with
    probability ``rho``; ``rows`` in the table, ``sample`` rows sampled."""
    phi = min(1.0, sample / max(1.0, rows))
    seen = once = 0.0
    for m in common_rows:
        seen += 1 - (1 - phi) ** m
        once += m * phi * (1 - phi) ** max(0.0, m - 1)
    p = min(1.0, rho * phi)
    for values, positions in groups:
        seen += values * (1 - (1 - p) ** positions)
        once += values * positions * p * (1 - p) ** max(0.0, positions - 1)
    if phi >= 1.0:
        return seen
    nonnull = rows * (1 - null_frac)
    n = phi * nonnull
    denominator = n - once + once * n / max(1.0, nonnull)
    return max(seen, n * seen / denominator) if denominator > 0 else seen


def solve(estimate: Callable[[float], float], target: float, low: float, high: float) -> float:
    """The argument in [low, high] where an increasing ``estimate`` reaches ``target`` (high when
    it never does).

    >>> round(solve(lambda x: 2 * x, 10, 0, 100), 6)
    5.0
    """
    if estimate(high) <= target:
        return high
    if estimate(low) >= target:
        return low
    for _ in range(60):
        mid = (low + high) / 2
        if estimate(mid) < target:
            low = mid
        else:
            high = mid
    return high
