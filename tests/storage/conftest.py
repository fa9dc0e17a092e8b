"""PostgreSQL for the database tests: `postgres` (a real server for the session), `postgres_url` (a fresh
database per test). Both come from tests/postgres.py; bind them the same way in another directory. And
`location`: each store test runs on a SQLite file and on a fresh PostgreSQL database."""

from pathlib import Path

import pytest

from tests import postgres as _postgres

postgres = _postgres.postgres
postgres_url = _postgres.postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.server)])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where the stores live: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "assistant.sqlite3"
    return str(request.getfixturevalue("postgres_url"))
