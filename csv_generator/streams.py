"""The byte chain below the CSV text: encoding, fixed-size chunking, compression, the file.

``OutputChain(path, encoding, compression)`` takes UTF-8 text (what pyarrow's CSV writer
produces) with ``write()`` and:

1. **encodes** it: ``utf-8`` passes through; ``utf-8-sig`` only prepends a BOM; ``latin-1`` and
   ``utf-16`` are the slow path, transcoded with Python's incremental codecs (``utf-16`` is
   always little-endian with a BOM, whatever the machine, so the bytes are the same everywhere);
2. **re-chunks** the bytes into pieces of exactly ``CHUNK`` bytes, so the compressor sees the same
   calls whatever the sizes of the batches above — the compressed bytes depend only on the text
   (uncompressed text is written as it comes, without a copy);
3. **compresses**: gzip through ``gzip.GzipFile`` with ``mtime=0`` and no file name in the
   header (deterministic), zstd through ``zstandard`` (single-threaded, level 3), or nothing.

Memory stays bounded by one chunk plus what one ``write()`` brings.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
from pathlib import Path

from csv_generator.errors import CsvWriteError

CHUNK = 1 << 20
GZIP_LEVEL = 6
ZSTD_LEVEL = 3

#: encoding -> (prefix written once, Python codec used to transcode or None for UTF-8 as is)
_ENCODINGS = {
    "utf-8": (b"", None),
    "utf-8-sig": (codecs.BOM_UTF8, None),
    "latin-1": (b"", "latin-1"),
    "utf-16": (codecs.BOM_UTF16_LE, "utf-16-le"),
}


class OutputChain:
    def __init__(self, path: Path, encoding: str = "utf-8", compression: str = "none", raw=None):
        self.path = Path(path)
        self.encoding = encoding
        prefix, codec = _ENCODINGS[encoding]
        self._decoder = codecs.getincrementaldecoder("utf-8")() if codec else None
        self._encoder = codecs.getincrementalencoder(codec)() if codec else None
        self._raw = raw if raw is not None else open(self.path, "xb")  # noqa: SIM115 - closed in close()/abort()
        if compression == "gzip":
            self._sink = gzip.GzipFile(filename="", mode="wb", compresslevel=GZIP_LEVEL, fileobj=self._raw, mtime=0)
        elif compression == "zstd":
            import zstandard

            self._sink = zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(self._raw, closefd=False)
        else:
            self._sink = self._raw
        self._buf = bytearray(prefix)
        self.closed = False

    def write(self, data: bytes) -> int:
        """Take UTF-8 text bytes."""
        if not data:
            return 0
        if self._encoder is not None:
            text = self._decoder.decode(bytes(data))
            try:
                out = self._encoder.encode(text)
            except UnicodeEncodeError as exc:
                bad = exc.object[exc.start:exc.end]
                raise CsvWriteError(
                    f"{self.path.name}: cannot encode {bad!r} (U+{ord(bad[0]):04X}) in {self.encoding}; "
                    "use encoding=utf-8 (or utf-8-sig, utf-16)") from None
        else:
            out = data
        if self._sink is self._raw:  # no compressor: chunk sizes cannot matter, write as it comes
            if self._buf:
                self._raw.write(bytes(self._buf))
                self._buf.clear()
            self._raw.write(out)
            return len(data)
        self._buf += out
        if len(self._buf) >= CHUNK:
            n = len(self._buf) - len(self._buf) % CHUNK
            for i in range(0, n, CHUNK):
                self._sink.write(bytes(self._buf[i:i + CHUNK]))
            del self._buf[:n]
        return len(data)

    def close(self) -> None:
        if self.closed:
            return
        if self._encoder is not None:
            self._buf += self._encoder.encode(self._decoder.decode(b"", final=True), final=True)
        if self._buf:
            self._sink.write(bytes(self._buf))
            self._buf.clear()
        if self._sink is not self._raw:
            self._sink.close()
        self._raw.close()
        self.closed = True

    def abort(self) -> None:
        """Close without finishing and remove the partial file."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            if self._sink is not self._raw:
                self._sink.close()
        with contextlib.suppress(Exception):
            self._raw.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
