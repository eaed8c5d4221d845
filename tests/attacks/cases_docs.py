"""Documents: titles and figure paths are data, never markup — front matter stays the keys it
should be, LaTeX and HTML in a title are escaped, a figure path is validated and URL-encoded."""

from __future__ import annotations

from .framework import Case, Equal, Raises

CLS = "documents"

_DOC = "doc = mc.explain('f = x * y', shapes={{'x': (1, 1), 'y': (1, 1)}}{extra})\n"

_FRONT = _DOC + """import yaml
lines = doc.split('\\n')
end = lines.index('---', 1)  # front matter ends at the first line that is exactly ---
assert lines[0] == '---'
meta = yaml.safe_load('\\n'.join(lines[1:end]))
result = (sorted(meta), meta['title'] == {title!r})
"""
KEYS = ["categories", "date", "math", "tags", "title"]

TITLES = {
    "quote": 'say "hi"',
    "single-quote": "it's",
    "newline-key": "T\nevil: true",
    "newline-script": "T\n<script>alert(1)</script>",
    "dashes": "T\n---\nlayout: evil",
    "colon": "a: b",
    "hash": "# not a comment",
    "braces": "{{ site.secret }}",
    "yaml-tag": "!!python/object/apply:os.system ['id']",
    "anchor": "&a [*a, *a]",
    "unicode": "∂L/∂W — 그래디언트",
}

_BAD_GOOD = _DOC + "result = ({bad!r} in doc, {good!r} in doc)\n"  # (raw text there, text there)

LATEX_TITLES = [  # (id, title, raw text that must not appear, text that must)
    ("input", r"\input{/etc/passwd}", r"\input{", r"\textbackslash{}input"),
    ("write18", r"\immediate\write18{id}", r"\write18{", r"\textbackslash{}write18"),
    ("percent", "100% sure", "100% sure", r"100\% sure"),
    ("brace", "a } b", "{a } b}", r"a \} b"),
    ("underscore", "W_hh", "{W_hh}", r"W\_hh"),
    ("newline", "a\n\\section{x}", "\n\\section{x}", "a"),
]


ONE_LINE = Raises("InputError", "one line")  # a title, category or tag is one line of text


def cases() -> list[Case]:
    out = [Case(f"docs-front-matter-{k}", CLS, ONE_LINE if "\n" in v else Equal((KEYS, True)),
                _FRONT.format(extra=f", front_matter=True, title={v!r}", title=v))
           for k, v in TITLES.items()]
    out += [Case(f"docs-latex-title-{k}", CLS, ONE_LINE if "\n" in t else Equal((False, True)),
                 _BAD_GOOD.format(extra=f", fmt='latex', title={t!r}", bad=bad, good=good))
            for k, t, bad, good in LATEX_TITLES]
    out += [
        Case("docs-markdown-title-script", CLS, Equal((False, True)), _BAD_GOOD.format(
            extra=", title='<script>alert(1)</script>'", bad="<script>", good="alert(1)")),
        Case("docs-markdown-title-newline", CLS, ONE_LINE, _BAD_GOOD.format(
            extra=", title='T\\n<img src=x onerror=alert(1)>'", bad="<img",
            good="onerror")),
        Case("docs-figure-spaces", CLS, Equal((False, True)), _BAD_GOOD.format(
            extra=", figure='my figure.svg'", bad="](my figure.svg)", good="my%20figure.svg")),
        Case("docs-figure-html", CLS, Equal((False, True)), _BAD_GOOD.format(
            extra=", figure='a<img src=x onerror=alert(1)>.svg'", bad="<img",
            good="%3Cimg")),
        Case("docs-figure-parenthesis", CLS, Equal((False, True)), _BAD_GOOD.format(
            extra=", figure='a).svg'", bad="](a).svg)", good="a%29.svg")),
        Case("docs-figure-newline", CLS, Raises("MatcalcError", "figure"),
             _DOC.format(extra=", figure='a\\n![x](javascript:alert(1)).svg'") + "result = doc"),
        Case("docs-figure-newline-latex", CLS, Raises("MatcalcError", "figure"),
             _DOC.format(extra=", fmt='latex', figure='a\\n\\\\immediate\\\\write18{id}.png'")
             + "result = doc"),
        # a figure path that reads as a URL scheme is linked relatively (./javascript:…)
        Case("docs-figure-javascript-url", CLS, Equal(False),
             _DOC.format(extra=", figure='javascript:alert(1)'")
             + "result = '](javascript' in doc.lower() or '](./' not in doc"),
        Case("docs-figure-latex-braces", CLS, Equal(False),
             _DOC.format(extra=", fmt='latex', figure='a}\\\\input{/etc/passwd}.png'")
             + "result = any('\\\\input{' in line.split('%')[0] for line in doc.splitlines())"),
        Case("docs-front-matter-categories", CLS, ONE_LINE, _FRONT.format(
            extra=", front_matter={'categories': ['a\\nevil: 1'], 'title': 'T'}, title='T'",
            title="T")),
    ]
    return out
