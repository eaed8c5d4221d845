"""Worker processes that compute the playground's requests, each stoppable at the time limit.

A derivation can take long (a deep program's derivation grows with its depth), and a thread
cannot be stopped, so every request runs in one of a few long-lived processes. The server waits for
the answer up to the time limit; past it, the worker is killed and a fresh one takes its place, and
the request is answered with a TimeLimitError. Workers are forked from a server process that has
already imported matcalc (multiprocessing's "forkserver"), so a replacement is ready in a moment
and never inherits the web server's threads. Each worker may also be capped in memory.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import resource
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from typing import Any

import anyio.to_thread

from matcalc.errors import (
    InternalError,
    MatcalcError,
    RequestError,
    TimeLimitError,
    WorkerError,
)

log = logging.getLogger("matcalc.web")

Answer = tuple[int, dict[str, Any]]  # HTTP status and JSON body
_READY = "ready"
_START_TIMEOUT = 120.0  # seconds for a new worker to import matcalc and answer


@dataclass(frozen=True)
class Limits:
    """How long one computation may run, how much memory a worker may take, how many wait."""

    time_limit: float = 10.0  # seconds per request, in the worker
    memory_limit: int = 2048  # MiB of address space a worker may add to its start (0: no limit)
    workers: int = 2
    max_waiting: int = 32  # requests waiting for a free worker; more are answered 503


def run_task(name: str, req: dict[str, Any]) -> Answer:
    """Compute one request; every outcome is an answer, never an exception."""
    from .compute import Failure, error_payload
    from .tasks import TASKS

    try:
        return 200, TASKS[name](req)
    except Failure as f:
        return f.status, {"error": f.error, **f.extra}
    except MatcalcError as exc:
        return (500 if isinstance(exc, InternalError) else 422), {"error": error_payload(exc)}
    except RecursionError:
        return 422, {"error": {"type": "InputError", "field": "program",
                               "message": "the program is nested too deeply"}}
    except MemoryError:
        return 422, {"error": {"type": "InputError", "field": None,
                               "message": "the computation ran out of memory; try smaller sizes "
                                          "or a smaller program"}}
    except Exception as exc:  # a bug: the log gets the traceback, the user a clean answer
        log.exception("internal error in %s", name)
        return 500, {"error": {"type": "InternalError", "field": None,
                               "message": f"internal error ({type(exc).__name__}); the server's "
                                          f"log has the details"}}


def _worker_main(conn: Connection, memory_limit_mib: int) -> None:
    """A worker's loop: answer requests from the pipe until it closes."""
    os.setsid()  # its own process group: stopping it stops the programs it runs (Graphviz's dot)
    if memory_limit_mib:
        # on top of what the worker has already mapped (NumPy's BLAS threads reserve much
        # address space on a machine with many cores)
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * resource.getpagesize()
        limit = mapped + memory_limit_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import matcalc as mc

    mc.parse_program("L = sum(x)", {"x": ("n", 1)})  # builds the grammar's tables once
    conn.send(_READY)
    while True:
        try:
            name, req = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(run_task(name, req))


class Worker:
    """One worker process and the pipe to it."""

    def __init__(self, ctx: ForkServerContext, memory_limit_mib: int):
        self.ctx, self.memory_limit_mib = ctx, memory_limit_mib
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        parent, child = self.ctx.Pipe()
        self.process = self.ctx.Process(target=_worker_main, args=(child, self.memory_limit_mib),
                                        daemon=True, name="matcalc-web-worker")
        self.process.start()
        child.close()
        self.conn = parent
        if not parent.poll(_START_TIMEOUT) or parent.recv() != _READY:
            self.stop()
            raise WorkerError("a worker process did not start")

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def call(self, name: str, req: dict[str, Any], time_limit: float) -> Answer:
        """Send a request and wait for its answer, at most time_limit seconds."""
        try:
            self.conn.send((name, req))
            if self.conn.poll(time_limit):
                answer: Answer = self.conn.recv()
                return answer
        except (EOFError, OSError):
            self.restart()
            raise WorkerError("the worker computing this request stopped (it may have run out "
                              "of memory); it has been replaced") from None
        self.restart()
        raise TimeLimitError(f"the computation took longer than the time limit of {time_limit:g} "
                             f"s and was stopped (matcalc serve --time-limit sets it)")

    def restart(self) -> None:
        self.stop()
        self.restarts += 1
        self._start()

    def stop(self) -> None:
        if self.process.pid is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # it has already stopped
        self.process.kill()
        self.process.join()
        self.conn.close()


class WorkerPool:
    """A fixed number of workers; a request waits for a free one, then runs under the limits."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.workers: list[Worker] = []
        self._idle: asyncio.Queue[Worker] | None = None
        self._waiting = 0

    def start(self) -> None:
        """Start the workers (blocking: the first one imports matcalc in the fork server)."""
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["matcalc.web.tasks"])
        self.workers = [Worker(ctx, self.limits.memory_limit) for _ in range(self.limits.workers)]

    async def open(self) -> None:
        """Start the workers from the event loop, without blocking it."""
        await anyio.to_thread.run_sync(self.start)
        self._idle = asyncio.Queue()
        for w in self.workers:
            self._idle.put_nowait(w)

    async def run(self, name: str, req: dict[str, Any]) -> Answer:
        """The answer to one request, computed by the next free worker."""
        if self._idle is None:
            raise WorkerError("the workers are not running")
        if self._waiting >= self.limits.max_waiting:
            raise RequestError(f"the server is busy ({self._waiting} requests are waiting); try "
                               f"again in a moment", status=503)
        self._waiting += 1
        try:
            worker = await self._idle.get()
        finally:
            self._waiting -= 1
        try:
            return await anyio.to_thread.run_sync(worker.call, name, req, self.limits.time_limit)
        finally:
            self._idle.put_nowait(worker)

    def close(self) -> None:
        for w in self.workers:
            w.stop()

    def status(self) -> dict[str, Any]:
        busy = len(self.workers) - (self._idle.qsize() if self._idle is not None else 0)
        return {"workers": len(self.workers), "busy": busy, "waiting": self._waiting,
                "restarts": sum(w.restarts for w in self.workers),
                "pids": [w.pid for w in self.workers]}
