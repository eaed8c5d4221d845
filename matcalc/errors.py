"""The error hierarchy. Every error matcalc raises on bad input is a MatcalcError."""

from __future__ import annotations


class MatcalcError(Exception):
    """Base class of every error matcalc raises on bad input."""


class ShapeError(MatcalcError):
    """Operands whose shapes do not fit the operation (names the op, operands and shapes)."""


class ParseError(MatcalcError):
    """Source text that the grammar rejects; carries line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 source: str | None = None):
        self.line, self.column, self.source = line, column, source
        text = message
        if line is not None and column is not None:
            text = f"{message} (line {line}, column {column})"
            if source is not None:
                lines = source.split("\n")
                if 1 <= line <= len(lines):
                    src_line = lines[line - 1]
                    if len(src_line) > 120:  # keep the caret next to the offending spot
                        start = max(0, column - 60)
                        src_line = src_line[start:start + 120]
                        column = column - start
                    text += "\n  " + src_line + "\n  " + " " * (column - 1) + "^"
        super().__init__(text)


class UnknownNameError(ParseError):
    """A name that is neither declared nor a known function; suggests the nearest known one."""


class DimensionBindingError(MatcalcError):
    """Arrays whose sizes contradict their declarations or each other, or a missing value."""


class InputError(MatcalcError):
    """A value of the wrong kind given to the API (not an expression, bad axis, bad dimension)."""


class DifferentiationError(MatcalcError):
    """A derivative that cannot be taken as asked (non-scalar loss for grad, unknown variable)."""
