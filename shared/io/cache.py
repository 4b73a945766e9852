"""A verified on-disk cache: an entry is used only when a keyed digest over its exact bytes and
the inputs that built it checks out; anything else is treated as absent, rebuilt and replaced.

The cache is an input of every run (a Faker pool read from it becomes output values, and
``validate`` replays through the same pools), so it is checked like one. Layout under the cache
folder (``DATAGEN_CACHE_DIR``, default ``~/.cache/datagen``; an empty value disables the cache)::

    key                    32 random bytes: this cache's secret, mode 0600, created once
    <kind>/<name>.entry    MAGIC | tag (32 bytes) | payload

``name`` is an unkeyed digest of the inputs (which entry to look for); ``tag`` is BLAKE2b keyed
with the secret over the format version, the kind, the inputs (the caller puts every library
version that shapes the payload among them) and the payload's exact bytes. Reading: the file is
opened without following links and without blocking (a FIFO or device planted under the name is
never read), must be a regular file of at most ``MAX_ENTRY_BYTES``, is read into memory once,
and only those bytes — after the tag matched — are handed to the caller, so nothing can change
between checking and using. Writing: a fresh ``O_EXCL`` temporary file (mode 0600) renamed over
the name, so concurrent runs each publish a whole entry and the last rename wins; a crash
mid-write leaves at worst a torn temporary file or entry, which fails its tag (no fsync needed).

The secret is created atomically (a complete temporary file hard-linked to ``key``: never a
half-written key) and trusted only if it is a regular file of the right size owned by this user
with no group or other permission bits; otherwise it is replaced with a fresh one, which
invalidates every entry (they are rebuilt as they are needed).

Threat model: the tag defends against damage (truncation, bit rot, a full disk, a crash), stale
or incompatible entries (another format, Faker, pyarrow or Python version, an entry copied
under another name) and anyone who can write or replace entry files but cannot read ``key``: a
plausible Arrow file, a copied entry or an unkeyed digest is rejected. Anyone who can read the
key (the same user, root) can forge entries — as they could edit datagen's own code. The
cache's contents are not secret. Every failure here is silent and costs only a rebuild: the
disk cache is an optimisation, never a reason for a run to fail.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
import struct
from contextlib import suppress
from pathlib import Path

#: the layout version, part of every tag and name (bump it when the entry layout changes)
FORMAT = 2
MAGIC = b"DGCACHE" + bytes([FORMAT])
TAG_BYTES = 32
HEADER_BYTES = len(MAGIC) + TAG_BYTES
KEY_BYTES = 32
KEY_NAME = "key"
SUFFIX = ".entry"
#: entries larger than this are not written, so a larger file is never read
MAX_ENTRY_BYTES = 256 << 20
_PERSON = b"datagen-cache"
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def cache_root() -> Path | None:
    """The cache folder: ``DATAGEN_CACHE_DIR``, default ``~/.cache/datagen``; None when the
    variable is set to an empty string (no disk cache)."""
    root = os.environ.get("DATAGEN_CACHE_DIR")
    if root == "":
        return None
    return Path(root) if root else Path.home() / ".cache" / "datagen"


def _encode(kind: str, inputs: tuple) -> bytes:
    """An unambiguous encoding of (format, kind, inputs): each part length-prefixed."""
    out = bytearray()
    for part in (str(FORMAT), kind, *(repr(x) for x in inputs)):
        data = part.encode("utf-8")
        out += struct.pack("<I", len(data)) + data
    return bytes(out)


def entry_name(kind: str, inputs: tuple) -> str:
    """The file name of the entry for ``inputs`` (which entry, not whether to trust it)."""
    return hashlib.sha256(_encode(kind, inputs)).hexdigest()[:32] + SUFFIX


def tag(key: bytes, kind: str, inputs: tuple, payload: bytes | bytearray | memoryview) -> bytes:
    """The keyed digest an entry of ``payload`` built from ``inputs`` carries."""
    h = hashlib.blake2b(key=key, digest_size=TAG_BYTES, person=_PERSON)
    encoded = _encode(kind, inputs)
    h.update(struct.pack("<Q", len(encoded)))
    h.update(encoded)
    h.update(payload)
    return h.digest()


def load(kind: str, inputs: tuple) -> memoryview | None:
    """The payload of the entry for ``inputs`` if it is there and verifies, else None (absent,
    unreadable, not a regular file, too large, torn, or a tag that does not match)."""
    root = cache_root()
    if root is None:
        return None
    try:
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        key = _read_key(root_fd)
        if key is None:
            return None
        dir_fd = os.open(kind, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=root_fd)
        try:
            data = _read_regular(entry_name(kind, inputs), dir_fd, MAX_ENTRY_BYTES)
        finally:
            os.close(dir_fd)
    except OSError:
        return None
    finally:
        os.close(root_fd)
    if data is None or len(data) < HEADER_BYTES or data[:len(MAGIC)] != MAGIC:
        return None
    payload = memoryview(data)[HEADER_BYTES:]
    if not secrets.compare_digest(bytes(data[len(MAGIC):HEADER_BYTES]), tag(key, kind, inputs, payload)):
        return None
    return payload


def store(kind: str, inputs: tuple, payload: bytes | bytearray | memoryview) -> bool:
    """Write the entry for ``inputs`` atomically (creating the cache folder and its key when
    needed); False when it could not be written (a read-only or full disk, a folder planted under
    the entry's name …), which only means no cache."""
    root = cache_root()
    if root is None or HEADER_BYTES + memoryview(payload).nbytes > MAX_ENTRY_BYTES:
        return False
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        key = _writing_key(root_fd)
        if key is None:
            return False
        with suppress(FileExistsError):
            os.mkdir(kind, 0o700, dir_fd=root_fd)
        dir_fd = os.open(kind, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=root_fd)
        try:
            _publish(dir_fd, entry_name(kind, inputs), (MAGIC, tag(key, kind, inputs, payload), payload))
        finally:
            os.close(dir_fd)
        return True
    except OSError:
        return False
    finally:
        os.close(root_fd)


def _read_regular(name: str, dir_fd: int, limit: int) -> bytearray | None:
    """The bytes of ``name`` if it is a regular file (not a link, FIFO, device or folder) of at
    most ``limit`` bytes that does not change size while it is read; else None."""
    try:
        fd = os.open(name, _READ, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        data = bytearray(st.st_size)
        view, got = memoryview(data), 0
        while got < len(data):
            n = os.readv(fd, [view[got:]])
            if n == 0:
                return None  # shrank while read
            got += n
        if os.read(fd, 1):
            return None  # grew while read
        return data
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_key(root_fd: int) -> bytes | None:
    """The cache's secret, if ``key`` is one this user alone could have written and can read."""
    try:
        fd = os.open(KEY_NAME, _READ, dir_fd=root_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077
                or st.st_size != KEY_BYTES):
            return None
        data = os.read(fd, KEY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) == KEY_BYTES else None


def _writing_key(root_fd: int) -> bytes | None:
    """The cache's secret, created when missing (atomically: a complete file is hard-linked to
    ``key``, so a concurrent run reads either no key or the whole key) and replaced when it is
    not trustworthy (wrong size, type, owner or mode). The key finally on disk is returned."""
    key = _read_key(root_fd)
    if key is not None:
        return key
    tmp = _write_temp(root_fd, KEY_NAME, (secrets.token_bytes(KEY_BYTES),))
    try:
        try:
            os.link(tmp, KEY_NAME, src_dir_fd=root_fd, dst_dir_fd=root_fd, follow_symlinks=False)
        except FileExistsError:
            key = _read_key(root_fd)  # another run's fresh key, or an untrustworthy one
            if key is not None:
                return key
            _replace(root_fd, tmp, KEY_NAME)
        except OSError:  # no hard links on this file system
            _replace(root_fd, tmp, KEY_NAME)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=root_fd)
    return _read_key(root_fd)


def _write_temp(dir_fd: int, name: str, parts: tuple) -> str:
    """A new, uniquely named file (``O_EXCL``, mode 0600) in ``dir_fd`` holding ``parts``."""
    tmp = f".{name}.{os.getpid()}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, _CREATE, 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    return tmp


def _publish(dir_fd: int, name: str, parts: tuple) -> None:
    tmp = _write_temp(dir_fd, name, parts)
    try:
        _replace(dir_fd, tmp, name)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def _replace(dir_fd: int, tmp: str, name: str) -> None:
    """Rename ``tmp`` over ``name`` (a link there is replaced, not followed); an empty folder
    planted under ``name`` is removed first, a non-empty one is left alone (OSError)."""
    try:
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError as e:
        if e.errno not in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):
            raise
        os.rmdir(name, dir_fd=dir_fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
