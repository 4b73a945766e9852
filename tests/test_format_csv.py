"""CSV: the conformance suite (default dialect and two others) plus CSV specifics."""

from __future__ import annotations

import codecs
import datetime as dt
import decimal
import gzip
import itertools
import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

import csv_generator as csvg
from csv_generator import streams
from shared.api import load_schema
from tests.conformance import FormatConformance, rewrite_table
from tests.helpers import ROOT


def _options_of(args: tuple[str, ...]) -> dict[str, str]:
    return dict(a.split("=", 1) for a in args[1::2])


def _decompress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.decompress(data)
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(data).read()
    return data


def _compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


class CsvConformance(FormatConformance):
    """The suite with CSV's tamper hooks: rewrites keep the run's dialect (from the sidecar)."""

    FORMAT = "csv"
    MODULE = "generators.csv_generator"

    def csv_options(self) -> csvg.CsvOptions:
        return csvg.parse_options(_options_of(self.GENERATE_ARGS))

    def rewrite_table(self, fmt, out: Path, schema, table: str, data: pa.Table) -> None:
        rewrite_table(fmt, out, schema, table, data, self.csv_options().to_dict())

    def break_line(self, fmt, out: Path, schema, table: str) -> None:
        """Insert a malformed line (too few fields) at a line boundary in the middle of the text."""
        o = self.csv_options()
        d = o.dialect
        p = Path(fmt.artifacts(out, schema.table(table))[0])
        text = _decompress(p.read_bytes(), o.compression).decode(d.encoding)
        at = text.index(d.line_terminator, len(text) // 2) + len(d.line_terminator)
        text = text[:at] + f"broken{d.delimiter}line" + d.line_terminator + text[at:]
        p.write_bytes(_compress(codecs.encode(text, d.encoding), o.compression))


class TestCsvConformance(CsvConformance):
    def test_header_row_first_and_sidecar(self, generated):
        m = json.loads((generated / "manifest.json").read_text())
        paths = {f["path"] for f in m["files"]}
        assert {"people.csv", "orders.csv", "follows.csv", csvg.SIDECAR} <= paths
        assert m["options"]["quoting"] == "strings" and m["options"]["compression"] == "none"
        first = (generated / "people.csv").read_text().split("\n", 1)[0]
        assert first.startswith('"person_id","name","email","age",')
        assert csvg.load_options(generated) == csvg.CsvOptions()

    def test_read_without_sidecar_assumes_default(self, fmt, generated, schema_file, tmp_path):
        out = self.fresh_copy(generated, tmp_path)
        schema = load_schema(str(schema_file))
        before = self.read(fmt, out, schema, "people")
        (out / csvg.SIDECAR).unlink()
        assert self.read(fmt, out, schema, "people").equals(before)

    def test_compressed_outputs_decompress_to_the_same_csv(self, app, schema_file, generated, tmp_path):
        for comp, suffix in (("gzip", ".csv.gz"), ("zstd", ".csv.zst")):
            out = tmp_path / comp
            res = self.generate(app, schema_file, out, "--option", f"compression={comp}")
            assert res.exit_code == 0, res.output
            for table in ("people", "orders", "follows"):
                raw = (out / (table + suffix)).read_bytes()
                assert _decompress(raw, comp) == (generated / f"{table}.csv").read_bytes()
                if comp == "gzip":  # deterministic header: no mtime, no file name
                    assert raw[:4] == b"\x1f\x8b\x08\x00" and raw[4:8] == b"\0\0\0\0"
            assert not list(out.glob("*.csv"))
            assert self.validate(app, schema_file, out).exit_code == 0

    @pytest.mark.parametrize("option, valid", [
        ("quoting=fancy", "strings, needed, all, none"),
        ("delimiter=ab", "one character"),
        ("delimiter=.", "one character"),
        ("compression=lz4", "none, gzip, zstd"),
        ("encoding=ebcdic", "utf-8, utf-8-sig, latin-1, utf-16"),
        ("header=maybe", "true or false"),
        ("line_terminator=cr", "lf or crlf"),
        ("null=NA,x", "must not contain"),
        ("null=0", "must not look like a number"),
        ("delimitr=;", "did you mean delimiter"),
    ])
    def test_bad_option_exits_2(self, app, schema_file, tmp_path, option, valid):
        out = tmp_path / "o"
        res = self.generate(app, schema_file, out, "--option", option)
        assert res.exit_code == 2
        assert valid in res.stderr and "--option" in res.stderr
        assert "Traceback" not in res.stderr and not out.exists()

    def test_every_problem_in_one_message(self, app, schema_file, tmp_path):
        res = self.generate(app, schema_file, tmp_path / "o", "--option", "quoting=x", "--option", "encoding=y")
        assert res.exit_code == 2 and "quoting=x" in res.stderr and "encoding=y" in res.stderr

    def test_quoting_none_refuses_a_value_that_needs_quotes(self, app, schema_file, tmp_path):
        out = tmp_path / "o"
        res = self.generate(app, schema_file, out, "--option", "quoting=none")
        assert res.exit_code == 3
        assert "quoting=none" in res.stderr and "tier" in res.stderr and "unexpected" not in res.stderr
        assert not out.exists()


class TestCsvConformanceNeededGzip(CsvConformance):
    """Minimal quoting, ';', CRLF, a \\N null marker, gzip."""

    GENERATE_ARGS = ("--option", "delimiter=;", "--option", "compression=gzip", "--option", "quoting=needed",
                     "--option", "line_terminator=crlf", "--option", "null=\\N")

    def test_text(self, generated):
        text = gzip.decompress((generated / "people.csv.gz").read_bytes()).decode()
        assert text.startswith("person_id;name;email;age;")
        lines = text.split("\r\n")
        assert lines[1].startswith("1;") and "\\N" in text and '"pro, ""max"""' in text
        assert not (generated / "people.csv").exists()


class TestCsvConformanceAllZstdUtf16(CsvConformance):
    """Every value quoted, tab-delimited, no header, UTF-16, zstd."""

    GENERATE_ARGS = ("--option", "quoting=all", "--option", "delimiter=tab", "--option", "header=false",
                     "--option", "encoding=utf-16", "--option", "compression=zstd")

    def test_text(self, generated):
        raw = _decompress((generated / "people.csv.zst").read_bytes(), "zstd")
        assert raw[:2] == codecs.BOM_UTF16_LE
        assert raw[2:].decode("utf-16-le").startswith('"1"\t"')


# --- the csv_generator package ---------------------------------------------------------------

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
TS = pa.timestamp("us", tz="UTC")
TRICKY = ["", None, "plain", 'a,b;c\td|e', 'say "hi"', "line\nbreak", "crlf\r\nend", "  padded  ", "\\N", "NULL",
          "ünïcödé", '"', ",", "true", "123"]


def _typed_table() -> pa.Table:
    utc = dt.UTC
    return pa.table({
        "i": pa.array([1, None, -3, 2**62], pa.int64()),
        "i8": pa.array([1, -128, 127, None], pa.int8()),
        "f": pa.array([0.1, 1e-7, 1e20, None], pa.float64()),
        "f32": pa.array([0.1, 1.5, None, 3.4e38], pa.float32()),
        "d": pa.array([decimal.Decimal("123.45"), decimal.Decimal("-0.05"), None, decimal.Decimal("9999999999.99")],
                      pa.decimal128(12, 2)),
        "b": pa.array([True, False, None, True]),
        "day": pa.array([dt.date(2024, 1, 2), None, dt.date(1, 1, 1), dt.date(9999, 12, 31)], pa.date32()),
        "ts": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=utc),
                        dt.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=utc),
                        None, dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=utc)], TS),
        "u": pa.array([UUID, None, UUID, UUID], pa.string()),
        "s": pa.array(["", None, "x", 'q"'], pa.string()),
    })


def _roundtrip(tmp_path: Path, table: pa.Table, dialect=csvg.DEFAULT_DIALECT, compression="none") -> pa.Table:
    p = tmp_path / csvg.file_name("t", compression)
    p.unlink(missing_ok=True)
    csvg.write_csv(table, p, dialect, compression)
    return csvg.read_csv(p, table.schema, dialect)


def test_text_forms_of_the_default_dialect(tmp_path):
    t = _typed_table()
    p = csvg.write_csv(t, tmp_path / "t.csv")
    lines = p.read_text().split("\n")
    assert lines[0] == '"i","i8","f","f32","d","b","day","ts","u","s"'
    assert lines[1] == f'1,1,0.1,0.1,123.45,true,2024-01-02,2024-01-02 03:04:05.123456Z,"{UUID}",""'
    assert lines[2] == ',-128,1e-7,1.5,-0.05,false,,1969-12-31 23:59:59.000001Z,,'
    assert lines[3] == f'-3,127,1e+20,,,,0001-01-01,,"{UUID}","x"'
    assert lines[4] == f'4611686018427387904,,,3.4e+38,9999999999.99,true,9999-12-31,9999-12-31 23:59:59.999999Z,"{UUID}","q"""'
    assert lines[5] == ""
    got = csvg.read_csv(p, t.schema)
    assert got.schema == t.schema and got.equals(t)
    assert got.column("ts").type == pa.timestamp("us", tz="UTC")


def test_timestamp_text_reads_back_identically(tmp_path):
    """What pyarrow writes for timestamp[us, UTC] reads back to the same microsecond, over the range."""
    import numpy as np

    us = np.random.default_rng(7).integers(-62135596800 * 10**6, 253402300799 * 10**6, 5000)
    t = pa.table({"ts": pa.array(np.concatenate([us, [0, -1, 1]]), TS)})
    for quoting in ("strings", "needed", "all", "none"):
        assert _roundtrip(tmp_path, t, csvg.Dialect(quoting=quoting)).equals(t)


@pytest.mark.parametrize("quoting", ["strings", "needed", "all"])
@pytest.mark.parametrize("null", ["", "\\N"])
def test_empty_string_and_null_stay_apart(tmp_path, quoting, null):
    t = pa.table({"s": pa.array(["", None, "x", "", None], pa.string()), "n": pa.array([None, 1, None, 2, 3])})
    got = _roundtrip(tmp_path, t, csvg.Dialect(quoting=quoting, null=null))
    assert got.column("s").to_pylist() == ["", None, "x", "", None]
    assert got.equals(t)


def test_quoting_none_empty_string_needs_a_null_marker(tmp_path):
    t = pa.table({"s": pa.array(["", None, "x"], pa.string())})
    # documented: with quoting=none and an empty null marker, "" and null are the same text
    assert _roundtrip(tmp_path, t, csvg.Dialect(quoting="none")).column("s").to_pylist() == [None, None, "x"]
    assert _roundtrip(tmp_path, t, csvg.Dialect(quoting="none", null="\\N")).equals(t)


def test_quoting_none_refuses_values_that_need_quotes(tmp_path):
    t = pa.table({"a": [1, 2], "s": pa.array(["ok", "a,b"])})
    with pytest.raises(csvg.CsvWriteError, match="column s's value 'a,b'"):
        csvg.write_csv(t, tmp_path / "t.csv", csvg.Dialect(quoting="none"))
    assert not (tmp_path / "t.csv").exists()  # the partial file is removed
    csvg.write_csv(t, tmp_path / "t.csv", csvg.Dialect(quoting="none", delimiter=";"))
    assert (tmp_path / "t.csv").read_text() == "a;s\n1;ok\n2;a,b\n"


def test_tricky_values_round_trip_in_every_dialect(tmp_path):
    """Delimiters, quotes, line breaks, null look-alikes: every quoting x delimiter x terminator x encoding."""
    t = pa.table({"id": pa.array(range(len(TRICKY)), pa.int32()), "s": pa.array(TRICKY, pa.string()),
                  "s2": pa.array(list(reversed(TRICKY)), pa.string())})
    for quoting, delim, lt, enc in itertools.product(("strings", "needed", "all"), (",", ";", "\t", "|"),
                                                     ("\n", "\r\n"), csvg.ENCODINGS):
        null = "\\N" if delim == "|" else ""  # a marker that also occurs as a (quoted) string value
        d = csvg.Dialect(delimiter=delim, quoting=quoting, line_terminator=lt, encoding=enc, null=null)
        got = _roundtrip(tmp_path, t, d)
        assert got.equals(t), (d, got.to_pylist())
    for comp in ("gzip", "zstd"):
        assert _roundtrip(tmp_path, t, csvg.Dialect(quoting="needed"), comp).equals(t)


def test_needed_quoting_text(tmp_path):
    t = pa.table({"n": pa.array([1, None, 3]), "s": pa.array(["pro, \"max\"", "", None]),
                  "x": pa.array(["plain", "\\N", "a\nb"])})
    p = csvg.write_csv(t, tmp_path / "t.csv", csvg.Dialect(quoting="needed", null="\\N"))
    assert p.read_text() == 'n,s,x\n1,"pro, ""max""",plain\n\\N,"","\\N"\n3,\\N,"a\nb"\n'


def test_all_quoting_text(tmp_path):
    t = pa.table({"n": pa.array([1, None]), "b": pa.array([True, False]), "s": pa.array(["", None])})
    p = csvg.write_csv(t, tmp_path / "t.csv", csvg.Dialect(quoting="all"))
    assert p.read_text() == '"n","b","s"\n"1","true",""\n,"false",\n'


def test_typed_round_trip_in_every_quoting_and_compression(tmp_path):
    t = _typed_table()
    for quoting, comp in itertools.product(("strings", "needed", "all"), csvg.COMPRESSIONS):
        assert _roundtrip(tmp_path, t, csvg.Dialect(quoting=quoting), comp).equals(t), (quoting, comp)


def test_header_false_round_trips(tmp_path):
    t = _typed_table()
    for quoting in ("strings", "needed"):
        d = csvg.Dialect(header=False, quoting=quoting)
        p = csvg.write_csv(t, tmp_path / f"{quoting}.csv", d)
        assert p.read_text().startswith("1,1,0.1,")
        assert csvg.read_csv(p, t.schema, d).equals(t)


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("quoting", ["strings", "needed"])
def test_empty_table_round_trips(tmp_path, header, quoting):
    t = _typed_table().slice(0, 0)
    d = csvg.Dialect(header=header, quoting=quoting, encoding="utf-16")
    got = _roundtrip(tmp_path, t, d, "gzip")
    assert got.num_rows == 0 and got.schema == t.schema


def test_one_column_of_nulls_round_trips(tmp_path):
    """A row holding one null is an empty line: the reader must not skip it."""
    t = pa.table({"s": pa.array([None, "", None, "x", None], pa.string())})
    for quoting in ("strings", "needed", "all"):
        assert _roundtrip(tmp_path, t, csvg.Dialect(quoting=quoting)).equals(t)
    t = pa.table({"n": pa.array([None, 1, None], pa.int64())})
    assert _roundtrip(tmp_path, t, csvg.Dialect(header=False)).equals(t)


def _mixed(n: int) -> pa.Table:
    import numpy as np

    rng = np.random.default_rng(3)
    words = np.array(["alpha", "b,c", 'q"uote', "", "new\nline", "ünï", "x" * 40])
    s = pa.array(words[rng.integers(0, len(words), n)])
    mask = pa.array(rng.random(n) < 0.2)
    return pa.table({
        "id": pa.array(np.arange(n)), "f": pa.array(rng.normal(size=n)),
        "s": pa.compute.if_else(mask, pa.scalar(None, pa.string()), s),
        "ts": pa.array(rng.integers(0, 2 * 10**15, n), TS),
        "d": pa.compute.cast(pa.array(rng.integers(-10**6, 10**6, n)), pa.decimal128(21, 2)),
    })


def test_bytes_do_not_depend_on_batch_sizes(tmp_path, monkeypatch):
    monkeypatch.setattr(streams, "CHUNK", 4096)  # exercise re-chunking with a small table
    t = _mixed(3000)
    for quoting, comp, enc in itertools.product(("strings", "needed"), csvg.COMPRESSIONS, ("utf-8", "utf-16")):
        d = csvg.Dialect(quoting=quoting, encoding=enc)
        outs = []
        for i, size in enumerate((None, 1000, 333, 7)):
            p = tmp_path / f"{i}{csvg.file_name('t', comp)}"
            with csvg.CsvWriter(p, t.schema, d, comp) as w:
                for b in (t.to_batches() if size is None else t.to_batches(max_chunksize=size)):
                    w.write_batch(b)
                w.write_batch(pa.RecordBatch.from_pylist([], schema=t.schema))  # an empty batch changes nothing
            outs.append(p.read_bytes())
            p.unlink()
        assert all(o == outs[0] for o in outs), (quoting, comp, enc)
        csvg.write_csv(t, tmp_path / csvg.file_name("r", comp), d, comp)
        assert csvg.read_csv(tmp_path / csvg.file_name("r", comp), t.schema, d).equals(t)
        (tmp_path / csvg.file_name("r", comp)).unlink()


def test_encodings(tmp_path):
    t = pa.table({"s": pa.array(["ünï", "x"])})
    plain = csvg.write_csv(t, tmp_path / "u.csv").read_bytes()
    sig = csvg.write_csv(t, tmp_path / "s.csv", csvg.Dialect(encoding="utf-8-sig")).read_bytes()
    assert sig == codecs.BOM_UTF8 + plain
    u16 = csvg.write_csv(t, tmp_path / "w.csv", csvg.Dialect(encoding="utf-16")).read_bytes()
    assert u16 == codecs.BOM_UTF16_LE + plain.decode().encode("utf-16-le")
    l1 = csvg.write_csv(t, tmp_path / "l.csv", csvg.Dialect(encoding="latin-1")).read_bytes()
    assert l1 == plain.decode().encode("latin-1")
    with pytest.raises(csvg.CsvWriteError, match=r"U\+20AC.*latin-1"):
        csvg.write_csv(pa.table({"s": ["5 €"]}), tmp_path / "bad.csv", csvg.Dialect(encoding="latin-1"))
    assert not (tmp_path / "bad.csv").exists()


def test_parse_options():
    o = csvg.parse_options({"delimiter": "tab", "quoting": "NonNumeric", "header": "no", "line_terminator": "CRLF",
                            "encoding": "latin1", "compression": "gz", "null": "\\N"})
    assert o == csvg.CsvOptions(csvg.Dialect("\t", "strings", False, "\\N", "\r\n", "latin-1"), "gzip")
    assert csvg.CsvOptions.from_dict(o.to_dict()) == o
    assert csvg.parse_options({}) == csvg.CsvOptions()
    assert csvg.parse_options({"quoting": "minimal"}).dialect.quoting == "needed"
    with pytest.raises(csvg.DialectError) as e:
        csvg.parse_options({"quoting": "x", "delimiter": "::", "colour": "red"})
    assert len(e.value.problems) == 3
    with pytest.raises(csvg.DialectError, match="delimiter"):
        csvg.Dialect(delimiter='"')
    with pytest.raises(csvg.DialectError, match="null"):
        csvg.Dialect(delimiter=";", null="a;b")


def test_broken_sidecar_is_a_parse_failure(tmp_path):
    (tmp_path / csvg.SIDECAR).write_text('{"csv_dialect_version": 1, "quoting": "weird"}')
    with pytest.raises(csvg.DialectError, match="quoting"):
        csvg.load_options(tmp_path)
    (tmp_path / csvg.SIDECAR).write_text("{nope")
    with pytest.raises(csvg.DialectError, match="JSON"):
        csvg.load_options(tmp_path)


def test_docs_name_every_option_and_value():
    doc = (ROOT / "docs" / "formats" / "csv.md").read_text()
    for word in (*csvg.OPTION_KEYS, *csvg.QUOTING, *csvg.ENCODINGS, *csvg.COMPRESSIONS, csvg.SIDECAR, "lf", "crlf"):
        assert re.search(rf"`{re.escape(word)}", doc), word


def test_frontend_artifacts_follow_the_sidecar(tmp_path):
    import generators.csv_generator.format  # noqa: F401 - registers "csv"
    from shared.formats import FORMATS

    fmt = FORMATS["csv"]
    schema = load_schema(str(ROOT / "schemas" / "examples" / "default.yaml"))
    table = schema.tables[0]
    assert fmt.artifacts(tmp_path, table) == [tmp_path / f"{table.name}.csv"]
    (tmp_path / f"{table.name}.csv.zst").write_bytes(b"")
    assert fmt.artifacts(tmp_path, table) == [tmp_path / f"{table.name}.csv.zst"]
    csvg.save_options(tmp_path, csvg.CsvOptions(compression="gzip"))
    assert fmt.artifacts(tmp_path, table) == [tmp_path / f"{table.name}.csv.gz"]


def test_fast_timestamp_text_equals_pyarrows():
    """value_text formats UTC timestamps as naive + Z: the same text as pyarrow's own tz formatting."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from csv_generator.writer import value_text

    rng = np.random.default_rng(5)
    us = rng.integers(-62_135_596_800_000_000, 253_402_300_799_999_999, 20_000)
    arr = pa.array(us, pa.timestamp("us", tz="UTC"))
    arr = pc.if_else(pa.array(rng.random(20_000) < 0.1), pa.scalar(None, arr.type), arr)
    assert value_text(arr).equals(pc.cast(arr, pa.string()))


def _awkward_table(n: int = 2_000) -> pa.Table:
    """Every column kind, nulls, empty strings, quotes, delimiters, line breaks and non-ASCII."""
    import numpy as np

    rng = np.random.default_rng(3)
    words = ["plain", "", 'say "hi"', "a,b", "two\nlines", "cr\rhere", "ünï", "NULL", "semi;colon", "tab\there"]

    def with_nulls(arr: pa.Array) -> pa.Array:
        import pyarrow.compute as pc

        return pc.if_else(pa.array(rng.random(n) < 0.15), pa.scalar(None, arr.type), arr)

    cols = {
        "i": pa.array(rng.integers(-10**12, 10**12, n)),
        "s": pa.array([words[k] for k in rng.integers(0, len(words), n)]),
        "f": pa.array(rng.standard_normal(n) * 10.0 ** rng.integers(-8, 20, n)),
        "b": pa.array(rng.random(n) < 0.5),
        "dec": pa.array([decimal.Decimal(int(v)).scaleb(-2) for v in rng.integers(-10**6, 10**6, n)],
                        pa.decimal128(9, 2)),
        "d": pa.array(rng.integers(-30_000, 30_000, n).astype("int32"), pa.int32()).cast(pa.date32()),
        "ts": pa.array(rng.integers(-10**16, 10**16, n), pa.timestamp("us", tz="UTC")),
    }
    out = {}
    for k, v in cols.items():
        out[k] = v
        out[k + "_n"] = with_nulls(v)
    return pa.table(out)


@pytest.mark.parametrize("quoting, arrow_style", [("strings", "needed"), ("all", "all_valid"), ("none", "none")])
@pytest.mark.parametrize("null", ["", "NULL", "\\N"])
def test_renderer_writes_pyarrows_bytes(quoting, arrow_style, null):
    """Every quoting style pyarrow has gives the same bytes as pyarrow's CSVWriter (the renderer
    replaced it: same text, 45× faster UTC timestamps, one join per batch)."""
    import io

    import pyarrow.csv as pacsv

    from csv_generator.writer import render_header, render_rows

    table = _awkward_table()
    if quoting == "none":  # pyarrow refuses values that would need quotes; so does datagen
        table = table.drop_columns(["s", "s_n"])
    d = csvg.Dialect(quoting=quoting, null=null if not (quoting == "none" and null == "NULL") else "\\N")
    ours = render_header(table.schema.names, d, quote_all=quoting in ("strings", "all"))
    ours += b"".join(render_rows(b, d).to_pybytes() for b in table.to_batches(max_chunksize=333))
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style=arrow_style, quoting_header=arrow_style,
                                                   null_string=d.null))
    assert ours == buf.getvalue()


@pytest.mark.parametrize("null", ["", "NULL"])
def test_needed_quoting_reads_back(tmp_path, null):
    """quoting=needed (which pyarrow lacks) reads back to the same values with Python's csv module."""
    import csv

    table = _awkward_table(500).select(["i", "s", "s_n", "f"])
    d = csvg.Dialect(quoting="needed", null=null)
    path = tmp_path / "t.csv"
    csvg.write_csv(table, path, d)
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    assert rows[0] == table.schema.names
    for got, want in zip(rows[1:], table.to_pylist(), strict=True):
        assert got[1] == want["s"]
        assert got[2] == (null if want["s_n"] is None else want["s_n"])


def test_fast_float_text_equals_arrows():
    """float64_text (orjson where it writes Arrow's text, Arrow's cast elsewhere) against Arrow's
    cast: random bit patterns (every exponent, subnormals, NaN payloads), every magnitude, whole
    numbers, the window's edges, nulls; with and without the trailing comma."""
    import numpy as np
    import pyarrow.compute as pc

    from csv_generator.writer import float64_text

    rng = np.random.default_rng(17)
    edge = [0.0, -0.0, 1.0, -2.0, 0.5, 1e-5, 9.99999e-6, 1.00001e-5, 1e9, 999999999.5, 1e9 + 0.5, 5e-324,
            2.2250738585072014e-308, 1.7976931348623157e308, float("nan"), float("inf"), float("-inf"), 0.1, 1e-7]
    samples = [np.array(edge), rng.integers(0, 2**63, 100_000, dtype=np.int64).view(np.float64),
               10.0 ** rng.uniform(-9, 17, 100_000) * rng.choice([-1.0, 1.0], 100_000),
               np.round(rng.random(100_000) * 1e6, 2), np.arange(-500.0, 500.0), rng.gamma(2, 25, 100_000)]
    for x in samples:
        for nulls in (0.0, 0.2):
            arr = pa.array(x, mask=rng.random(len(x)) < nulls)
            want = pc.cast(arr, pa.string())
            assert float64_text(arr).equals(want)
            assert float64_text(arr, comma=True).equals(pc.binary_join_element_wise(want, ",", ""))
            assert float64_text(arr.slice(3, 1000)).equals(want.slice(3, 1000))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=60))
def test_fast_float_text_property(values):
    import pyarrow.compute as pc

    from csv_generator.writer import float64_text

    arr = pa.array(values, pa.float64())
    assert float64_text(arr).equals(pc.cast(arr, pa.string()))
