"""Benchmark: the cost of storing one more branch in a diagram file, as the file grows.

Run ``python benchmarks/bench_diagram_store.py [N]`` (N branches, default 30). It tracks one
branch of the ``pitchfork`` plugin into a path file (``PathWriter``), then
stores that branch N times in a diagram file with :class:`pathtrack.io.DiagramWriter` (diagram
schema 2: the branch's rows appended to the shared tables of the open SWMR file), and, as the
reference in the same run, in a file written the way diagram schema 1 stored branches (each
branch copied under ``/branches/NNNN`` of a new version of the whole file, replacing the old
one). It prints the wall and CPU time to store branch k (the median of 5 around k) for a few k,
both ways, and their ratios.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from pathtrack import track
from pathtrack.io import DiagramWriter, PathWriter, h5, load
from pathtrack.io.schema import TREE_COLUMNS, branch_group
from pathtrack.options import TrackerOptions
from pathtrack_problems.pitchfork import Pitchfork


def _schema_1_add(path: str, src: str, branch: int) -> None:
    """What diagram schema 1 did per branch: a new version of the whole file, holding the branch's group."""
    def edit(f) -> None:
        with h5.h5py().File(src, "r") as b:
            h5.copy_tree(b, f.create_group(branch_group(branch)), compress=True)
        for c in TREE_COLUMNS:
            h5.append(f["tree"][c], [branch])

    h5.rewrite(path, edit)


def main(n: int) -> None:
    folder = tempfile.mkdtemp()
    pb = Pitchfork()
    opts = TrackerOptions.resolve(None, pb.default_options)
    branch = os.path.join(folder, "branch.h5")
    track(pb, options=opts, observers=[PathWriter.create(branch, pb, opts)])
    with load(branch) as f:
        steps = f.num_steps
    new, old = os.path.join(folder, "new.h5"), os.path.join(folder, "old.h5")
    writer = DiagramWriter.create(new, pb, opts, 1, {"pending": []})
    with h5.create(old) as f:
        for c, dt in TREE_COLUMNS.items():
            h5.column(f.require_group("tree"), c, dt)
    t_new, t_old = [], []  # (wall, CPU) seconds per branch
    for k in range(n):
        shutil.copy(branch, writer.branch_path())
        t0, c0 = time.perf_counter(), time.process_time()
        writer.add_branch(k, {"branch": k, "parent": k - 1, "origin_event": 0, "depth": 1}, {"pending": []})
        t_new.append((time.perf_counter() - t0, time.process_time() - c0))
        t0, c0 = time.perf_counter(), time.process_time()
        _schema_1_add(old, branch, k)
        t_old.append((time.perf_counter() - t0, time.process_time() - c0))
    writer.close()
    with load(new) as f:
        assert len(f.branches) == n and all(b.num_steps == steps for b in f.branches)
    print(f"{n} copies of a {steps}-step branch of 'pitchfork'; file sizes: schema 2 "
          f"{os.path.getsize(new) / 1e6:.2f} MB (uncompressed while written), schema 1 {os.path.getsize(old) / 1e6:.2f} MB")
    print("milliseconds to store branch k (median of 5 around k), wall clock and CPU of this process")
    print(f"{'branch':>8} {'schema 2 append':>20} {'schema 1 rewrite':>20} {'ratio 1/2 (wall, CPU)':>22}")
    summary = {}
    for k in sorted({2, n // 4, n // 2, 3 * n // 4, n - 3}):
        a = 1e3 * np.median(np.array(t_new[max(k - 2, 0):k + 3]), axis=0)
        b = 1e3 * np.median(np.array(t_old[max(k - 2, 0):k + 3]), axis=0)
        print(f"{k:>8} {a[0]:>9.1f} {a[1]:>9.1f}  {b[0]:>9.1f} {b[1]:>9.1f}  {b[0] / a[0]:>10.1f} {b[1] / a[1]:>10.1f}")
        summary[k] = {"append_ms": a.tolist(), "rewrite_ms": b.tolist()}
    shutil.rmtree(folder)
    print(json.dumps(summary))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
