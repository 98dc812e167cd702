"""Core statements compiled once per dialect by SQLAlchemy and run on the driver's own cursor.

For the few statements every autosave runs: SQLAlchemy writes the SQL and converts the values (its
types' bind and result processors, so JSON and dates are stored exactly as the ORM stores them), and
the statement then runs inside the caller's transaction on the DBAPI connection, without the
execution machinery around each call (a quarter of an autosave's CPU, measured with py-spy).
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement


class Prepared:
    """One statement; `run` and `run_many` take its bind parameters by name."""

    def __init__(self, statement: ClauseElement, returning: Sequence = ()):
        self.statement = statement
        self.returning = tuple(returning)  # the RETURNING columns, for their result processors
        self._compiled: dict[int, tuple] = {}

    def _for(self, connection: Connection) -> tuple:
        dialect = connection.dialect
        found = self._compiled.get(id(dialect))
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
            bind = {name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names}
            # Values written into the statement itself (status=SENT): bound like the caller's, as SQLAlchemy does.
            fixed = {name: compiled.binds[name].effective_value for name in names if not compiled.binds[name].required}
            result = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in self.returning]
            found = self._compiled[id(dialect)] = (compiled.string, compiled.positional, names, bind, fixed, result)
        return found

    @staticmethod
    def _params(names: list[str], bind: dict, fixed: dict, positional: bool, values: dict[str, Any]):
        merged = {**fixed, **values}
        converted = {n: (bind[n](merged[n]) if bind[n] else merged[n]) for n in names}
        return tuple(converted[n] for n in names) if positional else converted

    def run(self, connection: Connection, values: dict[str, Any]) -> Optional[tuple]:
        """Execute once; the first row of RETURNING (processed), or None."""
        sql, positional, names, bind, fixed, result = self._for(connection)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, self._params(names, bind, fixed, positional, values))
            if not self.returning:
                return None
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else tuple(p(v) if p else v for p, v in zip(result, row))

    def run_many(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        sql, positional, names, bind, fixed, _ = self._for(connection)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.executemany(sql, [self._params(names, bind, fixed, positional, values) for values in rows])
        finally:
            cursor.close()
