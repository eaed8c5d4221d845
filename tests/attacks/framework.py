"""How an attack case is written, run in a limited subprocess and judged.

A case is Python code (written here, never user text) that builds something from matcalc and
either leaves its answer in ``result`` or raises; or it is a command line. Its expectation says
precisely what must happen: a :class:`Raises` names a ``MatcalcError`` subclass and words of the
message, a :class:`Value` the number(s), an :class:`Equal` the exact answer, a :class:`Cli` the
exit code and what the output must (and must not) say. Anything else — another exception, a
``MemoryError``, a hang, a wrong value, or the canary file that an injected command would create —
means the case does not hold.

Cases of one class share an interpreter (a batch) unless they are marked ``isolated`` (threads,
global limits, the op registry, command lines): each case of a batch prints one JSON line when it
ends, so when a batch is killed (time or memory) the parent knows which case was running, records
it, and starts a new interpreter for the rest.
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
MEMORY_LIMIT = 3 * 2**30  # address space of every case's interpreter (torch alone maps ~0.7 GiB)
TIMEOUT = 30.0  # seconds a case may take before it counts as a hang
CANARY_ENV = "MATCALC_ATTACK_CANARY"


# --- expectations ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Raises:
    """A MatcalcError subclass (by name, from matcalc.errors) whose message has every word."""

    error: str
    words: tuple[str, ...] = ()

    def __init__(self, error: str, *words: str) -> None:
        object.__setattr__(self, "error", error)
        object.__setattr__(self, "words", words)

    def describe(self) -> str:
        return f"{self.error} mentioning {', '.join(map(repr, self.words)) or '(anything)'}"


@dataclass(frozen=True)
class Value:
    """A number or array equal to ``value`` within rtol/atol (NaN matches NaN)."""

    value: Any
    rtol: float = 1e-9
    atol: float = 0.0

    def describe(self) -> str:
        return f"the value {self.value!r}"


@dataclass(frozen=True)
class Equal:
    """Exactly ``value`` (a string, a bool, an int, a tuple)."""

    value: Any

    def describe(self) -> str:
        return f"exactly {self.value!r}"


@dataclass(frozen=True)
class Cli:
    """The command's exit code, words its stderr (``err``) and stdout (``out``) must contain, and
    words stdout may not contain (a traceback may appear in neither); an ``error:`` line is
    required whenever the exit code is 2."""

    code: int = 2
    err: tuple[str, ...] = ()
    out: tuple[str, ...] = ()
    absent: tuple[str, ...] = ("Traceback",)
    files: tuple[str, ...] = ()  # files that must exist afterwards ({TMP} filled in)

    def describe(self) -> str:
        return f"exit {self.code}, stderr with {self.err!r}, stdout with {self.out!r}"


Expect = Raises | Value | Equal | Cli


@dataclass(frozen=True)
class Case:
    """One attack. ``code`` runs in a fresh namespace with ``mc`` (matcalc), ``np``, ``CANARY``
    (the canary path) and ``TMP`` (a private folder) defined; for command lines, ``argv`` holds
    the arguments of ``python -m matcalc`` ({TMP} and {CANARY} are filled in) and ``stdout`` is
    "pipe", "closed" or "devfull"."""

    id: str
    cls: str
    expect: Expect
    code: str = ""
    argv: tuple[str, ...] = ()
    isolated: bool = False
    timeout: float = TIMEOUT
    env: tuple[tuple[str, str], ...] = ()
    stdout: str = "pipe"
    stdin: str = ""


@dataclass
class Outcome:
    """What happened to one case: ``holds`` and, if not, ``detail``."""

    id: str
    holds: bool
    detail: str
    seconds: float = 0.0


@dataclass
class Run:
    """A run of many cases: outcomes by id, interpreters started, seconds."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    subprocesses: int = 0
    seconds: float = 0.0


# --- judging, inside the child -------------------------------------------------------------------

def _close(value: Any, expected: Any, rtol: float, atol: float) -> bool:
    import numpy as np

    try:
        got = np.asarray(value, dtype=float)
        want = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return False
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol,
                                                        equal_nan=True))


def judge_exception(exc: BaseException, expect: Expect) -> tuple[bool, str]:
    """Does a raised exception meet the expectation?"""
    from matcalc import errors

    name = f"{type(exc).__name__}: {str(exc)[:300]}"
    if not isinstance(exc, errors.MatcalcError):
        return False, f"escaped {name}"
    if not isinstance(expect, Raises):
        return False, f"raised {name}, expected {expect.describe()}"
    wanted = getattr(errors, expect.error, None)
    if wanted is None:
        import matcalc

        wanted = getattr(matcalc, expect.error)
    if not isinstance(exc, wanted):
        return False, f"raised {name}, expected {expect.describe()}"
    missing = [w for w in expect.words if w.lower() not in str(exc).lower()]
    if missing:
        return False, f"raised {name}; the message lacks {missing}"
    return True, name


def judge_result(result: Any, expect: Expect) -> tuple[bool, str]:
    """Does a returned result meet the expectation?"""
    shown = repr(result)[:300]
    if isinstance(expect, Value):
        ok = _close(result, expect.value, expect.rtol, expect.atol)
        return ok, shown if ok else f"returned {shown}, expected {expect.describe()}"
    if isinstance(expect, Equal):
        ok = type(result) is type(expect.value) and result == expect.value
        return ok, shown if ok else f"returned {shown}, expected {expect.describe()}"
    return False, f"returned {shown}, expected {expect.describe()}"


def run_code(case: Case, canary: Path, tmp: Path) -> tuple[bool, str]:
    """Run one code case in this interpreter and judge it."""
    import numpy as np

    import matcalc as mc

    namespace: dict[str, Any] = {"mc": mc, "np": np, "CANARY": str(canary), "TMP": str(tmp)}
    try:
        # the suite's own code, written in tests/attacks (never text from outside)
        exec(compile(case.code, f"<case {case.id}>", "exec"), namespace)  # noqa: S102
    except MemoryError:
        return False, "MemoryError"
    except RecursionError:
        return False, "escaped RecursionError"
    except Exception as exc:  # noqa: BLE001 - judged: only the expected MatcalcError holds
        ok, detail = judge_exception(exc, case.expect)
        if not ok and not detail.startswith("raised"):
            detail += " | " + "".join(traceback.format_exception(exc)[-3:]).strip()[-400:]
        return ok, detail
    if "result" not in namespace:
        return False, "the case left no result"
    return judge_result(namespace["result"], case.expect)


def child_main(batch: str) -> None:
    """Run the cases pickled in the file ``batch`` one after another, one JSON line each (the
    child's entry point)."""
    limit_memory()
    with open(batch, "rb") as f:
        cases: list[Case] = pickle.load(f)  # written by run_batch, in this run
    canary = Path(os.environ[CANARY_ENV])
    for case in cases:
        case_id = case.id
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            ok, detail = run_code(case, canary, Path(tmp))
        if canary.exists():
            ok, detail = False, f"code executed: the canary file was created ({detail})"
            canary.unlink()
        line = {"id": case_id, "holds": ok, "detail": detail,
                "seconds": round(time.perf_counter() - start, 3)}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


# --- running, in the parent ----------------------------------------------------------------------

def limit_memory() -> None:
    """Cap this interpreter's address space (the first thing a child does)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# The children limit themselves before importing anything (preexec_fn is unsafe with threads).
_BATCH = "import sys; from attacks.framework import child_main; child_main(sys.argv[1])"
_COMMAND = ("import os, runpy, sys; from attacks.framework import limit_memory; limit_memory()\n"
            "if os.environ.pop('MATCALC_ATTACK_CLOSE_STDOUT', ''):\n"
            "    sys.stdout = None; os.close(1)\n"
            "sys.argv[0] = 'matcalc'; runpy.run_module('matcalc', run_name='__main__')")


def _environment(canary: Path, extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(TESTS)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env.update({"PYTHONPATH": os.pathsep.join(paths), CANARY_ENV: str(canary),
                "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONHASHSEED": "0"})
    env.pop("PYTHONIOENCODING", None)
    env.update(dict(extra))
    return env


def _read_lines(stream: Any, out: queue.Queue[str | None]) -> None:
    for line in stream:
        out.put(line)
    out.put(None)


def run_batch(cases: Sequence[Case], canary_dir: Path) -> tuple[list[Outcome], int]:
    """Run code cases in as few interpreters as it takes: a killed interpreter blames the case it
    was running and the next interpreter takes the rest. Returns outcomes and interpreters used."""
    outcomes: list[Outcome] = []
    pending = list(cases)
    started = 0
    canary = canary_dir / f"canary-{cases[0].id}"
    while pending:
        started += 1
        batch = canary_dir / f"batch-{pending[0].id}.pickle"
        with open(batch, "wb") as f:
            pickle.dump(pending, f)
        proc = subprocess.Popen(
            [sys.executable, "-c", _BATCH, str(batch)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=canary_dir,
            env=_environment(canary, cases[0].env))
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
        errors: list[str] = []
        threading.Thread(target=errors.extend, args=(proc.stderr,), daemon=True).start()
        start = time.perf_counter()
        while pending:
            try:
                line = lines.get(timeout=pending[0].timeout)
            except queue.Empty:
                proc.kill()
                hung = pending.pop(0)
                outcomes.append(Outcome(hung.id, False,
                                        f"hang: no answer within {hung.timeout:.0f} s",
                                        time.perf_counter() - start))
                break
            if line is None:  # the interpreter died (memory limit, crash)
                proc.wait()
                tail = "".join(errors)[-300:].strip().replace("\n", " | ")
                outcomes.append(Outcome(pending.pop(0).id, False,
                                        f"interpreter died (exit {proc.returncode}): {tail}",
                                        time.perf_counter() - start))
                break
            if not line.startswith("{"):
                continue
            data = json.loads(line)
            assert data["id"] == pending[0].id, (data["id"], pending[0].id)
            pending.pop(0)
            outcomes.append(Outcome(data["id"], data["holds"], data["detail"], data["seconds"]))
            start = time.perf_counter()
        proc.wait()
        if canary.exists():  # written after the case's own check: blame the last case
            outcomes[-1] = Outcome(outcomes[-1].id, False, "code executed: canary created")
            canary.unlink()
    return outcomes, started


def _fill(text: str, fill: dict[str, str]) -> str:
    for key, value in fill.items():
        text = text.replace(key, value)
    return text


def _cli_stdout(how: str) -> tuple[Any, bool]:
    if how == "devfull":
        return open("/dev/full", "w"), False  # closed after the run
    if how == "closed":
        return subprocess.DEVNULL, True
    return subprocess.PIPE, False


def run_cli(case: Case, canary_dir: Path) -> Outcome:
    """Run one command-line case, ``python -m matcalc ARGV``, in a fresh limited interpreter."""
    assert isinstance(case.expect, Cli)
    expect = case.expect
    canary = canary_dir / f"canary-{case.id}"
    with tempfile.TemporaryDirectory(dir=canary_dir) as tmp:
        fill = {"{TMP}": tmp, "{CANARY}": str(canary)}
        argv = [_fill(a, fill) for a in case.argv]
        stdout, closed = _cli_stdout(case.stdout)
        env = _environment(canary, case.env)
        if closed:
            env["MATCALC_ATTACK_CLOSE_STDOUT"] = "1"
        start = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-c", _COMMAND, *argv], input=case.stdin,
                                  stdout=stdout, stderr=subprocess.PIPE, text=True, cwd=tmp,
                                  env=env, timeout=case.timeout, check=False)
        except subprocess.TimeoutExpired:
            return Outcome(case.id, False, "hang: killed after the time limit", case.timeout)
        except OSError as exc:  # the case itself cannot be started: say so, run the others
            return Outcome(case.id, False, f"cannot start the command: {exc}")
        finally:
            if stdout not in (subprocess.PIPE, subprocess.DEVNULL):
                stdout.close()
        seconds = time.perf_counter() - start
        missing = [f for f in expect.files if not Path(_fill(f, fill)).is_file()]
    out, err = proc.stdout or "", proc.stderr or ""
    problems = [f"no file {f}" for f in missing]
    if canary.exists():
        canary.unlink()
        problems.append("code executed: the canary file was created")
    if proc.returncode != expect.code:
        problems.append(f"exit {proc.returncode}, expected {expect.code}")
    if expect.code == 2 and not any(line.startswith("error:") for line in err.splitlines()):
        problems.append("no 'error:' line")
    problems += [f"stderr lacks {w!r}" for w in expect.err if w.lower() not in err.lower()]
    problems += [f"stdout lacks {w!r}" for w in expect.out if w not in out]
    problems += [f"output has {w!r}" for w in expect.absent if w in out]
    problems += ["a traceback" for _ in [1] if "Traceback" in out + err]
    detail = "; ".join(problems) + f" | stderr: {err.strip()[-300:]!r}" if problems else \
        err.strip()[-200:]
    return Outcome(case.id, not problems, detail, seconds)


def run_cases(cases: Sequence[Case], workers: int = 2) -> Run:
    """Run every case: shared interpreters per class, fresh ones for isolated and CLI cases."""
    start = time.perf_counter()
    run = Run()
    jobs: list[list[Case]] = []
    batches: dict[str, list[Case]] = {}
    for case in cases:
        if case.argv or case.isolated:
            jobs.append([case])
        else:
            batches.setdefault(case.cls, []).append(case)
    # big batches first, so that two workers finish together
    jobs += sorted(batches.values(), key=len, reverse=True)
    jobs.sort(key=len, reverse=True)
    with tempfile.TemporaryDirectory(prefix="matcalc-attacks-") as tmp:
        canary_dir = Path(tmp)

        def one(job: list[Case]) -> tuple[list[Outcome], int]:
            if job[0].argv:
                return [run_cli(job[0], canary_dir)], 1
            return run_batch(job, canary_dir)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for outcomes, started in pool.map(one, jobs):
                run.subprocesses += started
                for o in outcomes:
                    run.outcomes[o.id] = o
    run.seconds = time.perf_counter() - start
    return run
