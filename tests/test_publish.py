"""Posts are right where they are published: every example post and the demo's posts go through
kramdown (as Jekyll) and are typeset by MathJax 3 in a real headless browser, with no math
errors, nothing left untypeset, and every matrix keeping its rows and columns. Also the pieces
that make a post blog-safe: figure links, front matter, the CLI's options."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from publish_util import assert_renders, kramdown, math_spans, require_tools, table_shapes

import matcalc as mc
from matcalc.cli import main
from matcalc.explain import explain
from matcalc.publish import figure_url

ROOT = Path(__file__).resolve().parent.parent
POSTS = sorted((ROOT / "examples" / "output").glob("*.md"))


@pytest.mark.parametrize("post", POSTS, ids=[p.name for p in POSTS])
def test_every_example_post_renders_in_the_browser(browser, post):
    result = assert_renders(browser, post.read_text(encoding="utf-8"), post.name)
    assert len(result.items) > 10


def test_worked_matrices_keep_their_shapes_in_the_browser(browser):
    # the case: a 2×2 W and a column x given by --value, in a Jekyll post
    post = explain("Y = W @ x; L = sum(relu(Y))", shapes={"W": (2, 2), "x": (2, 1)},
                   values={"W": [[1, -2], [3, 4]], "x": [[1], [2]]}, front_matter=True)
    result = assert_renders(browser, post, "worked")
    tables = [t for item in result.items for t in item["tables"]]
    assert [2, 2] in tables  # W: two rows of two
    assert [1, 1] in tables  # x, Y and gradients: columns stay columns
    assert [4] not in tables and [3] not in tables  # not flattened into a row


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_demo_posts_render_in_the_browser(browser, tmp_path, lang, capsys):
    assert main(["demo", "--lang", lang, "--output", str(tmp_path), "--target", "jekyll"]) == 0
    posts = sorted(tmp_path.glob(f"*.{lang}.md"))
    assert len(posts) == 6  # five cases and the index
    for post in posts:
        if not post.name.startswith("index"):
            assert_renders(browser, post.read_text(encoding="utf-8"), post.name)


def test_the_checker_catches_what_kramdown_did_to_single_dollar_math(browser):
    # single-$ inline math with row breaks, as explain used to write: kramdown turns \\ into \,
    # and the 2×2 matrix comes out as one row
    broken = "With $W = \\begin{bmatrix}1 & -2 \\\\ 3 & 4\\end{bmatrix}$:\n"
    assert r"\ 3" in kramdown(broken) and r"\\ 3" not in kramdown(broken)
    result = browser.typeset(kramdown(broken))
    assert result.items[0]["tables"] == [[3]] != table_shapes(r"\begin{bmatrix}1 & -2 \\ 3 & 4\end{bmatrix}")


def test_math_spans_and_table_shapes():
    text = "a $$x$$ b $$y$$\n\n$$\n\\begin{aligned}\nu &= \\begin{bmatrix}1 & 2\\end{bmatrix} \\\\\nv &= 1\n\\end{aligned}\n$$\n"
    assert math_spans(text) == [("x", False), ("y", False),
                                ("\\begin{aligned}\nu &= \\begin{bmatrix}1 & 2\\end{bmatrix} \\\\\nv &= 1\n\\end{aligned}", True)]
    assert table_shapes(math_spans(text)[2][0]) == [[2, 2], [2]]


# --- links and front matter ---------------------------------------------------------------------

def test_figure_links_never_hold_a_filesystem_path(tmp_path):
    site = tmp_path / "blog"
    (site / "_posts").mkdir(parents=True)
    (site / "assets" / "img").mkdir(parents=True)
    fig, post = site / "assets" / "img" / "g.svg", site / "_posts" / "2026-11-29-x.md"
    # Jekyll: a post in _posts links the figure from the site's root
    assert figure_url(fig, post, "jekyll") == ("/assets/img/g.svg", False)
    # beside the post (a Hugo page bundle, GitHub): relative
    bundle = tmp_path / "content" / "posts" / "x"
    assert figure_url(bundle / "g.svg", bundle / "index.md", "hugo") == ("g.svg", False)
    # Hugo's static folder is served from the site's root
    static = tmp_path / "static" / "img" / "g.svg"
    assert figure_url(static, tmp_path / "content" / "posts" / "x.md", "hugo") == ("/img/g.svg", False)
    # anything else: the file's name alone, flagged as a guess; never an absolute path
    url, guessed = figure_url("/somewhere/else/g.svg", post, "jekyll")
    assert (url, guessed) == ("g.svg", True)


def test_cli_explain_writes_a_blog_safe_post(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "_posts").mkdir()
    (tmp_path / "assets" / "img").mkdir(parents=True)
    code = main(["explain", "q = x + y; f = q * z", "--values", "x=-2,y=5,z=-4", "--lang", "ko",
                 "--figure", "assets/img/g.svg", "--output", "_posts/2026-11-29-backprop.md",
                 "--title", 'Say "hi": backprop', "--categories", "ML,Math", "--tags", "backprop",
                 "--date", "2026-11-29"])
    assert code == 0, capsys.readouterr().err
    text = (tmp_path / "_posts" / "2026-11-29-backprop.md").read_text()
    fm = yaml.safe_load(text[4:text.index("\n---\n", 4)])
    assert fm == {"title": 'Say "hi": backprop', "date": __import__("datetime").date(2026, 11, 29),
                  "categories": ["ML", "Math"], "tags": ["backprop"], "math": True}
    assert "](/assets/img/g.svg)" in text and str(tmp_path) not in text
    assert (tmp_path / "assets" / "img" / "g.svg").exists()
    assert not list(tmp_path.rglob("*.dot"))
    assert "초록색" in text  # the figure shows values, so its caption says so


def test_cli_figure_url_and_absolute_paths(tmp_path, capsys):
    out = tmp_path / "post.md"
    assert main(["explain", "Y = W @ X", "--shape", "W=m,n", "--shape", "X=n,B",
                 "--figure", str(tmp_path / "fig" / "g.svg"), "--figure-url",
                 "/images/g.svg", "--output", str(out)]) in (0, 2)
    text = out.read_text()
    assert "](/images/g.svg)" in text and str(tmp_path) not in text
    # beside the post or below it: a relative link
    main(["explain", "Y = W @ X", "--shape", "W=m,n", "--shape", "X=n,B",
          "--figure", str(tmp_path / "img" / "g.svg"), "--output", str(out)])
    assert "](img/g.svg)" in out.read_text()
    # anywhere else: the name alone, and a note asking for --figure-url
    capsys.readouterr()
    out = tmp_path / "posts" / "post.md"
    main(["explain", "Y = W @ X", "--shape", "W=m,n", "--shape", "X=n,B",
          "--figure", str(tmp_path / "elsewhere" / "g.svg"), "--output", str(out)])
    err = capsys.readouterr().err
    assert "](g.svg)" in out.read_text() and str(tmp_path) not in out.read_text()
    assert "--figure-url" in err


def test_cli_hugo_target_says_what_it_needs(capsys):
    assert main(["explain", "Y = W @ X", "--shape", "W=m,n", "--shape", "X=n,B",
                 "--target", "hugo"]) == 0
    out, err = capsys.readouterr()
    assert r"\(W \in" in out and "passthrough" in err


def test_cli_explain_exercise(capsys):
    assert main(["explain", "Y = W @ X + b; L = sum(relu(Y))", "--shape", "W=m,n", "--shape",
                 "X=n,B", "--shape", "b=m,1", "--exercise", "b"]) == 0
    out = capsys.readouterr().out
    assert "### Exercise" in out and "--wrt b --candidate" in out


def test_require_tools_fails_in_ci_when_something_is_missing(monkeypatch):
    import publish_util

    monkeypatch.setattr(publish_util, "missing_tools", lambda: ["Chromium"])
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Chromium"):
        require_tools()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_tools()


def test_parsed_programs_display_every_statement():
    L = mc.parse("Y = W @ X; H = relu(Y); L = sum(H)", {"W": ("m", "n"), "X": ("n", "B")})
    shown = L._repr_latex_()
    assert shown.startswith("$$\\begin{aligned}") and shown.count("&=") == 3
    assert r"H &= \operatorname{ReLU}\left(Y\right)" in shown


def test_gradient_lists_display_as_equations_and_stay_lists():
    L = mc.parse("Y = W @ X; L = sum(relu(Y))", {"W": ("m", "n"), "X": ("n", "B")})
    grads = mc.grad(L, ["W", "X"])
    assert isinstance(grads, list) and len(grads) == 2
    dW, _dX = grads
    assert str(dW) == "step(Y) @ X.T"
    shown = grads._repr_latex_()
    assert r"\frac{\partial L}{\partial W} &= \mathbb{I}[Y > 0] X^\top" in shown
    assert r"\frac{\partial L}{\partial X} &=" in shown


def test_check_reports_display_as_a_table():
    W, X = mc.Matrix("W", "m", "n"), mc.Matrix("X", "n", "B")
    report = mc.check(mc.sum(mc.relu(W @ X)), "W")
    html = report._repr_html_()
    assert html.count("<tr>") == 3 and "<th>max rel err</th>" in html and "PASS" in html
    assert "array(" not in repr(report) and "PASS" in repr(report)
