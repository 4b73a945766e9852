"""``import sql``: CREATE TABLE statements of a SQL dialect → a schema (docs/import.md).

The file is tokenized once with the dialect's tokenizer (so every token keeps its line), cut
into statements at semicolons (and T-SQL's ``GO``), and each statement is parsed on its own:
one statement sqlglot cannot read is a warning with its line, never the end of the import.
``CREATE TABLE``, ``CREATE TYPE … AS ENUM``, ``ALTER TABLE … ADD CONSTRAINT``, ``CREATE UNIQUE
INDEX`` and ``COMMENT ON`` are read; every other statement (INSERT, GRANT, views, functions …)
is listed as skipped. Types, keys, references, uniques, NOT NULL, CHECKs, defaults and
identities map to the DSL as the tables of docs/import.md say; the generator of each column
comes from ``naming.infer_generator``; names the DSL does not allow are mapped to valid ones,
the SQL name kept in the column's comment.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from datagen.importers import Finding, Imported, importer
from datagen.importers.naming import infer_generator
from shared.errors import UsageError
from shared.registry import did_you_mean

__all__ = ["DIALECTS", "DEFAULT_ROWS", "import_sql", "import_sql_text", "check_dialect", "dsl_identifier",
           "unique_identifiers"]

#: the dialects imported, exported and tested (sqlglot reads more; those work too, untested)
DIALECTS = ("postgres", "redshift", "snowflake", "mysql", "bigquery", "duckdb", "sqlite", "tsql")
DIALECT_ALIASES = {"postgresql": "postgres", "pg": "postgres", "mssql": "tsql", "sqlserver": "tsql",
                   "sql_server": "tsql", "mariadb": "mysql", "bq": "bigquery"}
DEFAULT_ROWS = 1000
#: a nullable column's share of nulls (a self-reference's is higher: its roots)
NULL_RATE = 0.05
SELF_NULL_RATE = 0.1
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_dialect(dialect: str) -> str:
    """The sqlglot name of ``dialect`` (aliases such as ``postgresql``, ``mssql`` accepted), or a
    ``UsageError`` naming the closest one."""
    name = str(dialect or "").strip().lower()
    name = DIALECT_ALIASES.get(name, name)
    from sqlglot.dialects.dialect import Dialect

    known = [d for d in Dialect.classes if d]
    if name not in known:
        hint = did_you_mean(name, [*DIALECTS, *DIALECT_ALIASES, *known])
        raise UsageError(f"--dialect {dialect}: unknown SQL dialect" + (f" ({hint})" if hint else "")
                         + f"; dialects: {', '.join(DIALECTS)} (and sqlglot's others)")
    return name


# --- identifiers ----------------------------------------------------------------------------

def dsl_identifier(name: str, fallback: str = "column") -> str:
    """``name`` as a DSL identifier (``[A-Za-z_][A-Za-z0-9_]*``): accents dropped, every other
    character an underscore, runs of them one, a leading digit prefixed with ``_``."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9_]+", "_", text)
    text = re.sub(r"_{2,}", "_", text).strip("_") or fallback
    if text[0].isdigit():
        text = "_" + text
    return text


def _kept_sql_names(pairs: list[tuple[str, str]]) -> dict[str, tuple[str]]:
    """For (DSL name, SQL name) pairs, the SQL names worth keeping as ``sql_name`` by DSL name:
    those that differ from the DSL name and name one thing whatever the case (two SQL names that
    differ only in case are one name in SQLite and for the DSL's check: the later keeps its DSL
    name)."""
    taken = {dsl.lower() for dsl, sql in pairs if dsl == sql}
    out: dict[str, tuple[str]] = {}
    for dsl, sql in pairs:
        if dsl != sql and sql.lower() not in taken:
            taken.add(sql.lower())
            out[dsl] = (sql,)
    return out


def unique_identifiers(names: Iterable[str], fallback: str = "column") -> list[str]:
    """Each name as a DSL identifier, distinct ignoring case (SQL databases fold case): a clash
    gets ``_2``, ``_3`` … in the order given."""
    out: list[str] = []
    taken: set[str] = set()
    for raw in names:
        base = dsl_identifier(raw, fallback)
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name.lower())
        out.append(name)
    return out


# --- what the statements say ----------------------------------------------------------------

@dataclass
class _Column:
    sql_name: str
    line: int | None
    sql_type: str = ""
    type: str = "string"
    max_length: int | None = None
    nullable: bool = True
    unique: bool = False
    identity: tuple[int, int] | None = None
    default: Any = None
    default_sql: str | None = None
    allowed: list[Any] | None = None
    min: Any = None
    max: Any = None
    json_text: bool = False
    description: str | None = None
    fk: tuple[str, str | None, int | None] | None = None  # (parent table, parent column, line)
    #: a composite key's other columns: {this table's column: the parent's column} (DSL names)
    fk_with: dict[str, str] | None = None
    #: bound by a composite key: the lookup ``fk_column.parent_column`` that gives its values
    bound: str | None = None
    notes: list[str] = field(default_factory=list)
    name: str = ""


@dataclass
class _Table:
    sql_name: str
    line: int | None
    columns: dict[str, _Column] = field(default_factory=dict)  # lower-case SQL name → column
    primary_key: list[str] = field(default_factory=list)  # SQL names
    uniques: list[list[str]] = field(default_factory=list)
    fks: list[tuple[list[str], str, list[str], int | None]] = field(default_factory=list)
    checks: list[tuple[Any, int | None]] = field(default_factory=list)
    description: str | None = None
    notes: list[str] = field(default_factory=list)
    name: str = ""
    rows: int = DEFAULT_ROWS

    def col(self, name: str) -> _Column | None:
        return self.columns.get(name.lower())


class _Import:
    def __init__(self, text: str, dialect: str, file: str):
        self.text = text
        self.dialect = dialect
        self.file = file
        self.tables: dict[str, _Table] = {}  # lower-case SQL name → table
        self.enums: dict[str, list[str]] = {}
        self.warnings: list[Finding] = []
        self.notes: list[Finding] = []
        self.skipped: list[Finding] = []
        self.ignored: dict[str, list[int]] = {}  # an option that changes no data → its lines
        self._table_sql_names: set[str] = set()  # original table names kept as sql_name

    # findings
    def warn(self, message: str, line: int | None, where: str | None = None) -> None:
        self.warnings.append(Finding(message, line, where))

    def ignore(self, what: str, line: int | None) -> None:
        self.ignored.setdefault(what, []).append(line or 0)

    # statements
    def statements(self) -> list[tuple[list[Any], int]]:
        """The token lists of the statements, each with its first line."""
        from sqlglot.dialects.dialect import Dialect
        from sqlglot.errors import TokenError
        from sqlglot.tokens import TokenType

        d = Dialect.get_or_raise(self.dialect)
        try:
            tokens = d.tokenize(self.text)
        except TokenError as exc:
            line = _line_of(str(exc))
            raise UsageError(f"{self.file}{':' + str(line) if line else ''}: cannot read the SQL: "
                             f"{_first_line(str(exc))}", ()) from None
        out: list[tuple[list[Any], int]] = []
        current: list[Any] = []
        prev_line = 0
        for i, tok in enumerate(tokens):
            go = (tok.text.upper() == "GO" and tok.line != prev_line
                  and (i + 1 == len(tokens) or tokens[i + 1].line != tok.line))
            if tok.token_type == TokenType.SEMICOLON or go:
                if current:
                    out.append((current, current[0].line))
                current = []
            else:
                current.append(tok)
            prev_line = tok.line
        if current:
            out.append((current, current[0].line))
        return out

    def run(self) -> None:
        from sqlglot import exp
        from sqlglot.dialects.dialect import Dialect
        from sqlglot.errors import ParseError

        d = Dialect.get_or_raise(self.dialect)
        log = logging.getLogger("sqlglot")
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            for tokens, line in self.statements():
                tokens = self._drop_unsupported(tokens)
                head = self.text[tokens[0].start:tokens[min(len(tokens), 6) - 1].end + 1]
                try:
                    parsed = [e for e in d.parser().parse(tokens, self.text) if e is not None]
                except ParseError as exc:
                    if _is_create_table(tokens):
                        self.warn(f"cannot parse this CREATE TABLE: {_first_line(str(exc))}", line)
                    else:
                        self.skipped.append(Finding(f"{_short(head)} … (not parsed)", line))
                    continue
                for stmt in parsed:
                    self.statement(stmt, line, head, exp)
        finally:
            log.setLevel(level)

    def _drop_unsupported(self, tokens: list[Any]) -> list[Any]:
        """Tokens of clauses the parser does not know but that change no data: Redshift's
        column-level ``DISTKEY`` / ``SORTKEY`` (table-level ones parse)."""
        from sqlglot.tokens import TokenType

        out: list[Any] = []
        for i, tok in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if self.dialect == "tsql" and tok.text.upper() == "ROWGUIDCOL":
                self.ignore("ROWGUIDCOL", tok.line)
                continue
            if tok.text.upper() in ("DISTKEY", "SORTKEY") and (nxt is None or nxt.token_type != TokenType.L_PAREN) \
                    and out and out[-1].token_type not in (TokenType.L_PAREN,):
                self.ignore(tok.text.upper(), tok.line)
                continue
            out.append(tok)
        return out

    def statement(self, stmt: Any, line: int, head: str, exp: Any) -> None:
        if isinstance(stmt, exp.Create):
            kind = str(stmt.args.get("kind") or "").upper()
            if kind == "TABLE" and isinstance(stmt.this, exp.Schema):
                self.create_table(stmt, line, exp)
                return
            if kind == "TYPE" and isinstance(stmt.args.get("expression"), exp.DataType) \
                    and stmt.args["expression"].this == exp.DataType.Type.ENUM:
                name = stmt.this.name.lower()
                self.enums[name] = [_literal(v, exp) for v in stmt.args["expression"].expressions]
                self.notes.append(Finding(f"enum type {stmt.this.name}: {len(self.enums[name])} values", line))
                return
            if kind == "INDEX":
                self.create_index(stmt, line, head, exp)
                return
        if isinstance(stmt, exp.Command) and str(stmt.this).upper() == "CREATE":
            m = re.match(r"\s*TYPE\s+([\w.\"]+)\s+AS\s+ENUM\s*\((.*)\)\s*$", str(stmt.expression or ""), re.I | re.S)
            if m:  # a dialect whose parser does not know CREATE TYPE … AS ENUM (DuckDB)
                name = m[1].strip('"').split(".")[-1].lower()
                self.enums[name] = [v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", m[2])]
                self.notes.append(Finding(f"enum type {m[1]}: {len(self.enums[name])} values", line))
                return
        if isinstance(stmt, exp.Alter) and str(stmt.args.get("kind") or "").upper() == "TABLE":
            self.alter_table(stmt, line, head, exp)
            return
        if isinstance(stmt, exp.Comment):
            self.comment(stmt, line, head, exp)
            return
        self.skipped.append(Finding(_short(head) + " …", line))

    def table_of(self, table: Any, exp: Any) -> _Table | None:
        name = table.name if isinstance(table, exp.Table) else str(table)
        return self.tables.get(name.lower())

    # CREATE TABLE
    def create_table(self, stmt: Any, line: int, exp: Any) -> None:
        schema = stmt.this
        tname = schema.this.name
        if tname.lower() in self.tables:
            self.warn(f"table {tname} is created twice: the later definition is used", line)
        t = self.tables[tname.lower()] = _Table(tname, _meta_line(schema.this.this, line))
        for item in schema.expressions:
            iline = _node_line(item, line)
            if isinstance(item, exp.ColumnDef):
                self.column(t, item, iline, exp)
            else:
                self.table_constraint(t, item, iline, exp)
        for prop in (stmt.args.get("properties").expressions if stmt.args.get("properties") else []):
            key = type(prop).__name__.removesuffix("Property") or "option"
            if key == "SchemaComment":
                t.description = _literal(prop.this, exp)
                continue
            self.ignore(_prop_label(prop, key, self.dialect), line)

    def column(self, t: _Table, cd: Any, line: int, exp: Any) -> None:
        c = _Column(cd.name, line)
        if c.sql_name.lower() in t.columns:
            self.warn(f"column {cd.name} appears twice in table {t.sql_name}: the later one is used", line)
        t.columns[c.sql_name.lower()] = c
        self.column_type(t, c, cd.args.get("kind"), exp)
        for cc in cd.constraints:
            kind = cc.args.get("kind")
            self.column_constraint(t, c, kind, exp)

    def column_type(self, t: _Table, c: _Column, dt: Any, exp: Any) -> None:
        where = f"{t.sql_name}.{c.sql_name}"
        if dt is None:
            c.sql_type, c.type = "(none)", "string"
            c.notes.append("no declared type: text")
            return
        c.sql_type = dt.sql(self.dialect)
        kind = dt.this
        params = [_param(p) for p in dt.expressions]
        nums = [p for p in params if isinstance(p, int)]
        name = kind.name if hasattr(kind, "name") else str(kind)
        snow = self.dialect == "snowflake"
        if snow and name in _INTS:
            c.type = "int64"
            return
        if name == "TINYINT" and self.dialect == "mysql" and nums == [1]:
            c.type = "bool"
            c.notes.append("TINYINT(1): MySQL's boolean")
            return
        if name == "BIT":
            c.type = "bool" if not nums or nums[0] == 1 else "int64"
            return
        if name in _INTS:
            c.type = _INTS[name]
            if name in ("SERIAL", "SMALLSERIAL", "BIGSERIAL"):
                c.identity = (1, 1)
            if name == "UBIGINT":
                c.notes.append("unsigned 64-bit: values stay below 2^63")
            return
        if name in ("INT128", "UINT128", "INT256", "UINT256", "HUGEINT", "UHUGEINT"):
            c.type = "decimal(38,0)"
            c.notes.append(f"{c.sql_type}: decimal(38,0) (38 digits)")
            return
        if name == "YEAR":
            c.type, c.min, c.max = "int16", 1901, 2155
            return
        if name in ("FLOAT", "DOUBLE", "REAL"):
            bits = 32 if (name == "REAL" and self.dialect in ("postgres", "redshift", "duckdb")) or \
                (name == "FLOAT" and self.dialect == "mysql" and (not nums or nums[0] <= 24)) or \
                (name == "FLOAT" and nums and nums[0] <= 24) else 64
            c.type = f"float{bits}"
            return
        if name in ("DECIMAL", "BIGDECIMAL", "MONEY", "SMALLMONEY", "NUMBER", "DECIMAL32", "DECIMAL64",
                    "DECIMAL128", "DECIMAL256", "UDECIMAL"):
            self.decimal(t, c, name, nums, where, exp)
            return
        if name in _TEXTS:
            length = nums[0] if nums else (1 if name in ("CHAR", "NCHAR") and self.dialect != "bigquery"
                                           and not params else None)
            c.type = "string"
            c.max_length = length if length and length > 0 else None
            return
        if name in ("DATE", "DATE32"):
            c.type = "date"
            return
        if name.startswith("TIMESTAMP") or name.startswith("DATETIME") or name == "SMALLDATETIME":
            c.type = "timestamp"
            if name in ("TIMESTAMP", "DATETIME", "DATETIME2", "TIMESTAMPNTZ", "SMALLDATETIME"):
                c.notes.append("a time without zone: written as UTC")
            return
        if name == "BOOLEAN":
            c.type = "bool"
            return
        if name == "UUID":
            c.type = "uuid"
            return
        if name in ("JSON", "JSONB", "VARIANT", "SUPER", "OBJECT"):
            c.type, c.json_text = "string", True
            self.warn(f"{c.sql_type} holds JSON: imported as JSON text (a string column)", c.line, where)
            return
        if name in ("ENUM", "ENUM8", "ENUM16", "SET"):
            c.type = "string"
            c.allowed = [_literal(v, exp) for v in dt.expressions]
            if name == "SET":
                self.warn(f"{c.sql_type}: a SET holds combinations; imported as one value of the list",
                          c.line, where)
            return
        if name == "USERDEFINED":
            ref = dt.args.get("kind")
            ref_name = ref if isinstance(ref, str) else (ref.name if ref is not None else "")
            enum = self.enums.get(ref_name.split(".")[-1].lower())
            if enum is not None:
                c.type, c.allowed = "string", list(enum)
                c.notes.append(f"enum {ref_name}")
                return
            c.type = "string"
            self.warn(f"type {c.sql_type} is not known here: imported as text", c.line, where)
            return
        if name in ("INET", "CIDR"):
            c.type = "string"
            return
        c.type = "string"
        what = {"TIME": "a time of day", "TIMETZ": "a time of day", "INTERVAL": "an interval",
                "ARRAY": "an array (JSON text)", "LIST": "a list (JSON text)", "MAP": "a map (JSON text)",
                "STRUCT": "a struct (JSON text)"}.get(name, "text")
        if name in ("ARRAY", "LIST", "MAP", "STRUCT"):
            c.json_text = True
        self.warn(f"{c.sql_type} has no DSL type: imported as {what} in a string column", c.line, where)

    def decimal(self, t: _Table, c: _Column, name: str, nums: list[int], where: str, exp: Any) -> None:
        if name == "MONEY":
            p, s = 19, 4
        elif name == "SMALLMONEY":
            p, s = 10, 4
        elif not nums:
            if self.dialect == "bigquery" or name == "BIGDECIMAL":
                p, s = 38, 9
            elif self.dialect == "snowflake":
                p, s = 38, 0
            else:
                p, s = 18, 6
                self.warn(f"{c.sql_type} without precision: imported as decimal(18,6)", c.line, where)
        else:
            p = nums[0]
            s = nums[1] if len(nums) > 1 else 0
        if p > 38:
            self.warn(f"{c.sql_type}: precision {p} above 38, imported as decimal(38,{min(s, 38)})", c.line, where)
            p, s = 38, min(s, 38)
        if name == "BIGDECIMAL" and nums:
            pass
        if s == 0 and self.dialect in ("snowflake", "oracle") and p <= 18:
            c.type = "int8" if p <= 2 else "int16" if p <= 4 else "int32" if p <= 9 else "int64"
            c.notes.append(f"NUMBER({p},0): {c.type}")
            return
        c.type = f"decimal({max(p, 1)},{s})"

    def column_constraint(self, t: _Table, c: _Column, kind: Any, exp: Any) -> None:
        if isinstance(kind, exp.NotNullColumnConstraint):
            if not kind.args.get("allow_null"):
                c.nullable = False
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            t.primary_key = [c.sql_name]
            c.nullable = False
        elif isinstance(kind, exp.UniqueColumnConstraint):
            c.unique = True
        elif isinstance(kind, exp.Reference):
            ref = kind.this
            ptable = ref.this.name if isinstance(ref, exp.Schema) else ref.name
            pcols = [i.name for i in ref.expressions] if isinstance(ref, exp.Schema) else []
            t.fks.append(([c.sql_name], ptable, pcols, c.line))
        elif isinstance(kind, exp.CheckColumnConstraint):
            t.checks.append((kind.this, c.line))
        elif isinstance(kind, exp.DefaultColumnConstraint):
            self.default(c, kind.this, exp)
        elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
            start = _param(kind.args.get("start")) if kind.args.get("start") is not None else 1
            step = _param(kind.args.get("increment")) if kind.args.get("increment") is not None else 1
            c.identity = (start if isinstance(start, int) else 1, step if isinstance(step, int) and step else 1)
            if c.identity[1] < 0:
                c.identity = (c.identity[0], 1)
        elif isinstance(kind, exp.AutoIncrementColumnConstraint):
            c.identity = (1, 1)
        elif isinstance(kind, exp.CommentColumnConstraint):
            c.description = _literal(kind.this, exp)
        elif isinstance(kind, exp.GeneratedAsRowColumnConstraint) or isinstance(kind, exp.ComputedColumnConstraint):
            self.warn(f"computed column {c.sql_name}: generated from its type, not from its expression", c.line,
                      f"{t.sql_name}.{c.sql_name}")
        elif kind is not None:
            label = type(kind).__name__.removesuffix("ColumnConstraint") or "option"
            self.ignore(_label(label, kind, self.dialect), c.line)

    def default(self, c: _Column, value: Any, exp: Any) -> None:
        c.default_sql = value.sql(self.dialect)
        if isinstance(value, (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentDatetime)) or (
                isinstance(value, (exp.Anonymous, exp.Func)) and value.sql().lower().split("(")[0] in
                ("now", "getdate", "getutcdate", "sysdate", "sysdatetime", "current_timestamp", "localtimestamp",
                 "sysutcdatetime", "unix_timestamp", "utc_timestamp")):
            c.default = "now"
            return
        if isinstance(value, exp.Anonymous) and str(value.this).lower() == "nextval":
            c.identity = (1, 1)
            return
        lit = _literal(value, exp)
        if lit is not _NOT_LITERAL:
            c.default = lit

    def table_constraint(self, t: _Table, item: Any, line: int, exp: Any) -> None:
        if isinstance(item, exp.Constraint):
            subs = list(item.expressions)
            # T-SQL: PRIMARY KEY / UNIQUE followed by CLUSTERED (cols) or NONCLUSTERED (cols)
            for i, sub in enumerate(subs[:-1]):
                nxt = subs[i + 1]
                if isinstance(sub, (exp.PrimaryKeyColumnConstraint, exp.UniqueColumnConstraint)) and \
                        isinstance(nxt, (exp.ClusteredColumnConstraint, exp.NonClusteredColumnConstraint)):
                    cols = _names(nxt.this if isinstance(nxt.this, list) else nxt.expressions, exp)
                    if isinstance(sub, exp.PrimaryKeyColumnConstraint):
                        t.primary_key = cols
                    else:
                        t.uniques.append(cols)
                    subs[i] = subs[i + 1] = None
                    self.ignore(type(nxt).__name__.removesuffix("ColumnConstraint").upper(), line)
            for sub in subs:
                if sub is not None:
                    self.table_constraint(t, sub, line, exp)
            return
        if isinstance(item, exp.PrimaryKey):
            t.primary_key = _names(item.expressions, exp)
            for n in t.primary_key:
                if (col := t.col(n)) is not None:
                    col.nullable = False
        elif isinstance(item, exp.ForeignKey):
            ref = item.args.get("reference")
            target = ref.this if ref is not None else None
            if target is None:
                self.warn("FOREIGN KEY without REFERENCES: ignored", line, t.sql_name)
                return
            ptable = target.this.name if isinstance(target, exp.Schema) else target.name
            pcols = [i.name for i in target.expressions] if isinstance(target, exp.Schema) else []
            t.fks.append((_names(item.expressions, exp), ptable, pcols, line))
        elif isinstance(item, exp.UniqueColumnConstraint):
            cols = _unique_cols(item, exp)
            if cols:
                t.uniques.append(cols)
        elif isinstance(item, exp.CheckColumnConstraint):
            t.checks.append((item.this, line))
        elif isinstance(item, exp.PrimaryKeyColumnConstraint):
            self.warn("PRIMARY KEY without columns: ignored", line, t.sql_name)
        elif isinstance(item, exp.IndexColumnConstraint):
            self.ignore("INDEX / KEY (an index, no constraint)", line)
        else:
            self.ignore(_label(type(item).__name__, item, self.dialect), line)

    def create_index(self, stmt: Any, line: int, head: str, exp: Any) -> None:
        index = stmt.this
        table = index.args.get("table") if isinstance(index, exp.Index) else None
        t = self.table_of(table, exp) if table is not None else None
        if t is None or not stmt.args.get("unique"):
            self.skipped.append(Finding(_short(head) + " … (an index: no data constraint)", line))
            return
        params = index.args.get("params")
        cols = _names(params.args.get("columns") or [] if params is not None else [], exp)
        if cols:
            t.uniques.append(cols)
            self.notes.append(Finding(f"unique index on {t.sql_name} ({', '.join(cols)}): unique", line))

    def alter_table(self, stmt: Any, line: int, head: str, exp: Any) -> None:
        t = self.table_of(stmt.this, exp)
        if t is None:
            self.skipped.append(Finding(_short(head) + f" … (table {stmt.this.name} is not created in this file)",
                                        line))
            return
        used = False
        for action in stmt.args.get("actions") or []:
            if isinstance(action, exp.AddConstraint):
                for sub in action.expressions:
                    self.table_constraint(t, sub, line, exp)
                used = True
            elif isinstance(action, (exp.Constraint, exp.PrimaryKey, exp.ForeignKey, exp.UniqueColumnConstraint)):
                self.table_constraint(t, action, line, exp)
                used = True
        if not used:
            self.skipped.append(Finding(_short(head) + " … (changes no column the import reads)", line))

    def comment(self, stmt: Any, line: int, head: str, exp: Any) -> None:
        kind = str(stmt.args.get("kind") or "").upper()
        text = _literal(stmt.args.get("expression"), exp)
        target = stmt.this
        if kind == "TABLE" and (t := self.table_of(target, exp)) is not None:
            t.description = text if isinstance(text, str) else None
            return
        if kind == "COLUMN" and isinstance(target, exp.Column):
            t = self.tables.get((target.table or "").lower())
            col = t.col(target.name) if t is not None else None
            if col is not None:
                col.description = text if isinstance(text, str) else None
                return
        self.skipped.append(Finding(_short(head) + " …", line))

    # --- from the statements to the schema ------------------------------------------------

    def resolve(self, default_rows: int, rows: Mapping[str, int], name: str) -> Imported:
        tables = list(self.tables.values())
        for t, n in zip(tables, unique_identifiers([t.sql_name for t in tables], "table"), strict=True):
            t.name = n
        for t in tables:
            for c, n in zip(t.columns.values(), unique_identifiers([c.sql_name for c in t.columns.values()]),
                            strict=True):
                c.name = n
        self._checks(tables)
        self._keys(tables)
        self._foreign_keys(tables)
        self._cycles(tables)
        self._rows(tables, default_rows, rows)
        return self._document(tables, name)

    def _checks(self, tables: list[_Table]) -> None:
        from sqlglot import exp

        for t in tables:
            for cond, line in t.checks:
                for part in _conjuncts(cond, exp):
                    if not self._check(t, part, line, exp):
                        self.warn(f"CHECK ({part.sql(self.dialect)}) is not mapped: validate does not check it",
                                  line, t.sql_name)

    def _check(self, t: _Table, cond: Any, line: int | None, exp: Any) -> bool:
        """Map one condition of a CHECK; False when it cannot be."""
        while isinstance(cond, exp.Paren):
            cond = cond.this
        array = _any_array(cond, exp)
        if (isinstance(cond, exp.In) and not cond.args.get("query")) or array is not None:
            col = self._check_col(t, cond.this, exp)
            values = [_literal(v, exp) for v in (array if array is not None else cond.expressions)]
            if col is None or any(v is _NOT_LITERAL or v is None for v in values):
                return False
            values = [_coerce(v, col.type) for v in values]
            col.allowed = values if col.allowed is None else [v for v in col.allowed if v in values]
            col.notes.append(f"CHECK IN (…) → allowed (line {line})")
            return True
        if isinstance(cond, exp.Or):
            col_values = [(self._check_col(t, e.this, exp), _literal(e.expression, exp))
                          for e in _disjuncts(cond, exp) if isinstance(e, exp.EQ)]
            cols = {id(c) for c, _ in col_values}
            if len(col_values) == len(_disjuncts(cond, exp)) and len(cols) == 1 and col_values[0][0] is not None \
                    and all(v is not _NOT_LITERAL for _, v in col_values):
                col = col_values[0][0]
                col.allowed = [_coerce(v, col.type) for _, v in col_values]
                col.notes.append(f"CHECK (… OR …) → allowed (line {line})")
                return True
            return False
        if isinstance(cond, exp.Between):
            col = self._check_col(t, cond.this, exp)
            lo, hi = _literal(cond.args.get("low"), exp), _literal(cond.args.get("high"), exp)
            if col is None or lo is _NOT_LITERAL or hi is _NOT_LITERAL:
                return False
            self._bound(col, "min", lo)
            self._bound(col, "max", hi)
            col.notes.append(f"CHECK BETWEEN → min/max (line {line})")
            return True
        if isinstance(cond, exp.Not) and isinstance(cond.this, exp.Is) or isinstance(cond, exp.Is) \
                and isinstance(cond.expression, exp.Null) and False:
            col = self._check_col(t, cond.this.this, exp)
            if col is not None:
                col.nullable = False
                return True
            return False
        cmp = {exp.GTE: ">=", exp.GT: ">", exp.LTE: "<=", exp.LT: "<", exp.NEQ: "<>", exp.EQ: "="}
        op = cmp.get(type(cond))
        if op is None:
            return False
        left, right = cond.this, cond.expression
        flip = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "<>": "<>", "=": "="}
        if _literal(left, exp) is not _NOT_LITERAL and _literal(right, exp) is _NOT_LITERAL:
            left, right, op = right, left, flip[op]
        value = _literal(right, exp)
        if value is _NOT_LITERAL:
            return False
        if isinstance(left, exp.Length) or (isinstance(left, exp.Anonymous) and str(left.this).lower() in
                                            ("len", "char_length", "character_length", "length")):
            arg = left.this if isinstance(left, exp.Length) else (left.expressions[0] if left.expressions else None)
            col = self._check_col(t, arg, exp)
            if col is None or not isinstance(value, int) or col.type != "string":
                return False
            if op in ("<=", "<"):
                n = value if op == "<=" else value - 1
                col.max_length = n if col.max_length is None else min(col.max_length, n)
                return True
            if op in (">", ">=", "<>") and value <= 1:
                col.notes.append("CHECK length(…) > 0: values are never empty")
                return True
            return False
        col = self._check_col(t, left, exp)
        if col is None:
            return False
        if op == "<>":
            if value == "" and col.type == "string":
                col.notes.append("CHECK (<> '') : values are never empty")
                return True
            return False
        if op == "=":
            col.allowed = [_coerce(value, col.type)]
            return True
        kind = _kind_of(col.type)
        if op in (">", "<"):
            value = self._strict(col, value, +1 if op == ">" else -1, kind)
        self._bound(col, "min" if op in (">=", ">") else "max", value)
        col.notes.append(f"CHECK {op} → {'min' if op in ('>=', '>') else 'max'} (line {line})")
        return True

    def _strict(self, col: _Column, value: Any, sign: int, kind: str) -> Any:
        if kind == "int" and isinstance(value, (int, float)):
            return int(value) + sign if float(value).is_integer() else (int(value) + (1 if sign > 0 else 0))
        if kind == "decimal" and isinstance(value, (int, float)):
            scale = int(col.type.split(",")[1].rstrip(")"))
            step = Decimal(1).scaleb(-scale)
            return _num(Decimal(str(value)) + sign * step)
        if kind == "float" and isinstance(value, (int, float)):
            import math

            return math.nextafter(float(value), sign * math.inf)
        if kind == "date" and isinstance(value, str):
            import datetime as dt

            try:
                return (dt.date.fromisoformat(value[:10]) + dt.timedelta(days=sign)).isoformat()
            except ValueError:
                return value
        return value

    def _bound(self, col: _Column, key: str, value: Any) -> None:
        value = _coerce(value, col.type)
        old = getattr(col, key)
        if old is not None:
            try:
                value = max(old, value) if key == "min" else min(old, value)
            except TypeError:
                pass
        setattr(col, key, value)

    def _check_col(self, t: _Table, node: Any, exp: Any) -> _Column | None:
        while isinstance(node, exp.Paren) or isinstance(node, exp.Cast):
            node = node.this
        if isinstance(node, exp.Column):
            return t.col(node.name)
        return None

    def _keys(self, tables: list[_Table]) -> None:
        for t in tables:
            for name in list(t.primary_key):
                if t.col(name) is None:
                    self.warn(f"PRIMARY KEY names column {name}, which {t.sql_name} does not have: ignored",
                              t.line, t.sql_name)
                    t.primary_key = []
            groups: list[list[str]] = []
            for g in t.uniques:
                if any(t.col(n) is None for n in g):
                    self.warn(f"UNIQUE ({', '.join(g)}) names a column {t.sql_name} does not have: ignored",
                              t.line, t.sql_name)
                    continue
                if len(g) == 1:
                    t.col(g[0]).unique = True  # type: ignore[union-attr]
                elif [n.lower() for n in g] != [n.lower() for n in t.primary_key] and g not in groups:
                    groups.append(g)
            t.uniques = groups

    def _foreign_keys(self, tables: list[_Table]) -> None:
        for t in tables:
            for cols, ptable, pcols, line in t.fks:
                parent = self.tables.get(ptable.lower())
                where = t.sql_name
                if parent is None:
                    self.warn(f"FOREIGN KEY ({', '.join(cols)}) references {ptable}, which this file does not "
                              "create: the column is generated from its name and type", line, where)
                    continue
                if not pcols:
                    pcols = list(parent.primary_key)
                if len(cols) != len(pcols):
                    self.warn(f"FOREIGN KEY ({', '.join(cols)}) → {parent.sql_name} ({', '.join(pcols)}): "
                              "the column lists differ in length: ignored", line, where)
                    continue
                if len(cols) > 1:
                    self._composite_fk(t, parent, cols, pcols, line, where)
                    continue
                child, pcol = t.col(cols[0]), parent.col(pcols[0])
                if child is None or pcol is None:
                    self.warn(f"FOREIGN KEY ({cols[0]}) → {ptable} ({pcols[0]}) names a column that does not "
                              "exist: ignored", line, where)
                    continue
                if child.fk is not None:
                    self.warn(f"{child.sql_name} references two tables: only the first reference is kept", line,
                              where)
                    continue
                if not (parent.primary_key and [n.lower() for n in parent.primary_key] == [pcol.sql_name.lower()]) \
                        and not pcol.unique:
                    pcol.unique = True
                    self.notes.append(Finding(f"{parent.sql_name}.{pcol.sql_name} is referenced by "
                                              f"{t.sql_name}.{child.sql_name}: made unique (a reference needs a "
                                              "key)", line))
                if child.type != pcol.type:
                    child.notes.append(f"type {child.type} → {pcol.type}, its parent's")
                    child.type, child.max_length = pcol.type, pcol.max_length or child.max_length
                if parent is t and not child.nullable:
                    self.warn(f"self-reference {child.sql_name} is NOT NULL: made nullable (the first row has no "
                              "earlier row to point at)", line, where)
                    child.nullable = True
                child.fk = (parent.name, pcol.name, line)

    def _composite_fk(self, t: _Table, parent: _Table, cols: list[str], pcols: list[str], line: int | None,
                      where: str) -> None:
        """A composite reference: the first column is the fk (it picks the parent row), the others
        are bound to the same row (the fk's ``with_columns``). The parent's columns must be its primary
        key or a unique group, as SQL requires."""
        children = [t.col(c) for c in cols]
        parents = [parent.col(c) for c in pcols]
        shown = f"FOREIGN KEY ({', '.join(cols)}) → {parent.sql_name} ({', '.join(pcols)})"
        if any(c is None for c in children) or any(p is None for p in parents):
            self.warn(f"{shown} names a column that does not exist: ignored", line, where)
            return
        key = {p.sql_name.lower() for p in parents}  # type: ignore[union-attr]
        keys = [{n.lower() for n in parent.primary_key}] + [{n.lower() for n in g} for g in parent.uniques]
        if key not in keys or len(key) != len(pcols):
            self.warn(f"{shown}: the parent's columns are not its primary key or a unique group: not declared "
                      "(the columns are generated from their names and types)", line, where)
            return
        if parent is t:
            self.warn(f"{shown}: a composite self-reference is not declared (the DSL's composite keys point "
                      "at another table)", line, where)
            return
        if any(c.fk is not None or c.bound is not None for c in children):  # type: ignore[union-attr]
            self.warn(f"{shown}: a column of it is already in another reference: only the first is kept", line,
                      where)
            return
        head, rest = children[0], children[1:]
        assert head is not None
        for c, p in zip(children, parents, strict=True):
            assert c is not None and p is not None
            if c.type != p.type:
                c.notes.append(f"type {c.type} → {p.type}, its parent's")
                c.type, c.max_length = p.type, p.max_length or c.max_length
        head.fk = (parent.name, parents[0].name, line)  # type: ignore[union-attr]
        head.fk_with = {c.name: p.name for c, p in zip(rest, parents[1:], strict=True)}  # type: ignore[union-attr]
        for c, p in zip(rest, parents[1:], strict=True):
            c.bound = f"{head.name}.{p.name}"  # type: ignore[union-attr]
            c.notes.append(f"bound by the composite key ({', '.join(cols)}) to {parent.sql_name}")  # type: ignore
        self.notes.append(Finding(f"{shown}: a composite key, declared with the fk's with_columns", line))

    def _cycles(self, tables: list[_Table]) -> None:
        """Break each cycle of references between tables (not self-references) at a nullable
        column when there is one: the DSL generates parents before children."""
        by_name = {t.name: t for t in tables}
        while True:
            cycle = _find_cycle({t.name: sorted({c.fk[0] for c in t.columns.values()
                                                 if c.fk is not None and c.fk[0] != t.name}) for t in tables})
            if cycle is None:
                return
            edges = [(by_name[a], c) for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True)
                     for c in by_name[a].columns.values() if c.fk is not None and c.fk[0] == b]
            t, c = next(((t, c) for t, c in edges if c.nullable), edges[0])
            self.warn(f"references form a cycle ({' → '.join([*cycle, cycle[0]])}): {t.sql_name}.{c.sql_name} is "
                      "not declared as a foreign key", c.fk[2] if c.fk else None, t.sql_name)
            c.fk = None
            for other in t.columns.values():  # a composite key's bound columns go with it
                if c.fk_with and other.name in c.fk_with:
                    other.bound = None
            c.fk_with = None

    def _rows(self, tables: list[_Table], default_rows: int, rows: Mapping[str, int]) -> None:
        names = {t.name.lower(): t for t in tables} | {t.sql_name.lower(): t for t in tables}
        for key, n in rows.items():
            t = names.get(key.lower())
            if t is None:
                hint = did_you_mean(key, [t.name for t in tables])
                raise UsageError(f"--rows {key}={n}: no table {key} in {self.file}" + (f" ({hint})" if hint else "")
                                 + f"; tables: {', '.join(t.name for t in tables)}")
            t.rows = n
        explicit = {names[k.lower()].name for k in rows}
        for t in tables:
            if t.name not in explicit:
                t.rows = default_rows
        for t in _topological(tables):
            if t.name in explicit:
                continue
            cap = self._capacity(t, {x.name: x for x in tables})
            if cap is not None and cap < t.rows:
                self.notes.append(Finding(f"{t.name}: {cap} rows (its keys hold no more)", t.line))
                t.rows = max(1, cap)

    def _capacity(self, t: _Table, by_name: dict[str, _Table]) -> int | None:
        caps: list[int] = []
        for c in t.columns.values():
            key = c.unique or [c.sql_name.lower()] == [n.lower() for n in t.primary_key]
            if not key:
                continue
            if c.allowed:
                caps.append(len(set(c.allowed)))
            elif c.fk is not None and c.fk[0] in by_name and c.fk[0] != t.name:
                caps.append(by_name[c.fk[0]].rows)
            elif c.type in ("int8", "int16") and c.identity is None:
                caps.append(127 if c.type == "int8" else 32767)
            elif c.type in ("int8", "int16"):
                start, step = c.identity or (1, 1)
                top = 127 if c.type == "int8" else 32767
                caps.append(max(1, (top - start) // max(step, 1) + 1))
            elif c.type == "bool":
                caps.append(2)
        return min(caps) if caps else None

    def _document(self, tables: list[_Table], name: str) -> Imported:
        comments: dict[str, str] = {}
        doc_tables = []
        self._table_sql_names = {sql for pair in _kept_sql_names([(t.name, t.sql_name) for t in tables]).values()
                                 for sql in pair}
        for t in tables:
            doc_tables.append(self._table_doc(t, comments))
        schema = {"version": 1, "name": dsl_identifier(name, "imported"),
                  "description": f"Imported from {Path(self.file).name} ({self.dialect} DDL) by datagen import sql",
                  "seed": 42, "tables": doc_tables}
        for what, lines in self.ignored.items():
            where = ", ".join(f"line {n}" for n in sorted(set(lines))[:5] if n) + (" …" if len(set(lines)) > 5 else "")
            self.notes.append(Finding(f"{what}: ignored (changes no data)" + (f" ({where})" if where else "")))
        comments[""] = (f"Schema imported from {self.file} ({self.dialect}) by `datagen import sql`.\n"
                        "Each table and column says in a comment what it was read from (line numbers in that "
                        "file)\nand why its generator was chosen: edit freely.")
        return Imported(schema, self.warnings, self.notes, self.skipped, comments)

    def _table_doc(self, t: _Table, comments: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {"name": t.name}
        text = [f"line {t.line}: CREATE TABLE {t.sql_name}" if t.line else f"CREATE TABLE {t.sql_name}"]
        if t.name != t.sql_name:
            if t.sql_name in self._table_sql_names:
                out["sql_name"] = t.sql_name  # DDL and database targets use the original name
            text.append(f"SQL name: {t.sql_name!r}")
        out["rows"] = t.rows
        comments[t.name] = "; ".join(text) + "".join(f"\n{n}" for n in t.notes)
        if t.description:
            out["description"] = t.description
        pk = [t.col(n).name for n in t.primary_key if t.col(n) is not None]  # type: ignore[union-attr]
        if pk:
            out["primary_key"] = pk[0] if len(pk) == 1 else pk
        if t.uniques:
            out["unique"] = [[t.col(n).name for n in g] for g in t.uniques]  # type: ignore[union-attr]
        composite = {n.lower() for g in t.uniques for n in g} | (
            {n.lower() for n in t.primary_key} if len(t.primary_key) > 1 else set())
        siblings = {c.name: c.type for c in t.columns.values()}
        kept = _kept_sql_names([(c.name, c.sql_name) for c in t.columns.values()])
        cols = []
        for c in t.columns.values():
            single_pk = [c.sql_name.lower()] == [n.lower() for n in t.primary_key]
            col: dict[str, Any] = {"name": c.name}
            if c.sql_name in kept.get(c.name, ()):
                col["sql_name"] = c.sql_name  # the original name, for DDL and database targets
            col["type"] = c.type
            if c.max_length:
                col["max_length"] = c.max_length
            if c.nullable and not single_pk and c.sql_name.lower() not in composite:
                col["nullable"] = True
                col["null_rate"] = SELF_NULL_RATE if c.fk is not None and c.fk[0] == t.name else NULL_RATE
            if c.unique and not single_pk:
                col["unique"] = True
            if c.min is not None:
                col["min"] = c.min
            if c.max is not None:
                col["max"] = c.max
            if c.allowed is not None:
                col["allowed"] = c.allowed
            if c.description:
                col["description"] = c.description
            if c.fk is not None:
                gen: dict[str, Any] = {"type": "fk", "params": {"table": c.fk[0], "column": c.fk[1]}}
                why = f"references {c.fk[0]}.{c.fk[1]}" + (f" (line {c.fk[2]})" if c.fk[2] else "")
                if c.fk_with:
                    gen["params"]["with_columns"] = dict(c.fk_with)
                    why = f"references {c.fk[0]} ({', '.join([c.fk[1] or '', *c.fk_with.values()])})" + \
                        (f" (line {c.fk[2]})" if c.fk[2] else "")
            elif c.bound is not None:
                gen, why = {"type": "expr", "params": {"expr": c.bound}}, "the same parent row's value"
            else:
                inf = infer_generator(t.name, c.name, c.type, max_length=c.max_length, nullable=c.nullable,
                                      unique=c.unique, primary_key=single_pk,
                                      composite_key=c.sql_name.lower() in composite, identity=c.identity,
                                      allowed=c.allowed, min=c.min, max=c.max, default=c.default,
                                      json_text=c.json_text, siblings=siblings)
                gen, why = inf.generator, inf.reason
            col["generator"] = gen
            cols.append(col)
            text = [f"line {c.line}: {c.sql_type}" if c.line else c.sql_type]
            if c.name != c.sql_name:
                text.append(f"SQL name: {c.sql_name!r}")
            if c.identity is not None:
                text.append("identity")
            if c.default_sql is not None:
                text.append(f"DEFAULT {c.default_sql}")
            text += c.notes
            text.append(f"generator: {why}")
            comments[f"{t.name}.{c.name}"] = "; ".join(text)
        out["columns"] = cols
        return out


_INTS = {"TINYINT": "int8", "UTINYINT": "int16", "SMALLINT": "int16", "USMALLINT": "int32", "MEDIUMINT": "int32",
         "UMEDIUMINT": "int32", "INT": "int32", "UINT": "int64", "BIGINT": "int64", "UBIGINT": "int64",
         "SERIAL": "int32", "SMALLSERIAL": "int16", "BIGSERIAL": "int64"}
_TEXTS = {"CHAR", "NCHAR", "VARCHAR", "NVARCHAR", "TEXT", "MEDIUMTEXT", "LONGTEXT", "TINYTEXT", "NAME", "CITEXT",
          "BPCHAR", "STRING", "NTEXT", "CLOB", "VARCHAR2", "NVARCHAR2", "FIXEDSTRING", "LOWCARDINALITY"}
_NOT_LITERAL = object()


def _kind_of(dsl_type: str) -> str:
    from shared.model.types import parse_type

    return parse_type(dsl_type).kind


def _num(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def _coerce(value: Any, dsl_type: str) -> Any:
    """A literal as a value of the column's type (``'5'`` on an int column is 5)."""
    kind = _kind_of(dsl_type)
    if kind in ("int", "decimal", "float") and isinstance(value, str):
        try:
            d = Decimal(value)
            return _num(d)
        except ArithmeticError:
            return value
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind in ("string",) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if kind == "bool" and isinstance(value, int):
        return bool(value)
    if kind == "timestamp" and isinstance(value, str):
        return _iso_timestamp(value)
    return value


def _iso_timestamp(text: str) -> str:
    """A timestamp literal in the DSL's ISO form, UTC (``2022-01-01 00:00:00+00`` as PostgreSQL
    prints it → ``2022-01-01T00:00:00Z``); text that is not a timestamp is kept as it is."""
    import datetime as dt

    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"


def _any_array(cond: Any, exp: Any) -> list[Any] | None:
    """The items of ``col = ANY (ARRAY[…])`` — how PostgreSQL prints a CHECK written ``col IN
    (…)`` (``pg_get_constraintdef``, pg_dump) — else None."""
    if not isinstance(cond, exp.EQ) or not isinstance(cond.expression, exp.Any):
        return None
    node = cond.expression.this
    while isinstance(node, (exp.Paren, exp.Cast)):
        node = node.this
    return list(node.expressions) if isinstance(node, exp.Array) else None


def _literal(node: Any, exp: Any) -> Any:
    """A SQL literal as a Python value (numbers, strings, booleans, NULL as None, negative
    numbers, ``DATE '…'``, ``'x'::text``), or ``_NOT_LITERAL``."""
    while isinstance(node, (exp.Paren, exp.Cast)) or (isinstance(node, exp.Anonymous) and False):
        node = node.this
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        try:
            return _num(Decimal(node.this))
        except ArithmeticError:
            return node.this
    if isinstance(node, exp.Neg):
        v = _literal(node.this, exp)
        return -v if isinstance(v, (int, float)) else _NOT_LITERAL
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.National):
        return node.this
    return _NOT_LITERAL


def _param(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.DataTypeParam):
        node = node.this
    v = _literal(node, exp)
    if v is _NOT_LITERAL:
        return node.sql() if node is not None else None
    return v


def _names(items: Any, exp: Any) -> list[str]:
    out: list[str] = []
    for it in items or []:
        if isinstance(it, exp.Ordered):
            it = it.this
        if isinstance(it, exp.Column):
            out.append(it.name)
        elif isinstance(it, exp.Identifier):
            out.append(it.name)
        elif isinstance(it, exp.Schema):
            out += _names(it.expressions, exp)
        elif isinstance(it, exp.Expression) and it.find(exp.Identifier) is not None:
            out.append(it.find(exp.Identifier).name)
    return out


def _unique_cols(item: Any, exp: Any) -> list[str]:
    inner = item.this
    if isinstance(inner, exp.Schema):
        return _names(inner.expressions, exp)
    if isinstance(inner, exp.Expression) and isinstance(inner.this, list):
        return _names(inner.this, exp)
    if isinstance(inner, exp.Expression):
        return _names(inner.expressions, exp)
    return []


def _conjuncts(cond: Any, exp: Any) -> list[Any]:
    while isinstance(cond, exp.Paren):
        cond = cond.this
    if isinstance(cond, exp.And):
        return _conjuncts(cond.this, exp) + _conjuncts(cond.expression, exp)
    return [cond]


def _disjuncts(cond: Any, exp: Any) -> list[Any]:
    while isinstance(cond, exp.Paren):
        cond = cond.this
    if isinstance(cond, exp.Or):
        return _disjuncts(cond.this, exp) + _disjuncts(cond.expression, exp)
    return [cond]


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in graph.get(n, []):
            if state.get(m) == 1:
                return stack[stack.index(m):]
            if m not in state and (found := visit(m)) is not None:
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in graph:
        if n not in state and (found := visit(n)) is not None:
            return found
    return None


def _topological(tables: list[_Table]) -> list[_Table]:
    by_name = {t.name: t for t in tables}
    done: set[str] = set()
    out: list[_Table] = []

    def visit(t: _Table) -> None:
        if t.name in done:
            return
        done.add(t.name)
        for c in t.columns.values():
            if c.fk is not None and c.fk[0] in by_name and c.fk[0] != t.name:
                visit(by_name[c.fk[0]])
        out.append(t)

    for t in tables:
        visit(t)
    return out


def _is_create_table(tokens: list[Any]) -> bool:
    words = [t.text.upper() for t in tokens[:6]]
    return "CREATE" in words[:1] and "TABLE" in words


def _meta_line(ident: Any, default: int | None) -> int | None:
    meta = getattr(ident, "meta", None) or {}
    return meta.get("line", default)


def _node_line(node: Any, default: int) -> int:
    from sqlglot import exp

    ident = node if isinstance(node, exp.Identifier) else node.find(exp.Identifier)
    line = _meta_line(ident, default) if ident is not None else default
    return line if isinstance(line, int) else default


def _line_of(message: str) -> int | None:
    m = re.search(r"[Ll]ine:? (\d+)", message)
    return int(m[1]) if m else None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def _short(text: str, n: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"


def _label(kind: str, node: Any, dialect: str) -> str:
    try:
        text = node.sql(dialect)
    except Exception:  # noqa: BLE001 - a label only
        text = ""
    text = text.split("(")[0].strip() if text else kind
    return _short(text or kind, 40)


def _prop_label(prop: Any, key: str, dialect: str) -> str:
    labels = {"DistKey": "DISTKEY", "SortKey": "SORTKEY", "DistStyle": "DISTSTYLE", "Cluster": "CLUSTER BY",
              "Engine": "ENGINE", "CharacterSet": "CHARACTER SET", "Collate": "COLLATE", "PartitionedBy":
              "PARTITION BY", "On": "ON filegroup", "WithoutRowid": "WITHOUT ROWID", "AutoIncrement":
              "AUTO_INCREMENT start", "Options": "OPTIONS", "Property": "table options"}
    return labels.get(key, _label(key, prop, dialect))


def _rows_option(rows: int | str | Mapping[str, int] | Iterable[Any] | None) -> tuple[int, dict[str, int]]:
    """``rows``: N for every table, ``{table: N}``, or a list of ``N`` / ``TABLE=N`` (the CLI's)."""
    default, per = DEFAULT_ROWS, dict[str, int]()
    if rows is None:
        return default, per
    if isinstance(rows, Mapping):
        items: list[Any] = [f"{k}={v}" for k, v in rows.items()]
    elif isinstance(rows, (int, str)):
        items = [rows]
    else:
        items = list(rows)
    for item in items:
        text = str(item).strip()
        key, sep, value = text.rpartition("=")
        try:
            n = int(value)
        except ValueError:
            raise UsageError(f"--rows {text}: N or TABLE=N with N a whole number") from None
        if n < 1:
            raise UsageError(f"--rows {text}: at least 1 row")
        if sep:
            if not key.strip():
                raise UsageError(f"--rows {text}: TABLE=N needs a table name")
            per[key.strip()] = n
        else:
            default = n
    return default, per


def import_sql_text(text: str, *, dialect: str = "postgres", rows: Any = None, name: str = "imported",
                    file: str = "<sql>") -> Imported:
    """The schema of the SQL ``text`` (see the module docstring); ``file`` names it in messages."""
    d = check_dialect(dialect)
    default_rows, per = _rows_option(rows)
    job = _Import(text, d, file)
    job.run()
    if not job.tables:
        raise UsageError(f"{file}: no CREATE TABLE statement found" + (
            f" ({len(job.skipped)} other statements skipped)" if job.skipped else "")
            + f" (hint: is it {d} DDL? --dialect says which)")
    return job.resolve(default_rows, per, name)


@importer("sql", "SQL DDL (CREATE TABLE …) of postgres, redshift, snowflake, mysql, bigquery, duckdb, sqlite, tsql",
          extra="sql")
def import_sql(source: str, *, dialect: str = "postgres", rows: Any = None, name: str | None = None) -> Imported:
    """The schema of the DDL file ``source``: ``dialect`` one of ``DIALECTS``, ``rows`` N for
    every table or ``TABLE=N`` (a list of them, or a mapping), ``name`` the schema's name
    (default: the file's stem)."""
    path = Path(source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{source}: cannot read the SQL file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise UsageError(f"{source}:{line}: not UTF-8 text (hint: convert it, e.g. iconv -t utf-8)") from None
    return import_sql_text(text, dialect=dialect, rows=rows, name=name or path.stem, file=str(source))
