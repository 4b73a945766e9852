"""Text generators: ``faker``, ``words`` and ``template``.

* ``faker`` picks values from a pool of a Faker provider, built once per
  (provider, locale, pool size, seed) by ``ctx.faker_pool`` (the only per-row Python loop
  allowed: filling the pool), and indexes it with the ``value`` stream. The pool's default size
  follows the table's planned rows (``context.pool_size_for``), never a block's.
* ``words`` joins 1..n random words from the provider ``word``'s pool.
* ``template`` formats same-row and parent columns into a string with Arrow string kernels.

Unique faker values (``unique_strategy = "native"``) come from a finite domain that looks
real — distinct pool values, ``jsmith2``-style numbers where real data has them, first × last
name pairs — through a keyed bijection of the row (``shared.distributions.faker_unique``); its
size is the column's ``capacity``, checked by the planner.
"""

from __future__ import annotations

import difflib
import inspect
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.distributions.base import GENERATORS, Generator, obj, register
from shared.registry import did_you_mean

MAX_POOL_SIZE = 1_000_000
MAX_WORDS = 1_000
#: shown when an unknown provider has no close match
COMMON_PROVIDERS = ("name", "first_name", "last_name", "city", "country", "company", "street_address",
                    "address", "phone_number", "email", "user_name", "job", "sentence", "word",
                    "postcode", "state", "iban", "url")
_LOCALE_PARAM = {"type": "string", "minLength": 1}
_POOL_PARAM = {"type": "integer", "minimum": 1, "maximum": MAX_POOL_SIZE}


# --- Faker helpers (load time only) -----------------------------------------------------------


@lru_cache(maxsize=64)
def _faker_for(locale: str):
    """A Faker instance for ``locale`` (AttributeError for an unknown locale); seeded per
    instance so that probing a provider never touches global random state."""
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(0)
    return fake


@lru_cache(maxsize=64)
def _provider_names(locale: str) -> frozenset[str]:
    fake = _faker_for(locale)
    names: set[str] = set()
    for provider in fake.get_providers():
        names.update(n for n in dir(provider) if not n.startswith("_") and callable(getattr(provider, n, None)))
    return frozenset(names)


def _available_locales() -> tuple[str, ...]:
    from faker.config import AVAILABLE_LOCALES

    return tuple(AVAILABLE_LOCALES)


def _locale_of(params, schema) -> str:
    return params.get("locale") or getattr(schema, "locale", None) or "en_US"


def check_provider(provider: str, locale: str, locale_path: str = "params.locale", args=None) -> list[tuple]:
    """Problems with a (provider, locale[, args]) triple: unknown locale, unknown provider, an
    argument the provider does not take (with "did you mean", from its signature), a provider
    that cannot be called with these arguments (or without any) or returns no text. A triple
    that passed before (with this Faker version) is remembered in the cache folder and not
    checked again."""
    from shared.distributions.pools import args_key, provider_known_good, remember_provider

    if args is not None and not isinstance(args, Mapping):
        return [("faker: args must be a mapping of argument names to values", "params.args",
                 "e.g. args: {minimum_age: 18, maximum_age: 90}")]
    key = args_key(args)
    if provider_known_good(provider, locale, key):
        return []
    problems = _check_provider(provider, locale, locale_path, json.loads(key) if key else {})
    if not problems:
        remember_provider(provider, locale, key)
    return problems


def provider_parameters(method) -> tuple[list[inspect.Parameter], bool]:
    """The keyword parameters of a bound Faker provider method, and whether it takes ``**kwargs``."""
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return [], True
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params)
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return named, var_kw


def _check_provider(provider: str, locale: str, locale_path: str, args: dict | None = None) -> list[tuple]:
    try:
        fake = _faker_for(locale)
    except AttributeError:
        lang = locale.split("_")[0].lower()
        same = [loc for loc in _available_locales() if loc.split("_")[0].lower() == lang]
        hint = (f"locales for {lang!r}: " + ", ".join(same) if same else
                did_you_mean(locale, _available_locales()) or "e.g. en_US, de_DE, fr_FR, ja_JP")
        return [(f"unknown Faker locale {locale!r}", locale_path, hint)]
    names = _provider_names(locale)
    if provider not in names:
        hint = did_you_mean(provider, names) or "common providers: " + ", ".join(COMMON_PROVIDERS)
        return [(f"unknown Faker provider {provider!r} for locale {locale!r}", "params.provider", hint)]
    method = getattr(fake, provider)
    if args:
        named, var_kw = provider_parameters(method)
        arg_names = [p.name for p in named]
        unknown = [a for a in args if a not in arg_names]
        if unknown and not var_kw:
            return [(f"Faker provider {provider!r} takes no argument {a!r}", f"params.args.{a}",
                     did_you_mean(a, arg_names) or ("its arguments: " + ", ".join(arg_names) if arg_names
                                                else "it takes no arguments"))
                    for a in unknown]
    try:
        value = method(**(args or {}))
    except Exception as e:  # any failure of the provider is reported, with its cause
        if args:
            return [(f"Faker provider {provider!r} cannot be called with args {args} ({type(e).__name__}: {e})",
                     "params.args", "see docs/faker-providers.md for its arguments")]
        return [(f"Faker provider {provider!r} cannot be called without arguments "
                 f"({type(e).__name__}: {e})", "params.provider",
                 "give its arguments in params.args (see docs/faker-providers.md)")]
    if value is None or isinstance(value, (bytes, bytearray, memoryview)):
        return [(f"Faker provider {provider!r} returns {type(value).__name__}, not text", "params.provider",
                 "pick a provider that returns text, numbers or dates")]
    try:
        str(value)
    except Exception as e:  # reported, with its cause
        return [(f"Faker provider {provider!r} returns a value that cannot be rendered as text ({e})",
                 "params.provider", None)]
    return []


def _const_strings(text: str, n: int) -> pa.Array:
    data = text.encode("utf-8")
    offsets = (np.arange(n + 1, dtype=np.int64) * len(data)).astype(np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))


def _as_array(values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


# --- faker ------------------------------------------------------------------------------------


@register("faker")
class FakerGen(Generator):
    """Values of a Faker provider (``name``, ``city``, ``email`` …), called with the keyword
    arguments in ``args`` if any (``{provider: date_of_birth, args: {minimum_age: 18}}``; names
    checked at load against the provider's signature), drawn from a pool of ``pool_size`` values
    built once per (provider, locale, args, size, seed). Default size: the table's rows rounded up
    to a power of two, at least 256, at most the profile's (fast 1,000, realistic and dirty
    20,000) — so ``--rows`` can change these values (a lookup ``fk.col`` uses the parent table's
    pool). ``locale`` defaults to the schema's. Values that are not text (dates, numbers,
    Decimal) are written with ``str()``: ``1984-03-07``, ``42``, ``12.50``; the column is a string.
    The list of providers, their arguments and an example each: docs/faker-providers.md.

    Unique (``unique: true``): values that still look real, from a finite domain whose size is
    the column's capacity (the planner refuses more rows, at the generator, with a hint). Per
    provider: e-mails (``email``, ``free_email``, … any name containing ``email``) are the pool's
    addresses, then the same with a number before the ``@`` (``jsmith@example.org``,
    ``jsmith2@example.org`` …, up to 9,999: capacity distinct × 9,999); ``user_name`` likewise
    (``jsmith``, ``jsmith2``); ``name`` (and ``name_male``/``_female``/``_nonbinary``) is every
    "First Last" pair of the first and last name pools ("Last First" where the locale's own
    format puts the family name first: ja_JP, hu_HU, zh_CN …; capacity first × last, never a
    number in a name); ``city``, ``company``, ``street_name`` and ``street_address`` take a second occurrence
    as ``Lake Mitchell 2`` (capacity distinct × 9,999); every other provider (and one with
    ``args``) gives its distinct pool values only (capacity: how many the pool holds — raise
    ``pool_size``). Rows take each plain value once before any number appears, so a table no
    larger than the pool shows none. With ``max_length``, values that do not fit whole are left
    out of the domain (text of the other providers is cut, then deduplicated); never a merged value."""

    kinds = frozenset({"string"})
    params_schema = obj(("provider",), provider={"type": "string", "minLength": 1}, locale=_LOCALE_PARAM,
                        pool_size=_POOL_PARAM, args={"type": "object"})
    unique_strategy = "native"
    native_capacity = True

    def check(self, column, table, schema):
        params = column.generator.params
        return check_provider(str(params.get("provider")), _locale_of(params, schema),
                              "params.locale" if params.get("locale") else "params.provider",
                              params.get("args"))

    def _domain(self, params, locale: str, size: int, seed: int, max_length, rows: int):
        from shared.distributions.faker_unique import domain_for
        from shared.distributions.pools import args_key

        return domain_for(str(params["provider"]), locale, int(size), int(seed), args_key(params.get("args")),
                          max_length, int(rows) if max_length is not None else 0)

    def capacity(self, column, params, plan):
        """How many distinct values a unique column can take (the size of its domain)."""
        if column is None or plan is None or getattr(plan, "table", None) is None:
            return None
        from shared.distributions.pools import pool_size_for

        rows = plan.rows(plan.table)
        size = params.get("pool_size") or pool_size_for(rows, plan.profile)
        locale = _locale_of(params, plan.schema)
        return self._domain(params, locale, size, plan.seed, column.max_length, rows).capacity

    def capacity_hint(self, column) -> str | None:
        from shared.distributions.faker_unique import family_of

        params = column.generator.params
        family = family_of(str(params.get("provider")), bool(params.get("args")))
        if family == "exact":
            return ("raise pool_size (up to 1,000,000), or use a provider with more values (user_name, "
                    "email, name, company), or a template that embeds a unique column")
        return "raise pool_size or max_length, or use another provider"

    def generate(self, ctx):
        params = ctx.params
        from shared.distributions.pools import args_key

        if ctx.unique:
            size = params.get("pool_size") or ctx.pool_size
            domain = self._domain(params, params.get("locale") or ctx.locale, size, ctx.seed,
                                  getattr(ctx.column, "max_length", None), ctx.n_total)
            return domain.values(np.asarray(ctx.rows, dtype=np.int64), ctx.key("unique"))
        pool = ctx.faker_pool(params["provider"], params.get("locale"), params.get("pool_size"),
                              args_json=args_key(params.get("args")))
        idx = ctx.integers(0, len(pool) - 1)
        return _as_array(pool.take(pa.array(idx, type=pa.int64())))

    def length_bounds(self, column, table, schema, rows):
        """Unique values fit ``max_length`` by construction (what does not fit is left out of the
        domain, and the capacity says so)."""
        return 0, getattr(column, "max_length", None)


# --- words ------------------------------------------------------------------------------------


@register("words")
class Words(Generator):
    """``min``..``max`` (default 1..3, uniform count) random words from the Faker ``word`` pool,
    joined by single spaces (pool sized as for ``faker``, from rows × ``max`` words). Word ``j``
    of a row comes from its own stream (``value/w<j>``), so raising ``max`` keeps the first words
    of every row."""

    kinds = frozenset({"string"})
    params_schema = obj(min={"type": "integer", "minimum": 0, "maximum": MAX_WORDS},
                        max={"type": "integer", "minimum": 0, "maximum": MAX_WORDS},
                        locale=_LOCALE_PARAM, pool_size=_POOL_PARAM)

    @staticmethod
    def _bounds(params) -> tuple[int, int]:
        return int(params.get("min", 1)), int(params.get("max", 3))

    def check(self, column, table, schema):
        params = column.generator.params
        lo, hi = self._bounds(params)
        problems = []
        if lo > hi:
            problems.append((f"words: min {lo} is greater than max {hi}", "params.min",
                             "defaults are min 1, max 3" if "min" not in params or "max" not in params else None))
        if params.get("locale"):
            problems += [p for p in check_provider("word", params["locale"]) if p[1] == "params.locale"]
        return problems

    def generate(self, ctx):
        lo, hi = self._bounds(ctx.params)
        n = int(np.asarray(ctx.rows).shape[0])
        pool = ctx.faker_pool("word", ctx.params.get("locale"), ctx.params.get("pool_size"),
                              draws=int(ctx.n_total) * max(hi, 1))
        count = np.full(n, lo, dtype=np.int64) if lo == hi else ctx.integers(lo, hi, "count")
        picks = np.empty((n, hi), dtype=np.int64)
        for j in range(hi):  # a loop over word positions (≤ max), not rows
            picks[:, j] = ctx.integers(0, len(pool) - 1, f"value/w{j}")
        taken = picks[np.arange(hi)[None, :] < count[:, None]]  # row-major: each row's words in order
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(count, out=offsets[1:])
        words = pool.take(pa.array(taken, type=pa.int64()))
        lists = pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), _as_array(words))
        return _as_array(pc.binary_join(lists, " "))


# --- template ---------------------------------------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")  # several dots: a struct field path


class TemplateError(ValueError):
    def __init__(self, message: str, offset: int, hint: str | None = None):
        super().__init__(f"{message} at offset {offset}")
        self.message, self.offset, self.hint = message, offset, hint


#: the template reference to the row's 0-based index in its table (never a column's value)
ROW = "_row"
#: integer format specs: ``[0][width][d]`` — ``{_row:06d}`` zero-pads to 6, ``{n:4}`` space-pads
_SPEC = re.compile(r"(0?)([0-9]*)d?")
MAX_WIDTH = 1000


@dataclass(frozen=True)
class _Ref:
    name: str
    offset: int
    spec: str | None = None  # as written after ':'
    zero: bool = False  # pad with zeros after the sign (else with spaces before it)
    width: int = 0  # the least number of characters


@lru_cache(maxsize=512)
def parse_template(text: str) -> tuple[str | _Ref, ...]:
    """Literal strings and ``_Ref`` parts of a template; ``{{``/``}}`` are literal braces.
    Raises ``TemplateError`` with the 0-based offset of the offending brace."""
    parts: list[str | _Ref] = []
    lit: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "{":
            if text.startswith("{{", i):
                lit.append("{")
                i += 2
                continue
            close = text.find("}", i + 1)
            nxt = text.find("{", i + 1)
            if close < 0 or (0 <= nxt < close):
                raise TemplateError("unbalanced '{'", i, "close the reference with '}' or write '{{' for a brace")
            inner = text[i + 1:close].strip()
            if not inner:
                raise TemplateError("empty reference '{}'", i, "write {column} or {fk_column.parent_column}")
            if "!" in inner:
                raise TemplateError(f"conversions are not supported in {{{inner}}}", i, "write only a column name")
            name, colon, spec = inner.partition(":")
            name = name.strip()
            m = _SPEC.fullmatch(spec) if colon else None
            if colon and (m is None or len(m.group(2)) > 4 or int(m.group(2) or 0) > MAX_WIDTH):
                raise TemplateError(f"format spec {spec!r} is not supported in {{{inner}}}", i,
                                    f"integers take [0][width][d] up to width {MAX_WIDTH}, e.g. {{{name}:06d}}")
            if not _NAME.fullmatch(name):
                raise TemplateError(f"invalid reference {{{inner}}}", i,
                                    "write {column} or {fk_column.parent_column}")
            if lit:
                parts.append("".join(lit))
                lit = []
            if m is None:
                parts.append(_Ref(name, i))
            else:
                parts.append(_Ref(name, i, spec, bool(m.group(1)), int(m.group(2) or 0)))
            i = close + 1
        elif c == "}":
            if text.startswith("}}", i):
                lit.append("}")
                i += 2
                continue
            raise TemplateError("single '}'", i, "write '}}' for a literal brace")
        else:
            lit.append(c)
            i += 1
    if lit:
        parts.append("".join(lit))
    return tuple(parts)


#: the characters each kind renders with (see ``_to_text``); None: any character
_ALPHABETS = {
    "int": "0123456789-",
    "date": "0123456789-",
    "timestamp": "0123456789-:TZ",
    "uuid": "0123456789abcdef-",
    "float": "0123456789.-+einfa",
    "decimal": "0123456789.-",
    "bool": "truefals",
}


def _render_alphabet(column) -> str | None:
    kind = column.dtype.kind
    alphabet = _ALPHABETS.get(kind)
    if kind == "int" and _non_negative(column):
        alphabet = "0123456789"
    return alphabet


def _non_negative(column) -> bool:
    if column.min is not None and column.min >= 0:
        return True
    gen = GENERATORS.get(column.generator.type)
    progression = gen.progression(column.generator.params) if gen is not None else None
    if progression is not None:
        start, step = progression
        return int(start) >= 0 and int(step) > 0
    return False


def _to_text(values, dtype) -> pa.Array:
    """Render one referenced column's engine values as strings (nulls stay null)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = _as_array(values)
        return arr if arr.type == pa.string() else pc.cast(arr, pa.string())
    mask = np.ma.getmaskarray(values) if isinstance(values, np.ma.MaskedArray) else None
    v = np.asarray(np.ma.getdata(values) if mask is not None else values)
    kind = dtype.kind if dtype is not None else None
    if v.dtype.kind == "M":  # numpy datetimes, should a resolver hand them over
        kind = "date" if np.datetime_data(v.dtype)[0] == "D" else "timestamp"
        v = v.astype("datetime64[D]" if kind == "date" else "datetime64[us]").astype(np.int64)
    if kind is None:
        kind = {"b": "bool", "i": "int", "u": "int", "f": "float"}.get(v.dtype.kind, "string")
    pmask = None if mask is None or not mask.any() else pa.array(mask)
    if kind == "date":
        return pc.cast(pa.array(v.astype(np.int32), pa.date32(), mask=pmask), pa.string())
    if kind == "timestamp":
        secs = np.floor_divide(v.astype(np.int64), 1_000_000)
        return pc.strftime(pa.array(secs, pa.timestamp("s"), mask=pmask), format="%Y-%m-%dT%H:%M:%SZ")
    if kind == "int":
        return pc.cast(pa.array(v.astype(np.int64), mask=pmask), pa.string())
    if kind == "bool":
        return pc.cast(pa.array(v.astype(bool), mask=pmask), pa.string())
    if kind == "decimal" and dtype is not None and dtype.scale is not None:
        rounded = pa.array(np.round(v.astype(np.float64), dtype.scale), mask=pmask)
        return pc.cast(pc.cast(rounded, pa.decimal128(38, dtype.scale), safe=False), pa.string())
    if kind in ("float", "decimal"):
        return pc.cast(pa.array(v.astype(np.float64), mask=pmask), pa.string())
    return pc.cast(pa.array(v, mask=pmask), pa.string())


def _ref_dtype(ctx, name: str):
    schema = getattr(ctx, "schema", None)
    if schema is not None:
        try:
            return schema.resolve_ref(ctx.table, name).dtype
        except KeyError:
            return None
    if "." not in name and ctx.table is not None and ctx.table.has_column(name):
        return ctx.table.column(name).dtype
    return None


@register("template")
class Template(Generator):
    """A format string over same-row columns ``{col}`` and parent columns ``{fk_col.parent_col}``
    (``{{``/``}}`` for literal braces), e.g. ``"{first_name}.{last_name}.{customer_id}@example.com"``;
    ``{_row}`` is the row's 0-based index; integers take a format spec ``[0][width][d]`` as in
    Python (``{_row:06d}``); ``lower``/``upper`` fold the result. Values render as: strings as they are, integers plainly,
    floats by Arrow's cast, decimals with their scale, dates ``YYYY-MM-DD``, timestamps
    ``YYYY-MM-DDTHH:MM:SSZ``, booleans ``true``/``false``; a null reference gives a null value.
    Unique by construction only when ``is_unique_by_construction`` says so; with ``max_length`` on
    a unique template the planner refuses a cut that could merge values: when the longest value
    is known (literals plus integer, uuid, date, timestamp, bool or max_length-bounded string
    references) and exceeds it, or when the literal text alone does."""

    kinds = frozenset({"string"})
    params_schema = obj(("template",), template={"type": "string"}, lower={"type": "boolean"},
                        upper={"type": "boolean"})
    #: None on the class: a template is unique ("native") only when
    #: ``is_unique_by_construction(column, table, schema)`` says so, which the planner asks
    unique_strategy = None

    def references(self, params):
        try:
            parts = parse_template(params["template"])
        except (TemplateError, KeyError, TypeError):
            return ()
        return tuple(dict.fromkeys(p.name for p in parts if isinstance(p, _Ref) and p.name != ROW))

    def check(self, column, table, schema):
        params = column.generator.params
        text = params.get("template")
        if not isinstance(text, str):
            return [("template needs a string 'template'", "params.template", None)]
        problems = []
        if params.get("lower") and params.get("upper"):
            problems.append(("template: lower and upper cannot both be true", "params.upper", "choose one"))
        try:
            parts = parse_template(text)
        except TemplateError as e:
            return [(f"template: {e}", "params.template", e.hint), *problems]
        for part in parts:
            if not isinstance(part, _Ref):
                continue
            if part.name == ROW:  # the row index: an int, any spec applies
                if table.has_column(ROW):
                    problems.append((f"template: {{{ROW}}} at offset {part.offset} is the row index, and table "
                                     f"{table.name!r} also has a column named {ROW!r}", "params.template",
                                     "rename the column to reference it from a template"))
                continue
            if part.name == column.name:
                problems.append((f"template: {{{part.name}}} at offset {part.offset} refers to its own column",
                                 "params.template", "reference other columns only"))
                continue
            problem = _resolve_problem(part, table, schema)
            if problem:
                problems.append(problem)
            elif part.spec is not None:
                dtype = _dtype_of(part.name, table, schema)
                if dtype is not None and dtype.kind != "int":
                    problems.append((f"template: {{{part.name}:{part.spec}}} at offset {part.offset}: format specs "
                                     f"apply to integers, and {part.name!r} is {dtype.name}", "params.template",
                                     f"write {{{part.name}}}"))
        return problems

    def capacity(self, column, params, plan):
        return None

    def is_unique_by_construction(self, column, table, schema) -> bool:
        """Whether the template's values are distinct whenever a referenced column's are.

        True when a same-row referenced column ``u`` is ``unique`` or the table's single-column
        primary key AND its text can be read back from the output, so distinct ``u`` give
        distinct strings whatever the other references hold. The text of ``u`` is recoverable
        when (a) ``u`` is the only column referenced (any number of times), or (b) every part
        after the last ``{u}`` is literal and the literal right before it ends with a character
        ``u`` never renders (``u``'s rendering alphabet: digits for a non-negative integer, hex
        and ``-`` for a uuid, …), or (c) the mirror image: only literals before the first ``{u}``
        and the literal after it starts with a character outside the alphabet. Case folding
        (``lower``/``upper``) is applied to the literals and the alphabet; it disqualifies free
        text (``string`` columns), where folding can merge two values. Example: the email
        template ``{first_name}.{last_name}.{customer_id}@example.com`` with a sequence key is
        unique (rule b: '.' is not a digit); ``{code}{customer_id}`` is not (``"a1"+"23"`` =
        ``"a12"+"3"``).
        """
        params = column.generator.params
        try:
            parts = parse_template(params["template"])
        except (TemplateError, KeyError, TypeError):
            return False
        fold = (lambda s: s.lower()) if params.get("lower") else (lambda s: s.upper()) if params.get("upper") \
            else (lambda s: s)
        refs = [i for i, p in enumerate(parts) if isinstance(p, _Ref)]
        names = {cast(_Ref, parts[i]).name for i in refs}
        pk = tuple(table.primary_key or ())
        for name in names:
            if name == ROW:
                alphabet: str | None = "0123456789" + (" " if any(
                    cast(_Ref, parts[i]).width and not cast(_Ref, parts[i]).zero for i in refs
                    if cast(_Ref, parts[i]).name == ROW) else "")
            elif not table.has_column(name):  # a parent's column (fk.col): not this row's key
                continue
            else:
                col = table.column(name)
                if not (col.unique or pk == (name,)):
                    continue
                alphabet = _render_alphabet(col)
                if alphabet is not None and any(cast(_Ref, parts[i]).width and not cast(_Ref, parts[i]).zero
                                                for i in refs if cast(_Ref, parts[i]).name == name):
                    alphabet += " "
            if alphabet is None and (params.get("lower") or params.get("upper")):
                continue
            if names == {name}:
                return True  # (a)
            if alphabet is None:
                continue
            allowed = set(fold(alphabet))
            mine = [i for i in refs if cast(_Ref, parts[i]).name == name]
            first, last = mine[0], mine[-1]
            after_last = parts[last + 1:]
            before = parts[last - 1] if last > 0 else None
            if (all(isinstance(p, str) for p in after_last) and isinstance(before, str) and before
                    and fold(before)[-1] not in allowed):
                return True  # (b)
            before_first = parts[:first]
            after = parts[first + 1] if first + 1 < len(parts) else None
            if (all(isinstance(p, str) for p in before_first) and isinstance(after, str) and after
                    and fold(after)[0] not in allowed):
                return True  # (c)
        return False

    def length_bounds(self, column, table, schema, rows):
        """Shortest: the literal text alone; longest: literals plus every reference's longest
        rendering, when each is known (integers from their bounds or sequence, uuids, dates,
        timestamps, booleans, strings with a max_length)."""
        try:
            parts = parse_template(column.generator.params["template"])
        except (TemplateError, KeyError, TypeError):
            return 0, None
        shortest = sum(len(p) for p in parts if isinstance(p, str))
        longest: int | None = shortest
        for p in parts:
            if isinstance(p, _Ref):
                ref_len = _rendered_length(p.name, table, rows)
                if ref_len is not None:
                    ref_len = max(ref_len, p.width)
                longest = None if longest is None or ref_len is None else longest + ref_len
        return shortest, longest

    def generate(self, ctx):
        params = ctx.params
        parts = parse_template(params["template"])
        n = int(np.asarray(ctx.rows).shape[0])
        pieces = [p if isinstance(p, str) else _render_ref(ctx, p) for p in parts]
        if not any(isinstance(p, pa.Array) for p in pieces):
            out = _const_strings("".join(pieces), n)
        elif len(pieces) == 1:
            out = pieces[0]
        else:
            out = _as_array(pc.binary_join_element_wise(*pieces, ""))
        if params.get("lower"):
            out = pc.utf8_lower(out)
        elif params.get("upper"):
            out = pc.utf8_upper(out)
        return _as_array(out)


def _render_ref(ctx, part: _Ref) -> pa.Array:
    """One reference's text: ``{_row}`` is the block's absolute row indices (the same whatever the
    block size), anything else the referenced column; then the integer format spec, if any."""
    if part.name == ROW:
        text = pc.cast(pa.array(np.asarray(ctx.rows, dtype=np.int64)), pa.string())
    else:
        text = _to_text(ctx.ref(part.name), _ref_dtype(ctx, part.name))
    return pad_int_text(text, part.zero, part.width) if part.width else text


def pad_int_text(text, zero: bool, width: int) -> pa.Array:
    """Rendered integers padded as Python's ``format(n, "06d")`` (zeros after the sign) or
    ``format(n, "6d")`` (spaces before it)."""
    if not zero:
        return _as_array(pc.utf8_lpad(text, width=width, padding=" "))
    neg = pc.starts_with(text, "-")
    positive = pc.utf8_lpad(text, width=width, padding="0")
    negative = pc.binary_join_element_wise(
        "-", pc.utf8_lpad(pc.utf8_slice_codeunits(text, 1), width=max(width - 1, 0), padding="0"), "")
    return _as_array(pc.if_else(neg, negative, positive))


def _dtype_of(name: str, table, schema):
    """The dtype of a same-row or parent column (None when it cannot be told)."""
    if schema is not None:
        try:
            return schema.resolve_ref(table, name).dtype
        except KeyError:
            return None
    return table.column(name).dtype if "." not in name and table.has_column(name) else None


_FIXED_WIDTH = {"uuid": 36, "date": 10, "timestamp": 20, "bool": 5}


def _rendered_length(name: str, table, rows: int) -> int | None:
    """The longest text ``_to_text`` makes of a same-row column over ``rows`` rows, or None."""
    if name == ROW:
        return len(str(max(int(rows) - 1, 0)))
    if not table.has_column(name):  # a parent's column (fk.col); a struct's field is a column
        return None
    col = table.column(name)
    kind = col.dtype.kind
    if kind in _FIXED_WIDTH:
        return _FIXED_WIDTH[kind]
    if kind == "string":
        return col.max_length
    if kind != "int":
        return None
    lo, hi = col.dtype.int_bounds()
    gen = GENERATORS.get(col.generator.type)
    span = gen.span(col, rows, None) if gen is not None and gen.progression(col.generator.params) else None
    if span is not None:
        lo, hi = min(span), max(span)
    else:
        lo = lo if col.min is None else max(lo, int(col.min))
        hi = hi if col.max is None else min(hi, int(col.max))
    return max(len(str(int(lo))), len(str(int(hi))))


def _resolve_problem(part: _Ref, table, schema):
    """A (message, path, hint) when a reference does not resolve, else None."""
    where = f"template: {{{part.name}}} at offset {part.offset}"
    if schema is None:
        if "." in part.name:
            return None  # parent columns can only be checked against a whole schema
        if table.has_column(part.name):
            return None
        return (f"{where}: no column {part.name!r} in table {table.name!r}", "params.template",
                did_you_mean(part.name, table.column_names))
    try:
        schema.resolve_ref(table, part.name)
        return None
    except KeyError as e:
        msg = e.args[0] if e.args else str(e)
    fk_name, dot, parent_col = part.name.partition(".")
    if not dot or not table.has_column(fk_name):
        hint = did_you_mean(fk_name, table.column_names)
    else:
        hint = None
        ref = table.column(fk_name).references
        parent_name = ref.parent if ref is not None else None
        if parent_name and schema.has_table(parent_name):
            close = difflib.get_close_matches(parent_col, schema.table(parent_name).column_names, n=1, cutoff=0.6)
            hint = f"did you mean '{fk_name}.{close[0]}'?" if close else None
    return (f"{where}: {msg}", "params.template", hint)
