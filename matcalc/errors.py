"""Every error matcalc raises, in one place.

Each is a :class:`MatcalcError`. An error about source text carries its position from the moment it
is made: ``line`` and ``column`` (1-based) and the ``source``, from which ``str(error)`` draws the
offending line with a caret under the spot. ``message`` is the bare message, without the position.

:class:`InternalError` is different in kind: it means matcalc broke one of its own invariants (a
rule produced a wrong shape, say). It is still a MatcalcError, so that nothing else ever escapes,
but the CLI reports it as a bug to be reported, with its own exit code, never as a user mistake.
"""

from __future__ import annotations

__all__ = [
    "CheckError", "CodegenError", "DifferentiationError", "DimensionBindingError",
    "EvaluationError", "FigureError", "InputError", "InternalError", "InteropError", "MatcalcError",
    "NoCodeTemplateError", "ParseError", "RequestError", "ShapeError", "SizeLimitError",
    "StructureError", "TimeLimitError", "UnknownNameError", "WebError", "WorkerError", "caret",
]

_WINDOW = 120  # a long source line is cut to this many characters around the caret


def caret(source: str, line: int, column: int) -> str:
    """The source line at ``line`` and a caret under ``column``, indented by two spaces."""
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return ""
    text = lines[line - 1].rstrip("\r")
    if len(text) > _WINDOW:  # keep the caret next to the offending spot
        start = max(0, column - _WINDOW // 2)
        text = text[start:start + _WINDOW]
        column -= start
    return "\n  " + text + "\n  " + " " * max(column - 1, 0) + "^"


class MatcalcError(Exception):
    """Base class of every error matcalc raises."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 source: str | None = None):
        self.message = message
        self.line, self.column, self.source = line, column, source
        text = message
        if line is not None and column is not None:
            text = f"{message} (line {line}, column {column})"
            if source is not None:
                text += caret(source, line, column)
        super().__init__(text)

    def at(self, line: int | None, column: int | None, source: str | None) -> MatcalcError:
        """The same error, of the same class, located at a position in source text."""
        return type(self)(self.message, line, column, source)


class ShapeError(MatcalcError):
    """Operands whose shapes do not fit the operation (names the op, operands and shapes)."""


class ParseError(MatcalcError):
    """Source text that the grammar rejects; carries line and column."""


class UnknownNameError(ParseError):
    """A name that is neither declared nor a known function; suggests the nearest known one."""


class DimensionBindingError(MatcalcError):
    """Arrays whose sizes contradict their declarations or each other, or a missing value."""


class StructureError(DimensionBindingError):
    """A value does not have the structure its symbol was declared with (symmetric, …)."""


class InputError(MatcalcError):
    """A value of the wrong kind given to the API (not an expression, bad axis, bad dimension)."""


class DifferentiationError(MatcalcError):
    """A derivative that cannot be taken as asked (non-scalar loss for grad, unknown variable)."""


class EvaluationError(MatcalcError):
    """A value that cannot be computed (a singular matrix for inv, say)."""


class InteropError(MatcalcError):
    """An expression with no counterpart on the other side (names the op or the SymPy class)."""


class CodegenError(MatcalcError):
    """Outputs that cannot be turned into code (an unknown backend, a name the code reserves)."""


class NoCodeTemplateError(CodegenError):
    """An op that has no code template for the requested backend."""


class CheckError(MatcalcError):
    """A numeric check that cannot be run as asked."""


class FigureError(MatcalcError):
    """A figure that cannot be drawn (Graphviz missing, an unwritable path)."""


class SizeLimitError(MatcalcError):
    """A size beyond the limits of :mod:`matcalc.limits`, refused before anything is allocated."""


class WebError(MatcalcError):
    """The playground cannot run as asked (its extra is not installed, the port is taken)."""


class RequestError(WebError):
    """A request the playground's API refuses (malformed JSON, an unknown field, too large).

    ``status`` is the HTTP status it is answered with; ``field`` names the request field at fault.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 source: str | None = None, *, status: int = 422, field: str | None = None):
        super().__init__(message, line, column, source)
        self.status, self.field = status, field


class TimeLimitError(WebError):
    """A computation that ran past the playground's time limit and was stopped."""


class WorkerError(WebError):
    """The worker process computing a request stopped before it answered."""


class InternalError(MatcalcError):
    """matcalc broke one of its own invariants: a bug in matcalc, not in the input."""
