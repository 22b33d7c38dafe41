"""Window plans, step scores and smoothing, on arrays with known answers."""

import numpy as np
import pytest

from emovox.defaults import check_window
from emovox.signal.segmenter import (
    AudioRing,
    plan_windows,
    smooth_region,
    step_scores,
    viterbi,
)


def test_plan_covers_the_region_with_hop_spaced_windows():
    assert plan_windows(2.0, 4.5, 3.0, 1.0) == [(2.0, 4.5)]  # shorter than a window: itself
    plan = plan_windows(10.0, 17.5, 3.0, 1.0)
    assert plan[0] == (10.0, 13.0) and plan[-1] == (14.5, 17.5)
    assert all(b - a == pytest.approx(3.0) for a, b in plan)
    assert [a for a, _ in plan[:-1]] == [10.0, 11.0, 12.0, 13.0, 14.0]


def test_step_scores_weight_by_overlap():
    edges = np.array([0.0, 1.0, 2.0])
    windows = [(0.0, 2.0, np.array([1.0, 0.0])), (1.0, 2.0, np.array([0.0, 1.0])), (0.0, 2.0, None)]
    scores = step_scores(edges, windows, 2)
    np.testing.assert_allclose(scores, [[1.0, 0.0], [0.5, 0.5]])
    assert np.isnan(step_scores(edges, [(0.0, 1.0, np.array([1.0, 0.0]))], 2)[1]).all()
    assert step_scores(edges, [(0.0, 2.0, None)], 2).shape == (2, 2)  # no scored window at all


def test_one_odd_step_does_not_flip_but_a_real_change_does():
    a, b = [0.7, 0.3], [0.3, 0.7]
    odd = np.array([a, a, a, b, a, a, a])
    steps = np.ones(len(odd))
    assert viterbi(odd, steps, 0.0).tolist() == [0, 0, 0, 1, 0, 0, 0]  # no smoothing: argmax
    assert viterbi(odd, steps, 0.3).tolist() == [0] * 7
    change = np.array([a, a, a, b, b, b, b])
    assert viterbi(change, steps, 0.3).tolist() == [0, 0, 0, 1, 1, 1, 1]


def test_one_odd_window_flips_steps_only_without_smoothing():
    windows = [(float(s), s + 3.0, np.array([0.7, 0.3])) for s in range(10)]
    windows[5] = (5.0, 8.0, np.array([0.05, 0.95]))  # one odd window among steady ones
    raw, _, _ = smooth_region(0.0, 12.0, windows, 1.0, 0.0, 2)
    smooth, _, _ = smooth_region(0.0, 12.0, windows, 1.0, 0.3, 2)
    assert [r.label for r in raw] == [0, 1, 0]
    assert [(r.label, r.start, r.end) for r in smooth] == [(0, 0.0, 12.0)]


def test_runs_carry_mean_scores_and_their_argmax():
    windows = [(s, s + 3.0, np.array(p)) for s, p in
               [(0, [0.9, 0.1]), (1, [0.8, 0.2]), (2, [0.2, 0.8]), (3, [0.1, 0.9]), (4, [0.1, 0.9])]]
    runs, edges, scores = smooth_region(0.0, 7.0, windows, 1.0, 0.3, 2)
    assert len(edges) == 8 and scores.shape == (7, 2)
    assert [r.label for r in runs] == [0, 1]
    assert runs[0].start == 0.0 and runs[-1].end == 7.0 and runs[0].end == runs[1].start
    for r in runs:
        assert int(np.argmax(r.scores)) == r.label
        assert r.scores.sum() == pytest.approx(1.0)


def test_check_window_and_ring():
    with pytest.raises(ValueError, match="must not exceed"):
        check_window(1.0, 2.0)
    with pytest.raises(ValueError, match="positive"):
        check_window(0.0, 1.0)
    ring = AudioRing()
    ring.append(np.arange(10, dtype=np.float32))
    ring.drop_before(4)
    ring.append(np.arange(10, 15, dtype=np.float32))
    assert ring.offset == 4 and ring.end == 15
    assert ring.get(8, 12).tolist() == [8, 9, 10, 11]
