"""PostgreSQL for the database tests: `postgres` (a real server for the session), `postgres_url` (a fresh
database per test). Both come from tests/postgres.py; bind them the same way in another directory."""

from tests import postgres as _postgres

postgres = _postgres.postgres
postgres_url = _postgres.postgres_url
