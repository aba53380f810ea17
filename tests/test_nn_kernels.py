"""Loss, gradient, Hessian- and Gauss–Newton-vector products of pathtrack.nn against autograd."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, hessian, jacobian

from pathtrack.nn import ACTIVATIONS, LossFunction, Network
from pathtrack.nn.model import MAX_SPARSE_FRACTION

KAPPA = 1.5
T = 2.0


def _act(name, z):
    if name == "switch":
        return anp.where(z > 0, anp.tanh(anp.maximum(z, 0.0) / 2) ** 2, 0.0)
    if name == "relu":
        return anp.maximum(z, 0.0)
    if name == "tanh":
        return anp.tanh(z)
    return 1.0 / (1.0 + anp.exp(-z))


def ref_logits(net, X, p):
    """Plain autograd forward pass."""
    a = X
    for l in range(net.n_layers):
        z = anp.dot(a, net.weights(p, l)) + net.biases(p, l)
        a = _act(net.activation, z) if l < net.n_layers - 1 else z
    return z


def ref_softmax(z):
    u = z / T
    u = u - anp.max(u, axis=1, keepdims=True)
    return anp.exp(u) / anp.sum(anp.exp(u), axis=1, keepdims=True)


def ref_head(loss, z, y, w):
    """Weighted loss as a function of the logits."""
    onehot = np.eye(z.shape[1])[y]
    if loss == "cross_entropy":
        u = z / T
        mx = anp.max(u, axis=1, keepdims=True)
        ell = anp.log(anp.sum(anp.exp(u - mx), axis=1)) + mx[:, 0] - anp.sum(u * onehot, axis=1)
    elif loss == "mse":
        ell = anp.sum((ref_softmax(z) - onehot) ** 2, axis=1)
    else:
        zy = anp.sum(z * onehot, axis=1)
        other = anp.max(z - 1e9 * onehot, axis=1)
        ell = anp.maximum(0.0, KAPPA - (zy - other)) ** 2
    return anp.sum(w * ell)


def make_problem(activation, loss, seed=0, dtype=np.float64, m=40, widths=(9, 7, 5, 4), first_layer="auto"):
    rng = np.random.default_rng(seed)
    X = rng.random((m, widths[0]))
    # image-like sparsity, so "auto" picks the sparse first layer; the columns' densities
    # range from 5% to 75%, so the default split sends some columns to the dense block
    X[rng.random(X.shape) > np.linspace(0.05, 0.75, widths[0])] = 0.0
    y = rng.integers(0, widths[-1], m)
    net = Network(widths, activation, temperature=T, dtype=dtype)
    lf = LossFunction(net, X, y, loss=loss, kappa=KAPPA, first_layer=first_layer)
    p = net.init_params("uniform", scale=0.9, seed=seed)
    v = rng.standard_normal(net.n_params).astype(dtype)
    return net, lf, X, y, p, v


def close(a, b, rtol):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


@pytest.mark.parametrize("widths", [(9, 7, 5, 4), (9, 7, 4)], ids=["two-hidden", "one-hidden-fused"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "margin"])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_loss_grad_hvp_match_autograd(activation, loss, widths):
    net, lf, X, y, p, v = make_problem(activation, loss, widths=widths)
    assert lf.fused == (len(widths) == 3)
    w = np.full(len(y), 1.0 / len(y))
    f = lambda q: ref_head(loss, ref_logits(net, X, q), y, w)  # noqa: E731
    value, g = lf.loss_and_grad(p)
    assert value == pytest.approx(f(p), rel=1e-12)
    close(g, grad(f)(p), 1e-7)
    close(lf.grad(p), g, 1e-14)
    assert lf.loss(p) == value
    close(lf.hvp(p, v), grad(lambda q: anp.dot(grad(f)(q), v))(p), 1e-7)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "margin"])
def test_gauss_newton_product_matches_jacobian_form(loss):
    net, lf, X, y, p, v = make_problem("tanh", loss, seed=2, m=12, widths=(5, 4, 3))
    w = np.full(len(y), 1.0 / len(y))
    m, k = len(y), net.widths[-1]
    if loss == "mse":
        # split where the loss is convex: at the softmax outputs s, H_out = Hessian of Σ w (s - onehot)²
        out = lambda q: ref_softmax(ref_logits(net, X, q)).ravel()  # noqa: E731
        onehot = np.eye(k)[y]
        head = lambda s: anp.sum(w * anp.sum((s.reshape(m, k) - onehot) ** 2, axis=1))  # noqa: E731
    else:
        out = lambda q: ref_logits(net, X, q).ravel()  # noqa: E731
        head = lambda z: ref_head(loss, z.reshape(m, k), y, w)  # noqa: E731
    J = jacobian(out)(p)
    H = hessian(head)(out(p))
    close(lf.gnvp(p, v), J.T @ (H @ (J @ v)), 1e-7)


@pytest.mark.parametrize("split", ["all-sparse", "default", "all-dense"])
@pytest.mark.parametrize("loss", ["cross_entropy", "margin"])
@pytest.mark.parametrize("widths", [(9, 7, 5, 4), (9, 7, 4), (40, 13, 5)])
@pytest.mark.parametrize("activation", ["switch", "relu"])
def test_dense_and_sparse_first_layer_agree(activation, widths, loss, split):
    # 700 rows = 10 full blocks of 64 and a partial one, and a full and a partial GEMM
    # super-block; with 40 inputs most rows have more than 8 sparse non-zeros (the unrolled
    # passes), and the margin loss leaves some rows without any gradient (skipped rows)
    net, dense, X, y, p, v = make_problem(activation, loss, first_layer="dense", widths=widths, m=700)
    kappa = float(np.median(dense.margins(p))) if loss == "margin" else KAPPA  # half the rows inactive
    frac = {"all-sparse": 1.0, "default": MAX_SPARSE_FRACTION, "all-dense": 0.0}[split]
    dense = LossFunction(net, X, y, loss=loss, kappa=kappa, first_layer="dense")
    sparse = LossFunction(net, X, y, loss=loss, kappa=kappa, first_layer="sparse", max_sparse_fraction=frac)
    unfused = LossFunction(net, X, y, loss=loss, kappa=kappa, first_layer="sparse", fused=False,
                           max_sparse_fraction=frac)
    assert sparse.fused == (len(widths) == 3)
    n_dense = {"all-sparse": 0, "all-dense": widths[0]}.get(split, -1)
    assert sparse.dense_cols.size == n_dense if n_dense >= 0 else 0 < sparse.dense_cols.size < widths[0]
    if loss == "margin":
        assert 200 < np.count_nonzero(sparse.per_sample_losses(p)) < 500
    assert dense.first_layer == "dense" and sparse.first_layer == "sparse" and not unfused.fused
    assert sparse.n_samples >= 512  # the parallel code path
    close(sparse.grad(p), dense.grad(p), 1e-13)
    close(unfused.grad(p), dense.grad(p), 1e-13)
    assert sparse.loss(p) == pytest.approx(dense.loss(p), rel=1e-14)
    close(sparse.hvp(p, v), dense.hvp(p, v), 1e-13)
    close(sparse.gnvp(p, v), dense.gnvp(p, v), 1e-13)


@pytest.mark.parametrize("first_layer", ["dense", "sparse"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "margin"])
def test_float32_agrees_with_float64(loss, first_layer):
    net64, lf64, _, _, p, v = make_problem("switch", loss, m=200, first_layer=first_layer)
    _, lf32, _, _, _, _ = make_problem("switch", loss, m=200, dtype=np.float32, first_layer=first_layer)
    p32, v32 = p.astype(np.float32), v.astype(np.float32)
    L64, g64 = lf64.loss_and_grad(p)
    L32, g32 = lf32.loss_and_grad(p32)
    assert g32.dtype == np.float32 and lf32.hvp(p32, v32).dtype == np.float32
    assert L32 == pytest.approx(L64, rel=1e-4)
    close(g32, g64, 1e-4)
    close(lf32.hvp(p32, v32), lf64.hvp(p, v), 1e-4)
    close(lf32.gnvp(p32, v32), lf64.gnvp(p, v), 1e-4)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse", "margin"])
def test_subset_and_weights_match_selected_rows(loss):
    net, full, X, y, p, v = make_problem("switch", loss, m=60)
    idx = np.array([3, 7, 8, 20, 41, 59, 0])
    sub = LossFunction(net, X, y, loss=loss, kappa=KAPPA, subset=idx)
    direct = LossFunction(net, X[idx], y[idx], loss=loss, kappa=KAPPA)
    # zero weight outside the subset, 1/k inside: the same function on the full data
    w = np.zeros(len(y))
    w[idx] = 1.0 / len(idx)
    full.set_weights(w)
    for lf in (sub, full):
        assert lf.loss(p) == pytest.approx(direct.loss(p), rel=1e-13)
        close(lf.grad(p), direct.grad(p), 1e-12)
        close(lf.hvp(p, v), direct.hvp(p, v), 1e-12)
        close(lf.gnvp(p, v), direct.gnvp(p, v), 1e-12)
    # arbitrary weights: the weighted sum of per-sample losses and their gradients
    rng = np.random.default_rng(5)
    ws = rng.random(len(idx))
    sub.set_weights(ws)
    ell = direct.per_sample_losses(p)
    assert sub.loss(p) == pytest.approx(np.dot(ws, ell), rel=1e-13)
    g = sum(wi * LossFunction(net, X[[i]], y[[i]], loss=loss, kappa=KAPPA).grad(p) for wi, i in zip(ws, idx))
    close(sub.grad(p), g, 1e-12)


def test_outputs_margins_accuracy_consistent():
    net, lf, X, y, p, _ = make_problem("relu", "cross_entropy", m=300, widths=(9, 30, 4))
    S = lf.outputs(p)
    np.testing.assert_allclose(S.sum(axis=1), 1.0)
    close(S, ref_softmax(ref_logits(net, X, p)), 1e-12)
    z = lf.logits(p)
    margins = lf.margins(p)
    expected = np.array([z[i, y[i]] - np.max(np.delete(z[i], y[i])) for i in range(len(y))])
    close(margins, expected, 1e-12)
    correct = lf.correct(p)
    assert np.array_equal(correct, np.argmax(z, axis=1) == y)
    assert 0 < correct.sum() < len(y)
    assert lf.accuracy(p) == correct.mean()


def test_hvp_reuses_forward_pass_consistently():
    net, lf, _, _, p, v = make_problem("sigmoid", "mse")
    h1 = lf.hvp(p, v)
    lf.loss_and_grad(p)   # cached forward at p (without σ'') must not spoil the next hvp
    close(lf.hvp(p, v), h1, 1e-15)
    q = p + 0.1
    assert not np.allclose(lf.hvp(q, v), h1)


def test_parameter_views_and_init():
    net = Network([4, 3, 2], "tanh")
    assert net.n_params == 4 * 3 + 3 + 3 * 2 + 2
    p = net.init_params("uniform", scale=5.0, seed=1)
    assert np.abs(p).max() < 5.0 and np.array_equal(p, net.init_params("uniform", scale=5.0, seed=1))
    net.weights(p, 1)[0, 1] = 42.0
    assert p[4 * 3 + 3 + 1] == 42.0  # views write through
    assert net.biases(p, 0).shape == (3,) and net.weights(p, 0).shape == (4, 3)
    g = net.init_params("glorot", seed=0)
    assert np.all(net.biases(g, 0) == 0) and np.abs(net.weights(g, 0)).max() <= np.sqrt(6 / 7)


def test_bad_input_messages():
    net, lf, X, y, p, v = make_problem("relu", "cross_entropy")
    with pytest.raises(ValueError, match=r"p must have shape \(134,\).*got \(133,\)"):
        lf.grad(p[:-1])
    bad = p.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="p contains NaN"):
        lf.loss(bad)
    with pytest.raises(ValueError, match="v contains NaN"):
        lf.hvp(p, bad)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        LossFunction(net, Xn, y)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 9\)"):
        LossFunction(net, X[:, :5], y)
    with pytest.raises(ValueError, match="labels y must lie in 0..3"):
        LossFunction(net, X, y + 4)
    with pytest.raises(ValueError, match="weights must have shape"):
        lf.set_weights(np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        lf.set_weights(-np.ones(len(y)))
    with pytest.raises(ValueError, match="unknown loss"):
        LossFunction(net, X, y, loss="hinge")
    with pytest.raises(ValueError, match="unknown activation"):
        Network([3, 2], "gelu")
    with pytest.raises(ValueError, match="subset indices"):
        LossFunction(net, X, y, subset=[0, 1000])
    with pytest.raises(ValueError, match=r"max_sparse_fraction must lie in \[0, 1\]"):
        LossFunction(net, X, y, max_sparse_fraction=1.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_columns_reassembles_the_input(dtype):
    import scipy.sparse

    from pathtrack.kernels import nn as K

    rng = np.random.default_rng(3)
    X = rng.random((300, 17)).astype(dtype)
    X[rng.random(X.shape) > np.linspace(0.0, 0.9, 17)] = 0.0  # column 0 empty, the last ones dense
    counts = K.column_counts(X, np.empty((2, 17), np.int64))
    np.testing.assert_array_equal(counts, np.count_nonzero(X, axis=0))
    dense = counts > 0.3 * X.shape[0]
    indptr, indices, data, Xd = K.split_columns(X, dense)
    assert Xd.dtype == data.dtype == dtype and Xd.flags.c_contiguous
    np.testing.assert_array_equal(Xd, X[:, dense])
    sparse = scipy.sparse.csr_matrix((data, indices, indptr), shape=X.shape).toarray()
    np.testing.assert_array_equal(sparse, np.where(dense, 0, X))
    assert np.all(data != 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vectorised_switch_rows_match_expm1(dtype):
    """activate_row/activate_row2 compute the switch without expm1; compare with math-based values."""
    from pathtrack.kernels.nn import RELU, SWITCH, activate_row, activate_row2

    x = np.concatenate([-np.logspace(-30, 3, 200), [0.0], np.logspace(-30, 3, 4000),
                        np.linspace(0.0, 45.0, 4001)]).astype(dtype)
    a, d1, d2 = x.copy(), np.empty_like(x), np.empty_like(x)
    activate_row2(a, d1, d2, SWITCH)
    xr = x.astype(np.float64)
    e = np.expm1(-np.maximum(xr, 0.0))
    t = np.where(xr > 0, -e / (2.0 + e), 0.0)
    s = 1.0 - t * t
    eps = np.finfo(dtype).eps
    # σ to a few ulps relative; σ', σ'' (which cancel in 1 - t² for large x) to a few eps absolute
    tiny = np.finfo(dtype).smallest_normal  # t² of x ~ 1e-30 underflows in float32
    assert np.all(np.abs(a - t * t) <= 8 * eps * np.abs(t * t) + tiny)
    assert np.abs(d1 - t * s).max() <= 8 * eps
    assert np.abs(d2 - np.where(xr > 0, 0.5 * s * (1 - 3 * t * t), 0.0)).max() <= 8 * eps
    b, e1 = x.copy(), np.empty_like(x)
    activate_row(b, e1, SWITCH)
    np.testing.assert_array_equal(b, a)
    np.testing.assert_array_equal(e1, d1)
    # NaN stays NaN (a blown-up pre-activation must not turn into a silent 0)
    for kind in (SWITCH, RELU):
        z = np.array([np.nan, 1.0, -1.0], dtype)
        activate_row(z, np.empty_like(z), kind)
        assert np.isnan(z[0]) and z[2] == 0.0
