"""The form of API requests: which fields each endpoint takes, their types and their limits.

A request body is one JSON object. Malformed JSON is answered with status 400 and the line and
column where decoding stopped; an unknown field, a missing one, a value of the wrong type or past
its limit with 422 and the field's name. What the values mean (does the program parse, are the
shapes consistent) is for the worker to say.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from matcalc.errors import RequestError

MAX_PROGRAM_CHARS = 20_000
MAX_SHAPES_CHARS = 5_000
MAX_NAMES = 200  # declarations, variables, dimensions or values in one request
MAX_DIM = 64  # sizes for the numeric check and worked numbers
MAX_NUMBERS = 10_000  # entries of all given values together
MAX_TITLE_CHARS = 200
MAX_CANDIDATE_CHARS = 5_000

_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_REQUIRED = object()


@dataclass(frozen=True)
class Field:
    """One request field: how its value is checked (and normalised), and its default."""

    check: Callable[[str, Any], Any]
    default: Any = _REQUIRED
    doc: str = ""


def _error(field: str, message: str) -> RequestError:
    return RequestError(f"{field}: {message}", field=field)


def _text(limit: int, single_line: bool = False) -> Callable[[str, Any], str]:
    def check(field: str, value: Any) -> str:
        if not isinstance(value, str):
            raise _error(field, f"expected a string, got {_kind(value)}")
        if len(value) > limit:
            raise _error(field, f"{len(value):,} characters; at most {limit:,} are accepted")
        if single_line and any(ord(c) < 32 for c in value):
            raise _error(field, "control characters (such as line breaks) are not accepted")
        return value
    return check


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null", int: "a number", float: "a number"}.get(type(value), "a value")


def _name(field: str, value: Any) -> str:
    if not isinstance(value, str) or not _IDENT.fullmatch(value):
        raise _error(field, f"expected a name like W or W_1, got {json.dumps(value)[:40]}")
    return value


def _names(field: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _error(field, f"expected an array of names, got {_kind(value)}")
    if len(value) > MAX_NAMES:
        raise _error(field, f"{len(value)} names; at most {MAX_NAMES} are accepted")
    return [_name(field, v) for v in value]


def _object(field: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _error(field, f"expected an object, got {_kind(value)}")
    if len(value) > MAX_NAMES:
        raise _error(field, f"{len(value)} entries; at most {MAX_NAMES} are accepted")
    for key in value:
        _name(field, key)
    return value


def _shapes(field: str, value: Any) -> str | dict[str, Any]:
    if isinstance(value, str):
        return _text(MAX_SHAPES_CHARS)(field, value)
    for name, shape in _object(field, value).items():
        parts = shape if isinstance(shape, list) else [shape]
        if not 1 <= len(parts) <= 2 or not all(_is_dim(p) for p in parts):
            raise _error(field, f"{name}: expected [ROWS, COLS] or N with names or positive "
                                f"integers, got {json.dumps(shape)[:60]}")
    return dict(value)


def _is_dim(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, str) and len(value) <= 100 or isinstance(value, int) and value > 0


def _optional_bool(field: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise _error(field, f"expected true, false or null, got {_kind(value)}")
    return value


def _bool(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _error(field, f"expected true or false, got {_kind(value)}")
    return value


def _choice(*options: str | None) -> Callable[[str, Any], Any]:
    def check(field: str, value: Any) -> Any:
        if value not in options:
            shown = ", ".join(json.dumps(o) for o in options)
            raise _error(field, f"expected one of {shown}, got {json.dumps(value)[:40]}")
        return value
    return check


def _dims(field: str, value: Any) -> dict[str, int]:
    for name, size in _object(field, value).items():
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_DIM:
            raise _error(field, f"{name}: expected a size from 1 to {MAX_DIM}, got "
                                f"{json.dumps(size)[:40]}")
    return dict(value)


def _seed(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise _error(field, f"expected an integer from 0 to {2**32 - 1}, got "
                            f"{json.dumps(value)[:40]}")
    return value


def _values(field: str, value: Any) -> dict[str, Any]:
    total = 0
    for name, v in _object(field, value).items():
        total += _count_numbers(field, name, v)
        if total > MAX_NUMBERS:
            raise _error(field, f"more than {MAX_NUMBERS:,} numbers in all")
    return dict(value)


def _count_numbers(field: str, name: str, value: Any) -> int:
    """Entries of a number, a list of numbers (a column) or a list of equal-length rows."""
    if _is_number(value):
        return 1
    if isinstance(value, list) and value and all(_is_number(v) for v in value):
        return len(value)
    if (isinstance(value, list) and value and all(isinstance(r, list) for r in value)
            and all(r and len(r) == len(value[0]) and all(_is_number(v) for v in r)
                    for r in value)):
        return len(value) * len(value[0])
    raise _error(field, f"{name}: expected a number, a list of numbers or a list of rows of "
                        f"equal length")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


PROGRAM = {
    "program": Field(_text(MAX_PROGRAM_CHARS), doc="the program: statements on lines or split "
                                                    "by ;"),
    "shapes": Field(_shapes, "", "declarations: text, one NAME: ROWS, COLS a line, or an object "
                                 "{\"W\": [\"m\", \"n\"]}"),
    "wrt": Field(_names, [], "the variables to differentiate by (default: every input)"),
    "node": Field(_optional_bool, None, "the result is one node of a network, its upstream "
                                        "gradient ∂L/∂Y a symbol (default: when not 1×1)"),
}
NUMBERS = {
    "dims": Field(_dims, {}, f"sizes of the dimensions, 1 to {MAX_DIM} (default: small "
                             f"distinct sizes)"),
    "seed": Field(_seed, 0, "random seed of the sampled point"),
    "values": Field(_values, {}, "values of some inputs (the others are drawn in the ops' "
                                 "domains)"),
}
WORKED = {"worked": Field(_bool, False, "add worked numbers (a scalar loss only)")}
DOCUMENT = {"lang": Field(_choice("en", "ko"), "en", "language of the derivation: en or ko"),
            **WORKED}
ENDPOINTS: dict[str, dict[str, Field]] = {
    "derive": PROGRAM,
    "explain": {**PROGRAM, **NUMBERS, **DOCUMENT},
    "figure": {**PROGRAM, **NUMBERS, **WORKED},
    "check": {**PROGRAM, **NUMBERS},
    "post": {**PROGRAM, **NUMBERS, **DOCUMENT,
             "title": Field(_text(MAX_TITLE_CHARS, single_line=True), "",
                            "the post's title (default: from the program)"),
             "target": Field(_choice("jekyll", "hugo", "plain"), "jekyll",
                             "where the post is published: its math delimiters")},
    "compare": {**PROGRAM, "dims": NUMBERS["dims"], "seed": NUMBERS["seed"],
                "variable": Field(_name, doc="the variable of the gradient"),
                "candidate": Field(_text(MAX_CANDIDATE_CHARS), doc="your gradient, in LaTeX or "
                                                                   "in matcalc's text"),
                "language": Field(_choice(None, "latex", "text"), None,
                                  "how the candidate is written (default: guessed)")},
}


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def decode(raw: bytes) -> Any:
    """The JSON value of a request body; malformed input is a RequestError with its position."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"the request body is not UTF-8 (byte {exc.start})", status=400) \
            from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RequestError(f"malformed JSON: {exc.msg}", exc.lineno, exc.colno, text,
                           status=400) from None
    except ValueError as exc:
        raise RequestError(f"malformed JSON: {exc}", status=400) from None
    except RecursionError:
        raise RequestError("malformed JSON: nested too deeply", status=400) from None


def parse_request(raw: bytes, endpoint: str) -> dict[str, Any]:
    """The checked fields of a request to an endpoint, with defaults filled in."""
    fields = ENDPOINTS[endpoint]
    data = decode(raw)
    if not isinstance(data, dict):
        raise RequestError(f"the request must be a JSON object, got {_kind(data)}")
    for key in data:
        if key not in fields:
            raise RequestError(f"unknown field {json.dumps(key)[:60]}; /api/{endpoint} takes "
                               f"{', '.join(fields)}", field=str(key)[:60])
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in data:
            if spec.default is _REQUIRED:
                raise RequestError(f"missing field {name!r}", field=name)
            out[name] = copy.copy(spec.default)
        else:
            out[name] = spec.check(name, data[name])
    return out
