"""Fuzzing ``pathtrack run --set/-o``: every input ends in a result or a one-line error.

Keys are real parameter and option names or junk; values include NaN, infinities, huge
and tiny numbers, empty text, unicode and lists. Small problems and a short
``max_steps`` (given last, so it wins) keep each run short; a hang fails the test.
"""

import faulthandler
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathtrack.cli import main
from pathtrack.options import TrackerOptions
from pathtrack.problem import problem_parameters
from pathtrack.registry import load_problem_class

PROBLEMS = ("pitchfork", "ellipse", "bratu1d")
FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

NUMBERS = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e-320", "0", "-0", "-1", "1",
           "0.5", "3", "1e9", "9" * 40, "0x10", "1_000", " 2 ", "+3.5"]
PLAUSIBLE = st.one_of(st.floats(-5, 5).map(repr), st.integers(1, 60).map(str))
TEXTS = st.one_of(PLAUSIBLE, PLAUSIBLE, st.sampled_from(NUMBERS), st.text(max_size=8),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  st.lists(st.sampled_from(NUMBERS), min_size=0, max_size=3).map(",".join))
# bratu1d's n sizes the problem: junk and small sizes only, so a valid one stays fast
SIZES = st.one_of(st.sampled_from(["nan", "inf", "", "-3", "0", "1", "2", "5", "1.5", "ü", "1e3"]),
                  st.integers(-5, 30).map(str))


def _key(names):
    return st.one_of(st.sampled_from(sorted(names)), st.sampled_from(sorted(names)), st.text(max_size=6))


@st.composite
def run_args(draw):
    problem = draw(st.sampled_from(PROBLEMS))
    params = problem_parameters(load_problem_class(problem))
    args = [problem]
    for _ in range(draw(st.integers(0, 2))):
        key = draw(_key(params))
        value = draw(SIZES if key == "n" else TEXTS)
        args += ["--set", f"{key}={value}"]
    for _ in range(draw(st.integers(0, 2))):
        args += ["-o", f"{draw(_key(TrackerOptions.field_names()))}={draw(TEXTS)}"]
    return args + ["-o", "max_steps=40"]


@pytest.fixture(autouse=True)
def no_hang():
    faulthandler.dump_traceback_later(120, exit=True)  # a hang fails the run instead of stalling it
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.slow
@FUZZ
@given(args=run_args(), as_json=st.booleans())
def test_run_set_and_option_values(args, as_json):
    r = CliRunner().invoke(main, ["run", *args, *(["--json"] if as_json else [])])
    out = r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), (args, repr(r.exception), out)
    assert "Traceback" not in out, (args, out)
    if r.exit_code == 2:
        assert out.startswith("Error: ") and out.count("\n") == 1, (args, out)
    else:
        assert r.exit_code in (0, 1), (args, r.exit_code, out)
        if as_json:
            summary = json.loads(out)
            assert summary["status"] and summary["n_accepted"] >= 0, (args, out)
        else:
            assert out.startswith("problem   "), (args, out)
