"""Hypothesis fuzzing of PHC input: every text ends in a result or a one-line error, never a traceback."""

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathtrack.cli import main
from pathtrack.polynomial import PolynomialSyntaxError, parse_phc

TOKENS = ["x", "y", "z", "x1", "+", "-", "*", "^", "**", "(", ")", ";", "1", "2", "0.5", "1e3", "3e999", "nan",
          "inf", "NaN", "i", "I", "^99999999", "^-1", "@", "é", "\u2212", " ", "\n", "x^2", "y^3", "x*y"]


@st.composite
def phc_texts(draw):
    n = draw(st.integers(-2, 4))
    body = draw(st.lists(st.sampled_from(TOKENS), max_size=30))
    header = draw(st.sampled_from([f"{n}\n", f"{n} {n + 1}\n", "", "two\n", "1 x\n"]))
    return header + " ".join(body)


valid_polys = st.lists(st.sampled_from(["x^2 - 1", "x*y - 2", "y^2 + x - 3", "x - y", "x^3 + 0.5*y"]),
                       min_size=1, max_size=2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(phc_texts(), st.text(max_size=60)))
def test_parser_gives_a_system_or_a_syntax_error(text):
    try:
        parse_phc(text)
    except (PolynomialSyntaxError, ValueError):
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(text=st.one_of(phc_texts(), valid_polys.map(lambda ps: f"{len(ps)}\n" + "".join(p + ";\n" for p in ps))))
def test_solve_cli_ends_in_a_result_or_a_one_line_error(text, tmp_path):
    f = tmp_path / "fuzz.phc"
    f.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["solve", str(f), "--max-paths", "1000"])
    assert r.exit_code in (0, 1, 2), (text, r.output, r.exception)
    assert r.exception is None or isinstance(r.exception, SystemExit), (text, r.exception)
    if r.exit_code == 2:
        assert r.output.count("\n") == 1 and r.output.startswith("Error: "), (text, r.output)
    assert "Traceback" not in r.output
