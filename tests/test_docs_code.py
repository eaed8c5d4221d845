"""Every code block in the README and docs/ runs: Python blocks as they are, each on its own (a
line commented `# SomeError: …` must raise that error), shell blocks command by command in a
fresh folder (the set-up commands CI runs itself are skipped, as is the benchmark), TOML blocks
parse."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from optional import require

import matcalc as mc

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP = ("python3 -m venv", "pip install", "env -u", "python benchmarks/")


def _blocks(lang: str) -> list[tuple[str, str]]:
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for i, m in enumerate(re.finditer(rf"^```{lang}\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)):
            out.append((f"{doc.name}:{lang}{i + 1}", m.group(1)))
    return out


def _expecting_errors(source: str) -> str:
    """A line ending in `# NameError: …` (a matcalc error) must raise it: wrap it so."""
    lines = []
    for line in source.splitlines():
        m = re.match(r"^(\S.*?)\s+# (\w+Error): ", line)
        if m and hasattr(mc, m.group(2)):
            lines += ["try:", f"    {m.group(1)}", f"except mc.{m.group(2)}:",
                      "    pass", "else:", f"    raise AssertionError('expected {m.group(2)}')"]
        else:
            lines.append(line)
    return "\n".join(lines)


PYTHON = _blocks("python")


@pytest.mark.parametrize("name, source", PYTHON, ids=[n for n, _ in PYTHON])
def test_python_blocks_run(name, source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "backend=" in source and "import jax" in source:
        require("jax")
    for module in ("jax", "torch", "scipy"):  # the optional extras (docs/frameworks.md)
        if re.search(rf"^(import|from) {module}\b", source, flags=re.MULTILINE):
            require(module)
    code = compile(_expecting_errors(source), name, "exec")
    exec(code, {"__name__": "__main__"})  # noqa: S102 - the docs' own code, run as a reader would


def _commands(source: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", "", source)
    return [line.split(" #")[0].strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


SHELL = _blocks("sh")


@pytest.mark.parametrize("name, source", SHELL, ids=[n for n, _ in SHELL])
def test_shell_blocks_run(name, source, tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    ran = 0
    for command in _commands(source):
        # the set-up commands are CI's own (it runs the test command); the demo's last step,
        # matcalc demo, runs here
        if command.startswith(SKIP):
            command = command.split(" && ")[-1]
            if not command.startswith("matcalc "):
                continue
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        allowed = (0, 1) if command.startswith("matcalc compare") else (0,)
        assert done.returncode in allowed, (name, command, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, (name, command, done.stderr[-2000:])
        ran += 1
    assert ran or all(c.startswith(SKIP) for c in _commands(source)), name


@pytest.mark.parametrize("name, source", _blocks("toml"), ids=[n for n, _ in _blocks("toml")])
def test_toml_blocks_parse(name, source):
    config = tomllib.loads(source)
    passthrough = config["markup"]["goldmark"]["extensions"]["passthrough"]
    assert passthrough["enable"] is True
    assert ["$$", "$$"] in passthrough["delimiters"]["block"]
    assert ["\\(", "\\)"] in passthrough["delimiters"]["inline"]


def test_every_kind_of_block_is_run():
    kinds = {m for doc in DOCS for m in re.findall(r"^```(\w*)", doc.read_text(), flags=re.MULTILINE)}
    # ``text`` marks what is shown, not run (a transcript, a command with placeholders)
    assert kinds <= {"python", "sh", "toml", "text", ""}, kinds
