"""The command line's grad, check and demo commands, in process (capsys) and once as a process."""

from __future__ import annotations

import cli_util
import pytest

from matcalc import cli

RELU = "L = sum(relu(W @ X))"
SHAPES = ["--shape", "W=m,n", "--shape", "X=n,B"]


def table_rows(out: str) -> list[list[str]]:
    """The rows of a check table: variable, shape, method, errors, step, evals, result."""
    return [line.split() for line in out.splitlines()
            if line.split()[2:3] in (["directional"], ["full"])]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- grad ----------------------------------------------------------------------------------------

def test_grad_prints_the_closed_form_and_its_shape(capsys):
    code, out, err = run(capsys, "grad", RELU, *SHAPES, "--wrt", "W")
    assert code == 0, err
    assert err == ""
    lines = out.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dL/dW = step(W @ X) @ X.T")
    assert "(m×n)" in lines[0]


def test_grad_of_every_input_by_default(capsys):
    code, out, _ = run(capsys, "grad", RELU, *SHAPES)
    assert code == 0
    assert "dL/dW = step(W @ X) @ X.T" in out and "(m×n)" in out
    assert "dL/dX = W.T @ step(W @ X)" in out and "(n×B)" in out


def test_grad_with_several_wrt_and_a_bias(capsys):
    code, out, _ = run(capsys, "grad", "Y = W @ X + b; L = sum(relu(Y))", *SHAPES,
                       "--shape", "b=m,1", "--wrt", "b", "--wrt", "Y")
    assert code == 0
    assert "dL/db = sum(step(Y), axis=1)" in out and "(m×1)" in out
    assert "dL/dY = step(Y)" in out and "(m×B)" in out


def test_grad_with_check_prints_a_passing_table(capsys):
    code, out, err = run(capsys, "grad", RELU, *SHAPES, "--wrt", "W", "--check", "m=3,n=4,B=5")
    assert code == 0, err
    assert "dL/dW = step(W @ X) @ X.T" in out
    assert "gradient check of sum(relu(W @ X))" in out
    assert "B=5, m=3, n=4" in out
    rows = table_rows(out)
    assert {(r[0], r[1], r[2]) for r in rows} == {("W", "3×4", "directional"), ("W", "3×4", "full")}
    assert all(r[-1] == "PASS" for r in rows)
    assert "FAIL" not in out and "SKIPPED" not in out
    assert out.strip().splitlines()[-1] == "overall: PASS"


def test_one_flag_for_sizes_everywhere(capsys):
    # grad: --dims (implies the check); the old --check SIZES still works; --check alone uses
    # the default sizes
    code, out, _ = run(capsys, "grad", RELU, *SHAPES, "--wrt", "W", "--dims", "m=2,n=3,B=4")
    assert code == 0 and "B=4, m=2, n=3" in out and "overall: PASS" in out
    code, out, _ = run(capsys, "grad", RELU, *SHAPES, "--wrt", "W", "--check", "m=2,n=3,B=4")
    assert code == 0 and "B=4, m=2, n=3" in out
    code, out, _ = run(capsys, "grad", RELU, *SHAPES, "--wrt", "W", "--check")
    assert code == 0 and "B=5, m=3, n=4" in out
    code, out, _ = run(capsys, "grad", RELU, *SHAPES, "--wrt", "W")
    assert code == 0 and "overall" not in out  # no sizes, no check
    code, out, _ = run(capsys, "compare", RELU, *SHAPES, "--wrt", "W", "--candidate",
                       "step(W @ X) @ X.T", "--dims", "m=2,n=3,B=4")
    assert code == 0


def test_grad_check_with_a_seed(capsys):
    code, out, _ = run(capsys, "grad", "L = sum(tanh(W @ X))", *SHAPES, "--check", "m=2,n=3,B=4",
                       "--seed", "5")
    assert code == 0
    assert "(seed 5;" in out and "overall: PASS" in out


# --- check ---------------------------------------------------------------------------------------

def test_check_with_default_dims(capsys):
    code, out, err = run(capsys, "check", "L = sum(tanh(W @ X))", *SHAPES)
    assert code == 0, err
    assert "dims B=5, m=3, n=4" in out  # the defaults
    rows = table_rows(out)
    assert {r[0] for r in rows} == {"W", "X"} and all(r[-1] == "PASS" for r in rows)
    assert out.strip().endswith("overall: PASS")


def test_check_with_dims(capsys):
    code, out, err = run(capsys, "check", "L = sum(tanh(W @ X))", *SHAPES, "--dims", "m=2,n=3,B=1",
                         "--wrt", "X")
    assert code == 0, err
    assert "dims B=1, m=2, n=3" in out
    assert "3×1" in out
    rows = table_rows(out)
    assert [(r[0], r[1], r[2], r[-1]) for r in rows] == [
        ("X", "3×1", "directional", "PASS"), ("X", "3×1", "full", "PASS")]
    assert out.strip().endswith("overall: PASS")


def test_check_of_a_named_intermediate(capsys):
    code, out, _ = run(capsys, "check", "Y = W @ X; L = sum(tanh(Y))", *SHAPES, "--wrt", "Y")
    assert code == 0
    assert "overall: PASS" in out


# --- errors ---------------------------------------------------------------------------------------

def test_grad_of_a_non_scalar_program_is_a_cli_worded_error(capsys):
    code, out, err = run(capsys, "grad", "Y = W @ X", *SHAPES)
    assert code == 2
    assert out == ""
    assert err.startswith("error:")
    assert "scalar loss" in err and "m×B" in err and "matcalc explain" in err
    assert "vjp" not in err and "Traceback" not in err  # the CLI has no vjp() to call


def test_missing_sizes_are_asked_for_with_the_cli_flag(capsys):
    code, _, err = run(capsys, "check", "L = sum(W @ V)", "--shape", "W=m,k", "--shape", "V=k,B")
    assert code == 2 and err.startswith("error:")
    assert "--dims" in err and "k=" in err and "dims={" not in err
    code, _, err = run(capsys, "grad", RELU, *SHAPES, "--dims", "m=3,n=4")
    assert code == 2 and "--dims m=3,n=4,B=…" in err
    code, _, err = run(capsys, "check", "L = sum(W) / size(k)", "--shape", "W=m,n")
    assert code == 2 and "--dims m=3,n=4,B=5,k=…" in err  # a size used only as a value


def test_max_of_zero_suggests_relu_not_softmax(capsys):
    code, _, err = run(capsys, "grad", "L = sum(max(W @ X, 0))", *SHAPES)
    assert code == 2 and "relu" in err and "softmax" not in err


def test_help_has_no_control_characters(capsys):
    for command in ("grad", "check", "compare", "explain", "demo", "shapes"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        out = capsys.readouterr().out
        assert not [c for c in out if ord(c) < 32 and c not in "\n"], command
    with pytest.raises(SystemExit):
        cli.main(["grad", "--help"])
    assert r"\frac{1}{2}" in capsys.readouterr().out


def test_unknown_wrt_is_an_error_with_a_suggestion(capsys):
    code, out, err = run(capsys, "grad", RELU, *SHAPES, "--wrt", "Wx")
    assert code == 2
    assert out == ""
    assert err.startswith("error:")
    assert "'Wx'" in err and "did you mean 'W'?" in err


def test_unknown_wrt_lists_the_variables(capsys):
    code, _, err = run(capsys, "grad", RELU, *SHAPES, "--wrt", "Q")
    assert code == 2
    assert err.startswith("error:") and "W" in err and "X" in err


@pytest.mark.parametrize("argv", [
    ["grad", "L = sum(relu(W @ X)", *SHAPES],  # unbalanced parenthesis
    ["grad", "L = sum(W @ W)", "--shape", "W=m,n"],  # shape error
    ["grad", RELU, "--shape", "W"],  # malformed --shape
    ["grad", "L = sum(V)", *SHAPES],  # undeclared name
    ["check", RELU, *SHAPES, "--dims", "m=0"],  # bad sizes
])
def test_bad_input_is_one_error_line_and_exit_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error:")
    assert "Traceback" not in err


NEGATIVE_SEED = (
    "a negative seed reaches numpy.random.default_rng unchecked: check(L, wrt, seed=-1) raises "
    "ValueError('expected non-negative integer') instead of a CheckError, so `matcalc grad … "
    "--check m=3,n=4,B=5 --seed -1` (and `matcalc check … --seed -1`) print a traceback and exit 1 "
    "instead of one 'error:' line and exit 2")


def test_negative_seed_with_check_is_an_error_not_a_traceback(capsys):
    code, _, err = run(capsys, "grad", RELU, *SHAPES, "--check", "m=3,n=4,B=5", "--seed", "-1")
    assert code == 2
    assert err.startswith("error:") and "seed" in err


def test_negative_seed_in_the_api_is_a_check_error():
    import matcalc as mc
    from matcalc.verify import CheckError

    W, X = mc.Matrix("W", "m", "n"), mc.Matrix("X", "n", "B")
    with pytest.raises(CheckError, match="seed"):
        mc.check(mc.sum(mc.relu(W @ X)), "W", seed=-1)


# --- demo ----------------------------------------------------------------------------------------

def _spelled(out: str, text: str, latex: str) -> bool:
    """The demo prints results in the input language or as LaTeX derivations: accept either."""
    return text in out or latex in out


DL_DY = r"\frac{\partial L}{\partial Y}"
DL_Dy = r"\frac{\partial L}{\partial y}"


def test_demo_prints_the_five_cases_and_writes_posts_with_figures(capsys, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    for title in ("y = w * x", "y = w.T @ x", "y = W @ x", "Y = W @ X", "relu(Z)"):
        assert title in out, title
    for heading in ("Scalar to scalar", "Vector to scalar", "Vector to vector", "Batched matrices",
                    "ReLU"):
        assert heading in out, heading
    # case 4: dL/dW = dL/dY Xᵀ and dL/dX = Wᵀ dL/dY; case 3, the vector version; case 5, relu's mask
    for line in ("dL/dW = dL_dY @ X.T", "dL/dX = W.T @ dL_dY", "dL/dW = dL_dy @ x.T",
                 "dL/dx = W.T @ dL_dy", "dL/dZ = dL_dY * step(Z)"):
        assert line in out, line
    assert out.count("PASS") == 5 and "FAIL" not in out
    assert "all gradients verified" in out.lower()
    assert len(out.splitlines()) < 40  # a summary, not hundreds of lines of Markdown
    folder = tmp_path / "matcalc-demo"
    posts = sorted(p.name for p in folder.glob("*.md"))
    assert len(posts) == 6 and "index.en.md" in posts
    batched = (folder / "batched_matrices.en.md").read_text()
    assert r"X^\top \otimes I_{m}" in batched and "](batched_matrices.svg)" in batched
    assert len(list(folder.glob("*.svg"))) == 5  # drawn with dot or pygraphviz


def test_demo_in_korean_to_stdout(capsys):
    code, out, _ = run(capsys, "demo", "--lang", "ko", "--output", "-")
    assert code == 0
    assert "역전파" in out and "배치 입력" in out and out.count("PASS") == 5
    assert r"\frac{\partial L}{\partial Y} \odot \mathbb{I}[Z > 0]" in out


# --- as a process ----------------------------------------------------------------------------------

def test_subprocess_bad_input_has_no_traceback():
    proc = cli_util.run("grad", "L = sum(W @ W)", "--shape", "W=m,n")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert "n ≠ m" in proc.stderr
