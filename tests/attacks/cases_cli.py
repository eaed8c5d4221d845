"""The command line: every bad argument, unwritable output and encoding problem is one
``error: …`` line and exit code 2, naming the option that is wrong; a document written to a file
keeps its titles and paths as data."""

from __future__ import annotations

from .framework import Case, Cli

CLS = "command line"

GRAD = ("grad", "L = sum(relu(W @ X))", "--shape", "W=m,n", "--shape", "X=n,B")
CHECK = ("check", "L = sum(A * A)", "--shape", "A=n,n")
EXPLAIN = ("explain", "f = x * y", "--shape", "x=1,1", "--shape", "y=1,1")


def _case(key: str, argv: tuple[str, ...], expect: Cli, **kw: object) -> Case:
    return Case(f"cli-{key}", CLS, expect, argv=argv, **kw)  # type: ignore[arg-type]


def cases() -> list[Case]:
    e = Cli
    return [
        _case("check-dims-1e6", CHECK + ("--dims", "n=1000000"), e(2, ("entries",))),
        _case("check-dims-30000", CHECK + ("--dims", "n=30000"), e(2, ("entries",))),
        _case("check-dims-zero-blames-dims", CHECK + ("--dims", "n=0"),
              e(2, ("--dims",), absent=("Traceback", "--check"))),
        _case("check-dims-two-zero", ("check", "L = sum(W)", "--shape", "W=m,n",
                                      "--dims", "m=3,n=0"),
              e(2, ("--dims",), absent=("Traceback", "--check"))),
        _case("grad-check-sizes-zero", GRAD + ("--check", "m=3,n=0,B=2"), e(2, ("n",))),
        _case("check-dims-arabic-digit", CHECK + ("--dims", "n=٣"), e(2, ("--dims",))),
        _case("check-dims-superscript", CHECK + ("--dims", "n=²"), e(2, ("--dims",))),
        _case("check-dims-huge-number", CHECK + ("--dims", "n=" + "9" * 5000), e(2, ("--dims",))),
        _case("check-seed-text", CHECK + ("--seed", "abc"), e(2, ("--seed",))),
        _case("check-seed-negative", CHECK + ("--seed", "-1"), e(2, ("seed",))),
        _case("shape-arabic-digit", ("shapes", "sum(W)", "--shape", "W=٣,n"), e(2, ("W",))),
        _case("shape-three-dims", ("shapes", "sum(W)", "--shape", "W=m,n,k"), e(2, ("W",))),
        _case("shape-injection", ("shapes", "sum(W)", "--shape", "W=__import__('os'),n"),
              e(2, ("dimension",))),
        _case("program-injection", ("shapes", "__import__('os').system('touch {CANARY}')"),
              e(2, ())),
        _case("latex-input-injection", ("grad", "--latex-input", r"\input{/etc/passwd}"),
              e(2, ())),
        _case("program-deep", ("shapes", "(" * 50000 + "W" + ")" * 50000, "--shape", "W=m,n"),
              e(0, out=("m×n",))),
        _case("wrt-unknown", GRAD + ("--wrt", "Q"), e(2, ("Q",))),
        _case("empty-program", ("grad", ""), e(2, ("empty",))),
        _case("output-missing-folder", EXPLAIN + ("--output", "{TMP}/missing/post.md"),
              e(0, files=("{TMP}/missing/post.md",))),
        _case("output-is-folder", EXPLAIN + ("--output", "{TMP}"), e(2, ("--output", "folder"))),
        _case("output-dev-full", EXPLAIN + ("--output", "/dev/full"), e(2, ())),
        _case("output-proc", EXPLAIN + ("--output", "/proc/version"), e(2, ())),
        _case("figure-root", EXPLAIN + ("--figure", "/"), e(2, ("figure", "folder"))),
        _case("figure-missing-folder", EXPLAIN + ("--figure", "{TMP}/no/fig.svg",
                                                  "--output", "{TMP}/post.md"),
              e(0, files=("{TMP}/no/fig.svg", "{TMP}/post.md"))),
        _case("stdout-dev-full", GRAD, e(2, ()), stdout="devfull"),
        _case("stdout-dev-full-explain", EXPLAIN, e(2, ()), stdout="devfull"),
        _case("stdout-closed", GRAD, e(2, ()), stdout="closed"),
        _case("encoding-ascii-grad", GRAD, e(2, ("encod",)),
              env=(("PYTHONIOENCODING", "ascii"),)),
        _case("encoding-ascii-explain-ko", EXPLAIN + ("--lang", "ko"), e(2, ("encod",)),
              env=(("PYTHONIOENCODING", "ascii"),)),
        _case("value-5000-digits", EXPLAIN + ("--value", "x=[[" + "1" * 5000 + "]]",
                                             "--value", "y=[[1]]"),
              e(2, ("--value",))),
        _case("value-not-json", EXPLAIN + ("--value", "x=[[1,", "--value", "y=[[1]]"),
              e(2, ("--value",))),
        _case("value-wrong-shape", EXPLAIN + ("--value", "x=[[1, 2]]", "--value", "y=[[1]]"),
              e(2, ("x",))),
        _case("values-text", EXPLAIN + ("--values", "x=abc"), e(2, ("--values",))),
        _case("values-5000-digits", EXPLAIN + ("--values", "x=" + "1" * 5000 + ",y=1"),
              e(2, ("x",))),
        _case("date-bad", EXPLAIN + ("--front-matter", "--date", "2024-13-45"), e(2, ("--date",))),
        _case("date-injection", EXPLAIN + ("--front-matter", "--date", "2024-01-01\nevil: 1"),
              e(2, ("--date",))),
        _case("title-quote", EXPLAIN + ("--front-matter", "--title", 'say "hi"'),
              e(0, out=("title: ",))),
        _case("title-newline", EXPLAIN + ("--front-matter", "--title", "T\nevil: 1\n<script>x"),
              e(2, ("title", "one line"))),
        _case("title-latex", EXPLAIN + ("--format", "latex", "--title", r"\input{/etc/passwd}"),
              e(0, out=(r"\textbackslash{}input",), absent=("Traceback", r"\input{"))),
        _case("figure-newline-latex", EXPLAIN + ("--format", "latex", "--figure",
                                                 "{TMP}/a\n\\immediate\\write18{touch {CANARY}}.png"),
              e(2, ("figure", "one line"))),
        _case("figure-html", EXPLAIN + ("--figure", "{TMP}/a<img src=x onerror=1>.svg"),
              e(0, absent=("Traceback", "<img"))),
        _case("categories-newline", EXPLAIN + ("--categories", "a\nevil: 1"),
              e(2, ("categor", "one line"))),
        _case("lang-unknown", EXPLAIN + ("--lang", "xx"), e(2, ("--lang",))),
        _case("exercise-unknown", EXPLAIN + ("--exercise", "nope"), e(2, ("nope",))),
        _case("unknown-command", ("frobnicate",), e(2, ("frobnicate",))),
        _case("nfkc-shape-names", ("shapes", "foo + ｆｏｏ", "--shape", "foo=2,2",
                                   "--shape", "ｆｏｏ=2,2"), e(2, ())),
        _case("grad-works", GRAD + ("--wrt", "W"), e(0, out=("X",))),
    ]
