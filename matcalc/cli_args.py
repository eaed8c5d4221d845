"""Parsing the command line's own notations: shapes, sizes and worked values."""

from __future__ import annotations

import math
from typing import Any

from .errors import InputError

_MAX_DIGITS = 18  # a size of more digits is past every limit (and past int()'s for 4,300)

__all__ = ["parse_int_bindings", "parse_number_bindings", "parse_shape_options", "parse_values"]


def parse_shape_options(items: list[str] | None) -> dict[str, tuple[str, ...]]:
    """``["W=m,n", "b=m,1", "S=n,n,symmetric"]`` → ``{"W": ("m", "n"), "b": ("m", "1"),
    "S": ("n", "n", "symmetric")}`` (a third entry declares a structure)."""
    shapes: dict[str, tuple[str, ...]] = {}
    for item in items or []:
        name, eq, dims = item.partition("=")
        parts = [p.strip() for p in dims.split(",")]
        if not eq or not name.strip() or len(parts) not in (1, 2, 3) or not all(parts):
            raise InputError(f"--shape {item!r}: expected NAME=ROWS,COLS (e.g. W=m,n), NAME=N "
                             f"for an N×1 column, or NAME=N,N,STRUCTURE (e.g. S=n,n,symmetric)")
        shapes[name.strip()] = (parts[0], parts[1] if len(parts) >= 2 else "1", *parts[2:])
    return shapes


def parse_int_bindings(text: str | None, option: str) -> dict[str, int]:
    """``"m=3,n=4"`` → ``{"m": 3, "n": 4}``."""
    out: dict[str, int] = {}
    if not text:
        return out
    for item in text.split(","):
        key, eq, value = (part.strip() for part in item.partition("="))
        if not eq or not key:
            raise InputError(f"{option} {text!r:.80}: expected NAME=POSITIVE_INT pairs like "
                             f"m=3,n=4")
        # ASCII digits only ("²".isdigit() is True), and few enough for int() to read
        if not (value.isascii() and value.isdigit() and int(value[:_MAX_DIGITS + 1]) > 0):
            raise InputError(f"{option} {text!r:.80}: {key}={value:.20} is not a positive "
                             f"integer (expected NAME=POSITIVE_INT pairs like m=3,n=4)")
        if len(value.lstrip("0")) > _MAX_DIGITS:
            raise InputError(f"{option}: {key} has {len(value.lstrip('0')):,} digits, far past "
                             f"any size that can be allocated")
        out[key] = int(value)
    return out


def parse_number_bindings(text: str | None) -> dict[str, float]:
    """``"x=-2,y=5"`` → ``{"x": -2.0, "y": 5.0}``."""
    out: dict[str, float] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        try:
            number: float | None = float(value)
        except ValueError:
            number = None
        if not eq or not key.strip() or number is None:
            raise InputError(f"--values {text!r:.80}: expected NAME=NUMBER pairs like x=-2,y=5")
        out[key.strip()] = _finite(number, f"--values {key.strip()}", value)
    return out


def _finite(number: float, where: str, text: str) -> float:
    """number if it is finite; InputError for infinities, NaN and what float64 cannot hold."""
    if not math.isfinite(number):
        raise InputError(f"{where}: {text.strip():.40} is not a finite float64 number")
    return number


def _json_numbers(where: str) -> dict[str, Any]:
    """json.loads options that read every number as a finite float (no 4,300-digit int limit,
    no Infinity or NaN)."""
    def number(text: str) -> float:
        return _finite(float(text), where, text)

    def constant(text: str) -> float:
        raise InputError(f"{where}: {text} is not a finite float64 number")

    return {"parse_int": number, "parse_float": number, "parse_constant": constant}


def parse_values(scalars: str | None, arrays: list[str] | None) -> dict[str, Any] | None:
    """``--values x=-2,y=5`` and ``--value W=[[1,2],[3,4]]`` (JSON) → arrays by name."""
    import json

    out: dict[str, Any] = dict(parse_number_bindings(scalars))
    for item in arrays or []:
        key, eq, text = item.partition("=")
        if not eq or not key.strip():
            raise InputError(f"--value {item!r}: expected NAME=JSON, e.g. W=[[1,2],[3,4]]")
        try:
            out[key.strip()] = json.loads(text, **_json_numbers(f"--value {key.strip()}"))
        except RecursionError:
            raise InputError(f"--value {key.strip()}: the array is nested too deeply") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"--value {item!r}: the value must be a number or a JSON array "
                             f"({exc.msg} at column {exc.colno})") from None
    return out or None
