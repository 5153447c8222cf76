"""Write `cs_tui/data/schema.py`, the Core tables, from the SQLModel models, and
`cs_tui/data/first_look_sql.py`, the first window's statements compiled for SQLite.

The models (`cs_tui.data.models`) are the one definition of the tables. Importing them costs
SQLModel, pydantic and SQLAlchemy's ORM, about half a second, yet the queue, the workstation's
first window and the commands only run Core statements. So the same tables are written out once
as plain `sa.Table(...)` code that imports SQLAlchemy Core alone, and a test regenerates it and
fails while the file is out of date. The workstation's first window is read before even
SQLAlchemy Core is loaded (`first_look.py`): its statements are the store's own, compiled here.

    python -m cs_tui.data.gen_tables           # rewrite both after changing models.py or queries
    python -m cs_tui.data.gen_tables --check   # exit 1 if either is out of date

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
FIRST_LOOK_PATH = Path(__file__).with_name("first_look_sql.py")
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


FIRST_LOOK_HEADER = '''\
"""The first window's SQL for SQLite, written by `python -m cs_tui.data.gen_tables`: do not edit.

`queries.first_look_statements` compiled for SQLite, so that `first_look.py` can read the
workstation's first window before SQLAlchemy is loaded. The parameters are named by what they
hold; a test fails while this file is out of date.
"""

'''


def render_first_look() -> str:
    """The first window's statements as `first_look.py` runs them, from the queries' own."""
    from datetime import UTC, datetime

    from sqlalchemy.dialects import sqlite

    from cs_tui.data.coltypes import UTCDateTime
    from cs_tui.data.queries import first_look_statements
    from cs_tui.data.tables import SCHEMA_VERSION
    from cs_tui.data.views import ROLES, AgentInfo

    # Values no other parameter can hold, so that each placeholder is named by its value.
    now, viewer_id, limit = datetime(2001, 2, 3, tzinfo=UTC), 987_654_321, 123_456_789
    names = {now: "now", viewer_id: "viewer", limit: "limit", 0: "offset"}
    window_sql, window_params = {}, {}
    for role in ROLES:
        viewer = AgentInfo(viewer_id, "first-look", "", role, True)
        ids, rows, last_event = first_look_statements(viewer, now, limit)
        compiled = ids.compile(dialect=sqlite.dialect())
        window_sql[role] = compiled.string
        window_params[role] = tuple(names[compiled.params[p]] for p in compiled.positiontup or ())
    # The ids are a list: compiled for one, then written as the place to put them all.
    one = rows.params(ids=[viewer_id]).compile(
        dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
    )
    if one.string.count("IN (?)") != 1 or one.positiontup != ["ids_1"]:
        raise UnknownSchemaFeature(f"the rows' statement changed shape: {one.string!r}")
    rows_sql = one.string.replace("IN (?)", "IN ({ids})")
    last_event_sql = last_event.compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
    )
    times = tuple(
        i for i, column in enumerate(rows.selected_columns) if isinstance(column.type, UTCDateTime)
    )
    return "".join(
        [
            FIRST_LOOK_HEADER,
            _constant("SCHEMA_VERSION", SCHEMA_VERSION),
            '"""The schema these statements were compiled for: another is read the usual way."""\n\n',
            _constant("WINDOW_SQL", window_sql),
            '"""The window\'s ids, by the viewer\'s role (an agent sees their own work and the pool)."""\n\n',
            _constant("WINDOW_PARAMS", window_params),
            "\n",
            _constant("ROWS_SQL", rows_sql),
            '"""The window\'s rows, in QueueRow\'s order, undelivered_at then the folded tags last."""\n\n',
            _constant("ROWS_TIMES", times),
            '"""The columns of ROWS_SQL that hold times (stored as UTC text)."""\n\n',
            _constant("LAST_EVENT_SQL", last_event_sql.string),
            '"""The newest event\'s id, read in the same snapshot as the window."""\n',
        ]
    )


def _literal(value: object) -> str:
    """A value as `ruff format` writes it (double quotes), so the file stays as generated."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _constant(name: str, value: object) -> str:
    if isinstance(value, dict):
        items = "".join(f"    {_literal(k)}: {_literal(v)},\n" for k, v in value.items())
        return f"{name} = {{\n{items}}}\n"
    return f"{name} = {_literal(value)}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cs_tui.data.gen_tables", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    stale = 0
    for path, make in ((SCHEMA_PATH, render), (FIRST_LOOK_PATH, render_first_look)):
        try:
            text = make()
        except UnknownSchemaFeature as exc:
            print(f"gen_tables: cannot write {path.name}: {exc}", file=sys.stderr)
            return 2
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            continue
        if args.check:
            print(f"{path.name} is out of date: run python -m cs_tui.data.gen_tables")
            stale = 1
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return stale


if __name__ == "__main__":
    raise SystemExit(main())
