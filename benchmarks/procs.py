"""Child processes of a benchmark run, and what ``/proc`` says about them.

Every child starts in a session of its own, so Ctrl-C in the terminal reaches only the
parent, which then stops the children in order (load generator, server, fake LLM) and
waits for each. On Linux a child also asks the kernel for SIGTERM should the parent die
without cleaning up (``PR_SET_PDEATHSIG``), so no run leaves a server behind. A child's
output goes to a log file in the run's work directory; the load generator's stdout stays a
pipe, for its window lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
_PR_SET_PDEATHSIG = 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


class ChildFailed(RuntimeError):
    """A child process exited early or never became ready."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class ProcSample:
    """CPU seconds used so far (user + system) and resident memory of one process."""

    cpu_s: float
    rss_bytes: int


def sample(pid: int) -> ProcSample | None:
    """Read ``/proc/<pid>``; ``None`` when the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may contain spaces: split after its closing parenthesis.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return ProcSample((utime + stime) / _CLOCK_TICKS, int(statm.split()[1]) * _PAGE_BYTES)


def _child_setup(parent: int) -> None:
    """Runs in the child between fork and exec: die with the parent."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class Child:
    """One child process with its log file."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.proc = proc
        self.log_path = log_path

    @classmethod
    async def start(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_dir: Path,
        stdout_pipe: bool = False,
    ) -> Child:
        log_path = log_dir / f"{name}.log"
        parent = os.getpid()
        with log_path.open("ab") as log:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                cwd=REPO,
                env=dict(env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE if stdout_pipe else log,
                stderr=log,
                start_new_session=True,
                preexec_fn=(lambda: _child_setup(parent)) if sys.platform == "linux" else None,
            )
        return cls(name, proc, log_path)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    def sample(self) -> ProcSample | None:
        return sample(self.pid) if self.running else None

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout_s: float = 20.0) -> int:
        """Signal the child, wait up to ``timeout_s``, then kill it. Returns its exit code."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)
            try:
                async with asyncio.timeout(timeout_s):
                    await self.proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        code = self.proc.returncode
        assert code is not None
        return code

    def tail(self, lines: int = 30) -> str:
        """The end of the child's log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


async def wait_http(child: Child, url: str, timeout_s: float) -> None:
    """Poll ``url`` until it answers 200; raise :class:`ChildFailed` if the child exits or
    the time runs out."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if not child.running:
                raise ChildFailed(
                    f"{child.name} exited with {child.proc.returncode}:\n{child.tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                response = await client.get(url)
                if response.status_code == 200:
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise ChildFailed(f"{child.name} not ready after {timeout_s:.0f}s:\n{child.tail()}")
            await asyncio.sleep(0.2)
