"""Distributed tracking over a real dask LocalCluster gives identical results."""

import numpy as np
import pytest

from pathtrack.polynomial import solve


def test_dask_local_cluster_identical_to_local_threads():
    distributed = pytest.importorskip("distributed")
    local = solve("cyclic:5", seed=4, workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = solve("cyclic:5", seed=4, executor=client)
    np.testing.assert_array_equal(remote.path_endpoints, local.path_endpoints)
    np.testing.assert_array_equal(remote.path_kind, local.path_kind)
    np.testing.assert_array_equal(remote.solutions, local.solutions)
    assert (remote.n_regular, remote.n_failed) == (70, 0)


def test_concurrent_futures_executor_identical():
    from concurrent.futures import ThreadPoolExecutor

    local = solve("noon:3", seed=2, workers=1)
    with ThreadPoolExecutor(2) as ex:
        other = solve("noon:3", seed=2, executor=ex)
    np.testing.assert_array_equal(other.path_endpoints, local.path_endpoints)


@pytest.mark.slow
def test_dask_parameter_homotopy_identical_to_local_threads():
    distributed = pytest.importorskip("distributed")
    from pathtrack.polynomial import as_parametrized, solve_parameters

    ps = as_parametrized("x^2 + y^2 - a; x*y - b*x + 1", ["a", "b"])
    targets = np.array([[2.0, 1.0], [3.0, -0.5], [1.0 + 1j, 2.0]])
    local = solve_parameters(ps, targets, seed=3, workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = solve_parameters(ps, targets, seed=3, executor=client)
    for a, b in zip(local.results, remote.results):
        np.testing.assert_array_equal(b.path_endpoints, a.path_endpoints)
        np.testing.assert_array_equal(b.solutions, a.solutions)
        assert a.n_regular == 4 and a.n_failed == 0  # two conics meet in 4 points
