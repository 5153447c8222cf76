"""Write `cs_tui/data/schema.py`, the Core tables, from the SQLModel models.

The models (`cs_tui.data.models`) are the one definition of the tables. Importing them costs
SQLModel, pydantic and SQLAlchemy's ORM, about half a second, yet the queue, the workstation's
first window and the commands only run Core statements. So the same tables are written out once
as plain `sa.Table(...)` code that imports SQLAlchemy Core alone, and a test regenerates it and
fails while the file is out of date.

    python -m cs_tui.data.gen_tables           # rewrite schema.py after changing models.py
    python -m cs_tui.data.gen_tables --check   # exit 1 if schema.py is out of date

Anything in a model this renderer does not know (a server default, a check constraint, a type
it has no spelling for) stops it with the model's name, rather than being left out.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

SCHEMA_PATH = Path(__file__).with_name("schema.py")
LINE_LIMIT = 100

HEADER = '''\
"""The store's tables as SQLAlchemy Core, written by `python -m cs_tui.data.gen_tables`: do not edit.

Generated from the SQLModel models (`cs_tui.data.models`, the tables' one definition) so that
reading and writing the store needs SQLAlchemy Core alone, not SQLModel, pydantic or the ORM.
After changing a model, run the generator; a test fails while this file is out of date.
"""

from __future__ import annotations

import sqlalchemy as sa

from cs_tui.data.coltypes import PortableJSON, UTCDateTime

'''


class UnknownSchemaFeature(Exception):
    """A model uses something the renderer cannot write out faithfully."""


def lit(value: object) -> str:
    """A Python literal as ruff formats it: strings in double quotes."""
    text = repr(value)
    if isinstance(value, str) and text.startswith("'") and '"' not in value:
        text = '"' + text[1:-1] + '"'
    return text


def constant_name(model_name: str) -> str:
    """`GatewayChannel` -> `GATEWAY_CHANNEL`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model_name).upper()


def render_type(type_: sa.types.TypeEngine[Any], where: str) -> str:
    name = type(type_).__name__
    if name in ("UTCDateTime", "PortableJSON"):
        return f"{name}()"
    if name in ("AutoString", "String"):
        length = getattr(type_, "length", None)
        return f"sa.String({length})" if length is not None else "sa.String()"
    if name in ("Integer", "BigInteger", "Boolean", "Float", "Text"):
        if repr(type_) != f"{name}()":
            raise UnknownSchemaFeature(f"{where}: column type {type_!r} has arguments")
        return f"sa.{name}()"
    raise UnknownSchemaFeature(f"{where}: column type {type_!r}")


def render_column(column: sa.Column[Any], where: str) -> list[str]:
    where = f"{where}.{column.name}"
    if column.server_default is not None or column.onupdate is not None:
        raise UnknownSchemaFeature(f"{where}: server default or onupdate")
    if column.server_onupdate is not None or column.computed is not None:
        raise UnknownSchemaFeature(f"{where}: server onupdate or computed column")
    if column.key != column.name or column.comment is not None or column.identity is not None:
        raise UnknownSchemaFeature(f"{where}: a key, comment or identity of its own")
    args = [lit(column.name), render_type(column.type, where)]
    for fk in column.foreign_keys:
        options = "".join(
            f", {opt}={lit(getattr(fk, opt))}"
            for opt in ("ondelete", "onupdate")
            if getattr(fk, opt) is not None
        )
        args.append(f"sa.ForeignKey({lit(fk.target_fullname)}{options})")
    if column.primary_key:
        args.append("primary_key=True")
    args.append(f"nullable={column.nullable!r}")
    if column.unique:
        args.append("unique=True")
    if column.index:
        args.append("index=True")
    if column.autoincrement != "auto":
        args.append(f"autoincrement={lit(column.autoincrement)}")
    default = column.default
    if default is not None:
        if not (isinstance(default, sa.ColumnDefault) and default.is_scalar):
            raise UnknownSchemaFeature(f"{where}: default {default!r} is not a plain value")
        args.append(f"default={lit(default.arg)}")
    return call("sa.Column", args, indent=4)


def render_table_item(item: sa.Index | sa.UniqueConstraint, where: str) -> list[str]:
    names = [lit(c.name) for c in item.columns]
    if isinstance(item, sa.Index):
        args = [lit(item.name), *names]
        if item.unique:
            args.append("unique=True")
        columns = [id(c) for c in item.columns]
        if item.dialect_kwargs or [id(e) for e in item.expressions] != columns:
            raise UnknownSchemaFeature(f"{where}: index {item.name} has options or expressions")
        return call("sa.Index", args, indent=4)
    args = [*names]
    if item.name is not None:
        args.append(f"name={lit(item.name)}")
    return call("sa.UniqueConstraint", args, indent=4)


def call(func: str, args: list[str], *, indent: int) -> list[str]:
    """`func(a, b)` on one line if it fits, else one argument a line (as ruff formats it)."""
    pad = " " * indent
    one = f"{pad}{func}({', '.join(args)}),"
    if len(one) <= LINE_LIMIT:
        return [one]
    return [f"{pad}{func}(", *(f"{pad}    {a}," for a in args), f"{pad}),"]


def render_table(model_name: str, table: sa.Table) -> list[str]:
    where = model_name
    items: list[sa.Index | sa.UniqueConstraint] = []
    for constraint in table.constraints:
        if isinstance(constraint, sa.PrimaryKeyConstraint | sa.ForeignKeyConstraint):
            if constraint.name is not None:
                raise UnknownSchemaFeature(f"{where}: named {type(constraint).__name__}")
            if isinstance(constraint, sa.ForeignKeyConstraint) and len(constraint.columns) > 1:
                raise UnknownSchemaFeature(f"{where}: foreign key over several columns")
            continue
        if isinstance(constraint, sa.UniqueConstraint):
            if not getattr(constraint, "_column_flag", False):
                items.append(constraint)
            continue
        raise UnknownSchemaFeature(f"{where}: constraint {constraint!r}")
    indexes = [i for i in table.indexes if not getattr(i, "_column_flag", False)]
    items.extend(sorted(indexes, key=lambda i: str(i.name)))
    if table.kwargs or table.schema is not None or table.comment is not None:
        raise UnknownSchemaFeature(f"{where}: table options")
    lines = [f"{constant_name(model_name)} = sa.Table(", f"    {lit(table.name)},", "    METADATA,"]
    for column in table.columns:
        lines.extend(render_column(column, where))
    for item in items:
        lines.extend(render_table_item(item, where))
    lines.append(")")
    return lines


def model_tables() -> list[tuple[str, sa.Table]]:
    """Every SQLModel table class of the models module with its table, in the module's order."""
    from sqlmodel import SQLModel

    from cs_tui.data import models

    found = []
    for name, value in vars(models).items():
        table = getattr(value, "__table__", None)
        if (
            isinstance(value, type)
            and issubclass(value, SQLModel)
            and value.__module__ == models.__name__
            and isinstance(table, sa.Table)
        ):
            found.append((name, table))
    registered = set(SQLModel.metadata.tables)
    named = {table.name for _, table in found}
    if named != registered:
        raise UnknownSchemaFeature(f"tables outside the models module: {registered - named}")
    return found


def render() -> str:
    from cs_tui.data import models

    parts = [
        HEADER,
        f"SCHEMA_VERSION = {models.SCHEMA_VERSION!r}\n\n",
        "METADATA = sa.MetaData()\n",
    ]
    for name, table in model_tables():
        parts.append("\n" + "\n".join(render_table(name, table)) + "\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cs_tui.data.gen_tables", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if schema.py is out of date")
    args = parser.parse_args(argv)
    try:
        text = render()
    except UnknownSchemaFeature as exc:
        print(f"gen_tables: cannot write the model out: {exc}", file=sys.stderr)
        return 2
    current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
    if args.check:
        if current != text:
            print(f"{SCHEMA_PATH.name} is out of date: run python -m cs_tui.data.gen_tables")
            return 1
        return 0
    if current != text:
        SCHEMA_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
