"""The playground's JSON API against a real `matcalc serve`: answers, limits and clean errors.

Every refusal is JSON with a message (and a position for text), never a traceback, and the
server keeps serving afterwards.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time

import pytest
import yaml
from web_harness import Server, group_members, process_alive, require_web_stack

import matcalc as mc
from matcalc.demo import CASES

SMALL = {"program": "Y = W @ X + b\nL = sum(relu(Y))", "shapes": "W: m, n\nX: n, B\nb: m, 1"}
# a deep program: Graphviz needs minutes to lay out its graph, far past the test's time limit
DEEP = {"program": "\n".join(["h0 = x"] + [f"h{i} = tanh(W @ h{i - 1} + b)" for i in range(1, 41)]
                             + ["L = sum(h40)"]),
        "shapes": "W: n, n\nx: n\nb: n"}
TIME_LIMIT = 2.0


@pytest.fixture(scope="module")
def server():
    require_web_stack()
    s = Server("--time-limit", str(TIME_LIMIT), "--workers", "1", "--memory-limit", "400")
    yield s
    s.stop()


def assert_serving(server: Server) -> None:
    status, body = server.post("/api/derive", SMALL)
    assert status == 200, body
    assert [g["name"] for g in body["gradients"]] == ["W", "X", "b"]


def assert_clean_error(status: int, body: dict, expected_status: int, words: str) -> dict:
    assert status == expected_status, body
    error = body["error"]
    assert words in error["message"], error
    assert "Traceback" not in json.dumps(body)
    return error


# --- answers ---------------------------------------------------------------------------------------


def test_derive_returns_shapes_gradients_and_code(server):
    status, body = server.post("/api/derive", SMALL)
    assert status == 200
    program = body["program"]
    assert [(i["name"], i["shape"]) for i in program["inputs"]] == [
        ("W", "m×n"), ("X", "n×B"), ("b", "m×1")]
    assert [(n["name"], n["shape"]) for n in program["named"]] == [("Y", "m×B"), ("L", "1×1")]
    assert program["result"] == {"name": "L", "shape": "1×1", "scalar": True}
    assert program["node"] is False and program["sizes"] == {"m": 3, "n": 4, "B": 5}
    L = mc.parse(SMALL["program"], {"W": ("m", "n"), "X": ("n", "B"), "b": ("m", 1)})
    expected = mc.grad(L, ["W", "X", "b"])
    for answer, g, name in zip(body["gradients"], expected, "WXb"):
        assert answer["text"] == str(g)
        assert answer["latex"] == mc.latex(g, wrt=name)
    assert body["latex"] == mc.latex_gradients(list(zip("WXb", expected)))
    for backend in ("numpy", "jax", "torch"):
        assert "def loss_and_gradients(*, W, X, b):" in body["code"][backend]["source"]


def test_a_matrix_result_is_one_node_with_a_symbolic_upstream_gradient(server):
    status, body = server.post("/api/derive", {"program": "Y = W @ X", "shapes": "W: m, n\nX: n, B"})
    assert status == 200
    assert body["program"]["node"] is True
    assert [g["latex"] for g in body["gradients"]] == [
        r"\frac{\partial L}{\partial W} = \frac{\partial L}{\partial Y} X^\top \in \mathbb{R}^{m \times n}",
        r"\frac{\partial L}{\partial X} = W^\top \frac{\partial L}{\partial Y} \in \mathbb{R}^{n \times B}"]


def test_explain_in_both_languages_with_worked_numbers(server):
    cs231n = {"program": "q = x + y\nf = q * z", "shapes": "x: 1, 1\ny: 1, 1\nz: 1, 1",
              "values": {"x": -2, "y": 5, "z": -4}, "worked": True}
    status, en = server.post("/api/explain", cs231n)
    assert status == 200, en
    assert "Backward pass" in en["html"] and "Worked example" in en["html"]
    assert '<div class="math block">' in en["html"]
    # the values given are the point: f = (x + y) z = -12, ∂f/∂x = z = -4
    assert "f &amp;= -12" in en["html"] and r"\frac{\partial f}{\partial x} &amp;= -4" in en["html"]
    status, ko = server.post("/api/explain", {**cs231n, "lang": "ko"})
    assert status == 200 and "역전파" in ko["html"]


def test_figure_is_svg_with_values_when_worked(server):
    status, body = server.post("/api/figure", {**SMALL, "worked": True, "dims": {"m": 2}})
    assert status == 200, body
    assert body["svg"].lstrip().startswith("<?xml") and "</svg>" in body["svg"]
    assert body["worked"] == {"dims": {"m": 2, "n": 4, "B": 5}, "seed": 0}
    assert "‖·‖=" in body["svg"]  # forward values and gradients on the edges


def test_check_reports_every_variable(server):
    status, body = server.post("/api/check", {**SMALL, "wrt": ["W", "b"], "dims": {"B": 6},
                                              "seed": 3})
    assert status == 200, body
    assert body["overall"] == "PASS" and body["seed"] == 3
    assert body["dims"] == {"m": 3, "n": 4, "B": 6}
    assert [(r["variable"], r["method"], r["status"]) for r in body["rows"]] == [
        ("W", "directional", "PASS"), ("W", "full", "PASS"),
        ("b", "directional", "PASS"), ("b", "full", "PASS")]
    assert body["rows"][0]["shape"] == "3×4" and body["rows"][2]["shape"] == "3×1"


def test_check_of_a_node_checks_its_vector_jacobian_products(server):
    status, body = server.post("/api/check", {"program": "Y = relu(Z)", "shapes": "Z: m, B"})
    assert status == 200, body
    assert body["overall"] == "PASS" and [r["variable"] for r in body["rows"]] == ["Z", "Z"]


@pytest.mark.parametrize("target, inline", [("jekyll", "$$W"), ("hugo", "\\(W"), ("plain", "$W")])
def test_post_is_one_markdown_file_with_front_matter_and_the_figure(server, target, inline):
    payload = json.dumps({**SMALL, "title": 'ReLU layer: "by hand"', "lang": "ko",
                          "target": target}).encode()
    status, headers, raw = server.request("POST", "/api/post", payload,
                                          {"content-type": "application/json"})
    assert status == 200
    assert headers["content-type"] == "text/markdown; charset=utf-8"
    assert headers["content-disposition"] == 'attachment; filename="relu-layer-by-hand.md"'
    text = raw.decode()
    front, body = text.split("---\n")[1:3]
    assert yaml.safe_load(front)["title"] == 'ReLU layer: "by hand"'
    assert "역전파" in body and inline in body  # the publisher's inline math
    link = body.split("](data:image/svg+xml;base64,", 1)[1].split(")", 1)[0]
    assert base64.b64decode(link).decode().rstrip().endswith("</svg>")


def test_examples_cover_the_reference_post_and_all_derive(server):
    status, body = server.get("/api/examples")
    assert status == 200
    examples = body["examples"]
    programs = {e["program"] for e in examples}
    assert {program for *_, program, _shapes in CASES} <= programs
    assert {"cs231n", "mlp", "attention"} <= {e["id"] for e in examples}
    for e in examples:
        wrt = [w.strip() for w in e.get("wrt", "").split(",") if w.strip()]
        status, answer = server.post("/api/derive", {"program": e["program"], "shapes": e["shapes"],
                                                     "wrt": wrt, "node": e.get("node")})
        assert status == 200, (e["id"], answer)
        assert len(answer["gradients"]) == len(answer["program"]["wrt"]) >= 1


MEAN_LAYER = {"program": "Y = W @ X + b\nL = sum(relu(Y)) / size(B)",
              "shapes": "W: m, n\nX: n, B\nb: m, 1"}


@pytest.mark.parametrize("variable, candidate, equal, stage", [
    ("b", r"\frac{1}{B} \mathbb{I}[Y > 0] \mathbf{1}", True, "symbolic"),
    ("b", "sum(step(Y), axis=1) / size(B)", True, "symbolic"),  # matcalc's text, written otherwise
    ("W", r"\frac{1}{B} \mathbb{I}[Y > 0] X^\top", True, "symbolic"),
    ("b", r"\mathbb{I}[Y > 0] \mathbf{1}", False, "numeric"),  # the 1/B is missing
    ("W", r"\frac{1}{B} X^\top \mathbb{I}[Y > 0]", False, "shape"),  # factors swapped
])
def test_check_my_derivation(server, variable, candidate, equal, stage):
    status, body = server.post("/api/compare", {**MEAN_LAYER, "variable": variable,
                                                "candidate": candidate})
    assert status == 200, body
    c = body["comparison"]
    assert (c["variable"], c["equal"], c["stage"]) == (variable, equal, stage)
    assert body["symbol"] == rf"\frac{{\partial L}}{{\partial {variable}}}"
    assert dict(body["rows"])["matcalc"] == c["expected_text"]


def test_check_my_derivation_says_where_it_differs(server):
    status, body = server.post("/api/compare", {**MEAN_LAYER, "variable": "b",
                                                "candidate": r"\frac{1}{B} \mathbb{I}[Y > 0]"})
    c = body["comparison"]
    assert (c["equal"], c["candidate_shape"], c["expected_shape"]) == (False, "m×B", "m×1")
    assert "sum over the batch" in c["hint"]
    status, body = server.post("/api/compare", {**MEAN_LAYER, "variable": "b",
                                                "candidate": r"\mathbb{I}[Y > 0] \mathbf{1}"})
    assert status == 200 and "a factor 1/B missing?" in body["comparison"]["hint"]
    assert len(body["comparison"]["points"]) >= 1


def test_check_my_derivation_of_a_node(server):
    node = {"program": "Y = W @ X", "shapes": "W: m, n\nX: n, B", "variable": "W"}
    status, body = server.post("/api/compare", {**node, "candidate": "dL_dY @ X.T"})
    assert status == 200 and body["comparison"]["equal"] is True
    status, body = server.post("/api/compare", {
        **node, "candidate": r"X^\top \frac{\partial L}{\partial Y}", "language": "latex"})
    assert status == 200 and body["comparison"]["where"].startswith("cannot multiply X.T (B×n) by ∂L/∂Y (m×B)")


def test_a_candidate_that_does_not_parse_is_located(server):
    status, body = server.post("/api/compare", {**MEAN_LAYER, "variable": "W",
                                                "candidate": "step(Y) @ (X.T"})
    error = assert_clean_error(status, body, 422, "missing ')'")
    assert (error["field"], error["line"], error["column"]) == ("candidate", 1, 15)
    status, body = server.post("/api/compare", {**MEAN_LAYER, "variable": "Q", "candidate": "W"})
    error = assert_clean_error(status, body, 422, "Q is not a variable of the program")
    assert error["field"] == "variable"


def test_status_reports_the_limits(server):
    status, body = server.get("/api/status")
    assert status == 200
    assert body["workers"] == 1 and body["time_limit"] == TIME_LIMIT
    assert body["max_request_bytes"] == 64 * 1024


def test_responses_carry_a_content_security_policy(server):
    status, headers, raw = server.request("GET", "/")
    assert status == 200 and b"<textarea id=\"program\"" in raw
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


# --- errors in the user's text: positions and prompts ------------------------------------------


def test_shape_error_comes_with_line_column_and_caret(server):
    status, body = server.post("/api/derive", {"program": "Y = W @ X\nZ = W @ W",
                                               "shapes": "W: m, n\nX: n, B"})
    error = assert_clean_error(status, body, 422, "cannot multiply W (m×n) by W (m×n)")
    assert (error["type"], error["field"], error["line"], error["column"]) == (
        "ShapeError", "program", 2, 7)
    assert error["excerpt"] == "  Z = W @ W\n        ^"


def test_undeclared_name_is_prompted_with_the_shapes_that_fit(server):
    status, body = server.post("/api/derive", {"program": "L = sum(relu(W @ X))",
                                               "shapes": "W: m, n"})
    error = assert_clean_error(status, body, 422, "undeclared name 'X'")
    assert (error["line"], error["column"]) == (1, 18)
    assert body["undeclared"] == {"name": "X", "rows": "n", "cols": None,
                                  "fits": [["n", "m"], ["n", "n"], ["n", "1"]]}


def test_bad_shape_line_is_located_in_the_shapes_box(server):
    status, body = server.post("/api/derive", {**SMALL, "shapes": "W: m, n\nX: n, 0"})
    error = assert_clean_error(status, body, 422, "a dimension must be a positive integer")
    assert (error["field"], error["line"], error["column"]) == ("shapes", 2, 4)


def test_unknown_variable_names_the_field(server):
    status, body = server.post("/api/derive", {**SMALL, "wrt": ["Q"]})
    error = assert_clean_error(status, body, 422, "no variable named 'Q'")
    assert error["field"] == "wrt"
    assert [n["name"] for n in body["program"]["named"]] == ["Y", "L"]  # shapes still shown


def test_unknown_dimension_for_the_check(server):
    status, body = server.post("/api/check", {**SMALL, "dims": {"k": 3}})
    error = assert_clean_error(status, body, 422, "no dimension 'k'")
    assert error["field"] == "dims"


# --- malformed requests and limits ---------------------------------------------------------------


def test_malformed_json_is_a_400_with_its_position(server):
    status, body = server.post("/api/derive", b'{"program": "L = sum(x)",\n "shapes": }')
    error = assert_clean_error(status, body, 400, "malformed JSON")
    assert (error["line"], error["column"]) == (2, 12)
    assert error["excerpt"] == '   "shapes": }\n             ^'
    assert_serving(server)


@pytest.mark.parametrize("raw, words", [
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"program": NaN}', "NaN is not a JSON number"),
    (b"[" * 30_000 + b"]" * 30_000, "nested too deeply"),
])
def test_other_malformed_bodies(server, raw, words):
    status, _, body = server.request("POST", "/api/derive", raw,
                                           {"content-type": "application/json"})
    assert_clean_error(status, json.loads(body), 400, words)
    assert_serving(server)


def test_unknown_field_is_refused_by_name(server):
    status, body = server.post("/api/derive", {**SMALL, "differentiate": ["W"]})
    error = assert_clean_error(status, body, 422, 'unknown field "differentiate"')
    assert error["field"] == "differentiate"
    assert "program, shapes, wrt, node" in error["message"]
    assert_serving(server)


@pytest.mark.parametrize("payload, field, words", [
    ({"shapes": "W: m, n"}, "program", "missing field 'program'"),
    ({"program": 3}, "program", "expected a string, got a number"),
    ({**SMALL, "wrt": "W"}, "wrt", "expected an array of names"),
    ({**SMALL, "wrt": ["W; import os"]}, "wrt", "expected a name"),
    ({**SMALL, "node": "yes"}, "node", "expected true, false or null"),
    ({**SMALL, "dims": {"m": 1000}}, "dims", "expected a size from 1 to 64"),
    ({**SMALL, "seed": -1}, "seed", "expected an integer"),
    ({**SMALL, "values": {"W": [[1, 2], [3]]}}, "values", "list of rows of equal length"),
    ({**SMALL, "shapes": {"W": ["m", "n", "k"]}}, "shapes", "expected [ROWS, COLS]"),
    ({**SMALL, "program": "x" * 20_001}, "program", "at most 20,000 are accepted"),
    ({**SMALL, "lang": "fr"}, "lang", 'expected one of "en", "ko"'),
    ({**SMALL, "target": "wordpress"}, "target", 'expected one of "jekyll", "hugo", "plain"'),
    ({**SMALL, "variable": "W"}, "candidate", "missing field 'candidate'"),
])
def test_wrong_types_and_sizes_name_the_field(server, payload, field, words):
    endpoint = {"dims": "/api/check", "seed": "/api/check", "values": "/api/check",
                "lang": "/api/explain", "target": "/api/post",
                "candidate": "/api/compare"}.get(field, "/api/derive")
    status, body = server.post(endpoint, payload)
    error = assert_clean_error(status, body, 422, words)
    assert error["field"] == field


def test_a_request_that_is_not_an_object(server):
    status, body = server.post("/api/derive", [1, 2])
    assert_clean_error(status, body, 422, "must be a JSON object")


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_request_is_refused_and_the_server_keeps_serving(server, chunked):
    big = json.dumps({"program": "L = sum(x)", "shapes": "x: n\n" + "#" * 70_000}).encode()
    status, body = server.post("/api/derive", big, chunked=chunked)
    assert_clean_error(status, body, 413, "larger than 65,536 bytes")
    assert_serving(server)


def test_json_is_the_only_content_type(server):
    status, _, raw = server.request("POST", "/api/derive", b"program=x",
                                          {"content-type": "application/x-www-form-urlencoded"})
    assert status == 415 and "send the request as JSON" in json.loads(raw)["error"]["message"]


def test_unknown_paths_and_methods_answer_json(server):
    status, body = server.get("/api/nothing")
    assert_clean_error(status, body, 404, "nothing at /api/nothing")
    status, body = server.get("/api/derive")
    assert_clean_error(status, body, 405, "GET is not accepted at /api/derive")


def test_foreign_host_header_is_refused(server):
    status, _, raw = server.request("GET", "/api/status",
                                          headers={"host": "attacker.example:8000"})
    assert status == 400
    assert "not 'attacker.example:8000'" in json.loads(raw)["error"]["message"]


def test_running_out_of_memory_is_a_clean_error(server):
    # an 8192×8192 Kronecker product: 537 MB, past the worker's 400 MiB
    status, body = server.post("/api/check", {"program": "L = sum(kron(kron(W, V), U))",
                                              "shapes": "W: n, n\nV: n, n\nU: k, k",
                                              "dims": {"n": 16, "k": 32}})
    assert_clean_error(status, body, 422, "ran out of memory")
    assert_serving(server)


def test_derivation_past_the_time_limit_is_stopped_with_its_processes(server):
    _, before = server.get("/api/status")
    old = before["pids"][0]
    status, body = server.post("/api/figure", DEEP)
    error = assert_clean_error(status, body, 504, f"longer than the time limit of {TIME_LIMIT:g} s")
    assert error["type"] == "TimeLimitError"
    _, after = server.get("/api/status")
    assert after["restarts"] == before["restarts"] + 1
    assert after["pids"][0] != old
    # the worker and everything it started (Graphviz's dot) are gone
    assert not process_alive(old) and group_members(old) == []
    assert_serving(server)


# --- the command ----------------------------------------------------------------------------------


def test_import_matcalc_does_not_load_the_web_stack():
    code = ("import sys, matcalc, matcalc.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('starlette', 'uvicorn', 'markdown_it', 'anyio') or m.startswith('matcalc.web')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_port_in_use_is_a_clean_cli_error():
    require_web_stack()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "matcalc", "serve", "--port", str(port)],
                             capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 2
    assert out.stderr.startswith(f"error: serve: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in out.stderr


def test_open_starts_the_browser_on_the_page(tmp_path):
    require_web_stack()
    opened = tmp_path / "opened.txt"
    browser = f"{sys.executable} -c \"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\" %s"
    s = Server("--open", env={"BROWSER": browser})
    try:
        for _ in range(600):
            if opened.exists() and opened.read_text():
                break
            time.sleep(0.05)
        assert opened.read_text() == s.url
    finally:
        s.stop()
