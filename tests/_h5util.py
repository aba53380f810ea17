"""Helpers shared by the HDF5 storage tests: write a run to a file, read a file completely."""

import json

import numpy as np

from pathtrack.driver import track
from pathtrack.hdf5 import PathWriter, load
from pathtrack.options import TrackerOptions
from pathtrack.registry import make_problem


def run_to_file(path, name, params=None, observers=(), flush_interval=0.0, **overrides):
    """Track problem ``name`` with a PathWriter on ``path``; return (result, problem, options)."""
    problem = make_problem(name, **(params or {}))
    options = TrackerOptions(**problem.default_options).replace(**overrides)
    writer = PathWriter.create(str(path), problem, options, flush_interval=flush_interval)
    result = track(problem, options=options, observers=[writer, *observers])
    return result, problem, options


def read_everything(path):
    """Every value a file holds, through the public API (forces every lazy read)."""
    with load(path) as f:
        out = {"summary": {k: v for k, v in f.summary().items() if k not in ("last_checkpoint_age_s", "state", "file")}}
        for name in ("lam", "s", "ds", "index", "n_newton_iters", "residual", "contraction", "sigma_min", "cond",
                     "det_sign", "wall_time", "p_steps"):
            out[name] = getattr(f, name)
        out["metrics"] = f.metrics
        out["p"] = f.p[:]
        out["p_rows"] = [f.p[i] for i in range(len(f.p))]
        out["tangent"] = f.tangent[:]
        out["rejected"] = f.rejected
        out["events"] = f.events
        out["event_p"] = [f.event_p(i) for i in range(len(f.events))]
        if f.has_steps:
            st = f.checkpoint()
            out["checkpoint"] = {k: v for k, v in vars(st).items()}
            out["start"] = f.start_point()
        return out


def same(a, b):
    """Deep equality with NaN == NaN for arrays and floats."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc" and b.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (np.isnan(a) and np.isnan(b))
    return a == b


class CtrlCAt:
    """An observer that raises KeyboardInterrupt (as Ctrl-C would) when accepted step ``step`` is reported."""

    def __init__(self, step):
        self.step = step

    def on_start(self, tracker, record):
        pass

    def on_step(self, tracker, record):
        if record.accepted and record.step == self.step:
            raise KeyboardInterrupt

    def on_event(self, tracker, point):
        pass

    def on_finish(self, tracker):
        pass


def as_schema_1(path):
    """Rewrite a file as schema version 1 wrote it: reject reasons as fixed-length UTF-8 names."""
    import h5py

    with h5py.File(path, "r+") as h:
        codes = h["rejected/reason"]
        names = json.loads(codes.attrs["names"])
        rows = [names[str(int(c))].encode() for c in codes[...]]
        del h["rejected/reason"]
        h["rejected"].create_dataset("reason", data=np.array(rows, dtype=h5py.string_dtype("utf-8", 32)),
                                     maxshape=(None,), chunks=(256,))
        h.attrs["schema_version"] = 1
