"""Uncertainty for experiments: differences between two arms with 95% confidence intervals, and a
three-word verdict that an A/A comparison does not trip at random.

The method (stated in every experiment's comparison and report):

- Each measured run starts from a fresh copy of the same template database, so runs are independent
  replicates; one run gives one value per metric (its throughput, its p95, ...). Seconds or
  transactions inside one run are not independent (they share the cache, the checkpoint, the
  autovacuum that happened to run), so they are never used as samples of the difference.
- The difference between arms is the ratio of geometric means of the runs' values, ``after /
  before - 1``, and its 95% interval is Welch's t-interval on the logarithms (unequal variances,
  Welch-Satterthwaite degrees of freedom): exact under log-normal run-to-run noise, honest with few
  repeats (the t quantile widens the interval when there are only 2 or 3 runs per arm).
- The verdict is ``faster`` or ``slower`` only when the interval excludes zero *and* the estimate is
  at least the minimum effect (2% by default) in that direction; otherwise ``no significant change``.
  With one run per arm there is no interval, and the verdict is ``no significant change``.

>>> d = difference([100, 102, 98], [120, 119, 123], higher_is_better=True)
>>> d["verdict"], round(d["change_pct"], 1), d["ci_pct"][0] > 0
('faster', 20.7, True)
>>> difference([100, 101, 99], [100, 99, 101], higher_is_better=True)["verdict"]
'no significant change'
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

CONFIDENCE = 0.95
MIN_EFFECT_PCT = 2.0
VERDICTS = ("faster", "slower", "no significant change")
METHOD = ("95% Welch t-interval on the logarithms of per-run values (each run from a fresh copy "
          "of the same template database; arms interleaved), as a ratio of geometric means; "
          "'faster'/'slower' only when the interval excludes zero and the change is at least "
          "{min_effect:g}%")


def difference(before: Sequence[float], after: Sequence[float], *, higher_is_better: bool,
               min_effect_pct: float = MIN_EFFECT_PCT, confidence: float = CONFIDENCE
               ) -> dict[str, Any]:
    """The change from ``before`` to ``after`` (per-run values), its interval and verdict.

    Returns ``change_pct`` (after vs before, ratio of geometric means), ``ci_pct`` (low, high) or
    None, ``runs`` (n before, n after), ``verdict`` and, when there is no interval, ``why``.

    >>> difference([10.0], [12.0], higher_is_better=True)["verdict"]
    'no significant change'
    """
    a = [float(v) for v in before if v is not None and v > 0 and math.isfinite(v)]
    b = [float(v) for v in after if v is not None and v > 0 and math.isfinite(v)]
    out: dict[str, Any] = {"change_pct": None, "ci_pct": None, "runs": [len(a), len(b)],
                           "verdict": "no significant change", "why": None}
    if not a or not b:
        out["why"] = "no value in one of the arms"
        return out
    la, lb = [math.log(v) for v in a], [math.log(v) for v in b]
    shift = statistics.fmean(lb) - statistics.fmean(la)
    out["change_pct"] = _pct(shift)
    if len(a) < 2 or len(b) < 2:
        out["why"] = "one run per arm gives no interval: repeat the experiment (--repeat 3)"
        return out
    va, vb = statistics.variance(la) / len(la), statistics.variance(lb) / len(lb)
    se = math.sqrt(va + vb)
    if se == 0.0:
        low = high = shift
    else:
        df = (va + vb) ** 2 / ((va ** 2 / (len(la) - 1) if va else 0.0)
                               + (vb ** 2 / (len(lb) - 1) if vb else 0.0))
        half = t_quantile(0.5 + confidence / 2, df) * se
        low, high = shift - half, shift + half
    out["ci_pct"] = [_pct(low), _pct(high)]
    out["verdict"] = verdict(out["change_pct"], out["ci_pct"], higher_is_better=higher_is_better,
                             min_effect_pct=min_effect_pct)
    return out


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE
                  ) -> tuple[float | None, float | None, float | None]:
    """The geometric mean of per-run values and its t-interval (on the logarithms, as for
    differences): (mean, low, high); no interval from one value.

    >>> [round(v, 1) for v in mean_interval([100.0, 110.0, 105.0])]
    [104.9, 93.2, 118.1]
    """
    logs = [math.log(v) for v in values if v is not None and v > 0 and math.isfinite(v)]
    if not logs:
        return None, None, None
    center = statistics.fmean(logs)
    if len(logs) < 2:
        return math.exp(center), None, None
    half = t_quantile(0.5 + confidence / 2, len(logs) - 1) * statistics.stdev(logs) / \
        math.sqrt(len(logs))
    return math.exp(center), math.exp(center - half), math.exp(center + half)


def verdict(change_pct: float | None, ci_pct: Sequence[float] | None, *, higher_is_better: bool,
            min_effect_pct: float = MIN_EFFECT_PCT) -> str:
    """faster / slower / no significant change, from an estimate and its interval.

    >>> verdict(-8.0, (-12.0, -4.0), higher_is_better=False)
    'faster'
    >>> verdict(1.5, (0.5, 2.5), higher_is_better=True)   # real, but below the minimum effect
    'no significant change'
    """
    if change_pct is None or ci_pct is None:
        return "no significant change"
    low, high = ci_pct
    if low > 0 and change_pct >= min_effect_pct:
        return "faster" if higher_is_better else "slower"
    if high < 0 and change_pct <= -min_effect_pct:
        return "slower" if higher_is_better else "faster"
    return "no significant change"


def percentile_interval(n: int, q: float, confidence: float = CONFIDENCE) -> tuple[int, int] | None:
    """0-based ranks (low, high) of the sorted sample bracketing the ``q`` quantile (0 < q < 1)
    with the given confidence: the distribution-free interval from the binomial distribution of
    the count of values below the quantile (normal approximation). None for a sample too small.

    It states the sampling uncertainty of a percentile computed from a sample of transactions
    (e.g. when pgbench logs only a share of them), not run-to-run variation.

    >>> percentile_interval(10_000, 0.95)
    (9456, 9542)
    """
    if n < 1 or not 0 < q < 1:
        return None
    z = normal_quantile(0.5 + confidence / 2)
    spread = z * math.sqrt(n * q * (1 - q))
    low, high = math.floor(n * q - spread) - 1, math.ceil(n * q + spread) - 1
    if low < 0 or high > n - 1:
        return None
    return low, high


def _pct(log_ratio: float) -> float:
    return round(100.0 * math.expm1(log_ratio), 2)


# -- quantiles of the normal and Student's t distributions ---------------------------------------


def normal_quantile(p: float) -> float:
    """The standard normal quantile (Acklam's rational approximation, refined by one Newton step).

    >>> round(normal_quantile(0.975), 4)
    1.96
    """
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if p < 0.02425:
        r = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / \
            ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1)
    elif p > 1 - 0.02425:
        return -normal_quantile(1 - p)
    else:
        r = (p - 0.5) ** 2
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * (p - 0.5) / \
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    error = 0.5 * math.erfc(-x / math.sqrt(2)) - p
    return x - error * math.sqrt(2 * math.pi) * math.exp(x * x / 2)


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` (possibly fractional) degrees of freedom.

    >>> round(t_cdf(2.776445, 4), 4)
    0.975
    """
    x = df / (df + t * t)
    tail = 0.5 * _betainc(df / 2, 0.5, x)
    return 1 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile by bisection on :func:`t_cdf` (df may be fractional, as Welch's is).

    >>> [round(t_quantile(0.975, df), 3) for df in (1, 2, 4, 30)]
    [12.706, 4.303, 2.776, 2.042]
    """
    if not 0 < p < 1 or df <= 0:
        raise ValueError("need 0 < p < 1 and df > 0")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-10:
            break
    return (low + high) / 2


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (continued fraction, Lentz's method)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _betainc(b, a, 1.0 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-14:
            break
    return front * result / a
