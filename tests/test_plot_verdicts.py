"""The verdict plot keeps every mark inside its stated axis, and says the value it had to clip."""

from __future__ import annotations

import numpy as np

from workbench import plots


def test_a_change_beyond_the_axis_is_drawn_at_its_edge_with_its_value() -> None:
    comparison = {"repeats": 3, "min_effect_pct": 2.0, "verdicts": [
        {"comparison": "throughput", "metric": "tps", "change_pct": 3917.4,
         "ci_pct": [3352.5, 4574.7], "verdict": "faster"},
        {"comparison": "throughput", "metric": "p95", "change_pct": -96.7,
         "ci_pct": [-97.3, -96.0], "verdict": "faster"},
    ]}
    ax = plots.verdicts(comparison).axes[0]
    xs = np.concatenate([line.get_xdata() for line in ax.get_lines()
                         if line.get_linestyle() != "--" and len(line.get_xdata())])
    assert xs.max() <= plots.VERDICT_CLIP_PCT and xs.min() >= -100
    assert ax.get_xlim()[1] < 1000  # the small changes stay readable
    assert [t.get_text() for t in ax.texts] == ["+3917%"]
