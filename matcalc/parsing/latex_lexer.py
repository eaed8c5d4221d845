r"""The LaTeX post-lexer: reads commands into the grammar's tokens, between Lark's lexer and parser.

Stage 1 (:class:`Classifier`) drops spacing, turns font wrappers (``\mathbf{x}``,
``\operatorname{tr}``) into names, words and functions, pairs delimiters (``\left( … \right)``)
and tells an opening ``|`` from a closing one. Stage 2 (:func:`merge`) splits runs of letters into
names and joins ``\log\det``. The text is only ever tokenised, never evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from lark import Token
from lark.lark import PostLex

from ..errors import ParseError, UnknownNameError
from ..latexnames import is_identifier
from .common import suggest
from .latex_commands import (
    CLOSING_TEXT,
    CMPS,
    COMPOSED,
    DELIMS,
    ENDS_OPERAND,
    FONTS,
    FRACS,
    GREEK_ALIASES,
    GREEK_NAMES,
    LAMBDA_FUNCTION,
    MATRIX_ENVIRONMENTS,
    RAW,
    SIGMA_FUNCTION,
    SIZING,
    SPACING,
    WORD_FONTS,
)
from .latex_names import sub_text
from .latex_program import LatexProgram

__all__ = ["PostLexer"]


class Buffer:
    """A token stream with look-ahead and push-back."""

    __slots__ = ("_ahead", "_it")

    def __init__(self, it: Iterable[Token]):
        self._it: Iterator[Token] = iter(it)
        self._ahead: list[Token] = []

    def next(self) -> Token | None:
        """The next token, or None at the end."""
        if self._ahead:
            return self._ahead.pop()
        return next(self._it, None)

    def peek(self) -> Token | None:
        """The next token without taking it, or None at the end."""
        if not self._ahead:
            tok = next(self._it, None)
            if tok is None:
                return None
            self._ahead.append(tok)
        return self._ahead[-1]

    def push(self, toks: list[Token]) -> None:
        """Put tokens back, to be read next in the order given."""
        self._ahead.extend(reversed(toks))


def retype(type_: str, value: str, tok: Token) -> Token:
    """tok with another type and value, at the same position."""
    return Token.new_borrow_pos(type_, value, tok)


def span(type_: str, value: str, first: Token, last: Token) -> Token:
    """A token covering first to last."""
    return Token(type_, value, first.start_pos, first.line, first.column, last.end_line,
                 last.end_column, last.end_pos)


@dataclass
class _Open:
    """An open delimiter: its kind, whether \\left opened it, its first token and its text."""

    kind: str
    paired: bool
    tok: Token
    shown: str


# single characters the lexer passes on as they are, or renames
_PASS = {"NAME", "WORD", "NUMBER", "SUPERSCRIPT", "SUBSCRIPT", "PLUS", "MINUS", "PRIME", "COMMA"}
_DELIM_CHARS = {"LPAR", "RPAR", "LSQB", "RSQB", "LBRACE", "RBRACE", "BAR"}
_RENAMED = {"STAR": ("MULOP", "*"), "SLASH": ("MULOP", "/"), "GT": ("CMP", ">"),
            "LT": ("CMP", "<")}
_REFUSED = {"EQUAL": "'=' is not part of a formula: give only the right-hand side",
            "AMP": "alignment '&' is not supported: give one formula"}
# commands for LaTeX's own notation, each a token of its own
_OWN = {**{f: "FRAC" for f in FRACS}, "partial": "PARTIAL", "max": "MAX"}
_REFUSED_COMMANDS = {
    "top": "{text} must be a superscript, as in W^{text}",
    "intercal": "{text} must be a superscript, as in W^{text}",
    "prime": "{text} must be a superscript, as in W^{text}",
    "\\": r"line breaks (\\) are not supported: give one formula",
    "_": r"\_ may appear only inside a name such as \mathrm{my\_name}",
}


class Classifier:
    """Stage 1: commands, fonts and delimiters; the open delimiters are its state."""

    def __init__(self, prog: LatexProgram, stream: Iterable[Token]):
        self.prog, self.buf = prog, Buffer(stream)
        self.stack: list[_Open] = []
        self.last: str | None = None  # the type of the last token given out

    def tokens(self) -> Iterator[Token]:
        """The classified tokens; at the end, every delimiter must be closed."""
        seen = False
        while (tok := self.buf.next()) is not None:
            out = self.classify(tok)
            if out is None:
                continue
            seen = True
            self.last = out.type
            yield out
        if self.stack:
            top = self.stack[-1]
            closer = "\\end{bmatrix}" if top.kind == "matrix" else \
                ("\\right" if top.paired else "") + CLOSING_TEXT[top.kind]
            raise self.prog.error(ParseError, f"missing {closer!r}: the {top.shown!r} at column "
                                  f"{top.tok.column} is never closed", top.tok)
        if not seen:
            raise ParseError("empty formula: write a LaTeX expression such as W x + b", 1, 1,
                             self.prog.source)

    def classify(self, tok: Token) -> Token | None:
        """The grammar's token for a raw one, or None when it is dropped or pushed back."""
        t = tok.type
        if t in _PASS:
            return tok
        if t in _DELIM_CHARS:
            return self.delimiter(tok, "", None)
        if t in _RENAMED:
            return retype(*_RENAMED[t], tok)
        inner = self.stack[-1].kind if self.stack else None
        if t == "AMP" and inner == "matrix":
            return retype("CELLSEP", "&", tok)
        if t == "EQUAL" and inner == "[":  # \mathbb{I}[A = B]
            return retype("CMP", "=", tok)
        if t in _REFUSED:
            raise self.prog.error(ParseError, _REFUSED[t], tok)
        return self.command(tok)

    def command(self, tok: Token) -> Token | None:
        """A backslash command: LaTeX's own notation first, then the op records' spellings."""
        text = str(tok)
        name = text[1:]
        tables, symbols = self.prog.tables, self.prog.symbols
        if name in SPACING:
            return None
        if name in ("begin", "end"):
            return self.environment(tok, name)
        if name == "\\" and self.stack and self.stack[-1].kind == "matrix":
            return retype("ROWSEP", name, tok)
        if name in SIZING:
            return self.sized(tok, name)
        if text in DELIMS:
            return self.delimiter(tok, "", None)
        if name in FONTS:
            return self.font(tok, name)
        if name == "sigma" and "sigma" not in symbols and not self.longer_name(tok):
            return retype("FUNC", SIGMA_FUNCTION, tok)
        if name == "lambda" and self.applied() and not any(
                n in symbols for n in ["lambda"] + GREEK_ALIASES["lambda"]):
            return retype("FUNC", LAMBDA_FUNCTION, tok)  # \lambda(S): the eigenvalues
        if name in GREEK_NAMES:
            return retype("GREEK", name, tok)
        if name in _OWN:
            return retype(_OWN[name], name, tok)
        if name in CMPS:
            return retype("CMP", CMPS[name], tok)
        if name in tables.commands:
            return retype("FUNC", tables.commands[name], tok)
        if name in tables.infix:
            return retype("MULOP", name, tok)
        refused = _REFUSED_COMMANDS.get(name, "unknown command {text}")
        raise self.prog.error(ParseError, refused.replace("{text}", text), tok)

    def environment(self, tok: Token, which: str) -> Token:
        r"""\begin{bmatrix} and \end{bmatrix} (pmatrix and matrix too): a block matrix."""
        brace = self.buf.next()
        if brace is None or brace.type != "LBRACE":
            raise self.prog.error(ParseError, f"\\{which} needs an environment, as in "
                                  f"\\{which}{{bmatrix}}", tok)
        content, close = self.braced(which, brace)
        env = "".join(str(c) for c in content).strip()
        if env not in MATRIX_ENVIRONMENTS:
            raise self.prog.error(ParseError, f"the environment {env!r} is not supported; "
                                  r"write a block matrix as \begin{bmatrix} A & B \end{bmatrix}",
                                  tok)
        if which == "begin":
            self.stack.append(_Open("matrix", True, tok, f"\\begin{{{env}}}"))
            return span("MATRIX_OPEN", env, tok, close)
        if not self.stack or self.stack[-1].kind != "matrix":
            raise self.prog.error(ParseError, f"\\end{{{env}}} has no \\begin{{{env}}}", tok)
        self.stack.pop()
        return span("MATRIX_CLOSE", env, tok, close)

    def longer_name(self, tok: Token) -> bool:
        """Whether a Greek command begins a declared name: \\sigma_1, \\sigma1."""
        nxt = self.buf.peek()
        if nxt is None:
            return False
        base = str(tok)[1:]
        if nxt.type == "SUBSCRIPT":
            return self.prog.exists(base, sub_text(nxt))
        digits = _declared_digits(self.prog, base, tok, self.buf)
        if digits is None:
            return False
        self.buf.push([digits])  # only a look ahead: the digits are read again
        return True

    def applied(self) -> bool:
        """Whether an opening parenthesis comes next (\\lambda(S) is a function there)."""
        nxt = self.buf.peek()
        return nxt is not None and (nxt.type == "LPAR" or str(nxt) == "\\left")

    def sized(self, tok: Token, name: str) -> Token:
        """\\left, \\right, \\bigl, …: the delimiter that follows, with its side fixed."""
        d = self.buf.next()
        dtext = None if d is None else str(d)
        if dtext == ".":
            raise self.prog.error(ParseError, f"{tok!s}. (an invisible delimiter) is not "
                                  "supported", tok)
        if d is None or dtext not in DELIMS:
            raise self.prog.error(ParseError, f"{tok!s} must be followed by a delimiter such "
                                  r"as ( [ | \| \{", tok)
        return self.delimiter(d, SIZING[name], tok)

    def delimiter(self, d: Token, sizing: str | None, sizer: Token | None) -> Token:
        """An opening or closing delimiter, checked against the innermost open one."""
        text = str(d)
        first = sizer if sizer is not None else d
        kind, natural = DELIMS[text]
        shown = self.prog.text_of(d) if sizer is None else self.prog.text_of(sizer) + text
        if sizing == "middle":
            raise self.prog.error(ParseError, r"\middle is not supported", first)
        if sizer is not None and kind == "{":
            raise self.prog.error(ParseError, f"{shown} is not a delimiter; write "
                                  f"{self.prog.text_of(sizer)}\\{text}", first)
        side = self.side(kind, natural, sizing, shown, first)
        paired = sizing in ("left", "right")
        norm = kind == "‖"
        if side == "open":
            self.stack.append(_Open(kind, paired, first, shown))
            return span("NORM_OPEN" if norm else "OPEN", kind, first, d)
        self.close(kind, paired, shown, first)
        return span("NORM_CLOSE" if norm else "CLOSE", kind, first, d)

    def side(self, kind: str, natural: str | None, sizing: str | None, shown: str,
             first: Token) -> str:
        """Whether a delimiter opens or closes; a bar closes the innermost open bar of its kind
        when an operand has just ended, else opens."""
        if sizing in ("left", "open"):
            side = "open"
        elif sizing in ("right", "close"):
            side = "close"
        else:
            side = natural or ""
        if sizing in ("left", "right") and natural is not None and natural != side:
            raise self.prog.error(ParseError, f"{shown} faces the wrong way: \\left takes an "
                                  "opening delimiter and \\right a closing one", first)
        if not side:
            ends = self.last in ENDS_OPERAND
            side = "close" if (self.stack and self.stack[-1].kind == kind and ends) else "open"
        return side

    def close(self, kind: str, paired: bool, shown: str, first: Token) -> None:
        """Close the innermost open delimiter, which must be of the same kind and pairing."""
        prog = self.prog
        if not self.stack:
            raise prog.error(ParseError, f"unmatched {shown}: there is no opening delimiter for "
                             "it to close", first)
        top = self.stack[-1]
        if top.kind != kind:
            raise prog.error(ParseError, f"{shown} does not match the {top.shown} at column "
                             f"{top.tok.column}", first)
        if top.paired and not paired:
            raise prog.error(ParseError, f"the {top.shown} at column {top.tok.column} must be "
                             f"closed by \\right{CLOSING_TEXT[kind]}, not {shown}", first)
        if paired and not top.paired:
            raise prog.error(ParseError, f"{shown} has no matching \\left (the {top.shown} at "
                             f"column {top.tok.column} it would close has none)", first)
        self.stack.pop()

    def braced(self, name: str, brace: Token) -> tuple[list[Token], Token]:
        """The tokens inside a font's braces, and the closing brace."""
        content: list[Token] = []
        depth = 1
        while True:
            c = self.buf.next()
            if c is None:
                raise self.prog.error(ParseError, f"missing '}}': the '{{' of \\{name} at column "
                                      f"{brace.column} is never closed", brace)
            if c.type == "LBRACE":
                depth += 1
            elif c.type == "RBRACE":
                depth -= 1
                if depth == 0:
                    return content, c
            content.append(c)

    def font(self, tok: Token, name: str) -> Token | None:
        """A font wrapper: a function word, a placeholder, or its content (pushed back)."""
        prog = self.prog
        nxt = self.buf.next()
        if nxt is None:
            raise prog.error(ParseError, f"\\{name} needs an argument, as in \\{name}{{x}}", tok)
        if nxt.type == "LBRACE":
            content, close = self.braced(name, nxt)
            text = prog.source[nxt.end_pos:close.start_pos]
        else:
            content, close, text = [nxt], nxt, prog.text_of(nxt)
        word = re.sub(r"\s+|\\[,;!: ]", "", text.replace("\\_", "_"))
        if not word:
            raise prog.error(ParseError, f"empty \\{name}{{}}", tok)
        if name in WORD_FONTS and len(word) > 1:
            function = self.function_word(tok, name, word)
            if function is not None:
                return span("FUNC", function, tok, close)
        if word in ("1", "0"):
            return span("ONES" if word == "1" else "ZEROS", word, tok, close)
        if nxt.type == "LBRACE" and not _simple(content):
            ident = text.replace("\\_", "_")
            if is_identifier(ident):  # \mathrm{W1}, \mathbf{x1}, \mathrm{x\_}: one name
                return span("WORD", ident, tok, close)
        if name == "mathbb" and word == "I" and "I" not in prog.symbols:
            after = self.buf.peek()  # \mathbb{I}[Z > 0], the indicator matcalc writes
            if after is not None and after.type == "LSQB":
                return span("ONES", word, tok, close)
        self.buf.push(self.content(name, content, nxt, close))
        return None

    def function_word(self, tok: Token, font: str, word: str) -> str | None:
        """The op a word in a font names (None: a name); an unknown \\operatorname is an error."""
        prog = self.prog
        op = prog.tables.words.get(word)
        if op is None and word in prog.tables.calls:  # \operatorname{where}(M, A, B)
            op = word
        declared = word in prog.symbols
        if op is not None and (font == "operatorname" or not declared):
            return op
        if font == "operatorname" and not declared:
            raise prog.error(UnknownNameError, f"unknown operator \\operatorname{{{word}}}"
                             + suggest(word, prog.tables.words), tok)
        return None

    def content(self, font: str, content: list[Token], brace: Token,
                close: Token) -> list[Token]:
        """What a font wrapper's content reads as: a name (a word in an upright font), a Greek
        letter, or a braced group."""
        simple = _simple(content)
        if simple and content[0].type == "NAME":
            if font in WORD_FONTS:
                return [retype("WORD", str(content[0]), content[0])] + content[1:]
            return content
        if simple and str(content[0])[1:] in GREEK_NAMES | {"sigma"}:
            return content
        if brace.type == "LBRACE":
            return [brace] + content + [close]  # read it as a braced group
        return content


def _simple(content: list[Token]) -> bool:
    """Whether a font's content is a name or a command, with at most a subscript."""
    return (len(content) in (1, 2) and content[0].type in ("NAME", "CMD")
            and (len(content) == 1 or content[1].type == "SUBSCRIPT"))


def _declared_digits(prog: LatexProgram, base: str, tok: Token, buf: Buffer) -> Token | None:
    """The digits right after tok (no space between) when base followed by them, with the
    subscript after them, is a declared name: taken from buf. Else None, and buf as it was."""
    nxt = buf.peek()
    if (nxt is None or nxt.type != "NUMBER" or not str(nxt).isdigit()
            or nxt.start_pos != tok.end_pos):
        return None
    buf.next()
    sub = buf.peek()
    if prog.exists(base + str(nxt), sub_text(sub) if sub is not None and sub.type == "SUBSCRIPT"
                   else None):
        return nxt
    buf.push([nxt])
    return None


def _with_digits(prog: LatexProgram, tok: Token, buf: Buffer) -> Token:
    """W1 or \\alpha1 as one name when it is declared (digits right after the letters), else
    tok as it is."""
    digits = _declared_digits(prog, str(tok.value), tok, buf)
    return tok if digits is None else span(tok.type, str(tok.value) + str(digits), tok, digits)


def merge(prog: LatexProgram, stream: Iterable[Token]) -> Iterator[Token]:
    """Stage 2: names split into letters, \\log\\det, indicators, sqrt roots, norm scripts."""
    buf = Buffer(stream)
    while (tok := buf.next()) is not None:
        t = tok.type
        if t in ("NAME", "GREEK"):
            joined = _with_digits(prog, tok, buf)
            if joined is not tok or t == "GREEK":
                yield joined
                continue
            nxt = buf.peek()
            yield from prog.split(tok, nxt if nxt is not None and nxt.type == "SUBSCRIPT" else None)
            continue
        if t == "WORD":
            yield retype("NAME", str(tok), tok)
            continue
        if t == "FUNC":
            nxt = buf.peek()
            composed = None if nxt is None or nxt.type != "FUNC" else COMPOSED.get(
                (str(tok.value), str(nxt.value)))
            if nxt is not None and composed is not None and composed in prog.tables.functions:
                buf.next()
                yield span("FUNC", composed, tok, nxt)
                continue
            if tok.value == "sqrt" and nxt is not None and nxt.type == "OPEN" and nxt.value == "[":
                raise prog.error(ParseError, r"\sqrt[n]{…} roots are not supported; use "
                                 r"\sqrt{…} or a power such as x^{1/3}", nxt)
        elif t == "ONES":
            nxt = buf.peek()
            if nxt is not None and nxt.type == "OPEN" and nxt.value == "[":
                tok = retype("INDICATOR", str(tok), tok)
        elif t == "NORM_CLOSE":
            yield from _norm_scripts(tok, buf)
            continue
        yield tok


def _norm_scripts(tok: Token, buf: Buffer) -> Iterator[Token]:
    """A closing norm bar with its scripts: \\|x\\|^2_2 reads as \\|x\\|_2^2."""
    nxt = buf.peek()
    if nxt is not None and nxt.type == "SUPERSCRIPT":
        sup = buf.next()
        after = buf.peek()
        if sup is not None and after is not None and after.type == "SUBSCRIPT":
            yield tok
            yield after
            buf.next()
            yield sup
            return
        if sup is not None:
            buf.push([sup])
    yield tok


class PostLexer(PostLex):
    """Reads LaTeX's commands into the grammar's tokens (see the module docstring)."""

    always_accept = RAW

    def __init__(self, current: Callable[[], LatexProgram]):
        self.current = current

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        """The grammar's tokens for the lexer's stream."""
        prog = self.current()
        return merge(prog, Classifier(prog, stream).tokens())
