"""Documents cannot be injected into: titles, figure paths and URLs stay text; explain is bounded.

The post is read back as a reader's tools read it: its front matter with a YAML parser, its
Markdown with markdown-it (CommonMark, raw HTML allowed, as on most blogs)."""

from __future__ import annotations

import shlex

import pytest
import yaml
from cli_util import run
from markdown_it import MarkdownIt

import matcalc as mc
from matcalc.errors import FigureError, InputError, SizeLimitError
from matcalc.explain import Figure
from matcalc.figure import check_path
from matcalc.limits import limits
from matcalc.publish import check_line, front_matter, latex_text, link_url

PROGRAM = "L = sum(W @ x)"
SHAPES = {"W": ("m", "n"), "x": ("n", 1)}
HOSTILE = 'say "hi": <script>alert(1)</script> & \\input{/etc/passwd} #1 50% a_b {c} ~ ^'


def _front(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text[4:text.index("\n---\n", 4)])


def _html(markdown: str) -> str:
    body = markdown[markdown.index("\n---\n", 4) + 5:] if markdown.startswith("---\n") else markdown
    return MarkdownIt("commonmark", {"html": True}).render(body)


# --- titles ------------------------------------------------------------------------------------

def test_front_matter_title_is_one_yaml_string_and_no_html():
    post = mc.explain(PROGRAM, shapes=SHAPES, front_matter=True, title=HOSTILE)
    fm = _front(post)
    assert set(fm) == {"title", "date", "categories", "tags", "math"}
    assert fm["title"] == HOSTILE  # the value as given: a theme escapes it where it shows it
    assert "<script" not in _html(post)


@pytest.mark.parametrize("title", ['a"b\nevil: 1', "a\r\n<script>x</script>", "a\x00b",
                                   "line\u2028separator", "tab\there"])
def test_a_title_of_several_lines_is_refused(title):
    with pytest.raises(InputError, match="one line"):
        mc.explain(PROGRAM, shapes=SHAPES, front_matter=True, title=title)
    with pytest.raises(InputError, match="one line"):
        front_matter(title, "jekyll")


def test_tags_and_categories_are_text_too():
    fm = _front(front_matter("t", "jekyll", {"tags": ["<b>x</b>", "a: b"], "categories": "c"}))
    assert fm["tags"] == ["<b>x</b>", "a: b"] and fm["categories"] == ["c"]
    with pytest.raises(InputError):
        front_matter("t", "jekyll", {"tags": ["x\ny: 1"]})


@pytest.mark.parametrize("title", ["&a [*a, *a]", "*a", "a: b", "'q'", "Q&A on backprop"])
def test_front_matter_keeps_the_title_as_given(title):
    assert _front(front_matter(title, "jekyll"))["title"] == title


@pytest.mark.parametrize("figure", ["javascript:alert(1)", "data:text/html,x", "JavaScript:x.svg",
                                    "vbscript:x"])
def test_a_figure_path_is_never_a_scheme(figure):
    post = mc.explain(PROGRAM, shapes=SHAPES, figure=figure)
    assert "](./" in post and "](javascript" not in post.lower() and "](data:" not in post


def test_markdown_heading_is_text():
    post = mc.explain(PROGRAM, shapes=SHAPES, title=HOSTILE)
    html = _html(post)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html.splitlines()[0]


def test_latex_title_is_printed_not_run():
    tex = mc.explain(PROGRAM, shapes=SHAPES, fmt="latex", title=HOSTILE)
    title_line = next(line for line in tex.splitlines() if line.startswith(r"\section*"))
    assert r"\input" not in tex
    assert title_line == r"\section*{" + latex_text(HOSTILE) + "}"
    # every special character escaped: \, {, }, $, &, #, ^, _, %, ~
    assert latex_text(r"\{}$&#^_%~") == (r"\textbackslash{}\{\}\$\&\#\textasciicircum{}\_\%"
                                        r"\textasciitilde{}")


def test_default_title_with_underscores_is_valid_latex():
    tex = mc.explain("L = sum(W_1 @ x)", shapes={"W_1": ("m", "n"), "x": ("n", 1)}, fmt="latex")
    assert r"\section*{Backpropagation through L = sum(W\_1 @ x)}" in tex


# --- figures -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url,encoded", [
    ("my figs/graph.svg", "my%20figs/graph.svg"),
    ('a<b>"c").svg', "a%3Cb%3E%22c%22%29.svg"),
    ("x) ![y](javascript:alert(1)", "x%29%20!%5By%5D%28javascript:alert%281%29"),
    ("그래프.svg", "%EA%B7%B8%EB%9E%98%ED%94%84.svg"),
    ("50%.svg", "50%25.svg"),
])
def test_figure_links_are_url_encoded(url, encoded):
    assert link_url(url) == encoded
    post = mc.explain(PROGRAM, shapes=SHAPES, figure=url)
    html = _html(post)
    assert f'src="{encoded}"' in html
    assert "<script" not in html and "javascript:alert(1)\"" not in html


def test_a_url_the_author_gave_keeps_its_escapes():
    post = mc.explain(PROGRAM, shapes=SHAPES,
                      figure=Figure("/img/a%20b.svg (1).svg", encoded=True))
    assert "](/img/a%20b.svg%20%281%29.svg)" in post


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_a_line_break_in_a_figure_url_never_reaches_the_document(fmt):
    hostile = "g.svg}\n\\immediate\\write18{touch /tmp/pwned}\n%"
    with pytest.raises(InputError, match="one line"):
        mc.explain(PROGRAM, shapes=SHAPES, fmt=fmt, figure=hostile)


@pytest.mark.parametrize("path", ["/", ".", "figs/", "", "a\nb.svg", "a\rb.svg", "g.exe"])
def test_figure_paths_are_checked(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "figs").mkdir()
    with pytest.raises((InputError, FigureError)):
        check_path(path)
    with pytest.raises((InputError, FigureError)):
        mc.figure.draw(mc.parse(PROGRAM, SHAPES), path)


def test_cli_figure_path_with_a_line_break_writes_nothing(tmp_path):
    out = tmp_path / "post.tex"
    done = run("explain", PROGRAM, "--shape", "W=m,n", "--shape", "x=n,1", "--format", "latex",
               "--figure", "g.svg\n\\immediate\\write18{id}", "--output", str(out))
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert "one line" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists() and done.stdout == ""


@pytest.mark.parametrize("figure", ["/", "figs/"])
def test_cli_figure_folder_is_refused_before_anything_is_written(figure, tmp_path):
    (tmp_path / "figs").mkdir()
    done = run("explain", PROGRAM, "--shape", "W=m,n", "--shape", "x=n,1", "--figure", figure,
               cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: figure: ") and "is a folder" in done.stderr
    assert done.stdout == ""


def test_cli_title_injection_is_refused_or_escaped(tmp_path):
    out = tmp_path / "post.md"
    done = run("explain", PROGRAM, "--shape", "W=m,n", "--shape", "x=n,1", "--front-matter",
               "--title", 'a"b\nevil: 1\n<script>x</script>', "--output", str(out))
    assert done.returncode == 2 and "one line" in done.stderr and not out.exists()
    done = run("explain", PROGRAM, "--shape", "W=m,n", "--shape", "x=n,1", "--front-matter",
               "--title", 'a"b <script>x</script>', "--output", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert _front(text)["title"] == 'a"b <script>x</script>'
    assert "<script" not in _html(text)
    done = run("explain", PROGRAM, "--shape", "W=m,n", "--shape", "x=n,1", "--format", "latex",
               "--title", r"\input{/etc/passwd}")
    assert done.returncode == 0 and r"\input{" not in done.stdout
    assert r"\section*{\textbackslash{}input\{/etc/passwd\}}" in done.stdout


def test_check_line_names_the_character():
    assert check_line("fine title", "the title") == "fine title"
    with pytest.raises(InputError, match=r"'\\n' at position 1"):
        check_line("a\nb", "the title")
    with pytest.raises(InputError, match="must be text"):
        check_line(3, "the title")


# --- explain is bounded ------------------------------------------------------------------------

def _doubling(lines: int) -> str:
    return "\n".join(f"y{i} = y{i - 1} * y{i - 1} + x" for i in range(1, lines + 1))


def test_an_80_line_doubling_program_is_refused_before_any_work():
    with pytest.raises(SizeLimitError, match="80 steps, more than the limit of 30") as info:
        mc.explain(_doubling(80), shapes={"y0": (1, 1), "x": (1, 1)})
    assert "max_explain_steps" in str(info.value)


def test_the_cli_says_so_and_writes_nothing(tmp_path):
    out = tmp_path / "post.md"
    done = run("explain", _doubling(80).replace("\n", "; "), "--shape", "y0=1,1", "--shape",
               "x=1,1", "--output", str(out))
    assert done.returncode == 2 and done.stderr.startswith("error: explain: the program has 80")
    assert not out.exists() and len(done.stdout) == 0


def test_a_program_at_the_limit_is_explained_and_the_limits_can_be_raised():
    with limits(max_explain_steps=4):
        post = mc.explain(_doubling(3), shapes={"y0": (1, 1), "x": (1, 1)})  # 3 lines + y3
        assert post.count(r"\frac{\partial y3}{\partial y2}") >= 1
        with pytest.raises(SizeLimitError, match="5 steps"):
            mc.explain(_doubling(4) + "\nL = y4 + 0", shapes={"y0": (1, 1), "x": (1, 1)})


def test_the_document_size_is_capped():
    post = mc.explain(_doubling(6), shapes={"y0": (1, 1), "x": (1, 1)})
    too_long = pytest.raises(SizeLimitError, match=f"{len(post):,} characters")
    with limits(max_document_chars=len(post) - 1), too_long:
        mc.explain(_doubling(6), shapes={"y0": (1, 1), "x": (1, 1)})
    with limits(max_document_chars=len(post)):
        assert mc.explain(_doubling(6), shapes={"y0": (1, 1), "x": (1, 1)}) == post


def test_explain_values_must_be_a_mapping():
    with pytest.raises(InputError, match="values must be a mapping.*got list"):
        mc.explain("f = x * y", shapes={"x": (1, 1), "y": (1, 1)}, values=[1, 2])


# --- the exercise's check command --------------------------------------------------------------

HIDDEN = "L = sum(W @ x) # \\end{verbatim}\\immediate\\write18{id}\\begin{verbatim} ``` <script>"


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_a_comment_in_the_program_cannot_end_the_code_block(fmt):
    post = mc.explain(HIDDEN, shapes=SHAPES, fmt=fmt, exercise=["W"])
    assert "write18" not in post and "<script" not in post
    assert "matcalc compare 'L = sum(W @ x)' --shape W=m,n --shape x=n,1 --wrt W" in post
    if fmt == "markdown":
        assert post.count("```") == 2  # the one code block, opened and closed


def test_the_check_command_of_a_commented_program_runs():
    post = mc.explain("y = W @ x  # the layer\n\n# the loss\nL = sum(y)", shapes=SHAPES,
                      exercise=["W"])
    line = next(x for x in post.splitlines() if x.startswith("matcalc compare"))
    assert line.startswith("matcalc compare 'y = W @ x; L = sum(y)' ")
    args = shlex.split(line.replace("YOUR ANSWER", r"\mathbf{1}_m x^\top"))
    done = run(*args[1:])
    assert done.returncode == 0, done.stderr
