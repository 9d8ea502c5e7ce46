"""The machine a sweep ran on: cores, CPU model, load before and after.

Timings only mean something next to the machine that made them: the
baseline's time is bimodal on 2 cores (WORKLOAD.md section 6: 0.25 s or 2 s
for the same file, depending on whether another process holds a core), so a
sweep records the load before and after, and says when it changed enough to
matter (:func:`load_warning`).  Linux first; elsewhere the fields that cannot
be read are None and nothing fails.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import os
import platform
import time

#: Other processes' average CPU use (cores, from /proc/stat) below which a
#: sweep ran alone whatever the load average did.  A reproduced report on an
#: idle 2-core machine measured 0.01-0.05 here while its own 20-thread
#: baseline batches took the 1-minute load from 0.29 to 3.90.
QUIET_OTHER_CORES = 0.2

#: The 1-minute load average's time constant (Linux computes it with e^(-5 s/60 s)).
LOAD_TIME_CONSTANT_S = 60.0


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's name ("model name" in /proc/cpuinfo), else platform's guess, else 'unknown'."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition(":")
                # x86 says "model name"; some ARM kernels only "Hardware" or "Processor".
                if sep and key.strip() in ("model name", "Hardware", "Processor"):
                    name = " ".join(value.split())
                    if name:
                        return name
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _affinity() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _loadavg() -> tuple[float, float, float] | None:
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return None
    return (one, five, fifteen)


@dataclasses.dataclass(frozen=True)
class CpuSample:
    """CPU time spent so far: by every process (busy jiffies of /proc/stat) and by this one."""

    when_s: float  # time.monotonic()
    busy_all_s: float | None
    busy_self_s: float

    @classmethod
    def now(cls) -> CpuSample:
        busy_all = None
        try:
            with open("/proc/stat", encoding="ascii") as f:
                fields = f.readline().split()
            # cpu user nice system idle iowait irq softirq steal ...: busy = all but idle, iowait.
            ticks = [int(x) for x in fields[1:]]
            busy_all = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
        times = os.times()
        return cls(time.monotonic(), busy_all, times.user + times.system)


@dataclasses.dataclass(frozen=True)
class MachineStamp:
    """What a sweep's numbers depend on, recorded with them."""

    cpu_count: int | None  # os.cpu_count(): cores the system has
    affinity: int | None  # cores this process may run on (sched_getaffinity)
    cpu_model: str
    python: str
    platform: str
    started: str  # ISO 8601, local time with offset
    load_before: tuple[float, float, float] | None  # 1, 5, 15-minute load averages
    load_after: tuple[float, float, float] | None = None
    elapsed_s: float | None = None
    #: Cores this process kept busy on average during the sweep.
    own_cores: float | None = None
    #: Cores every other process kept busy on average during the sweep (None off Linux).
    other_cores: float | None = None
    _start: CpuSample | None = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def cores(self) -> int:
        """The cores the runs can use: the affinity mask, else cpu_count, else 1."""
        return self.affinity or self.cpu_count or 1

    def finished(self) -> MachineStamp:
        """This stamp with the load after the sweep and the CPU use during it."""
        end = CpuSample.now()
        start = self._start
        elapsed = own = other = None
        if start is not None:
            elapsed = end.when_s - start.when_s
            if elapsed > 0:
                own = max(0.0, (end.busy_self_s - start.busy_self_s) / elapsed)
                if end.busy_all_s is not None and start.busy_all_s is not None:
                    other = max(0.0, (end.busy_all_s - start.busy_all_s) / elapsed - own)
        return dataclasses.replace(
            self, load_after=_loadavg(), elapsed_s=elapsed, own_cores=own, other_cores=other
        )

    def warning(self) -> str | None:
        """One line when the load changed enough during the sweep to matter, else None."""
        if self.load_before is None or self.load_after is None:
            return None
        if self.other_cores is not None and self.other_cores < QUIET_OTHER_CORES:
            # The CPU accounting saw nobody else: the load rose with this
            # sweep's own runnable threads (a baseline batch has 20 of them
            # queueing for 2 cores, which its CPU time cannot tell).
            return None
        return load_warning(
            self.load_before[0],
            self.load_after[0],
            self.cores,
            own_cores=self.own_cores or 0.0,
            elapsed_s=self.elapsed_s or 0.0,
        )

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name[0] != "_"}
        out["cores"] = self.cores
        out["load_warning"] = self.warning()
        return out

    def lines(self) -> list[str]:
        """The stamp as a few readable lines (and the warning, when there is one)."""

        def load(values: tuple[float, float, float] | None) -> str:
            return "unknown" if values is None else " / ".join(f"{v:.2f}" for v in values)

        cores = f"{self.cpu_count} cores" if self.cpu_count else "cores unknown"
        if self.affinity is not None and self.affinity != self.cpu_count:
            cores += f" ({self.affinity} usable by this process)"
        out = [
            f"Machine: {self.cpu_model}, {cores}; Python {self.python}; {self.platform}",
            f"Load average (1/5/15 min): {load(self.load_before)} before, "
            f"{load(self.load_after)} after",
        ]
        if self.other_cores is not None and self.own_cores is not None:
            out.append(
                f"CPU during the sweep: this process {self.own_cores:.2f} cores, "
                f"other processes {self.other_cores:.2f} cores (averages)"
            )
        warning = self.warning()
        if warning:
            out.append(f"Warning: {warning}")
        return out


def machine_stamp() -> MachineStamp:
    """The stamp at the start of a sweep; call :meth:`MachineStamp.finished` at its end."""
    return MachineStamp(
        cpu_count=os.cpu_count(),
        affinity=_affinity(),
        cpu_model=cpu_model(),
        python=platform.python_version(),
        platform=f"{platform.system()} {platform.release()} {platform.machine()}".strip(),
        started=datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        load_before=_loadavg(),
        _start=CpuSample.now(),
    )


def load_warning(
    before: float, after: float, cores: int, *, own_cores: float = 0.0, elapsed_s: float = 0.0
) -> str | None:
    """Whether the 1-minute load changed enough during a sweep to matter, as one line.

    The rule.  The sweep's own threads raise the load too, so first remove
    their expected share: ``own_cores * (1 - e^(-elapsed_s / 60))`` (the
    1-minute average moves towards what is runnable with a 60 s time constant;
    ``own_cores`` is this process's CPU time / elapsed time, a lower bound of
    its runnable threads).  Then, with ``others = after - own share``, warn when

    - ``|others - before| >= 0.5 x cores`` (half the machine appeared or
      went away), or
    - on a machine with at most 2 cores, the load crossed 1 (``before < 1 <=
      others`` or ``others < 1 <= before``): that is another process starting
      or stopping to hold a core, exactly what makes the baseline fast or slow
      (WORKLOAD.md section 6).

    Interleaved repeats spread such drift over every point alike; the warning
    says the medians may still be a mix of two machines.
    """
    cores = max(1, int(cores))
    own_share = max(0.0, own_cores) * (1.0 - math.exp(-max(0.0, elapsed_s) / LOAD_TIME_CONSTANT_S))
    others = max(0.0, after - own_share)
    moved = others - before
    crossed = cores <= 2 and ((before < 1.0 <= others) or (others < 1.0 <= before))
    if abs(moved) < 0.5 * cores and not crossed:
        return None
    direction = "rose" if moved > 0 else "fell"
    share = (
        f" after removing this sweep's own share ({own_share:.2f})" if own_share >= 0.005 else ""
    )
    return (
        f"the 1-minute load {direction} from {before:.2f} to {others:.2f}{share} on "
        f"{cores} core{'s' if cores != 1 else ''} during the sweep: another process "
        f"{'started' if moved > 0 else 'stopped'} using the CPU, so these timings mix two "
        "machine states (the baseline is the most sensitive); rerun on a quiet machine to compare"
    )
