"""Progress of long steps: a live bar on a terminal, log lines everywhere else.

Library code marks its long steps with nested tasks and advances them; the command line
chooses how they are shown. Only the standard library is imported here, so the command
line can say what it does before the heavy imports.

Every task also goes to the :mod:`logging` logger ``sigint.progress`` (level INFO): a line
when a task starts, a line when a long one ends, and a heartbeat at least every
``interval`` seconds while work runs, naming the step, how far it is and the expected time
left. Without a handler these records go nowhere; ``sigint`` on the command line attaches
one on stderr when stderr is not a terminal, and draws a bar when it is.

Examples
--------
>>> from sigint import progress
>>> with progress.task("solving", total=3) as t:
...     for _ in range(3):
...         t.advance()
>>> t.done, t.total
(3, 3)
>>> [k for k in progress.track(range(4), "frequencies")]
[0, 1, 2, 3]
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TypeVar

__all__ = ["Task", "task", "begin", "end", "track", "advance", "stage", "configure", "clear",
           "current", "logger"]

logger = logging.getLogger("sigint.progress")

T = TypeVar("T")

#: Heartbeat of the log lines, s (the issue asks for at least one line every 10 s).
LOG_INTERVAL = 5.0
#: Redraw period of the terminal bar, s.
BAR_REFRESH = 0.25
#: Tasks this deep or shallower get a log line when they start.
LOG_DEPTH = 3
#: A task that ran at least this long gets a log line when it ends, s.
LOG_END_AFTER = 2.0
#: Log lines start this long after the outermost task (well within the 2 s promised), so
#: that a run refused at once for bad input prints its one-sentence error alone, s.
FIRST_LINE_AFTER = 0.8


class Task:
    """One step of work: a description, optionally a total, and how much of it is done.

    Parameters
    ----------
    desc : str
        What runs, in a few words ("extracting bus16.yaml").
    total : int, optional
        Number of units of work, when known; without it the task reports elapsed time only.
    eta : bool
        Whether the units take similar times, so that the time left can be extrapolated
        from the time per unit so far (False for, e.g., a channel's unequal segments).
    """

    def __init__(self, desc: str, total: int | None = None, eta: bool = True) -> None:
        self.desc = desc
        self.total = total
        self.show_eta = eta
        self.done = 0
        self.stage = ""
        self.t0 = time.monotonic()

    def advance(self, n: int = 1) -> None:
        """Mark *n* more units done."""
        self.done += n

    def set_stage(self, text: str) -> None:
        """Name the sub-step that runs now (shown after the description)."""
        self.stage = text

    @property
    def elapsed(self) -> float:
        """Seconds since the task started."""
        return time.monotonic() - self.t0

    @property
    def fraction(self) -> float | None:
        """Fraction done in [0, 1], or None without a total."""
        if not self.total:
            return None
        return min(1.0, self.done / self.total)

    @property
    def eta(self) -> float | None:
        """Expected seconds left, from the mean time per unit so far; None until known."""
        if not self.total or self.done <= 0 or not self.show_eta:
            return None
        return self.elapsed / self.done * max(0, self.total - self.done)

    def label(self) -> str:
        """Description, counter and stage: ``"filaments 3/12: eigenvalues"``."""
        s = self.desc
        if self.total:
            s += f" {min(self.done, self.total)}/{self.total}"
        if self.stage:
            s += f": {self.stage}"
        return s

    def __repr__(self) -> str:
        return f"Task({self.label()!r}, {self.elapsed:.1f} s)"


def _fmt_s(s: float) -> str:
    if s < 60:
        return f"{s:.0f} s"
    m, s = divmod(int(round(s)), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


class _Display:
    """The stack of running tasks and the thread that reports them."""

    def __init__(self) -> None:
        self.mode = "off"                   # off | bar | log (log: records only)
        self.stream: IO[str] = sys.stderr
        self.interval = LOG_INTERVAL
        self.stack: list[Task] = []
        self.lock = threading.RLock()
        self.t_start: float | None = None
        self.last_log = 0.0
        self.quiet_until = 0.0
        self.drawn = False
        self.thread: threading.Thread | None = None
        self.wake = threading.Event()

    # ------------------------------------------------------------------ text
    def line(self, width: int | None = None) -> str:
        """The report: clock, the path of running tasks, and how far the innermost is.

        With *width*, the path is shortened from the left so the innermost step, the
        fraction done and the time left always show.
        """
        with self.lock:
            stack = list(self.stack)
        if not stack:
            return ""
        path = " > ".join(t.label() for t in stack)
        tail = []
        last = stack[-1]
        # how long the innermost step has run, where its counter does not show progress
        # (the clock alone says it for a single task)
        if (not last.total or last.done == 0) and last.elapsed >= 2.0 and len(stack) > 1:
            tail.append(f"running {_fmt_s(last.elapsed)}")
        inner = next((t for t in reversed(stack) if t.total), None)
        if inner is not None and inner.done > 0:
            tail.append(f"{inner.fraction * 100:.0f} %")
            if inner.eta is not None:
                tail.append(f"ETA {_fmt_s(inner.eta)}")
        tail_s = f" ({', '.join(tail)})" if tail else ""
        head = f"[{self.clock():7.1f} s] "
        if width is not None:
            room = max(10, width - len(head) - len(tail_s))
            if len(path) > room:
                path = "..." + path[len(path) - room + 3:]
        return f"{head}{path}{tail_s}"

    def clock(self) -> float:
        return 0.0 if self.t_start is None else time.monotonic() - self.t_start

    # ------------------------------------------------------------------ output
    def log(self, msg: str | None = None) -> None:
        if time.monotonic() < self.quiet_until:
            return
        text = msg if msg is not None else self.line()
        if text:
            self.last_log = time.monotonic()
            if self.mode == "bar":
                # a handler on stderr would break the bar: records go to other handlers only
                self.clear()
            logger.info(text)
            if self.mode == "bar":
                self.draw()

    def draw(self) -> None:
        if self.mode != "bar":
            return
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            width = 100
        if width < 40:             # an unset pseudo-terminal reports 0 columns
            width = 100
        with self.lock:
            inner = next((t for t in reversed(self.stack) if t.total), None)
        bar = ""
        if inner is not None and inner.fraction is not None:
            n = 20
            k = int(round(inner.fraction * n))
            bar = "[" + "#" * k + "-" * (n - k) + "] "
        text = self.line(width - 1 - len(bar))
        if not text:
            return
        text = (bar + text)[: width - 1]
        try:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
            self.drawn = True
        except (OSError, ValueError):
            pass

    def clear(self) -> None:
        if self.drawn:
            try:
                self.stream.write("\r\033[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self.drawn = False

    # ------------------------------------------------------------------ thread
    def active(self) -> bool:
        return self.mode != "off" or (logger.isEnabledFor(logging.INFO) and logger.hasHandlers()
                                      and logger.getEffectiveLevel() <= logging.INFO)

    def ensure_thread(self) -> None:
        if self.thread is not None and self.thread.is_alive() and not self.wake.is_set():
            return
        self.wake = threading.Event()          # each thread has its own stop signal
        self.thread = threading.Thread(target=self.run, args=(self.wake,),
                                       name="sigint-progress", daemon=True)
        self.thread.start()

    def run(self, stop: threading.Event) -> None:
        while True:
            period = BAR_REFRESH if self.mode == "bar" else min(0.2, self.interval / 4)
            if stop.wait(period):
                return
            with self.lock:
                if not self.stack:
                    return
            now = time.monotonic()
            if now >= self.quiet_until and now - self.last_log >= self.interval:
                self.log()
            elif self.mode == "bar":
                self.draw()

    # ------------------------------------------------------------------ tasks
    def push(self, t: Task) -> None:
        with self.lock:
            if not self.stack:
                self.t_start = time.monotonic() if self.t_start is None else self.t_start
                self.quiet_until = self.t_start + FIRST_LINE_AFTER
                self.last_log = 0.0
            else:
                self.stack[-1].stage = ""     # the sub-task says what runs now
            self.stack.append(t)
            depth = len(self.stack)
        if not self.active():
            return
        if depth <= LOG_DEPTH:
            self.log()
        self.draw()
        self.ensure_thread()

    def pop(self, t: Task, ok: bool) -> None:
        with self.lock:
            if t not in self.stack:
                return
            k = self.stack.index(t)
            depth = k + 1
            label = " > ".join(x.desc for x in self.stack[:depth])
            del self.stack[k:]           # tasks left open inside it (an exception) end too
            empty = not self.stack
        if self.active() and ok and self.last_log > 0 and (
                depth == 1 or (depth <= LOG_DEPTH and t.elapsed >= LOG_END_AFTER)):
            self.log(f"[{self.clock():7.1f} s] {label}: done in {_fmt_s(t.elapsed)}")
        if empty:
            self.wake.set()
            self.clear()
            self.t_start = None
        else:
            self.draw()


_display = _Display()


def configure(mode: str = "auto", *, stream: IO[str] | None = None,
              interval: float = LOG_INTERVAL) -> str:
    """Choose how progress is shown; returns the mode chosen.

    Parameters
    ----------
    mode : {'auto', 'bar', 'log', 'off'}
        ``bar``: a live line on *stream* (a terminal); ``log``: lines through the logger
        ``sigint.progress`` on *stream*, one at least every *interval* seconds; ``auto``:
        ``bar`` when *stream* is a terminal, else ``log``; ``off``: nothing (records still
        go to handlers the caller attached to the logger).
    stream : file, optional
        Where to write (default: ``sys.stderr``).
    interval : float
        Seconds between heartbeat lines, at most 10 to keep logs alive.
    """
    d = _display
    d.stream = stream or sys.stderr
    d.interval = float(interval)
    if mode == "auto":
        try:
            mode = "bar" if d.stream.isatty() else "log"
        except (AttributeError, ValueError):
            mode = "log"
    if mode not in ("bar", "log", "off"):
        raise ValueError(f"progress mode {mode!r}: choose auto, bar, log or off")
    for h in list(logger.handlers):
        if getattr(h, "_sigint_progress", False):
            logger.removeHandler(h)
    if mode == "log":
        h = logging.StreamHandler(d.stream)
        h.setFormatter(logging.Formatter("sigint: %(message)s"))
        h._sigint_progress = True          # type: ignore[attr-defined]
        logger.addHandler(h)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        d.mode = "log"
    else:
        logger.propagate = True
        d.mode = mode
        if mode == "bar":
            logger.setLevel(logging.INFO)
    return d.mode


@contextmanager
def task(desc: str, total: int | None = None, eta: bool = True) -> Iterator[Task]:
    """Run a step as a task: ``with progress.task("extracting X", total=n) as t: t.advance()``.

    Tasks nest; the report names the whole path ("build > segment 2/5 > filaments").
    *eta* False: the units differ too much in duration to extrapolate the time left.
    """
    t = Task(desc, total, eta)
    _display.push(t)
    ok = False
    try:
        yield t
        ok = True
    finally:
        _display.pop(t, ok)


def begin(desc: str, total: int | None = None) -> Task:
    """Start a task without a ``with`` block; :func:`end` it (an enclosing task ends it too)."""
    t = Task(desc, total)
    _display.push(t)
    return t


def end(t: Task) -> None:
    """End a task started with :func:`begin`."""
    _display.pop(t, True)


def track(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate over *items* as a task that advances by one per item."""
    if total is None:
        try:
            total = len(items)          # type: ignore[arg-type]
        except TypeError:
            total = None
    with task(desc, total) as t:
        for x in items:
            yield x
            t.advance()


def current() -> Task | None:
    """The innermost running task, or None."""
    with _display.lock:
        return _display.stack[-1] if _display.stack else None


def advance(n: int = 1) -> None:
    """Advance the innermost running task by *n* (no-op when none runs)."""
    t = current()
    if t is not None:
        t.advance(n)


def stage(text: str) -> None:
    """Name what the innermost task does now; usable as a ``progress=`` callback."""
    t = current()
    if t is None:
        if _display.active():
            logger.info(text)
        return
    t.set_stage(text)
    if _display.active() and len(_display.stack) <= LOG_DEPTH - 1:
        _display.log()
    _display.draw()


def clear() -> None:
    """Erase the bar (before printing to the terminal)."""
    _display.clear()
