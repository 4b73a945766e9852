"""What the operating system lets a run use, checked before the run starts.

A run needs a few file descriptors in one process (the lock, the file being written, the
manifest, the value-pool cache) and, with worker processes, the pool's pipes and one pipe per
worker; it needs address space for the shared-memory slots the workers hand their blocks back
through (``2 × workers`` slots of ``SLOT_BYTES``); and it needs a disk with room on it.

``fit_workers`` raises the soft open-file limit up to the hard one when the run needs it (as
servers and build tools do), starts fewer workers when the limits (``ulimit -n``, ``ulimit -v``)
cannot hold the ones asked for — the manifest records the count used, as it does when there are
fewer blocks than workers — and refuses up front (exit 2) only when not even one process fits.
What still runs out during the run (memory, descriptors, disk) ends in one clear exit-3 message
(``describe_os_error``), with the output folder as it was.
"""

from __future__ import annotations

import errno
import os
import resource

from shared.errors import UsageError

#: descriptors one process needs beyond those open when the run starts: measured 2 (the lock,
#: the file being written; the manifest and cache files come after it is closed), and headroom
FDS_PER_RUN = 5
#: descriptors a worker pool needs in the parent: measured 6 for its queues and wake-up pipe, and
#: 2 per worker (its sentinel and result pipes); with headroom
FDS_PER_POOL = 8
FDS_PER_WORKER = 2
#: one shared-memory slot (``shared.schema_dsl.parallel.SLOT_BYTES``); each worker has two
SLOT_BYTES = 64 << 20
#: address space a pool needs besides its slots: the executor's threads' stacks, pipes' buffers
POOL_OVERHEAD_BYTES = 64 << 20
#: below this much free space (or with no free inode) a run cannot even write its manifest
MIN_FREE_BYTES = 1 << 20


def open_fds() -> int:
    """File descriptors this process has open now (Linux: /proc/self/fd; else a guess)."""
    try:
        return max(3, len(os.listdir("/proc/self/fd")) - 1)  # less the one listdir held
    except OSError:
        return 8


def fds_needed(workers: int, now: int | None = None) -> int:
    now = open_fds() if now is None else now
    need = now + FDS_PER_RUN
    if workers > 1:
        need += FDS_PER_POOL + FDS_PER_WORKER * workers
    return need


def _limit(value: int) -> int | None:
    return None if value == resource.RLIM_INFINITY or value < 0 else int(value)


def nofile_limits() -> tuple[int | None, int | None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return _limit(soft), _limit(hard)


def address_space_limit() -> int | None:
    """The soft ``RLIMIT_AS`` (``ulimit -v``) in bytes, or None when unlimited."""
    return _limit(resource.getrlimit(resource.RLIMIT_AS)[0])


def address_space_used() -> int:
    """This process's virtual size now (Linux: VmSize; elsewhere 0, so nothing is refused)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


#: the address space a run needs beyond what is mapped when it starts (a block's columns, the
#: allocators' arenas); below it the run is refused before it computes anything
MIN_RUN_ROOM_BYTES = 128 << 20


def pool_bytes(workers: int) -> int:
    return 2 * workers * SLOT_BYTES + POOL_OVERHEAD_BYTES


def fit_workers(workers: int) -> int:
    """The workers this run can start under the process's limits (``workers`` when they fit).

    Raises the soft open-file limit as far as the hard one when that is what it takes; raises
    ``UsageError`` (exit 2) when even one process would run out of file descriptors."""
    soft, hard = nofile_limits()
    now = open_fds()
    ceiling = hard if hard is not None else 1 << 20
    fit = workers
    while fit > 1 and fds_needed(fit, now) > ceiling:
        fit -= 1
    need = fds_needed(fit, now)
    if need > ceiling:
        raise UsageError(f"the open-file limit (ulimit -n) is {hard}, and a run needs at least {need} file "
                         f"descriptors ({now} are open already) (hint: raise it, e.g. ulimit -n 1024)")
    if soft is not None and soft < need:
        try:
            raised = min(ceiling, max(need, 1024))
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard if hard is not None else resource.RLIM_INFINITY))
        except (ValueError, OSError):
            while fit > 1 and fds_needed(fit, now) > soft:
                fit -= 1
            if fds_needed(fit, now) > soft:
                raise UsageError(f"the open-file limit (ulimit -n) is {soft}, and a run needs at least "
                                 f"{fds_needed(fit, now)} file descriptors (hint: raise it, e.g. ulimit -n 1024)") \
                    from None
    limit = address_space_limit()
    if limit is not None:
        room = limit - address_space_used()
        while fit > 1 and pool_bytes(fit) > room // 2:  # the other half: the blocks being computed
            fit -= 1
        if room < MIN_RUN_ROOM_BYTES:
            # too little left to compute a block: refuse cleanly now, not wherever a library's
            # allocation fails (a C++ one aborts the process)
            from shared.errors import OutputError

            raise OutputError(describe_os_error(MemoryError()) or "out of memory")
    return fit


def check_free_space(folder: str | os.PathLike, label: str) -> None:
    """Refuse (exit 2) a run into a file system that is already full: no room for even the
    manifest, or no free inode. A disk that fills during the run is an exit-3 error instead."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return
    free = st.f_bavail * st.f_frsize
    if free < MIN_FREE_BYTES or (st.f_files > 0 and st.f_favail == 0):
        what = "no free inode" if free >= MIN_FREE_BYTES else f"{free:,} bytes free"
        raise UsageError(f"{label}: the file system is full ({what} on {os.fspath(folder)}); "
                         f"nothing was written (hint: free some space or write elsewhere)")


def describe_os_error(exc: BaseException) -> str | None:
    """One line for a resource the operating system ran out of during a run, or None when
    ``exc`` is not such an error."""
    if isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM) or \
            (isinstance(exc, RuntimeError) and "can't start new thread" in str(exc)) or \
            type(exc).__name__ == "ArrowMemoryError":
        limit = address_space_limit()
        where = f"; the address-space limit (ulimit -v) is {limit // 1024:,} KiB" if limit is not None else ""
        return f"out of memory{where} (hint: a smaller --block-rows or fewer --workers)"
    if isinstance(exc, OSError) and exc.errno == errno.EMFILE:
        soft, _hard = nofile_limits()
        return (f"too many open files: the open-file limit (ulimit -n) is {soft} "
                f"(hint: raise it, e.g. ulimit -n 1024, or pass --workers 1)")
    if isinstance(exc, OSError) and exc.errno == errno.ENFILE:
        return "too many open files in the system (the kernel's file table is full; try again later)"
    if isinstance(exc, OSError) and exc.errno == errno.EAGAIN and "fork" in str(exc).lower():
        return "cannot start a worker process: the process limit (ulimit -u) is reached (hint: pass --workers 1)"
    return None
