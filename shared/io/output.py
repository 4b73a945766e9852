"""Safe output folders: a temporary sibling, a lock, a manifest, an atomic swap.

``AtomicOutput(out)`` as a context manager:

* refuses a non-empty ``out`` that datagen did not write (no ``manifest.json``) unless ``force``,
  so a typo cannot wipe a user's folder;
* refuses up front what cannot end well: ``out`` on a mount point (the final rename cannot move
  it), a name too long for the lock and temporary names beside it;
* takes a lock beside ``out``: an ``flock`` on ``.<name>.datagen.lock``, which holds the owner's
  pid; a second concurrent run into the same folder is refused clearly; a lock whose holder died
  is free again (the kernel drops the lock with its process), so taking it over is atomic; a link
  or special file planted under its name is removed, never followed; the run that takes a lock
  over clears the temporary and old folders a killed run left (undoing a killed swap first);
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
from pathlib import Path

from shared.errors import OutputError, UsageError
from shared.io.oslimits import check_free_space

MANIFEST = "manifest.json"


#: signals that end a run cleanly (temporary folder removed, --out untouched, exit 128 + signal):
#: a dropped SSH session sends SIGHUP, a Ctrl-\\ SIGQUIT
HANDLED_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")
                        if hasattr(signal, n))


class _Interrupted(BaseException):
    def __init__(self, signum: int):
        self.signum = signum


class AtomicOutput:
    def __init__(self, out: str | os.PathLike, *, force: bool = False):
        self.out = Path(out)
        self.force = force
        self.tmp: Path | None = None
        self._lock: Path | None = None
        self._lock_fd = -1
        self._old_handlers: dict = {}
        self._tmp_id: tuple[int, int] | None = None
        self._committing = False  # during the final swap a signal is deferred: the swap always completes
        self.deferred_signal: int | None = None

    # --- checks -----------------------------------------------------------------------------

    def check_target(self) -> None:
        out = self.out
        if out.name in ("", ".", ".."):
            raise UsageError(f"--out {out}: name a folder (not '.', '..' or a root)")
        if out.is_dir() and os.path.ismount(out):
            raise UsageError(f"--out {out}: is a mount point; generate replaces --out by renaming a new folder "
                             f"into place, which a mount point cannot be (hint: write into a folder inside it)")
        try:
            name_max = os.pathconf(out.parent if out.parent.exists() else ".", "PC_NAME_MAX")
        except (OSError, ValueError):
            name_max = 255
        longest = f".{out.name}.tmp-{os.getpid()}-00000000"
        if len(os.fsencode(longest)) > name_max or len(os.fsencode(f".{out.name}.datagen.lock")) > name_max:
            raise UsageError(f"--out {out}: the name is too long: its lock and temporary folder beside it "
                             f"(.{out.name}.tmp-…) would pass the file system's {name_max}-byte limit "
                             f"(hint: a name of at most {name_max - len(longest) + len(out.name)} bytes)")
        if out.is_symlink():
            raise UsageError(f"--out {out}: is a symbolic link; datagen does not write through links")
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out}: exists and is not a folder")
        existing = out.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        check_free_space(existing, f"--out {out}")
        if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file() and not self.force:
            raise UsageError(
                f"--out {out}: the folder is not empty and was not written by datagen (no {MANIFEST}); "
                f"refusing to replace it (pass --force to replace it anyway)"
            )

    # --- lock -------------------------------------------------------------------------------

    def lock_path(self) -> Path:
        return self.out.parent / f".{self.out.name}.datagen.lock"

    def _acquire(self) -> None:
        """Take the lock: an ``flock`` on ``.<name>.datagen.lock``, which the kernel releases when
        its holder dies, so taking over a stale lock is the same atomic step as taking a free one
        (two runs can never both hold it). The file holds the holder's pid, for messages; a lock
        file whose inode changed under us (its holder removed it) is retried."""
        import fcntl

        parent = self.out.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"--out {self.out}: cannot create the parent folder: {exc.strerror}") from None
        lock = self.lock_path()
        for _ in range(100):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0),
                             0o644)
            except OSError as exc:
                if exc.errno == errno.ELOOP or (os.path.lexists(lock) and not os.path.isfile(lock)):
                    # a link or special file planted under the lock's name: not a lock, never followed
                    with contextlib.suppress(OSError):
                        lock.unlink()
                    continue
                raise OutputError(f"--out {self.out}: cannot create the lock {lock}: {exc.strerror}") from None
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    os.close(fd)
                    with contextlib.suppress(OSError):
                        lock.unlink()
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pid = _read_pid(fd)
                    os.close(fd)
                    who = f"another datagen run (pid {pid}) is writing here" if pid else \
                        f"another datagen run is starting here ({lock} was just created)"
                    raise OutputError(f"--out {self.out}: {who}; wait for it, or remove {lock} if it is stale") \
                        from None
                try:
                    same = os.stat(lock, follow_symlinks=False)
                except FileNotFoundError:
                    same = None
                mine = os.fstat(fd)
                if same is None or (same.st_ino, same.st_dev) != (mine.st_ino, mine.st_dev):
                    os.close(fd)  # its holder removed it after we opened it: take the new one
                    continue
                previous = _read_pid(fd)
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.close(fd)
                raise
            self._lock, self._lock_fd = lock, fd
            self._clear_debris(previous)
            return
        raise OutputError(f"--out {self.out}: cannot take the lock {lock}")

    def _clear_debris(self, previous_pid: int) -> None:
        """Holding the lock proves no other run is writing this output: temporary and old folders
        a killed run left beside it are debris. A killed swap (the old folder moved aside, the new
        one not yet in place) is undone first, so the previous output comes back."""
        parent, name = self.out.parent, self.out.name
        try:
            entries = list(os.scandir(parent))
        except OSError:
            return
        olds = [e for e in entries if e.name.startswith(f".{name}.old-") and e.is_dir(follow_symlinks=False)]
        if olds and not os.path.lexists(self.out):
            latest = max(olds, key=lambda e: e.stat(follow_symlinks=False).st_mtime)
            with contextlib.suppress(OSError):
                os.rename(latest.path, self.out)
        for e in entries:
            if (e.name.startswith(f".{name}.tmp-") or e.name.startswith(f".{name}.old-")) and \
                    e.is_dir(follow_symlinks=False) and os.path.lexists(e.path):
                shutil.rmtree(e.path, ignore_errors=True)

    def _release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self._lock.unlink()  # unlinked while still held: a waiter sees the inode change and retries
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock = None

    # --- signals ----------------------------------------------------------------------------

    def _on_signal(self, signum, frame):
        if self._committing:  # between the two renames --out would be missing: finish the swap first
            self.deferred_signal = signum
            return
        raise _Interrupted(signum)

    def _install_signals(self) -> None:
        for sig in HANDLED_SIGNALS:
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
            tmp = self.out.parent / f".{self.out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                tmp.mkdir()
            except OSError as exc:
                raise OutputError(f"--out {self.out}: cannot create the temporary folder {tmp}: {exc.strerror}; "
                                  f"nothing was changed in {self.out}") from None
            self.tmp = tmp
            st = os.stat(tmp, follow_symlinks=False)
            self._tmp_id = (st.st_dev, st.st_ino)
        except BaseException:
            self._restore_signals()
            self._release()
            raise
        return self

    def _tmp_is_ours(self) -> bool:
        """The temporary folder is still the one this run made (not removed or replaced)."""
        assert self.tmp is not None
        try:
            st = os.stat(self.tmp, follow_symlinks=False)
        except OSError:
            return False
        return stat.S_ISDIR(st.st_mode) and (st.st_dev, st.st_ino) == self._tmp_id

    def _remove_tmp(self) -> None:
        assert self.tmp is not None
        if os.path.islink(self.tmp):  # something planted under this run's own name: never followed
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)
            return
        shutil.rmtree(self.tmp, ignore_errors=True)
        if os.path.lexists(self.tmp):  # out of descriptors while listing it: free what is garbage, retry
            import gc

            gc.collect()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def commit(self) -> None:
        """Swap the finished temporary folder into place."""
        assert self.tmp is not None
        if not self._tmp_is_ours():
            raise OutputError(f"--out {self.out}: the temporary folder {self.tmp} was removed or replaced during "
                              f"the run (by another process?); nothing was changed in {self.out}")
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
        vanished = False
        try:
            if self.tmp is not None:
                vanished = isinstance(exc, OSError) and not self._tmp_is_ours()
                self._remove_tmp()
                self.tmp = None
        finally:
            self._restore_signals()
            self._release()
        if isinstance(exc, _Interrupted):
            raise KeyboardInterrupt(exc.signum) from None
        if vanished:
            raise OutputError(f"--out {self.out}: the temporary folder was removed or replaced during the run "
                              f"(by another process?): {exc.strerror}; nothing was changed in {self.out}") from None
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise OutputError(f"--out {self.out}: {os.strerror(exc.errno)} while writing; "
                              f"nothing was changed in {self.out}") from None
        return False


def _read_pid(fd: int) -> int:
    """The pid written in an open lock file, 0 when empty or not a pid (at most 32 bytes)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return 0
    return int(text) if text.isdigit() and len(text) < 20 else 0


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


def write_text_atomic(path: Path, text: str, *, label: str | None = None) -> None:
    """``text`` into the file ``path``, replaced whole: written to a temporary file beside it,
    then renamed over it, so a reader sees the old file or the new one, never half of one. A
    failure is an ``OutputError`` naming ``label`` (default the path), with no temporary left."""
    from shared.errors import OutputError

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OutputError(f"{label or path}: cannot write it: {exc.strerror or exc}") from None
