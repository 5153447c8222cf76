"""The Core tables in `cs_tui/data/schema.py` are the SQLModel models written out, and stay so.

The store reads and writes through `schema.py` (SQLAlchemy Core, no SQLModel or pydantic on the
way to the first window); the models create new stores and remain the tables' one definition.
If a model changes and the file is not regenerated, these tests fail and say how to fix it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

from cs_tui.data import gen_tables, models, schema


def test_schema_py_is_what_the_models_generate():
    assert gen_tables.SCHEMA_PATH.read_text(encoding="utf-8") == gen_tables.render(), (
        "cs_tui/data/schema.py is out of date: run python -m cs_tui.data.gen_tables"
    )


def test_first_look_sql_py_is_what_the_queries_compile_to():
    """The first window is read with these statements before SQLAlchemy is loaded."""
    assert (
        gen_tables.FIRST_LOOK_PATH.read_text(encoding="utf-8") == gen_tables.render_first_look()
    ), "cs_tui/data/first_look_sql.py is out of date: run python -m cs_tui.data.gen_tables"


def ddl(metadata: sa.MetaData, dialect: sa.engine.Dialect) -> dict[str, list[str]]:
    out = {}
    for table in metadata.sorted_tables:
        statements = [str(CreateTable(table).compile(dialect=dialect)).strip()]
        statements += sorted(
            str(CreateIndex(index).compile(dialect=dialect)).strip() for index in table.indexes
        )
        out[table.name] = statements
    return out


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=lambda d: d.name)
def test_core_tables_create_the_same_database_as_the_models(dialect):
    assert ddl(schema.METADATA, dialect) == ddl(SQLModel.metadata, dialect)


def test_core_tables_fill_in_the_same_defaults_and_types_as_the_models():
    def described(metadata: sa.MetaData) -> dict[str, list[tuple[object, ...]]]:
        return {
            table.name: [
                (
                    column.name,
                    type(column.type).__name__.replace("AutoString", "String"),
                    column.default.arg if column.default is not None else None,
                )
                for column in table.columns
            ]
            for table in metadata.sorted_tables
        }

    assert described(schema.METADATA) == described(SQLModel.metadata)
    assert schema.SCHEMA_VERSION == models.SCHEMA_VERSION


def test_check_reports_a_stale_file_and_writing_fixes_it(tmp_path, monkeypatch, capsys):
    target = tmp_path / "schema.py"
    target.write_text("# an older schema\n", encoding="utf-8")
    monkeypatch.setattr(gen_tables, "SCHEMA_PATH", target)
    assert gen_tables.main(["--check"]) == 1
    assert "run python -m cs_tui.data.gen_tables" in capsys.readouterr().out
    assert gen_tables.main([]) == 0
    assert target.read_text(encoding="utf-8") == gen_tables.render()
    assert gen_tables.main(["--check"]) == 0


def test_a_model_feature_the_generator_cannot_write_stops_it_by_name():
    table = sa.Table(
        "thing",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("n", sa.Integer(), server_default="1"),
    )
    with pytest.raises(gen_tables.UnknownSchemaFeature, match=r"Thing\.n: server default"):
        gen_tables.render_table("Thing", table)


def test_generated_file_is_formatted_as_ruff_formats_it():
    run = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", str(gen_tables.SCHEMA_PATH)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
