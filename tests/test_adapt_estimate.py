"""The safe adaptation estimate (models.adapt_estimate) on synthetic head-output features with a known
offset and a known emotion mix (numpy only, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from emovox.models.adapt_estimate import (
    AdaptStats,
    adapt_stats,
    centre_for,
    estimate,
    gate_weight,
    mix_offset,
    soft_combine,
    source_centre,
)

K, D = 4, 4
CENTROIDS = 2.5 * np.eye(K, D) - 2.5 / K  # class means; the training mix (uniform) averages to 0
WITHIN = np.eye(D)


def _training(rng, corpora=8, speakers=4, per_class=10):
    """Corpus offsets (spread 1) plus speaker offsets (spread 0.5) plus class centroids plus noise."""
    U, y, corpus, speaker = [], [], [], []
    for c in range(corpora):
        off_c = rng.normal(scale=1.0, size=D)
        for s in range(speakers):
            off = off_c + rng.normal(scale=0.5, size=D)
            for k in range(K):
                U.append(off + CENTROIDS[k] + rng.normal(size=(per_class, D)))
                y += [k] * per_class
                corpus += [f"c{c}"] * per_class
                speaker += [f"c{c}s{s}"] * per_class
    return np.concatenate(U), np.array(y), corpus, speaker


@pytest.fixture(scope="module")
def stats():
    return adapt_stats(*_training(np.random.default_rng(1)), classes=K)


def _source(rng, offset, mix, n):
    y = rng.choice(K, size=n, p=mix)
    return offset + CENTROIDS[y] + rng.normal(size=(n, D)), y


def _classify(U, offset):
    """Nearest centroid after removing the offset (what a linear head with these centroids does)."""
    d = ((U - offset)[:, None] - CENTROIDS[None]) ** 2
    return d.sum(axis=2).argmin(axis=1)


def test_training_statistics_recover_the_centroids_and_the_noise(stats):
    np.testing.assert_allclose(stats.centroids, CENTROIDS, atol=0.25)
    np.testing.assert_allclose(stats.within, 1.25 * WITHIN, atol=0.3)  # noise plus speaker offsets (0.5 ** 2)
    assert np.allclose(stats.prior, 0.25)
    assert np.trace(stats.spread) > np.trace(stats.within) * 0.5  # corpus and speaker offsets spread about 1.1 per dim


@pytest.mark.parametrize("mix", [[0.25, 0.25, 0.25, 0.25], [0.4, 0.3, 0.2, 0.1]])
def test_a_mixed_source_recovers_its_offset_and_mix(stats, mix):
    rng = np.random.default_rng(2)
    offset = stats.origin + np.array([3.0, -2.0, 1.0, 2.5])
    U, _ = _source(rng, offset, mix, 200)
    est = estimate(U, stats)
    assert np.abs(est.offset - offset).max() < 0.5
    np.testing.assert_allclose(est.mix, mix, atol=0.1)
    assert est.weight > 0.7  # most of the way to centring, which is right for a mixed source


@pytest.mark.parametrize("k", range(K))
def test_a_one_class_source_keeps_its_class(stats, k):
    rng = np.random.default_rng(10 + k)
    offset = stats.origin + rng.normal(scale=0.5, size=D)  # a source near the training corpora
    U, y = _source(rng, offset, np.eye(K)[k], 50)
    est = estimate(U, stats)
    assert est.mix.argmax() == k and est.mix[k] > 0.8
    assert (_classify(U, est.offset) == k).mean() > 0.8
    # plain centring pulls the one class to the middle and loses it
    assert (_classify(U, U.mean(axis=0)) == k).mean() < 0.6


def test_few_clips_shrink_toward_no_adaptation(stats):
    rng = np.random.default_rng(3)
    offset = stats.origin + 2.0
    far = [np.linalg.norm(estimate(_source(rng, offset, [0.25] * 4, n)[0], stats).offset - stats.origin)
           for n in (3, 300)]
    assert far[0] < far[1]


def test_source_centre_maps_the_offset_back_to_features_and_falls_back_without_stats(stats):
    rng = np.random.default_rng(4)
    P = rng.normal(size=(12, D))
    X = rng.normal(size=(30, 12))
    c = centre_for(X, P, stats.origin)
    np.testing.assert_allclose(c @ P, stats.origin, atol=1e-4)
    centre, info = source_centre(X, P, None, "safe")
    np.testing.assert_allclose(centre, X.mean(axis=0), atol=1e-6)
    assert info["method"] == "centre" and "fallback" in info
    centre, info = source_centre(X, P, stats, "safe")
    assert info["method"] == "safe" and len(info["mix"]) == K
    centre, info = source_centre(X, P, stats, "gate", probs_at=lambda c: np.full((len(X), K), 1 / K))
    assert info["weight"] == 1.0  # balanced answers: full centring
    np.testing.assert_allclose(centre @ P, X.mean(axis=0) @ P, atol=1e-4)
    with pytest.raises(ValueError, match="unknown adaptation method"):
        source_centre(X, P, stats, "median")


def test_gate_weight():
    assert gate_weight(np.full((5, 4), 0.25)) == 1.0
    assert gate_weight(np.tile([1.0, 0, 0, 0], (5, 1))) == 0.0


def test_stats_round_trip_through_arrays(stats):
    again = AdaptStats.from_arrays(stats.arrays())
    np.testing.assert_array_equal(again.centroids, stats.centroids)
    assert AdaptStats.from_arrays({"shift": np.zeros(2)}) is None


def test_safe_keeps_the_unadapted_model_for_a_one_class_source_and_adapts_a_mixed_one(stats):
    rng = np.random.default_rng(6)
    P = np.linalg.qr(rng.normal(size=(12, D)))[0]  # orthonormal columns: features -> head outputs
    offset = stats.origin + np.array([2.0, -1.5, 1.0, 0.5])
    for mix, applied in (([0.25] * 4, True), ([0, 0, 1.0, 0], False)):
        U, _ = _source(rng, offset if applied else stats.origin, mix, 80)
        X = U @ P.T  # features whose head outputs are U
        centre, info = source_centre(X, P, stats, "safe")
        assert info["applied"] is applied
        target = offset if applied else stats.origin
        assert np.abs(centre @ P - target).max() < (0.5 if applied else 1e-6)


def _posteriors(U, offset, sharp=1.0):
    """What a head that already knows the source's offset would say (the main head's role)."""
    z = -0.5 * ((U - offset)[:, None, :] - CENTROIDS[None]) ** 2
    z = sharp * z.sum(axis=2)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("k", range(K))
def test_mix_offset_keeps_a_one_class_source_in_its_class_and_recovers_a_mixed_offset(stats, k):
    rng = np.random.default_rng(30 + k)
    offset = stats.origin + np.array([1.5, -1.0, 0.5, 1.0])
    one, _ = _source(rng, offset, np.eye(K)[k], 50)
    beta = mix_offset(one, _posteriors(one, offset), stats, sharpen=2.0)
    assert (_classify(one, beta) == k).mean() > 0.8
    assert (_classify(one, one.mean(axis=0)) == k).mean() < 0.6  # plain centring loses it
    mixed, _ = _source(rng, offset, np.full(K, 0.25), 200)
    assert np.abs(mix_offset(mixed, _posteriors(mixed, offset), stats) - offset).max() < 0.5
    # posteriors that know nothing (uniform) give plain centring shifted by the training mix's mean
    flat = np.full((len(mixed), K), 1 / K)
    np.testing.assert_allclose(mix_offset(mixed, flat, stats), mixed.mean(axis=0) - stats.centroids.mean(axis=0))


def test_soft_combine_bounds_the_adapted_heads_share():
    main = np.array([[0.9, 0.1], [0.2, 0.8]])
    adapted = np.array([[0.1, 0.9], [0.6, 0.4]])
    out = soft_combine(main, adapted, 0.3)
    np.testing.assert_allclose(out, [[0.66, 0.34], [0.32, 0.68]])
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    np.testing.assert_allclose(soft_combine(main, adapted, 0.0), main)


def test_soft_is_safe_on_a_one_class_source_and_uses_the_main_heads_answers_on_a_mixed_one(stats):
    from emovox.models.adapt_estimate import SOFT_SHARPEN, SOFT_WEIGHT

    rng = np.random.default_rng(8)
    P = np.linalg.qr(rng.normal(size=(12, D)))[0]
    offset = stats.origin + np.array([1.5, -1.0, 0.5, 1.0])
    mixed, _ = _source(rng, offset, np.full(K, 0.25), 120)
    probs = _posteriors(mixed, offset)
    centre, info = source_centre(mixed @ P.T, P, stats, "soft", main_probs=probs)
    assert info["method"] == "soft" and info["applied"] and info["share"] == SOFT_WEIGHT
    np.testing.assert_allclose(centre @ P, mix_offset(mixed, probs, stats, SOFT_SHARPEN), atol=1e-6)
    assert np.abs(centre @ P - offset).max() < 0.5
    one, _ = _source(rng, stats.origin, np.eye(K)[2], 80)  # one-sided: the un-adapted model, as safe
    centre, info = source_centre(one @ P.T, P, stats, "soft", main_probs=_posteriors(one, stats.origin))
    assert info["applied"] is False and "share" not in info
    with pytest.raises(ValueError, match="main head's probabilities"):
        source_centre(mixed @ P.T, P, stats, "soft")
