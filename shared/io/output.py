"""Safe output folders: a temporary sibling, a lock, a manifest, an atomic swap.

``AtomicOutput(out)`` as a context manager:

* refuses a non-empty ``out`` that datagen did not write (no ``manifest.json``) unless ``force``,
  so a typo cannot wipe a user's folder;
* takes a lock file beside ``out`` (``.<name>.datagen.lock``, ``O_EXCL`` with the owner's pid); a
  second concurrent run into the same folder is refused clearly; a lock whose process is gone is
  taken over (an empty lock only once it is older than ``LOCK_GRACE_S``: its owner may be
  between creating it and writing its pid); the pid is read without following a link or blocking;
* writes everything into ``.<name>.tmp-<pid>-<random>`` beside ``out``;
* on success renames the old folder aside, the new one into place and removes the old one;
  on any error, SIGINT or SIGTERM removes the temporary folder and leaves ``out`` as it was.
  A signal that arrives during that final swap is deferred until the swap is done (the run then
  completes), so ``out`` is never left missing between the two renames.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import queue
import secrets
import shutil
import signal
import stat
import time
from pathlib import Path

from shared.errors import OutputError, UsageError

MANIFEST = "manifest.json"


class _Interrupted(BaseException):
    def __init__(self, signum: int):
        self.signum = signum


class AtomicOutput:
    def __init__(self, out: str | os.PathLike, *, force: bool = False):
        self.out = Path(out)
        self.force = force
        self.tmp: Path | None = None
        self._lock: Path | None = None
        self._old_handlers: dict = {}
        self._committing = False  # during the final swap a signal is deferred: the swap always completes
        self.deferred_signal: int | None = None

    # --- checks -----------------------------------------------------------------------------

    def check_target(self) -> None:
        out = self.out
        if out.is_symlink():
            raise UsageError(f"--out {out}: is a symbolic link; datagen does not write through links")
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out}: exists and is not a folder")
        if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file() and not self.force:
            raise UsageError(
                f"--out {out}: the folder is not empty and was not written by datagen (no {MANIFEST}); "
                f"refusing to replace it (pass --force to replace it anyway)"
            )

    # --- lock -------------------------------------------------------------------------------

    def _acquire(self) -> None:
        parent = self.out.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"--out {self.out}: cannot create the parent folder: {exc.strerror}") from None
        lock = parent / f".{self.out.name}.datagen.lock"
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = _lock_owner(lock)
                if pid and _alive(pid):
                    raise OutputError(
                        f"--out {self.out}: another datagen run (pid {pid}) is writing here; "
                        f"wait for it, or remove {lock} if it is stale"
                    ) from None
                if not pid and _just_created(lock):  # created, its pid not written yet: not stale
                    raise OutputError(
                        f"--out {self.out}: another datagen run is starting here ({lock} was just created); "
                        f"wait for it, or remove {lock} if it is stale"
                    ) from None
                with contextlib.suppress(OSError):
                    lock.unlink()
                continue
            except OSError as exc:
                raise OutputError(f"--out {self.out}: cannot create the lock {lock}: {exc.strerror}") from None
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            self._lock = lock
            return
        raise OutputError(f"--out {self.out}: cannot take the lock {lock}")

    def _release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self._lock.unlink()
            self._lock = None

    # --- signals ----------------------------------------------------------------------------

    def _on_signal(self, signum, frame):
        if self._committing:  # between the two renames --out would be missing: finish the swap first
            self.deferred_signal = signum
            return
        raise _Interrupted(signum)

    def _install_signals(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
            except ValueError:  # not the main thread
                pass

    def _restore_signals(self) -> None:
        for sig, handler in self._old_handlers.items():
            signal.signal(sig, handler)
        self._old_handlers.clear()

    # --- context ----------------------------------------------------------------------------

    def __enter__(self) -> AtomicOutput:
        self.check_target()
        self._acquire()
        self._install_signals()
        try:
            self.tmp = self.out.parent / f".{self.out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            self.tmp.mkdir()
        except BaseException:
            self._restore_signals()
            self._release()
            raise
        return self

    def commit(self) -> None:
        """Swap the finished temporary folder into place."""
        assert self.tmp is not None
        old = None
        self._committing = True
        try:
            try:
                if self.out.exists():
                    old = self.out.parent / f".{self.out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
                    os.rename(self.out, old)
                os.rename(self.tmp, self.out)
            except OSError as exc:
                if old is not None and not self.out.exists():
                    with contextlib.suppress(OSError):
                        os.rename(old, self.out)
                raise OutputError(f"--out {self.out}: cannot move the new output into place: {exc.strerror}") from None
            self.tmp = None
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            self._committing = False

    def __exit__(self, exc_type, exc, tb):
        try:
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
                self.tmp = None
        finally:
            self._restore_signals()
            self._release()
        if isinstance(exc, _Interrupted):
            raise KeyboardInterrupt(exc.signum) from None
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise OutputError(f"--out {self.out}: {os.strerror(exc.errno)} while writing; "
                              f"nothing was changed in {self.out}") from None
        return False


def _lock_owner(lock: Path) -> int:
    """The pid written in a lock file, 0 when unreadable. Reads at most 32 bytes, never through a
    link and never blocking (a lock planted as a link to a FIFO or /dev/zero cannot hang us)."""
    try:
        fd = os.open(lock, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return 0
    try:
        text = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        return 0
    finally:
        os.close(fd)
    return int(text) if text.isdigit() and len(text) < 20 else 0


#: an empty lock younger than this belongs to a run between creating it and writing its pid
LOCK_GRACE_S = 2.0


def _just_created(lock: Path) -> bool:
    try:
        st = os.lstat(lock)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == 0 and abs(time.time() - st.st_mtime) < LOCK_GRACE_S


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class HashingFile:
    """A new file (``open(path, "xb")``) that hashes what is written to it: its SHA-256 and size
    are known when it is closed, without reading it back. File-like enough for pyarrow writers.

    ``background=True``: writing and hashing happen in a thread (both release the GIL), at most
    ``QUEUE`` pieces behind, so the caller goes on computing the next block meanwhile. Pieces
    must then not change after ``write`` returns (``bytes``, an Arrow buffer; anything else is
    copied); an error in the thread is raised by the next ``write`` or by ``close``.
    """

    QUEUE = 4

    def __init__(self, path: str | os.PathLike, background: bool = False):
        import hashlib

        self.path = Path(path)
        self._f = open(self.path, "xb")  # noqa: SIM115 - closed in close()
        self._h = hashlib.sha256()
        self.size = 0
        self._queue: queue.Queue | None = None
        self._thread = None
        self._error: BaseException | None = None
        if background:
            import queue
            import threading

            self._queue = queue.Queue(self.QUEUE)
            self._thread = threading.Thread(target=self._drain, name="datagen-writer", daemon=True)
            self._thread.start()

    def _put(self, data) -> None:
        self._h.update(data)
        self._f.write(data)

    def _drain(self) -> None:
        while True:
            assert self._queue is not None
            data = self._queue.get()
            if data is None:
                return
            if self._error is None:
                try:
                    self._put(data)
                except BaseException as exc:  # noqa: BLE001 - handed to the writing thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            exc, self._error = self._error, None
            raise exc

    def write(self, data) -> int:
        n = len(data) if isinstance(data, bytes) else memoryview(data).nbytes
        if self._queue is None:
            self._put(data)
        else:
            self._raise()
            if not isinstance(data, bytes) and type(data).__module__.split(".")[0] != "pyarrow":
                data = bytes(data)
            self._queue.put(data)
        self.size += n
        return n

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        if self._queue is None:
            self._f.flush()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._f.closed

    def close(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        try:
            self._raise()
        finally:
            self._f.close()

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
