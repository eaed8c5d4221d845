"""The playground end to end, in a real headless Chromium (Debian's) driven by Playwright.

With ``MATCALC_SCREENSHOTS=docs/img`` the tests also write the screenshots of docs/playground.md.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from web_harness import CHROMIUM, CHROMIUM_ARGS, ROOT, Server, require_browser

import matcalc as mc

SHOTS = os.environ.get("MATCALC_SCREENSHOTS")
IDLE = ("() => Boolean(document.body.dataset.ready && !document.body.dataset.pending && "
        "!document.body.dataset.busy)")
LAYER = ("Y = W @ X + b\nH = relu(Y)\nL = sum(H) / size(B)", "W: m, n\nX: n, B\nb: m, 1",
         {"W": ("m", "n"), "X": ("n", "B"), "b": ("m", 1)})


@pytest.fixture(scope="module")
def server():
    require_browser()
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser(server, playwright_driver):
    with tempfile.TemporaryDirectory() as profile:
        context = playwright_driver.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        context.grant_permissions(["clipboard-read", "clipboard-write"],
                                  origin=server.url.rstrip("/"))
        yield context
        context.close()


class Page:
    """One tab on the playground, recording every request it makes and every error it logs."""

    def __init__(self, context, server: Server, fragment: str = ""):
        self.server = server
        self.page = context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(server.url + fragment)
        self.settle()

    def _console(self, message) -> None:
        # Chromium logs every 4xx answer; a 422 is the API's answer to a program with an error
        if message.type == "error" and "status of 422" not in message.text:
            self.errors.append(message.text)

    def settle(self) -> None:
        """Wait until no edit is waiting to be sent and no request is on its way."""
        self.page.wait_for_function(IDLE, timeout=60_000)

    def type_program(self, program: str, shapes: str | None = None) -> None:
        if shapes is not None:
            self.page.fill("#shapes", shapes)
        self.page.fill("#program", program)
        self.settle()

    def text(self, selector: str) -> str:
        return self.page.inner_text(selector)

    def shot(self, name: str, selector: str | None = None) -> None:
        if not SHOTS:
            return
        path = ROOT / SHOTS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        target = self.page.locator(selector) if selector else self.page
        target.screenshot(path=str(path))

    def close(self) -> None:
        foreign = [u for u in self.requests
                   if not u.startswith((self.server.url, "data:", "blob:"))]
        assert foreign == [], "the page must load nothing from another host"
        assert self.errors == []
        self.page.close()


@pytest.fixture
def tab(browser, server):
    pages: list[Page] = []

    def open_tab(fragment: str = "") -> Page:
        pages.append(Page(browser, server, fragment))
        return pages[-1]

    yield open_tab
    for p in pages:
        p.close()


def shape_rows(page: Page) -> list[tuple[str, str, str]]:
    rows = page.page.locator("#shape-table tbody tr")
    return [tuple(rows.nth(i).locator("td").all_inner_texts()) for i in range(rows.count())]


def test_typed_program_gives_typeset_gradients_and_shapes(tab):
    page = tab()
    program, shapes, _ = LAYER
    page.type_program(program, shapes)
    assert shape_rows(page) == [("W", "m×n", "input"), ("X", "n×B", "input"),
                                ("b", "m×1", "input"), ("Y", "m×B", "intermediate"),
                                ("H", "m×B", "intermediate"), ("L", "1×1", "result")]
    names = page.page.locator("#gradients .gradient").evaluate_all(
        "items => items.map(i => i.dataset.name)")
    assert names == ["W", "X", "b"]
    assert page.page.locator("#gradients .gradient .katex-display").count() == 3
    assert page.page.locator(".katex-error").count() == 0
    assert "dL/dW = step(Y) @ X.T / size(B)" in page.text("#gradients")
    # the step-by-step derivation is typeset too, every formula without error
    assert page.page.locator("#derivation .katex").count() > 20
    assert "Backward pass" in page.text("#derivation")
    page.shot("playground.png")


def test_bad_program_shows_the_error_with_a_caret(tab):
    page = tab()
    page.type_program("Y = W @ X\nZ = X @ W\nL = sum(Z)", "W: m, n\nX: n, B")
    box = page.page.locator("#program-error")
    assert box.is_visible()
    assert page.text("#program-error .message") == "cannot multiply X (n×B) by W (m×n): B ≠ m"
    assert page.text("#program-error .where") == "line 2, column 7"
    assert page.page.locator("#program-error pre.caret").text_content() == \
        "  Z = X @ W\n        ^"
    assert page.page.locator(".outputs.stale").count() == 1
    # clicking the position puts the cursor on the spot in the editor
    page.page.click("#program-error .where")
    cursor = page.page.eval_on_selector("#program", "e => [e.selectionStart, e.selectionEnd]")
    assert cursor == [len("Y = W @ X\nZ = X "), len("Y = W @ X\nZ = X @")]
    page.shot("playground-error.png", ".inputs")
    # fixed: the error goes away
    page.type_program("Y = W @ X\nZ = W.T @ Y\nL = sum(Z)")
    assert not box.is_visible()


def test_undeclared_name_is_prompted_and_declared(tab):
    page = tab()
    page.type_program("L = sum(relu(W @ X))", "W: m, n")
    prompt = page.page.locator("#undeclared")
    assert prompt.is_visible()
    assert page.text("#undeclared .name") == "X"
    assert page.page.input_value("#undeclared .rows") == "n"
    assert page.page.locator("#undeclared .chip").all_inner_texts() == ["n×m", "n×n", "n×1"]
    page.shot("playground-undeclared.png", ".inputs")
    page.page.fill("#undeclared .cols", "B")
    page.page.click("#undeclared .declare")
    page.settle()
    assert page.page.input_value("#shapes") == "W: m, n\nX: n, B"
    assert not prompt.is_visible()
    assert page.page.locator("#gradients .gradient").count() == 2


def test_language_switch(tab):
    page = tab()
    page.page.click("[data-lang=ko]")
    page.settle()
    assert "역전파 (Backward pass)" in page.text("#derivation")
    assert page.page.evaluate("document.documentElement.lang") == "ko"
    assert "lang=ko" in page.page.url
    page.shot("playground-korean.png")
    page.page.click("[data-lang=en]")
    page.settle()
    assert "Backward pass" in page.text("#derivation") and "역전파" not in page.text("#derivation")


def test_numeric_check_with_one_button(tab):
    page = tab()
    page.page.click("[data-tab=check]")
    page.page.fill("#dims", "m=2, n=3, B=4")
    page.page.click("#run-check")
    page.settle()
    rows = page.page.locator("#check-table tbody tr")
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    assert [(c[0], c[1], c[2], c[7]) for c in cells] == [
        ("W", "2×3", "directional", "PASS"), ("W", "2×3", "full", "PASS"),
        ("X", "3×4", "directional", "PASS"), ("X", "3×4", "full", "PASS"),
        ("b", "2×1", "directional", "PASS"), ("b", "2×1", "full", "PASS")]
    assert page.text("#check-verdict").startswith("PASS (directional + full; max rel error")
    assert "sizes m=2, n=3, B=4, seed 0" in page.text("#check-verdict")
    page.shot("playground-check.png")
    # a new program makes the report stale: it is cleared
    page.type_program("Y = W @ X + b\nL = sum(Y * Y)")
    assert not page.page.locator("#check-table").is_visible()


def test_copy_code_runs_and_agrees_with_the_evaluator(tab):
    page = tab()
    program, shapes, declared = LAYER
    page.type_program(program, shapes)
    page.page.click("[data-tab=code]")
    for backend, first_line in [("torch", "import torch"), ("jax", "import jax.numpy as np"),
                                ("numpy", "import numpy as np")]:
        page.page.click(f"[data-backend={backend}]")
        assert first_line in page.text("#code")
    page.shot("playground-code.png")
    page.page.click("#copy-code")
    copied = page.page.evaluate("navigator.clipboard.readText()")
    assert copied == page.page.locator("#code").text_content()
    assert page.text("#copy-code") == "Copied"
    namespace: dict = {}
    exec(compile(copied, "<copied>", "exec"), namespace)  # noqa: S102 - as a user runs it
    rng = np.random.default_rng(0)
    values = {"W": rng.normal(size=(3, 4)), "X": rng.normal(size=(4, 5)),
              "b": rng.normal(size=(3, 1))}
    got = namespace["loss_and_gradients"](**values)
    L = mc.parse(program, declared)
    expected = mc.evaluate_many([L] + mc.grad(L, ["W", "X", "b"]), values)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_latex_source_to_copy(tab):
    page = tab()
    program, shapes, declared = LAYER
    page.type_program(program, shapes)
    page.page.click("[data-view=latex]")
    L = mc.parse(program, declared)
    expected = mc.latex_gradients(list(zip("WXb", mc.grad(L, ["W", "X", "b"]))))
    assert page.page.locator("#latex-source").text_content() == expected
    assert not page.page.locator("#gradients").is_visible()
    page.page.click("#copy-latex")
    assert page.page.evaluate("navigator.clipboard.readText()") == expected


def test_shared_url_gives_the_same_state(tab):
    page = tab()
    page.page.select_option("#example", "mlp")
    page.settle()
    page.page.click("[data-lang=ko]")
    page.page.fill("#wrt", "W1, b2")
    page.settle()
    page.page.click("[data-tab=check]")
    page.page.fill("#seed", "5")
    page.page.click("#run-check")
    page.settle()
    page.page.click("#share")
    url = page.page.evaluate("navigator.clipboard.readText()")
    assert url == page.page.url and "#" in url

    def snapshot(p: Page) -> dict:
        return {"program": p.page.input_value("#program"), "shapes": p.page.input_value("#shapes"),
                "wrt": p.page.input_value("#wrt"), "seed": p.page.input_value("#seed"),
                "gradients": p.page.locator("#latex-source").text_content(),
                "check": p.page.locator("#check-table tbody").inner_text(),
                "verdict": p.text("#check-verdict"),
                "pressed": p.page.locator("[aria-pressed=true], [aria-selected=true]")
                .all_inner_texts()}

    before = snapshot(page)
    assert before["program"].startswith("Z1 = W1 @ X + b1") and before["wrt"] == "W1, b2"
    assert "W1" in before["check"] and "PASS" in before["verdict"]
    shared = tab(url[len(page.server.url):])
    shared.page.wait_for_selector("#check-table tbody tr")
    shared.settle()
    assert snapshot(shared) == before
    shared.page.click("[data-tab=steps]")
    shared.settle()
    assert "역전파" in shared.text("#derivation")


def test_examples_load_the_reference_cases(tab):
    page = tab()
    page.page.select_option("#example", "batched")
    page.settle()
    assert page.page.input_value("#program") == "Y = W @ X"
    assert page.page.is_checked("#node")
    assert "dL/dW = dL_dY @ X.T" in page.text("#gradients")
    page.page.select_option("#example", "attention")
    page.settle()
    assert page.page.locator("#gradients .gradient").count() == 3
    assert page.page.locator(".katex-error").count() == 0


def test_worked_numbers_and_the_graph(tab):
    page = tab()
    page.page.select_option("#example", "cs231n")
    page.settle()
    assert page.page.is_checked("#worked")
    assert "Worked example" in page.text("#derivation")
    page.page.click("[data-tab=graph]")
    page.settle()
    figure = page.page.locator("#figure")
    assert figure.is_visible()
    assert page.page.eval_on_selector("#figure", "img => img.naturalWidth") > 100
    page.shot("playground-graph.png")
    with page.page.expect_download() as info:
        page.page.click("#figure-download")
    svg = Path(info.value.path()).read_text()
    assert info.value.suggested_filename == "graph.svg"
    assert ">&#45;12<" in svg  # f = (x + y) z = -12, in green on the output edge


def test_download_post(tab):
    page = tab()
    page.page.click("[data-tab=post]")
    page.page.fill("#title", "One ReLU layer")
    with page.page.expect_download() as info:
        page.page.click("#download-post")
    download = info.value
    assert download.suggested_filename == "one-relu-layer.md"
    text = Path(download.path()).read_text()
    assert text.startswith("---\ntitle: One ReLU layer\n")
    assert "](data:image/svg+xml;base64," in text


def test_check_my_derivation(tab):
    page = tab()
    page.type_program("Y = W @ X + b\nL = sum(relu(Y)) / size(B)", "W: m, n\nX: n, B\nb: m, 1")
    page.page.click("[data-tab=compare]")
    assert page.page.locator("#compare-variable option").all_inner_texts() == ["W", "X", "b", "Y"]
    page.page.select_option("#compare-variable", "b")
    page.page.fill("#candidate", r"\frac{1}{B} \mathbb{I}[Y > 0]")
    page.page.click("#run-compare")
    page.settle()
    assert page.text("#compare-verdict") == \
        "Not equal — your ∂L/∂b is m×B, but it must have the shape of b, m×1"
    rows = dict(page.page.locator("#compare-table tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])"))
    assert rows["your shape"] == "m×B" and rows["shape"] == "m×1"
    assert "sum over the batch (axis 1)" in rows["hint"]
    assert page.page.locator("#compare-forms .katex-display").count() == 2
    assert page.page.locator(".katex-error").count() == 0
    page.shot("playground-compare.png")
    page.page.fill("#candidate", r"\frac{1}{B} \mathbb{I}[Y > 0] \mathbf{1}")
    assert not page.page.locator("#compare-verdict").is_visible()  # the old verdict is gone
    page.page.click("#run-compare")
    page.settle()
    assert page.text("#compare-verdict") == "Equal — your ∂L/∂b simplifies to matcalc's"
    # the link brings the check back
    shared = tab(page.page.url[len(page.server.url):])
    shared.page.wait_for_selector("#compare-verdict:not([hidden])")
    shared.settle()
    assert shared.text("#compare-verdict") == page.text("#compare-verdict")
    assert shared.page.input_value("#compare-variable") == "b"
