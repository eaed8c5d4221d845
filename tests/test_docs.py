"""The docs that are generated from the code are current, and the README's commands are the ones
CI runs."""

from __future__ import annotations

from pathlib import Path

from ops_util import builtin_ops

from matcalc.catalogue import catalogue_markdown, samples

ROOT = Path(__file__).resolve().parent.parent


def test_every_op_has_a_catalogue_sample():
    table = samples()
    missing = sorted(builtin_ops() - set(table))
    assert not missing


def test_op_catalogue_is_current():
    committed = (ROOT / "docs" / "ops.md").read_text(encoding="utf-8")
    assert committed == catalogue_markdown(), "run: python -m matcalc.catalogue > docs/ops.md"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```sh\n")[1:]]
    setup = [b for b in blocks if b.startswith("python3 -m venv")]
    assert len(setup) == 2, "the README gives exactly two set-up commands"
    demo, tests = setup
    assert demo.endswith("matcalc demo")
    assert tests in ci


def test_readme_links_a_rendered_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "examples/output/" in readme
    for target in ["examples/output/batched_matrices.en.md", "examples/output/cs231n_example.ko.md"]:
        assert target in readme and (ROOT / target).exists()
