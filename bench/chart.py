"""Throughput against rows and workers as a PNG line chart, drawn with the standard library only.

    python -m bench.chart [-o docs/performance.png] [bench/results.json ...]

Reads the reference workload's Parquet measurements (datagen with each worker count, and the
hand-vectorised baseline) from one or more results.json files (e.g. a small-scale and a
large-scale run, to span more row counts). A tiny rasteriser: an RGB canvas, Bresenham lines, a
5×7 bitmap font, written as PNG with zlib + struct (matplotlib is not a dependency).
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import zlib
from pathlib import Path

_GLYPHS = """0:0E11131519110E 1:040C040404040E 2:0E11010204081F 3:1F02040201110E 4:02060A121F0202 5:1F101E0101110E
6:0608101E11110E 7:1F010204080808 8:0E11110E11110E 9:0E11110F01020C .:00000000000C0C ,:000000000C0408
/:00010204081000 (:02040808080402 ):08040202020408 +:0004041F040400 -:0000001F000000 =:00001F001F0000 ::000C0C000C0C00
M:111B1515111111 P:1E11111E101010 a:00000E010F110F b:1010161911111E c:00000E1010110E d:01010D1311110F
e:00000E111F100E f:0609081C080808 g:000F11110F010E h:10101619111111 i:04000C0404040E j:0200060202120C
k:10101214181412 l:0C04040404040E m:00001A15151111 n:00001619111111 o:00000E1111110E p:00001E111E1010
q:00000D130F0101 r:00001619101010 s:00000E100E011E t:08081C08080906 u:0000111111130D v:00001111110A04
w:0000111115150A x:0000110A040A11 y:000011110F010E z:00001F0204081F"""
FONT = {g[0]: bytes.fromhex(g[2:]) for g in _GLYPHS.split()} | {" ": bytes(7)}

WHITE, BLACK, GREY, LIGHT = (255, 255, 255), (30, 30, 30), (120, 120, 120), (225, 225, 225)
COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]


class Canvas:
    def __init__(self, w: int, h: int):
        self.w, self.h = w, h
        self.px = bytearray(WHITE * (w * h))

    def dot(self, x: int, y: int, c, r: int = 0) -> None:
        for yy in range(y - r, y + r + 1):
            for xx in range(x - r, x + r + 1):
                if 0 <= xx < self.w and 0 <= yy < self.h:
                    i = 3 * (yy * self.w + xx)
                    self.px[i:i + 3] = bytes(c)

    def line(self, x0: int, y0: int, x1: int, y1: int, c, r: int = 0) -> None:
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            self.dot(x0, y0, c, r)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err, x0 = err + dy, x0 + sx
            if e2 <= dx:
                err, y0 = err + dx, y0 + sy

    def text(self, x: int, y: int, s: str, c=BLACK, k: int = 2, anchor: str = "left") -> None:
        """Text with its top at y; anchor left, right or centre on x."""
        width = len(s) * 6 * k
        x -= width if anchor == "right" else width // 2 if anchor == "centre" else 0
        for ch in s:
            for row, bits in enumerate(FONT.get(ch, FONT[" "])):
                for col in range(5):
                    if bits & (0x10 >> col):
                        for yy in range(k):
                            for xx in range(k):
                                self.dot(x + col * k + xx, y + row * k + yy, c)
            x += 6 * k

    def png(self) -> bytes:
        raw = b"".join(b"\0" + bytes(self.px[3 * self.w * y:3 * self.w * (y + 1)]) for y in range(self.h))

        def chunk(tag: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def _si(v: float) -> str:
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"


def series(docs: list[dict]) -> dict[str, list[tuple[int, int]]]:
    """rows → rows/s per (program, workers), over the reference workload's Parquet runs of every doc."""
    out: dict[str, dict[int, int]] = {}
    for doc in docs:
        for r in doc["results"]:
            if r["workload"] != "reference" or r["format"] != "parquet" or r["program"] not in ("datagen", "handvec"):
                continue
            name = (f"datagen {r['workers']} worker" + ("s" if r["workers"] > 1 else "") if r["program"] == "datagen"
                    else "handvec (numpy+pyarrow, 1 process)")
            out.setdefault(name, {})[r["rows"]] = r["rows_per_s"]
    return {k: sorted(v.items()) for k, v in sorted(out.items())}


def render(docs: list[dict], w: int = 760, h: int = 440) -> bytes:
    """The chart; the rows axis is logarithmic when the row counts span more than 20×."""
    data = series(docs)
    cv = Canvas(w, h)
    left, right, top, bottom = 96, w - 24, 72, h - 60
    xs_all = [x for s in data.values() for x, _ in s]
    ymax = max(y for s in data.values() for _, y in s) * 1.15
    log = max(xs_all) / min(xs_all) > 20
    if log:
        lo, hi = math.log10(min(xs_all) / 1.5), math.log10(max(xs_all) * 1.5)
        xticks = [m * 10 ** e for e in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)
                  if lo <= math.log10(m * 10 ** e) <= hi]
    else:
        lo, hi = 0.0, max(xs_all) * 1.05
        step = _nice_step(hi)
        xticks = [i * step for i in range(int(hi / step) + 1)]
    ys = _nice_step(ymax)

    def to_px(x: float, y: float) -> tuple[int, int]:
        fx = (math.log10(x) - lo) / (hi - lo) if log else x / hi
        return round(left + fx * (right - left)), round(bottom - y / ymax * (bottom - top))

    for i in range(int(ymax / ys) + 1):
        _, py = to_px(xticks[0] or 1, i * ys)
        cv.line(left, py, right, py, LIGHT)
        cv.text(left - 8, py - 7, _si(i * ys), GREY, anchor="right")
    for x in xticks:
        px, _ = to_px(x, 0)
        cv.line(px, bottom, px, bottom + 5, GREY)
        cv.text(px, bottom + 10, _si(x), GREY, anchor="centre")
    cv.line(left, top, left, bottom, BLACK)
    cv.line(left, bottom, right, bottom, BLACK)
    cv.text(w // 2, 12, "reference workload to parquet, 1 and n workers", anchor="centre")
    cv.text(right, bottom + 34, "rows (log)" if log else "rows", GREY, anchor="right")
    cv.text(left, top - 26, "rows/s", GREY, anchor="centre")
    for n, (name, pts) in enumerate(data.items()):
        c = COLOURS[n % len(COLOURS)]
        prev = None
        for x, y in pts:
            p = to_px(x, y)
            if prev:
                cv.line(*prev, *p, c, 1)
            cv.dot(*p, c, 4)
            prev = p
        lx, ly = right - 12 * max(map(len, data)) - 70, bottom - 22 * (len(data) - n) - 8  # legend: bottom right
        cv.line(lx, ly + 7, lx + 28, ly + 7, c, 1)
        cv.text(lx + 38, ly, name, c)
    return cv.png()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="*", type=Path, default=[Path(__file__).parent / "results.json"])
    ap.add_argument("-o", "--out", type=Path, default=Path(__file__).parents[1] / "docs" / "performance.png")
    a = ap.parse_args(argv)
    a.out.write_bytes(render([json.loads(p.read_text(encoding="utf-8")) for p in a.results]))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
