"""An :class:`~datagen.importers.Imported` as a YAML schema a person can read and edit.

``write_yaml(imported)`` returns the document: a header comment listing the warnings, the
skipped statements and the notes, then the schema, with each table's and column's comment
(``imported.comments["table"]`` / ``["table.column"]``) written above its node. The text reads
back (``shared.schema_dsl.source.read_document``) as exactly ``imported.schema``: keys in the
order the importer gave them, generators and short lists in flow style, strings quoted where
YAML would read them as something else.
"""

from __future__ import annotations

from typing import Any

import yaml

from datagen.importers import Finding, Imported

__all__ = ["write_yaml"]

#: lines of the header before "... and N more"
MAX_HEADER_FINDINGS = 200


class _Dumper(yaml.SafeDumper):
    """Safe dumping, no aliases, no line folding of long strings."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # a line break (or a control character) would spread a quoted scalar over several lines
    style = '"' if any(ch in data for ch in "\n\r\t\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump(value: Any, *, flow: bool | None = None) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=flow, allow_unicode=True,
                     width=100_000)


def _scalar_or_flow(value: Any) -> str:
    """A value on one line: a scalar, or a list / mapping in flow style."""
    text = _dump(value, flow=True).strip()
    if text.endswith("\n...") or text.endswith("..."):
        text = text.rsplit("\n", 1)[0].strip() if "\n" in text else text[:-3].strip()
    return text


def _comment(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    return [f"{indent}# {line}".rstrip() for line in str(text).splitlines()]


def _finding_lines(title: str, findings: list[Finding]) -> list[str]:
    if not findings:
        return []
    out = [f"# {title} ({len(findings)}):"]
    for f in findings[:MAX_HEADER_FINDINGS]:
        text = str(f).replace("\n", " ")
        out.append(f"#   - {text}")
    if len(findings) > MAX_HEADER_FINDINGS:
        out.append(f"#   ... and {len(findings) - MAX_HEADER_FINDINGS} more")
    return out


def _mapping(node: dict[str, Any], indent: str, first_prefix: str, comments: dict[str, str],
             key_of: str | None) -> list[str]:
    """A block mapping whose first line starts with ``first_prefix`` (``- `` in a list)."""
    lines: list[str] = []
    prefix = first_prefix
    for key, value in node.items():
        k = _scalar_or_flow(key)
        if key == "columns" and isinstance(value, list) and key_of is not None:
            lines.append(f"{prefix}{k}:")
            for col in value:
                cname = col.get("name") if isinstance(col, dict) else None
                lines += _comment(comments.get(f"{key_of}.{cname}"), indent + "  ")
                lines += _mapping(col, indent + "    ", indent + "  - ", comments, None)
        elif isinstance(value, dict) and key not in ("generator",) and value and _nested(value):
            lines.append(f"{prefix}{k}:")
            lines += _mapping(value, indent + "  ", indent + "  ", comments, None)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{prefix}{k}:")
            for i, item in enumerate(value):
                if key_of is not None:  # a table's list of blocks (correlations[0] …)
                    lines += _comment(comments.get(f"{key_of}.{key}[{i}]"), indent + "  ")
                lines += _mapping(item, indent + "    ", indent + "  - ", comments, None)
        elif key == "matrix" and isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            lines.append(f"{prefix}{k}:")  # a correlation matrix: one row per line
            lines += [f"{indent}  - {_scalar_or_flow(row)}" for row in value]
        else:
            lines.append(f"{prefix}{k}: {_scalar_or_flow(value)}")
        prefix = indent
    return lines


def _nested(value: dict[str, Any]) -> bool:
    return any(isinstance(v, (dict, list)) for v in value.values())


def write_yaml(imported: Imported) -> str:
    """The schema of ``imported`` as commented YAML (see the module docstring)."""
    schema = imported.schema
    comments = imported.comments
    lines: list[str] = []
    lines += _comment(comments.get(""), "")
    for title, findings in (("warnings", imported.warnings), ("skipped", imported.skipped),
                            ("notes", imported.notes)):
        lines += _finding_lines(title, findings)
    if lines:
        lines.append("")
    for key, value in schema.items():
        if key == "tables" and isinstance(value, list):
            lines.append("tables:")
            for table in value:
                tname = table.get("name") if isinstance(table, dict) else None
                lines.append("")
                lines += _comment(comments.get(str(tname)), "  ")
                lines += _mapping(table, "    ", "  - ", comments, str(tname))
        elif isinstance(value, dict) and value and _nested(value):
            lines.append(f"{_scalar_or_flow(key)}:")
            lines += _mapping(value, "  ", "  ", comments, None)
        else:
            lines.append(f"{_scalar_or_flow(key)}: {_scalar_or_flow(value)}")
    return "\n".join(lines) + "\n"
