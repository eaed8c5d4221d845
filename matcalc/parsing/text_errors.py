"""The input language's post-lexer (statement separators, parentheses, Python keywords) and the
conversion of Lark's rejections into positioned ParseErrors that say what is wrong."""

from __future__ import annotations

import keyword
from collections.abc import Iterator
from contextvars import ContextVar

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lark import PostLex

from ..errors import ParseError
from .common import clip, end_position
from .text_program import TextProgram

__all__ = ["Separators", "from_lark"]


class Separators(PostLex):
    """Post-lexer: newlines inside parentheses vanish, runs of separators collapse to one."""

    always_accept = ()

    def __init__(self, current: ContextVar[TextProgram]):
        self.current = current

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        """The tokens, separators collapsed and parentheses counted."""
        prog = self.current.get()
        pending: Token | None = None
        seen = False
        for tok in stream:
            if tok.type == "_SEP":
                if prog.depth == 0 or tok.value == ";":
                    pending = tok if seen and pending is None else pending
                continue
            if tok.type == "NAME" and keyword.iskeyword(tok.value) and \
                    tok.value not in ("None", "True", "False"):
                raise prog.error(ParseError, f"{tok.value!r} is a Python keyword; a matcalc "
                                             "program is formulas, not Python", tok)
            if tok.type in ("LPAR", "LSQB"):
                prog.depth += 1
            elif tok.type in ("RPAR", "RSQB"):
                prog.stray_paren = prog.depth == 0
                prog.depth = max(prog.depth - 1, 0)
            if pending is not None:
                yield pending
                pending = None
            seen = True
            yield tok
        if not seen:
            raise ParseError("empty program: write an expression such as sum(W @ X)", 1, 1,
                             prog.source)


_HINTS = {
    "'": "strings are not part of the language", '"': "strings are not part of the language",
    "{": "dict and set literals are not supported",
    ":": "a colon belongs in an index, as in X[0:3, :]",
    "!": "use only + - * / @ ** and .T", "^": "use ** for powers",
    "−": "use the ASCII minus '-'", "×": "use @ for the matrix product or * elementwise",
    "·": "use @ for the matrix product or * elementwise",
    "⊙": "use * for the elementwise product",
    "\\": "line continuations are not needed inside parentheses",
}


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type == "_SEP":
        return "';'" if tok.value == ";" else "end of line"
    if tok.type == "NAME":
        return f"name {tok.value!r}"
    if tok.type == "NUMBER":
        return f"number {clip(tok.value)}"
    return repr(str(tok.value))


def _unexpected_token(tok: Token, expected: set[str], prog: TextProgram) -> str:
    """A message for a token the grammar does not allow here."""
    operand = {"NAME", "NUMBER"} <= expected  # the parser is waiting for an operand
    if expected == {"NAME"}:
        return f"unexpected {_token_text(tok)}; expected T, as in W.T"
    if tok.type == "$END":
        if operand:
            return "unexpected end of input; expected an expression"
        return "unexpected end of input" + ("; missing ')'" if prog.depth else "")
    message = f"unexpected {_token_text(tok)}"
    if operand:
        return message + "; expected an expression"
    if tok.type in ("NAME", "NUMBER"):
        return message + "; is an operator missing before it?"
    if tok.type == "RPAR" and prog.stray_paren:
        return message + ": there is no '(' to close"
    if tok.type == "EQUAL":
        return message + ": only a plain name can be assigned, as in Y = W @ X"
    if tok.type == "_SEP" and prog.depth:
        return message + " inside parentheses; missing ')'?"
    return message


def from_lark(exc: UnexpectedInput, prog: TextProgram) -> ParseError:
    """Lark's rejection as a ParseError at its line and column (the end of input for EOF)."""
    source = prog.source
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        char = source[pos] if pos is not None and 0 <= pos < len(source) else "?"
        hint = _HINTS.get(char)
        return ParseError(f"unexpected character {char!r}" + (f": {hint}" if hint else ""),
                          exc.line, exc.column, source)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        if tok.type == "$END":
            line, column = end_position(source)
        else:
            line, column = exc.line, exc.column
        return ParseError(_unexpected_token(tok, set(exc.expected), prog), line, column, source)
    line, column = end_position(source)
    if isinstance(exc, UnexpectedEOF):
        return ParseError("unexpected end of input", line, column, source)
    return ParseError(f"syntax error: {exc.__class__.__name__}", line, column, source)
