"""The playground's parts on their own: shape declarations, prompts for undeclared names, the
request schema, the derivation's HTML, the page's scripts (run in Node) and the shipped assets."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from web_harness import ROOT, missing, require_web_stack

import matcalc as mc
from matcalc.errors import InputError, RequestError

STATIC = ROOT / "matcalc" / "web" / "static"


@pytest.fixture(autouse=True)
def _web_stack():
    require_web_stack()


# --- shape declarations ---------------------------------------------------------------------------


def test_declarations_in_every_spelling():
    from matcalc.web.shapes import parse_shapes_text, shapes_text

    text = "W: m, n\nX = n x B\n# a comment\n\nb: m   # a column\nK: m*n, n*n\nY: m×B\ns: 1, 1"
    shapes = parse_shapes_text(text)
    assert shapes == {"W": ("m", "n"), "X": ("n", "B"), "b": ("m", "1"), "K": ("m*n", "n*n"),
                      "Y": ("m", "B"), "s": ("1", "1")}
    assert parse_shapes_text(shapes_text(shapes)) == shapes
    L = mc.parse("L = sum(relu(W @ X + b))", shapes)
    assert L.is_scalar


@pytest.mark.parametrize("text, message, line, column", [
    ("W: m, n\nsum: m", "sum: 'sum' is a function name; choose another", 2, 1),
    ("W: m, 0", "W: a dimension must be a positive integer or a name, not 0", 1, 4),
    ("W: m, n\n  W m n", "expected NAME: ROWS, COLS", 2, 3),
    ("W: m, n, k", "W: expected ROWS, COLS or N, got 'm, n, k'", 1, 4),
    ("W: m, n\nW: n", "W is declared twice", 2, 1),
    ("for: n", "a symbol name must be an identifier", 1, 1),
    ("W: m/2, n", "invalid dimension 'm/2'", 1, 4),
])
def test_bad_declarations_are_located(text, message, line, column):
    from matcalc.web.shapes import parse_shapes_text

    with pytest.raises(InputError) as info:
        parse_shapes_text(text)
    assert message in info.value.message
    assert "shapes[" not in info.value.message  # no Python spelling in the page
    assert (info.value.line, info.value.column) == (line, column)


def _undeclared(program, shapes):
    from matcalc.web.shapes import undeclared

    with pytest.raises(mc.MatcalcError) as info:
        mc.parse_program(program, shapes)
    return undeclared(program, shapes, info.value)


def test_the_shapes_that_fit_an_undeclared_name():
    shapes = {"W": ("m", "n"), "X": ("n", "B")}
    assert _undeclared("Y = W @ X\nL = sum(relu(Y + b))", shapes) == {
        "name": "b", "rows": None, "cols": None,
        "fits": [["m", "B"], ["m", "1"], ["1", "B"], ["1", "1"]]}
    assert _undeclared("L = trace(W.T @ A)", {"W": ("m", "n")}) == {
        "name": "A", "rows": "m", "cols": "n", "fits": [["m", "n"]]}
    # nothing known yet about a name used first: no suggestion, only the prompt
    assert _undeclared("L = sum(Q)", shapes) == {"name": "Q", "rows": None, "cols": None,
                                                  "fits": []}


def test_no_prompt_for_an_unknown_function_or_a_dimension():
    assert _undeclared("L = sum(relu2(W))", {"W": ("m", "n")}) is None
    assert _undeclared("L = sum(W @ n)", {"W": ("m", "n")}) is None
    assert _undeclared("L = sum(W @ @ X)", {"W": ("m", "n")}) is None  # a syntax error


# --- the request schema ---------------------------------------------------------------------------


def test_defaults_are_filled_and_never_shared():
    from matcalc.web.schema import parse_request

    first = parse_request(b'{"program": "L = sum(x)"}', "explain")
    assert first == {"program": "L = sum(x)", "shapes": "", "wrt": [], "node": None,
                     "dims": {}, "seed": 0, "values": {}, "lang": "en", "worked": False}
    first["wrt"].append("x")
    assert parse_request(b'{"program": "L = sum(x)"}', "explain")["wrt"] == []


def test_every_endpoint_takes_the_program_fields():
    from matcalc.web.schema import ENDPOINTS

    assert set(ENDPOINTS) == {"derive", "explain", "figure", "check", "post", "compare"}
    for fields in ENDPOINTS.values():
        assert {"program", "shapes", "wrt", "node"} <= set(fields)


def test_a_json_error_keeps_its_position():
    from matcalc.web.schema import parse_request

    with pytest.raises(RequestError) as info:
        parse_request(b'{\n  "program": "x",\n  "wrt": [W]\n}', "derive")
    assert (info.value.status, info.value.line, info.value.column) == (400, 3, 11)


# --- derivation HTML --------------------------------------------------------------------------------


def test_derivation_html_keeps_math_as_tex_for_katex():
    from matcalc.web.markdown import derivation_html

    md = mc.explain("Y = W @ X + b; L = sum(relu(Y))", shapes={"W": ("m", "n"), "X": ("n", "B"),
                                                                  "b": ("m", 1)},
                    front_matter=True, target="plain")
    html = derivation_html(md)
    assert md.startswith("---\n") and "math: true" not in html  # front matter dropped
    assert html.startswith("<h3>")
    assert '<span class="math inline">W \\in \\mathbb{R}^{m \\times n}' in html
    assert html.count('<div class="math block">') == md.count("$$") // 2


# --- the page's scripts, run in Node ------------------------------------------------------------


def _node(script: str) -> object:
    node = shutil.which("node")
    if node is None:
        missing("Node.js is not installed")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True,
                         text=True, cwd=STATIC / "js", timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_url_state_round_trips_any_text():
    state = {"program": "Y = W @ X  # ∂ & = ; #\nL = sum(Y)", "shapes": "W: m, n\nX: n, B",
             "wrt": "W", "node": "yes", "lang": "ko", "view": "latex", "backend": "torch",
             "worked": True, "dims": "m=3", "seed": 7, "values": "W=[[1,2]]", "check": True,
             "title": "제목 \"quoted\"", "tab": "check", "target": "hugo", "variable": "W",
             "candidate": "\\frac{\\partial L}{\\partial Y} X^\\top & 1", "language": "latex",
             "compared": True}
    got = _node(f"""
        import {{ readState, stateHash, DEFAULTS }} from "./state.js";
        const state = {json.dumps(state)};
        const hash = stateHash(state);
        console.log(JSON.stringify({{ back: readState(hash), defaults: stateHash(DEFAULTS),
                                      bad: readState("#lang=fr&seed=-3&code=rust&worked=yes") }}));
    """)
    assert got["back"] == state
    assert got["defaults"] == "#"  # the default state needs no fragment
    assert (got["bad"]["lang"], got["bad"]["seed"], got["bad"]["backend"], got["bad"]["worked"]) \
        == ("en", 0, "numpy", False)


def test_sizes_and_values_fields():
    got = _node("""
        import { parseSizes, parseValues } from "./numbers.js";
        const errors = [];
        for (const f of [() => parseSizes("m=0"), () => parseSizes("3"),
                         () => parseValues("W=[[1,2]"), () => parseValues("x=alert(1)")]) {
          try { f(); errors.push(null); } catch (e) { errors.push(e.message); }
        }
        console.log(JSON.stringify({
          sizes: parseSizes(" m=3, n = 4;B=5 "),
          values: parseValues("x=-2, W=[[1, 2], [3, 4]]; v=[1,2,3]"),
          errors }));
    """)
    assert got["sizes"] == {"m": 3, "n": 4, "B": 5}
    assert got["values"] == {"x": -2, "W": [[1, 2], [3, 4]], "v": [1, 2, 3]}
    assert got["errors"] == [
        'Sizes: m must be a positive whole number, got "0"',
        'Sizes: expected NAME=SIZE (e.g. m=3), got "3"',
        'Values: W must be a number or a JSON array, got "[[1,2]"',
        'Values: x must be a number or a JSON array, got "alert(1)"']


# --- shipped assets -------------------------------------------------------------------------------


def test_the_page_loads_only_local_assets():
    html = (STATIC / "index.html").read_text()
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    css = (STATIC / "katex" / "katex.min.css").read_text()
    for font in sorted({part.split(")")[0] for part in css.split("url(")[1:]}):
        if font.endswith(".woff2"):
            assert (STATIC / "katex" / font).is_file(), font


def test_vendored_katex_is_the_pinned_npm_release():
    """The same files as katex@0.19.1 from npm, which .ci/run installs for the LaTeX tests."""
    release = ROOT / ".ci" / "node" / "node_modules" / "katex"
    if not release.is_dir():
        missing("the npm package katex is not installed in .ci/node (see .ci/run)")
    assert json.loads((release / "package.json").read_text())["version"] == "0.19.1"
    ours = STATIC / "katex"
    for name in ["katex.min.js", "katex.min.css"]:
        assert (ours / name).read_bytes() == (release / "dist" / name).read_bytes(), name
    for font in (ours / "fonts").iterdir():
        assert font.read_bytes() == (release / "dist" / "fonts" / font.name).read_bytes()
    assert (ours / "LICENSE").read_bytes() == (release / "LICENSE").read_bytes()


# --- the worker pool ------------------------------------------------------------------------------

DEEP = "\n".join(["h0 = x"] + [f"h{i} = tanh(W @ h{i - 1} + b)" for i in range(1, 41)]
                 + ["L = sum(h40)"])


def _request(endpoint: str, program: str, shapes: str) -> dict:
    from matcalc.web.schema import parse_request

    return parse_request(json.dumps({"program": program, "shapes": shapes}).encode(), endpoint)


def test_the_pool_queues_then_refuses_and_survives_a_dead_worker():
    import asyncio
    import os
    import signal

    from matcalc.errors import TimeLimitError, WorkerError
    from matcalc.web.workers import Limits, WorkerPool

    slow = _request("figure", DEEP, "W: n, n\nx: n\nb: n")
    quick = _request("derive", "L = sum(relu(W @ x))", "W: m, n\nx: n")
    pool = WorkerPool(Limits(time_limit=2.0, workers=1, max_waiting=1, memory_limit=0))

    async def scenario() -> list:
        await pool.open()
        outcomes: list = []
        first = asyncio.create_task(pool.run("figure", slow))
        await asyncio.sleep(0)  # it takes the only worker
        second = asyncio.create_task(pool.run("derive", quick))
        await asyncio.sleep(0)  # it waits for the worker
        with pytest.raises(RequestError) as busy:
            await pool.run("derive", quick)
        outcomes.append(busy.value.status)
        with pytest.raises(TimeLimitError):
            await first
        status, body = await second
        outcomes.append((status, [g["name"] for g in body["gradients"]]))
        # a worker that dies mid-request is replaced, and the request is answered
        dying = asyncio.create_task(pool.run("figure", slow))
        await asyncio.sleep(0)
        victim = pool.workers[0].pid
        os.kill(victim, signal.SIGKILL)
        with pytest.raises(WorkerError):
            await dying
        outcomes.append(pool.workers[0].pid != victim)
        outcomes.append((await pool.run("derive", quick))[0])
        outcomes.append(pool.status()["restarts"])
        return outcomes

    try:
        assert in_own_thread(lambda: asyncio.run(scenario())) == [
            503, (200, ["W", "x"]), True, 200, 2]
    finally:
        pool.close()


def in_own_thread(run):
    """run() in a thread of its own: Playwright's sync API, when a browser test of the session
    has started it, keeps an event loop running in the main thread."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()
