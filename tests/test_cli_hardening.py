"""The command line under hostile or careless use: every OSError and encoding error is
``error: …`` and exit 2, never a traceback. Each case runs ``python -m matcalc`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cli_util import assert_error, cli_env, run

import matcalc as mc
from matcalc.errors import InputError

GRAD = ["grad", "L = sum(W @ x)", "--shape", "W=m,n", "--shape", "x=n,1"]
EXPLAIN = ["explain", "L = sum(W @ x)", "--shape", "W=m,n", "--shape", "x=n,1"]
FIVE_THOUSAND = "1" * 5000


def shell(command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A shell command line (for redirections Python cannot make: a closed stdout, /dev/full)."""
    return subprocess.run(["sh", "-c", command], check=False, capture_output=True, encoding="utf-8",
                          errors="replace", env=cli_env(**env), timeout=120)


def _quoted(args: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in [sys.executable, "-m", "matcalc", *args])


# --- files -------------------------------------------------------------------------------------

def test_output_onto_a_folder(tmp_path):
    assert_error(run(*EXPLAIN, "--output", str(tmp_path)), "is a folder")
    assert_error(run(*EXPLAIN, "--output", str(tmp_path) + "/"), "is a folder")


def test_output_into_a_missing_folder_makes_it(tmp_path):
    out = tmp_path / "new" / "posts" / "post.md"
    done = run(*EXPLAIN, "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("## Backpropagation")


def test_output_into_a_folder_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert_error(run(*EXPLAIN, "--output", str(blocker / "post.md")), "cannot write")


@pytest.mark.skipif(not os.access("/dev/full", os.W_OK), reason="no /dev/full here")
def test_output_onto_a_full_device():
    assert_error(run(*EXPLAIN, "--output", "/dev/full"), "No space left")


@pytest.mark.parametrize("figure", ["/", ".", "figs/"])
def test_figure_onto_a_folder(figure, tmp_path):
    (tmp_path / "figs").mkdir()
    done = run(*EXPLAIN, "--figure", figure, cwd=tmp_path)
    assert_error(done, "is a folder")
    assert done.stdout == ""


# --- standard output ---------------------------------------------------------------------------

@pytest.mark.skipif(not os.access("/dev/full", os.W_OK), reason="no /dev/full here")
@pytest.mark.parametrize("args", [GRAD, EXPLAIN,
                                  ["shapes", "Y = W @ X", "--shape", "W=m,n", "--shape", "X=n,B"]])
def test_stdout_on_a_full_device(args):
    assert_error(shell(_quoted(args) + " > /dev/full"), "No space left")


@pytest.mark.parametrize("args", [GRAD, EXPLAIN])
def test_stdout_closed(args):
    assert_error(shell(_quoted(args) + " >&-"), "standard output is closed")


@pytest.mark.parametrize("args,char", [(GRAD, "U+00D7"), ([*EXPLAIN, "--lang", "ko"], "U+")])
def test_ascii_stdout(args, char):
    done = run(*args, PYTHONIOENCODING="ascii")
    assert_error(done, "PYTHONIOENCODING=utf-8", char)
    if args[0] == "explain":
        assert done.stdout == ""  # a post is written whole or not at all


def test_ascii_stdout_and_stderr_still_say_the_error():
    """Even the error message's own characters (× in a shape) reach an ASCII stderr, escaped."""
    done = run("grad", "L = sum(W @ x)", "--shape", "W=m,n", "--shape", "x=m,1",
               PYTHONIOENCODING="ascii")
    assert_error(done, "\\xd7")


def test_utf8_stdout_is_unchanged():
    done = run(*GRAD, PYTHONIOENCODING="utf-8")
    assert done.returncode == 0 and "×" in done.stdout


# --- numbers and sizes -------------------------------------------------------------------------

@pytest.mark.parametrize("args,words", [
    (["explain", "f = x * y", "--value", f"x={FIVE_THOUSAND}", "--values", "y=2"],
     ["--value x", "not a finite float64"]),
    (["explain", "f = x * y", "--value", f"x=[[{FIVE_THOUSAND}]]", "--values", "y=2"],
     ["--value x", "not a finite float64"]),
    (["explain", "f = x * y", "--values", f"x={FIVE_THOUSAND},y=2"],
     ["--values x", "not a finite float64"]),
    (["explain", "f = x * y", "--value", "x=NaN", "--values", "y=2"], ["NaN"]),
    (["explain", "f = x * y", "--value", "x=[Infinity]", "--values", "y=2"], ["Infinity"]),
    (["explain", "f = x * y", "--value", "x=" + "[" * 100_000, "--values", "y=2"], ["--value x"]),
    ([*GRAD, "--dims", f"m=3,n={FIVE_THOUSAND}"], ["--dims", "5,000 digits"]),
    ([*GRAD, "--dims", "m=3,n=²"], ["--dims", "n=²", "positive integer"]),
    ([*GRAD, "--dims", "m=3,n=٣"], ["--dims", "positive integer"]),
])
def test_numbers_that_cannot_be_read(args, words):
    assert_error(run(*args), *words)


def test_check_blames_dims():
    done = run("check", "L = sum(W @ x)", "--shape", "W=m,n", "--shape", "x=n,1",
               "--dims", "m=3,n=0")
    assert_error(done, "--dims", "n=0 is not a positive integer")
    assert "--check" not in done.stderr


def test_grad_blames_the_option_that_was_typed():
    assert_error(run(*GRAD, "--check", "m=3,n=0"), "--check 'm=3,n=0'", "n=0")
    assert_error(run(*GRAD, "--dims", "m=3,n=0"), "--dims 'm=3,n=0'", "n=0")


# --- the API's own argument checks -------------------------------------------------------------

@pytest.mark.parametrize("bad", [None, 3, "W", [("W",)], [(3, mc.Matrix("W", "n", "n"))],
                                 {"W": "not an expression"}, {"ｗ": mc.Matrix("W", "n", "n")}])
def test_latex_gradients_wrong_types(bad):
    with pytest.raises(InputError, match="latex_gradients|name"):
        mc.latex_gradients(bad)


@pytest.mark.parametrize("values", [[1, 2], "x=1", 3.0])
def test_explain_values_wrong_type(values):
    with pytest.raises(InputError, match="values must be a mapping"):
        mc.explain("f = x * y", shapes={"x": (1, 1), "y": (1, 1)}, values=values)


def _api_cases() -> dict[str, object]:
    from matcalc.figure import draw

    shapes = {"W_1": ("m", "n"), "x": ("n", 1)}
    program = "L = sum(W_1 @ x)"
    expr = mc.parse(program, shapes)
    return {
        "exercise=5": lambda: mc.explain(program, shapes=shapes, exercise=5),
        "exercise=[5]": lambda: mc.explain(program, shapes=shapes, exercise=[5]),
        "title=5": lambda: mc.explain(program, shapes=shapes, title=5),
        "figure=5": lambda: mc.explain(program, shapes=shapes, figure=5),
        "front_matter date": lambda: mc.explain(program, shapes=shapes,
                                                front_matter={"date": "x\ny: 1"}),
        "front_matter tags": lambda: mc.explain(program, shapes=shapes, front_matter={"tags": 5}),
        "latex style=5": lambda: mc.latex(expr, style=5),
        "latex wrt=5": lambda: mc.latex(expr, wrt=5),
        "program_text(None)": lambda: mc.program_text(None),
        "to_latex(None)": lambda: mc.to_latex(None),
        "to_text(None)": lambda: mc.to_text(None),
        "draw(None)": lambda: draw(None, "g.svg"),
        "draw(path=None)": lambda: draw(expr, None),
    }


@pytest.mark.parametrize("case", sorted(_api_cases()))
def test_api_wrong_types_are_input_errors(case):
    with pytest.raises(InputError):
        _api_cases()[case]()  # type: ignore[operator]


def test_a_single_exercise_name_is_one_name():
    post = mc.explain("L = sum(W_1 @ x)", shapes={"W_1": ("m", "n"), "x": ("n", 1)},
                      exercise="W_1")
    assert "--wrt W_1 --candidate" in post
