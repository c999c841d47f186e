"""The host under a run, read from /proc: CPU time by kind, run queue, disk throughput and await,
dirty and writeback memory. Only meaningful when the server runs on this machine (the embedded
server always does; a DSN to a socket or a loopback address does too).

A reading is cumulative counters at one moment; :func:`host_rates` turns two readings into one
row of the timeline (percentages, bytes per second, milliseconds per I/O).

>>> before = read_host()                 # doctest: +SKIP
>>> after = read_host()                  # doctest: +SKIP
>>> host_rates(before, after)["cpu_user_pct"]   # doctest: +SKIP
41.5
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROC = Path("/proc")
SYS_BLOCK = Path("/sys/block")
SECTOR = 512  # /proc/diskstats counts 512-byte sectors whatever the device's own size
HOST_COLUMNS = ["cpu_user_pct", "cpu_system_pct", "cpu_iowait_pct", "cpu_steal_pct",
                "cpu_idle_pct", "run_queue", "procs_blocked", "disk_read_bytes_s",
                "disk_write_bytes_s", "disk_read_await_ms", "disk_write_await_ms",
                "mem_dirty_bytes", "mem_writeback_bytes"]


@dataclass
class HostReading:
    """Cumulative counters of the host at ``taken`` (monotonic seconds)."""

    taken: float
    cpu: dict[str, int] = field(default_factory=dict)
    run_queue: int = 0
    procs_blocked: int = 0
    disk: dict[str, int] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)


def host_available(proc: Path = PROC) -> str | None:
    """None when /proc has what :func:`read_host` reads, else why not (one line).

    >>> host_available(Path("/nonexistent"))
    '/nonexistent/stat cannot be read: No such file or directory'
    """
    for name in ("stat", "diskstats", "meminfo"):
        try:
            (proc / name).read_bytes()
        except OSError as exc:
            return f"{proc / name} cannot be read: {exc.strerror or exc}"
    return None


def read_host(proc: Path = PROC, sys_block: Path = SYS_BLOCK) -> HostReading:
    """One reading of /proc/stat, /proc/diskstats (physical disks only) and /proc/meminfo."""
    reading = HostReading(time.monotonic())
    for line in (proc / "stat").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            values = [int(v) for v in parts[1:]] + [0] * 10
            reading.cpu = {"user": values[0] + values[1], "system": values[2] + values[5]
                           + values[6], "idle": values[3], "iowait": values[4],
                           "steal": values[7]}
        elif parts and parts[0] == "procs_running":
            reading.run_queue = int(parts[1])
        elif parts and parts[0] == "procs_blocked":
            reading.procs_blocked = int(parts[1])
    disks = physical_disks(sys_block)
    totals = dict.fromkeys(("reads", "read_sectors", "read_ms", "writes", "write_sectors",
                            "write_ms"), 0)
    for line in (proc / "diskstats").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 14 and parts[2] in disks:
            for key, index in (("reads", 3), ("read_sectors", 5), ("read_ms", 6),
                               ("writes", 7), ("write_sectors", 9), ("write_ms", 10)):
                totals[key] += int(parts[index])
    reading.disk = totals
    for line in (proc / "meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Dirty", "Writeback"):
            reading.memory[name.lower()] = int(rest.split()[0]) * 1024
    return reading


def physical_disks(sys_block: Path = SYS_BLOCK) -> set[str]:
    """Block devices backed by hardware (``/sys/block/X/device`` exists): no loop, RAM or
    device-mapper devices, so the same I/O is not counted twice."""
    try:
        return {p.name for p in sys_block.iterdir() if (p / "device").exists()}
    except OSError:
        return set()


def host_rates(before: HostReading, after: HostReading) -> dict[str, Any]:
    """One timeline row from two readings: CPU shares (% of all CPUs), disk bytes per second
    and mean milliseconds per completed read/write (await), run queue and memory as gauges."""
    seconds = max(after.taken - before.taken, 1e-9)
    cpu = {k: after.cpu.get(k, 0) - before.cpu.get(k, 0) for k in after.cpu}
    ticks = sum(cpu.values()) or 1
    disk = {k: after.disk.get(k, 0) - before.disk.get(k, 0) for k in after.disk}

    def await_ms(ms: str, ios: str) -> float | None:
        return round(disk[ms] / disk[ios], 3) if disk.get(ios) else None

    return {
        "cpu_user_pct": round(100 * cpu.get("user", 0) / ticks, 2),
        "cpu_system_pct": round(100 * cpu.get("system", 0) / ticks, 2),
        "cpu_iowait_pct": round(100 * cpu.get("iowait", 0) / ticks, 2),
        "cpu_steal_pct": round(100 * cpu.get("steal", 0) / ticks, 2),
        "cpu_idle_pct": round(100 * cpu.get("idle", 0) / ticks, 2),
        "run_queue": after.run_queue, "procs_blocked": after.procs_blocked,
        "disk_read_bytes_s": round(disk.get("read_sectors", 0) * SECTOR / seconds, 1),
        "disk_write_bytes_s": round(disk.get("write_sectors", 0) * SECTOR / seconds, 1),
        "disk_read_await_ms": await_ms("read_ms", "reads"),
        "disk_write_await_ms": await_ms("write_ms", "writes"),
        "mem_dirty_bytes": after.memory.get("dirty"),
        "mem_writeback_bytes": after.memory.get("writeback"),
    }
