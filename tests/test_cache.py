"""The cache is input too (issue 11, item 19).

A Faker pool read from the disk cache becomes output values, and ``validate`` replays through
the same pools, so a cache entry is checked like any input (``shared.io.cache``): a keyed digest
over its exact bytes and the inputs that built it. Here, against a cache written by a real run:

* entries overwritten with plausible data (a valid Arrow file of attacker values, our header
  kept over another payload, a tag under a guessed key, a genuine entry of another pool) never
  reach the output: it is byte-identical to a run on a fresh cache, and the entry is rebuilt;
  ``validate`` passes the genuine output with the poisoned cache in place;
* damage (zero columns, truncation, garbage, a folder, a FIFO or a link in place of an entry; a
  missing, short, loose or linked key) never fails a run and never changes a byte;
* the key is created 0600 whatever the umask; concurrent runs building one entry end with a
  valid entry; a subprocess run prints nothing and exits 0 over a damaged cache;
* the memory that a Faker provider passed its load-time check is an entry too: a forged one
  cannot let a bad provider past the schema check (it would fail mid-run, exit 3).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

import datagen
from shared.distributions import pools
from shared.io import cache
from tests.helpers import ROOT

SCHEMA = textwrap.dedent("""\
    version: 1
    name: cached
    seed: 21
    tables:
      - name: people
        rows: 60
        primary_key: id
        columns:
          - {name: id, type: int64, generator: sequence}
          - {name: city, type: string, generator: {type: faker, params: {provider: city}}}
          - {name: street, type: string, generator: {type: faker, params: {provider: street_name}}}
          - {name: tags, type: string, generator: {type: words, params: {min: 1, max: 2}}}
""")
EVIL = "EVIL"


@pytest.fixture
def schema(tmp_path: Path) -> Path:
    p = tmp_path / "cached.yaml"
    p.write_text(SCHEMA, encoding="utf-8")
    return p


def _use_cache(monkeypatch, folder: Path | str) -> None:
    """Point the disk cache at ``folder`` and forget the pools held in memory."""
    monkeypatch.setenv("DATAGEN_CACHE_DIR", str(folder))
    monkeypatch.setattr(pools, "_POOLS", {})


def _generate(monkeypatch, schema: Path, out: Path, cache_dir: Path | str) -> dict[str, bytes]:
    """Generate CSV on ``cache_dir``; the data files' bytes (the manifest holds timings)."""
    _use_cache(monkeypatch, cache_dir)
    datagen.generate(str(schema), format="csv", out=out, workers=1)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "manifest.json"}


@pytest.fixture
def warm(tmp_path: Path, schema: Path, monkeypatch) -> tuple[Path, dict[str, bytes]]:
    """A cache filled by a real run, and that run's output (the genuine bytes)."""
    folder = tmp_path / "cache"
    return folder, _generate(monkeypatch, schema, tmp_path / "genuine", folder)


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / pools.POOL_KIND).iterdir() if not p.name.startswith("."))


def _arrow(values: list[str] | None) -> bytes:
    """Arrow IPC file bytes: one string column of ``values`` (None: a table with no column)."""
    table = pa.table({}) if values is None else pa.table({"v": pa.array(values, type=pa.string())})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def _payload_values(entry: Path) -> list[str]:
    data = entry.read_bytes()
    data = data[cache.HEADER_BYTES:] if data.startswith(cache.MAGIC) else data
    return pa.ipc.open_file(pa.py_buffer(data)).read_all().column(0).to_pylist()


def _assert_every_pool_entry_verifies() -> None:
    """Every pool this process used is on disk, verifies, and holds the pool that was used."""
    assert pools._POOLS
    for key, pool in pools._POOLS.items():
        payload = cache.load(pools.POOL_KIND, pools.pool_inputs(key))
        assert payload is not None, key
        assert pa.ipc.open_file(pa.py_buffer(payload)).read_all().column(0).combine_chunks().equals(pool)


# --- poisoning: plausible data in place of an entry ---------------------------------------------


def _poison(entry: Path, how: str, originals: dict[Path, bytes]) -> None:
    n = pools.MIN_POOL_SIZE  # every pool of this 60-row schema
    evil = _arrow([EVIL] * n)
    if how == "arrow-file":  # a valid Arrow file of the right length and type
        entry.write_bytes(evil)
    elif how == "header-kept":  # our magic and the old tag, another payload
        entry.write_bytes(entry.read_bytes()[:cache.HEADER_BYTES] + evil)
    elif how == "guessed-key":  # a well-formed entry tagged under a key that is not the cache's
        (inputs,) = [i for i in map(pools.pool_inputs, pools._POOLS) if cache.entry_name(pools.POOL_KIND, i) == entry.name]
        entry.write_bytes(cache.MAGIC + cache.tag(b"\0" * cache.KEY_BYTES, pools.POOL_KIND, inputs, evil) + evil)
    elif how == "unkeyed-digest":
        entry.write_bytes(cache.MAGIC + hashlib.blake2b(evil, digest_size=cache.TAG_BYTES).digest() + evil)
    elif how == "other-entry":  # a genuine entry of another pool of the same size, copied over
        entry.write_bytes(next(data for other, data in originals.items() if other != entry))
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["arrow-file", "header-kept", "guessed-key", "unkeyed-digest", "other-entry"])
def test_a_poisoned_pool_entry_is_rebuilt_and_never_reaches_the_output(tmp_path, schema, monkeypatch, warm, how):
    folder, genuine = warm
    entries = _entries(folder)
    assert len(entries) == 3  # city, street_name, word
    originals = {e.name: _payload_values(e) for e in entries}
    files = {e: e.read_bytes() for e in entries}
    for e in entries:
        _poison(e, how, files)
    got = _generate(monkeypatch, schema, tmp_path / "again", folder)
    assert got == genuine
    assert EVIL not in got["people.csv"].decode()
    _assert_every_pool_entry_verifies()
    assert {e.name: _payload_values(e) for e in _entries(folder)} == originals  # rebuilt


def test_a_fresh_cache_and_no_cache_give_the_same_bytes(tmp_path, schema, monkeypatch, warm):
    _, genuine = warm
    assert _generate(monkeypatch, schema, tmp_path / "nocache", "") == genuine
    assert _generate(monkeypatch, schema, tmp_path / "fresh", tmp_path / "fresh-cache") == genuine


@pytest.mark.parametrize("how", ["arrow-file", "other-entry"])
def test_validate_passes_genuine_output_with_a_poisoned_cache(tmp_path, schema, monkeypatch, warm, how):
    """``validate`` replays through the same verified pools as ``generate``: a poisoned cache can
    neither fail the genuine output nor make its own values the expected ones."""
    folder, _ = warm
    files = {e: e.read_bytes() for e in _entries(folder)}
    for e in files:
        _poison(e, how, files)
    _use_cache(monkeypatch, folder)
    report = datagen.validate(str(schema), out=tmp_path / "genuine")
    replay = [c for c in report["checks"] if c["kind"] == "deterministic_replay"]
    assert report["status"] == "pass", [c for c in report["checks"] if c["status"] == "fail"]
    assert replay and all(c["status"] == "pass" for c in replay)
    _assert_every_pool_entry_verifies()


# --- damage: the run succeeds with identical bytes -------------------------------------------------


def _damage_entry(entry: Path, how: str) -> None:
    data = entry.read_bytes()
    if how == "zero-columns":
        entry.write_bytes(_arrow(None))
    elif how == "zero-columns-with-header":
        entry.write_bytes(data[:cache.HEADER_BYTES] + _arrow(None))
    elif how == "empty-pool":
        entry.write_bytes(_arrow([]))
    elif how == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif how == "header-only":
        entry.write_bytes(data[:cache.HEADER_BYTES])
    elif how == "empty-file":
        entry.write_bytes(b"")
    elif how == "garbage":
        entry.write_bytes(os.urandom(len(data)))
    elif how == "bit-flip":
        entry.write_bytes(data[:-100] + bytes([data[-100] ^ 1]) + data[-99:])
    elif how == "folder":
        entry.unlink()
        entry.mkdir()
    elif how == "fifo":
        entry.unlink()
        os.mkfifo(entry)
    elif how == "link-to-fifo":  # a reader that followed it would block forever
        entry.unlink()
        os.mkfifo(entry.with_name(f".fifo-{entry.name}"))
        entry.symlink_to(entry.with_name(f".fifo-{entry.name}"))
    elif how == "link-to-copy":  # a genuine copy behind a link is still not read through it
        entry.with_name(f".copy-{entry.name}").write_bytes(data)
        entry.unlink()
        entry.symlink_to(entry.with_name(f".copy-{entry.name}"))
    else:
        raise AssertionError(how)


ENTRY_DAMAGE = ["zero-columns", "zero-columns-with-header", "empty-pool", "truncated", "header-only", "empty-file",
                "garbage", "bit-flip", "folder", "fifo", "link-to-fifo", "link-to-copy"]


@pytest.mark.parametrize("how", ENTRY_DAMAGE)
def test_a_damaged_pool_entry_is_rebuilt_and_changes_no_byte(tmp_path, schema, monkeypatch, warm, how):
    folder, genuine = warm
    for e in _entries(folder):
        _damage_entry(e, how)
    assert _generate(monkeypatch, schema, tmp_path / "again", folder) == genuine
    _assert_every_pool_entry_verifies()
    assert all(e.is_file() and not e.is_symlink() for e in _entries(folder) if e.name.endswith(cache.SUFFIX))


def test_a_folder_with_files_in_place_of_an_entry_is_left_and_the_pool_built_in_memory(tmp_path, schema, monkeypatch,
                                                                                         warm):
    """datagen removes no files it did not write: such an entry is never cached, never fatal."""
    folder, genuine = warm
    for e in _entries(folder):
        e.unlink()
        e.mkdir()
        (e / "keep").write_text("not ours")
    for name in ("again", "third"):
        assert _generate(monkeypatch, schema, tmp_path / name, folder) == genuine
    assert all((e / "keep").is_file() for e in _entries(folder))


def _damage_key(key: Path, how: str) -> None:
    if how == "missing":
        key.unlink()
    elif how == "short":
        key.write_bytes(key.read_bytes()[:7])
    elif how == "long":
        key.write_bytes(key.read_bytes() + b"\n")
    elif how == "empty":
        key.write_bytes(b"")
    elif how == "replaced":  # a well-formed key that is not the one the entries were tagged with
        key.write_bytes(os.urandom(cache.KEY_BYTES))
    elif how == "readable-by-others":  # others may have read it: not trusted, replaced
        key.chmod(0o644)
    elif how == "folder":
        key.unlink()
        key.mkdir()
    elif how == "link":
        key.rename(key.with_name("elsewhere"))
        key.symlink_to(key.with_name("elsewhere"))
    elif how == "fifo":
        key.unlink()
        os.mkfifo(key)
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["missing", "short", "long", "empty", "replaced", "readable-by-others", "folder", "link",
                                 "fifo"])
def test_a_missing_or_damaged_key_changes_no_byte(tmp_path, schema, monkeypatch, warm, how):
    folder, genuine = warm
    key = folder / cache.KEY_NAME
    before = key.read_bytes()
    _damage_key(key, how)
    assert _generate(monkeypatch, schema, tmp_path / "again", folder) == genuine
    st = os.lstat(key)
    assert st.st_mode & 0o777 == 0o600 and st.st_size == cache.KEY_BYTES and os.path.isfile(key) and not key.is_symlink()
    if how != "long":  # a key with a byte appended is a new key: every entry is tagged anew
        assert key.read_bytes() != before
    _assert_every_pool_entry_verifies()


def test_the_key_and_entries_are_private_whatever_the_umask(tmp_path, schema, monkeypatch):
    folder = tmp_path / "deep" / "cache"
    old = os.umask(0)
    try:
        _generate(monkeypatch, schema, tmp_path / "out", folder)
    finally:
        os.umask(old)
    key = folder / cache.KEY_NAME
    assert os.lstat(key).st_mode & 0o7777 == 0o600
    assert os.stat(folder).st_mode & 0o777 == 0o700
    assert os.stat(folder / pools.POOL_KIND).st_mode & 0o777 == 0o700
    assert all(os.lstat(e).st_mode & 0o777 == 0o600 for e in _entries(folder))
    assert not [p.name for p in folder.rglob(".*")]  # no temporary file left


def test_an_entry_larger_than_the_cap_is_neither_written_nor_read(tmp_path, monkeypatch):
    _use_cache(monkeypatch, tmp_path / "c")
    assert cache.store("k", ("a",), b"x" * 100)
    assert bytes(cache.load("k", ("a",)) or b"") == b"x" * 100
    assert cache.load("k", ("b",)) is None  # inputs are bound: another entry's name is another entry
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", cache.HEADER_BYTES + 50)
    assert cache.load("k", ("a",)) is None
    assert not cache.store("k", ("c",), b"x" * 100)
    assert not (tmp_path / "c" / "k" / cache.entry_name("k", ("c",))).exists()


# --- true subprocess runs ------------------------------------------------------------------------------

PYTHON = ROOT / ".venv" / "bin" / "python"


def _env(folder: Path) -> dict[str, str]:
    return {**os.environ, "DATAGEN_CACHE_DIR": str(folder), "PYTHONIOENCODING": "utf-8"}


def test_a_damaged_cache_fails_no_run_and_prints_nothing(tmp_path, schema, monkeypatch, warm):
    """The user's path: the CSV frontend over a cache with a zero-column, a poisoned and a
    truncated entry exits 0 silently, writes the genuine bytes, and validate passes them."""
    folder, genuine = warm
    zero, poisoned, cut = _entries(folder)
    _damage_entry(zero, "zero-columns")
    _poison(poisoned, "arrow-file", {})
    _damage_entry(cut, "truncated")
    out = tmp_path / "sub"
    gen = subprocess.run([str(PYTHON), "-m", "generators.csv_generator", "generate", "--schema", str(schema), "--out",
                          str(out), "-q"], cwd=ROOT, env=_env(folder), capture_output=True, text=True, timeout=120)
    assert (gen.returncode, gen.stdout, gen.stderr) == (0, "", "")
    assert {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "manifest.json"} == genuine
    _damage_entry(zero, "zero-columns")
    _poison(poisoned, "arrow-file", {})
    val = subprocess.run([str(PYTHON), "-m", "generators.csv_generator", "validate", "--schema", str(schema), "--out",
                          str(tmp_path / "genuine"), "-q"], cwd=ROOT, env=_env(folder), capture_output=True, text=True,
                         timeout=120)
    assert val.returncode == 0, val.stdout + val.stderr
    assert "Traceback" not in val.stderr


BUILD = """
import hashlib, os, sys, time
from pathlib import Path
go = Path(sys.argv[1])
from shared.distributions import pools
pools.faker_version()
while not go.exists():
    time.sleep(0.005)
pool = pools.faker_pool("city", "en_US", 4096, 77)
print(hashlib.sha256("\\n".join(pool.to_pylist()).encode()).hexdigest())
"""


def test_concurrent_runs_building_one_entry_end_with_a_valid_entry(tmp_path, monkeypatch):
    """Four processes start on an empty cache at once: each creates the key or reads the one
    another created, builds the same pool and publishes it; all agree and the entry verifies."""
    folder, go = tmp_path / "cache", tmp_path / "go"
    procs = [subprocess.Popen([str(PYTHON), "-c", BUILD, str(go)], cwd=ROOT, env=_env(folder), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    time.sleep(1.0)  # let them import and wait at the start line
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    assert len({out for out, _ in results}) == 1
    _use_cache(monkeypatch, folder)
    payload = cache.load(pools.POOL_KIND, pools.pool_inputs(("city", "en_US", 4096, 77)))
    assert payload is not None
    values = pa.ipc.open_file(pa.py_buffer(payload)).read_all().column(0).to_pylist()
    assert hashlib.sha256("\n".join(values).encode()).hexdigest() + "\n" == results[0][0]
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == sorted([cache.KEY_NAME, cache.entry_name(
        pools.POOL_KIND, pools.pool_inputs(("city", "en_US", 4096, 77)))])


# --- the provider-check memory ---------------------------------------------------------------------

BAD_PROVIDER = SCHEMA.replace("provider: street_name", "provider: no_such_provider")


def _marker(monkeypatch, scratch: Path, provider: str) -> tuple[Path, bytes]:
    """Where a cache remembers that ``provider`` passed its check, and what a cache in
    ``scratch`` (with its own key) writes there."""
    monkeypatch.setenv("DATAGEN_CACHE_DIR", str(scratch))
    pools.remember_provider(provider, "en_US")
    (f,) = (scratch / "faker-checks").iterdir()
    return f.relative_to(scratch), f.read_bytes()


def _forge_marker(monkeypatch, folder: Path, scratch: Path, provider: str, how: str) -> None:
    """A "checked and good" marker for ``provider`` in ``folder``, made without its key."""
    rel, other_cache = _marker(monkeypatch, scratch / "bad", provider)
    if how == "empty":
        data = b""
    elif how == "copy-of-another":  # the genuine marker of "city", under the bad provider's name
        data = (folder / _marker(monkeypatch, scratch / "city", "city")[0]).read_bytes()
    elif how == "from-another-cache":  # a genuine marker, made with another cache's key
        data = other_cache
    elif how == "guessed-key":
        data = cache.MAGIC + cache.tag(b"\0" * cache.KEY_BYTES, "faker-checks", pools._check_inputs(provider, "en_US"), b"")
    else:
        raise AssertionError(how)
    (folder / rel).write_bytes(data)


@pytest.mark.parametrize("how", ["empty", "copy-of-another", "from-another-cache", "guessed-key"])
def test_a_forged_provider_check_does_not_let_a_bad_provider_through(tmp_path, monkeypatch, warm, runner, how):
    """A planted marker would skip the load-time check: the unknown provider would then fail
    mid-run as an unexpected error instead of a located schema error (exit 2)."""
    from generators.csv_generator.__main__ import app

    folder, _ = warm
    _forge_marker(monkeypatch, folder, tmp_path / "scratch", "no_such_provider", how)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_PROVIDER, encoding="utf-8")
    _use_cache(monkeypatch, folder)
    result = runner.invoke(app, ["generate", "--schema", str(bad), "--out", str(tmp_path / "bad-out"), "-q"])
    text = result.output + (result.stderr or "")
    assert result.exit_code == 2, text
    assert "unknown Faker provider 'no_such_provider'" in text and "bad.yaml:11:" in text
    assert "unexpected" not in text
    assert not pools.provider_known_good("no_such_provider", "en_US")
    assert pools.provider_known_good("city", "en_US")  # the genuine memory still counts
