"""Run one function over many starts in parallel; results come back in start order.

``multistart(fn, starts)`` uses local processes (all cores) by default; ``workers=1``
runs serially in this process; ``executor=`` takes any ``concurrent.futures.Executor``
or a ``dask.distributed.Client`` (optional dependency: nothing here imports dask).
Starts are cut into contiguous chunks, each chunk is one task, and the results are
reassembled by chunk index, so the output is the same list whatever runs it, as long
as ``fn`` itself is deterministic (derive any randomness from the start, not from
global state).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence

__all__ = ["multistart", "ONE_THREAD_ENV"]

#: Environment of the default worker processes: one BLAS/OpenMP thread each. Many small
#: problems on all cores must not also thread their BLAS calls: on a 2-core machine a
#: threaded OpenBLAS made scipy's L-BFGS-B 70x slower on an 8-unknown problem
#: (8 ms instead of 0.12 ms per iteration, measured with scipy 1.17).
ONE_THREAD_ENV: Dict[str, str] = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                  "NUMBA_NUM_THREADS": "1"}


@contextlib.contextmanager
def _environ(env: Dict[str, str]):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run_chunk(fn: Callable, chunk: Sequence) -> List[Any]:
    return [fn(s) for s in chunk]


def _chunks(starts: Sequence, size: int) -> List[Sequence]:
    return [starts[i:i + size] for i in range(0, len(starts), size)]


def multistart(fn: Callable[[Any], Any], starts: Sequence, *, workers: Optional[int] = None, executor=None,
               chunksize: Optional[int] = None, progress: bool = False,
               worker_env: Optional[Dict[str, str]] = None) -> List[Any]:
    """``[fn(s) for s in starts]``, computed in parallel.

    Parameters
    ----------
    fn : callable
        Picklable (a module-level function or a ``functools.partial`` of one) unless
        ``workers=1``.
    starts : sequence
    workers : int, optional
        Local worker processes (default: all cores). ``1`` runs serially in this process.
        Ignored when ``executor`` is given.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Anything with ``submit(fn, *args)`` returning futures with ``result()``.
    chunksize : int, optional
        Starts per task (default: about four tasks per worker).
    progress : bool
        A tqdm bar over finished starts.
    worker_env : dict, optional
        Environment variables of the default (spawned) worker processes; default
        :data:`ONE_THREAD_ENV`. Not used with ``executor`` or ``workers=1``.

    Returns
    -------
    list
        ``fn(starts[i])`` at index ``i``.
    """
    starts = list(starts)
    if not starts:
        return []
    own = None
    if executor is None:
        workers = (os.cpu_count() or 1) if workers is None else int(workers)
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if workers == 1:
            return _serial(fn, starts, progress)
        # spawn, not fork: the workers read worker_env when they import numpy
        executor = own = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    else:
        workers = _executor_workers(executor)
    size = chunksize or max(1, -(-len(starts) // (4 * workers)))
    chunks = _chunks(starts, size)
    try:
        with _environ(ONE_THREAD_ENV if worker_env is None else worker_env) if own is not None \
                else contextlib.nullcontext():
            futures = [_submit(executor, _run_chunk, fn, c) for c in chunks]  # starts the workers
        results: List[Any] = [None] * len(chunks)
        bar = _bar(progress, len(starts))
        for i, fut in _as_completed(executor, futures):
            results[i] = fut.result()
            bar.update(len(results[i]))
        bar.close()
    finally:
        if own is not None:
            own.shutdown(cancel_futures=True)
    return [r for chunk in results for r in chunk]


def _serial(fn, starts, progress):
    bar = _bar(progress, len(starts))
    out = []
    for s in starts:
        out.append(fn(s))
        bar.update(1)
    bar.close()
    return out


def _bar(progress: bool, total: int):
    from tqdm.auto import tqdm
    return tqdm(total=total, unit="start", disable=not progress, leave=False, dynamic_ncols=True)


def _is_dask_client(executor) -> bool:
    return type(executor).__module__.startswith("distributed") and hasattr(executor, "gather")


def _submit(executor, *args):
    if _is_dask_client(executor):
        return executor.submit(*args, pure=False)
    return executor.submit(*args)


def _as_completed(executor, futures):
    """``(index, future)`` pairs as the futures finish."""
    index = {id(f): i for i, f in enumerate(futures)}
    if _is_dask_client(executor):
        from distributed import as_completed
    else:
        from concurrent.futures import as_completed
    for fut in as_completed(futures):
        yield index[id(fut)], fut


def _executor_workers(executor) -> int:
    if _is_dask_client(executor):
        return max(1, sum(executor.nthreads().values()))
    return max(1, int(getattr(executor, "_max_workers", os.cpu_count() or 1)))
