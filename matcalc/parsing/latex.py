r"""LaTeX formulas to matcalc expressions: ``parse_latex(r"\mathrm{ReLU}(W x + b)", shapes)``.

The grammar is ``latex.lark``, read by Lark's LALR parser with an inline transformer
(:mod:`.latex_actions`), so each node is built at its reduction, in the order written, with
shapes checked as it goes. A post-lexer between the two (:mod:`.latex_lexer`) reads LaTeX's
commands. Every rejection is a :class:`~matcalc.errors.MatcalcError` with a line and column: a
:class:`ParseError` (:class:`UnknownNameError` for undeclared names) or a :class:`ShapeError`.

How formulas read
-----------------
* **Products.** Juxtaposition, ``\cdot``, ``\times`` and ``*`` are the matrix product, or scaling
  when either side is 1×1 (``2 X``, ``\alpha W``). ``\odot`` and ``\circ`` are the Hadamard
  product, ``\otimes`` the Kronecker product, ``/``, ``\div`` and ``\frac{a}{b}`` elementwise
  division; these infix commands are the spellings of the op records (``Op.latex_in``). All bind
  equally tightly and group left to right, so ``A \odot B C`` is ``(A ⊙ B) C``; a unary minus
  binds less tightly (``-W X`` is ``−(W X)``); ``+`` and ``-`` least.
* **Names** (:mod:`.latex_names`): ``W_1``, ``W_{hh}``, ``\alpha``, ``\mathbf{x}``; runs of
  declared letters split (``AXB`` is ``A X B``); ``\frac{\partial L}{\partial Y}`` is the symbol
  ``dL_dY``; a dimension name is its size; ``\pi``; ``e^{…}`` is exp unless ``e`` is declared.
* **Placeholders** (:mod:`.latex_shapes`): ``\mathbf{1}``, ``I`` and ``\mathbf{0}`` take their
  sizes from their neighbours, or from a subscript (``\mathbf{1}_{n}``, ``I_{m \times n}``);
  ``\mathbf{1}^\top Z`` is sum(Z, axis=0). ``K_{m,n}`` is the commutation matrix.
* **Superscripts.** ``^\top``, ``^T``, ``^{\mathsf T}``, ``'`` transpose; ``^{-1}`` inverts
  (a reciprocal for 1×1 values), ``^{-\top}`` inverts and transposes; ``^{2}`` is a plain power
  of a 1×1 value and elementwise for a matrix that is not square (for a square one it is
  ambiguous and an error), ``^{\circ p}`` always elementwise.
* **Functions**: every op of one operand by its LaTeX spellings — commands such as ``\exp``,
  ``\tanh``, ``\det`` and words such as ``\operatorname{tr}``, ``\mathrm{ReLU}``, a user
  function's name — plus ``\sigma`` (sigmoid unless declared), ``\log\det``,
  ``\log\operatorname{softmax}``, ``\max(0, Z)``, ``\mathbb{1}[Z > 0]``, ``\sqrt{…}``. A
  function applies to a parenthesised group, or to the next atom with its superscripts
  (``\log x^2`` is log(x²)).
* **Bars.** ``|X|`` is the elementwise absolute value, ``\log|X|`` of a square X the
  log-determinant; ``\|X\|``, ``\lVert X \rVert`` and their ``_F`` forms the Frobenius norm
  (``_2`` for vectors only).
* **Grouping** by ``( )``, ``[ ]``, ``{ }``, ``\{ \}``, with ``\left``/``\right`` (which must
  pair, as in TeX) or ``\bigl``, ``\Bigr``, …; spacing (``\,``, ``\quad``, ``~``) and ``$`` are
  ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..errors import InputError, ParseError
from ..expr import Expr
from .common import GrammarFile, declared, end_position, run
from .latex_actions import Actions
from .latex_commands import latex_tables
from .latex_lexer import PostLexer
from .latex_program import CURRENT, LatexProgram

__all__ = ["parse_latex"]

_GRAMMAR = GrammarFile("latex.lark", lambda: {"transformer": Actions(),
                                              "postlex": PostLexer(CURRENT.get)})

_CHAR_HINTS = {
    "⊙": r"write \odot", "−": "use the ASCII minus '-'", "×": r"write \times or \cdot",
    "·": r"write \cdot", "‖": r"write \|", "ᵀ": r"write ^\top", "@": "juxtapose: W X",
    "\\": "a backslash must start a command such as \\alpha",
}


def _unexpected_character(exc: UnexpectedCharacters, source: str) -> str:
    pos = exc.pos_in_stream
    char = source[pos] if pos is not None and 0 <= pos < len(source) else "?"
    if pos is not None and char == "." and source[:pos].rstrip().endswith(("\\left", "\\right")):
        return r"\left. and \right. (invisible delimiters) are not supported"
    if pos is not None and char in "^_":
        rest = source[pos + 1:].lstrip()
        what = "superscript" if char == "^" else "subscript"
        if rest.startswith("{"):
            return f"missing '}}' in the {what} {char}{{…}} (or it is nested too deeply)"
        return f"'{char}' needs a {what}: a letter, a digit, a command or {{…}}"
    hint = _CHAR_HINTS.get(char)
    return f"unexpected character {char!r}" + (f": {hint}" if hint else "")


# (token type, what the parser expected there or None) → the message, for tokens that belong to
# one construct only
_MISPLACED = {
    "CMP": "unexpected {text}: comparisons appear only in an indicator \\mathbb{{1}}[Z > 0]",
    "COMMA": r"unexpected ',': a comma appears only in \max(0, Z)",
    "PARTIAL": r"\partial appears only in a gradient symbol such as "
               r"\frac{{\partial L}}{{\partial Y}}",
    "SUBSCRIPT": "unexpected subscript {text}: a subscript follows a name (W_1), a norm "
                 "(\\|x\\|_2), I or \\mathbf{{1}}",
    "SUPERSCRIPT": "unexpected {text}: it needs something before it to apply to",
    "PRIME": "unexpected {text}: it needs something before it to apply to",
}


def _unexpected_token(tok: Token, expected: set[str], text: str) -> str:
    """A message for a token the grammar does not allow here."""
    if "COMMA" in expected and tok.type in ("CLOSE", "$END"):
        return f"unexpected {text}: \\max takes two arguments, as in \\max(0, Z)"
    if "CMP" in expected and tok.type in ("CLOSE", "$END"):
        return f"unexpected {text}: expected a comparison, as in \\mathbb{{1}}[Z > 0]"
    if expected == {"OPEN"}:
        return (f"unexpected {text}: expected a braced or parenthesised argument, as in "
                r"\frac{a}{b} or \max(0, Z)")
    if tok.type in _MISPLACED:
        return _MISPLACED[tok.type].format(text=text)
    operand = "NAME" in expected
    if tok.type == "$END":
        return "unexpected end of input" + ("; expected an expression" if operand else "")
    if operand:
        return f"unexpected {text}; expected an expression"
    return f"unexpected {text}"


def _from_lark(exc: UnexpectedInput, prog: LatexProgram) -> ParseError:
    """Lark's rejection as a ParseError at its line and column (the end of input for EOF)."""
    source = prog.source
    if isinstance(exc, UnexpectedCharacters):
        return ParseError(_unexpected_character(exc, source), exc.line, exc.column, source)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            (line, column), text = end_position(source), "end of input"
        else:
            line, column, text = tok.line, tok.column, repr(prog.text_of(tok))
        return ParseError(_unexpected_token(tok, set(exc.expected), text), line, column, source)
    line, column = end_position(source)
    return ParseError(f"syntax error ({exc.__class__.__name__})", line, column, source)


def _reparse(source: str) -> Any:
    """Parse part of the current formula (a superscript's body, padded to keep positions)."""
    try:
        return _GRAMMAR.parser().parse(source)
    except UnexpectedInput as exc:
        raise _from_lark(exc, CURRENT.get()) from None


def parse_latex(source: str, shapes: Mapping[Any, Any]) -> Expr:
    r"""Parse a LaTeX formula into an expression; ``shapes`` maps names to (rows, cols).

    >>> parse_latex(r"\frac{1}{2}\|Y - W X\|_F^2", {"W": ("m", "n"), "X": ("n", "B"),
    ...                                            "Y": ("m", "B")})  # doctest: +SKIP
    """
    if not isinstance(source, str):
        raise InputError(f"source must be a str, got {type(source).__name__}")
    program = LatexProgram(source, declared(shapes), latex_tables(), _reparse)
    result: Expr = run(_GRAMMAR, program, CURRENT, _from_lark, "formula")
    return result
