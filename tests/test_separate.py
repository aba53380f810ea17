"""The exact output-layer stage (:func:`pathtrack.nn.separate.separate`) on small synthetic data."""

import numpy as np
import pytest

from pathtrack.nn import LossFunction, Network
from pathtrack.nn.separate import fewest_wrong, pair_margins, separate


def _separable(m=1500, k=6, C=4, gap=0.05, seed=0):
    rng = np.random.default_rng(seed)
    H = rng.random((m, k))
    W, b = rng.normal(size=(k, C)), rng.normal(size=C)
    Z = H @ W + b
    top2 = np.sort(Z, axis=1)[:, -2:]
    keep = top2[:, 1] - top2[:, 0] > gap  # a true layer with margin: the features are separable
    return H[keep], Z[keep].argmax(axis=1), W, b


def test_separable_features_get_every_sample_right_with_the_margin():
    H, y, _, _ = _separable()
    W, b, status, info = separate(H, y, 4, margin=2.0, n_init=150, max_add=300, phase2=True)
    assert status == "separable" and info["checked"]
    M = pair_margins(H, y, W, b)
    assert M.min() >= 2.0 * (1 - 1e-6) and info["n_wrong"] == 0
    assert info["hinge"] == pytest.approx(0.0, abs=1e-9)
    W1, _, status1, _ = separate(H, y, 4, margin=2.0, n_init=150, max_add=300)
    assert status1 == "separable" and np.abs(W).sum() <= np.abs(W1).sum() * (1 + 1e-9)  # phase 2: least Σ|W|
    assert info["n_rounds"] >= 2  # the first working set did not hold every binding pair
    assert info["n_pairs"] < H.shape[0] * 3  # constraint generation used a part of the pairs


def test_inseparable_features_are_reported_never_claimed():
    H, y, W0, b0 = _separable(seed=1)
    H = np.vstack([H, H[:5]])
    y = np.concatenate([y, (y[:5] + 1) % 4])  # the same features with another label
    W, b, status, info = separate(H, y, 4, W0=W0, b0=b0, n_init=200, max_add=300)
    assert status == "inseparable" and info["hinge"] > 0.1
    assert info["n_wrong"] >= 5  # each duplicated pair has one wrong member at least
    assert info["n_wrong"] == int(np.sum(pair_margins(H, y, W, b).min(axis=1) <= 0))


def test_round_limit_is_a_limit_not_a_success():
    H, y, _, _ = _separable(seed=2)
    _, _, status, info = separate(H, y, 4, n_init=12, max_add=3, max_rounds=1)
    assert status == "limit" and not info["checked"]


def test_features_feed_an_output_layer_that_the_network_classifies_right():
    rng = np.random.default_rng(3)
    net = Network([5, 7, 3], activation="switch", dtype=np.float32)
    X = rng.normal(size=(400, 5)).astype(np.float32)
    p = net.init_params("uniform", 1.0, seed=3)
    lf = LossFunction(net, X, np.zeros(400, np.int64))
    H = lf.features(p)
    W1, b1 = net.layers(p)[0]
    A = X.astype(np.float64) @ W1 + b1
    np.testing.assert_allclose(H, np.where(A > 0, np.tanh(A / 2) ** 2, 0.0), atol=1e-5)  # switch(X W1 + b1)
    y = (H[:, :3] * [1.0, 0.6, 0.3]).argmax(axis=1)  # a linear rule of the features: separable
    lf = LossFunction(net, X, y)
    W, b, status, _ = separate(lf.features(p), y, 3)
    assert status == "separable"
    q = p.copy()
    net.weights(q, 1)[...] = W
    net.biases(q, 1)[...] = b
    assert lf.accuracy(q) == 1.0  # the float32 forward pass agrees


def test_bad_input_is_one_line_errors():
    H, y, _, _ = _separable(m=50)
    with pytest.raises(ValueError, match="labels"):
        separate(H, y + 10, 4)
    with pytest.raises(ValueError, match="margin"):
        separate(H, y, 4, margin=0.0)
    with pytest.raises(ValueError, match="W0"):
        separate(H, y, 4, W0=np.zeros((2, 2)), b0=np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        separate(np.full_like(H, np.nan), y, 4)


def test_fewest_wrong_counts_below_the_hinge_and_proves_it():
    H, y, W0, b0 = _separable(m=600, seed=4)
    y = y.copy()
    y[:6] = (y[:6] + 1) % 4  # six labels flipped: at most six wrong are needed
    W, b, status, info = fewest_wrong(H, y, 4, W0=W0, b0=b0, n_candidates=25, n_init=100, max_add=200,
                                      max_time=60)
    assert status == "inseparable"
    assert info["n_wrong"] == int(np.sum(pair_margins(H, y, W, b).min(axis=1) <= 0))
    assert info["n_wrong"] == 6 < info["n_wrong_hinge"]  # the hinge layer has more wrong than needed
    assert info["milp_optimal"] and info["milp_bound"] == pytest.approx(6.0)  # and HiGHS proved 6 the least
    H2, y2, _, _ = _separable(m=200, seed=5)  # separable: the LP ends it, no MILP
    _, _, status, info = fewest_wrong(H2, y2, 4, n_init=100)
    assert status == "separable" and info["n_milp"] == 0 and info["n_wrong"] == 0
