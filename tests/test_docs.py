"""The tutorial's code runs and says what it claims."""

import re
import sys
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_writing_a_problem_tutorial_runs(capsys, monkeypatch):
    text = (DOCS / "writing_a_problem.md").read_text()
    define, use = re.findall(r"```python\n(.*?)```", text, re.S)[:2]
    module = types.ModuleType("mypkg.cusp")
    exec(compile(define, "cusp.py", "exec"), module.__dict__)
    monkeypatch.setitem(sys.modules, "mypkg", types.ModuleType("mypkg"))
    monkeypatch.setitem(sys.modules, "mypkg.cusp", module)
    scope = {}
    exec(compile(use, "use.py", "exec"), scope)
    result = scope["result"]
    assert str(result.status) == "success"
    folds = [sp.lam for sp in result.events("fold")]
    assert folds == pytest.approx([0.3849001794597505, -0.3849001794597505], abs=1e-9)
    assert "success The path reached its end." in capsys.readouterr().out


def test_readme_example_runs(capsys):
    text = (DOCS.parent / "README.md").read_text()
    exec(compile(re.findall(r"```python\n(.*?)```", text, re.S)[0], "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "success closed_loop"
    assert out[1] == "[('fold', 2.0), ('fold', -2.0)]"
