"""The solving_systems tutorial's Python examples run and say what the text claims."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "solving_systems.md"


def test_tutorial_examples_run(monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    local = [b for b in blocks if "LocalCluster" not in b]  # the dask example is exercised in test_polynomial_dask
    assert len(local) == 5
    scope = {}
    exec(compile(local[0], "first.py", "exec"), scope)
    assert scope["result"].n_regular == 4 and scope["result"].n_failed == 0
    exec(compile(local[1], "cyclic.py", "exec"), scope)
    assert (scope["res"].n_paths, scope["res"].n_regular, scope["res"].n_at_infinity) == (120, 70, 50)
    exec(compile(local[2], "double.py", "exec"), scope)
    assert scope["res"].multiplicities.tolist() == [2, 2]
    assert scope["res"].singular_winding.tolist() == [2, 2]
    exec(compile(local[3], "curve.py", "exec"), scope)
    assert (scope["res"].n_regular, scope["res"].n_isolated_singular, scope["res"].n_positive_dimensional) == (1, 1, 5)
    monkeypatch.chdir(DOC.parents[1])  # the scaling example names tests/data/comb3000.phc
    scope = {}
    exec(compile(local[4], "scaling.py", "exec"), scope)
    assert scope["res"].n_regular == 16
    assert scope["res"].scaling.variable_exponents.tolist()[:3] == [-21, -19, -17]
