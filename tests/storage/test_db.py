"""The database setting: SQLite files by default, PostgreSQL by URL; errors that name the database, hide the
password and say what to check."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.build import build_assistant
from assistant.settings import load_settings
from assistant.types import Answer
from errors import ConfigError, StoreError
from storage.conversations import ConversationStore
from storage.db import open_database
from storage.feedback import FeedbackStore
from tests.postgres import PostgresServer, free_port

SECRET = "s3cr3t-Wachtwoord"


def test_postgresql_url_is_served_by_psycopg_and_never_shows_the_password() -> None:
    database = open_database(f"postgresql://ana:{SECRET}@db.example:5432/assistant")
    assert database.backend == "postgresql"
    assert database.engine.url.drivername == "postgresql+psycopg"
    assert database.location == "postgresql+psycopg://ana:***@db.example:5432/assistant"
    assert SECRET not in repr(database) and SECRET not in repr(database.engine)


def test_unsupported_or_malformed_url_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_DATABASE_URL=mysql://ana:\\*\\*\\*@") as err:
        open_database(f"mysql://ana:{SECRET}@127.0.0.1/assistant")
    assert "postgresql://" in str(err.value) and SECRET not in str(err.value)
    with pytest.raises(ConfigError, match="not a database URL") as err:
        open_database(f"ana:{SECRET} at the office")
    assert SECRET not in str(err.value)


def test_unreachable_server_is_a_store_error_naming_host_and_setting_without_the_password() -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://ana:{SECRET}@127.0.0.1:{port}/assistant"
    with pytest.raises(StoreError) as err:
        ConversationStore(open_database(url))
    message = str(err.value)
    assert f"postgresql+psycopg://ana:***@127.0.0.1:{port}/assistant" in message
    assert "check that PostgreSQL is running and ASSISTANT_DATABASE_URL" in message
    assert SECRET not in message and "\n" not in message and "Traceback" not in message
    with pytest.raises(StoreError, match="ASSISTANT_DATABASE_URL") as err:
        open_database(url).ping()
    assert SECRET not in str(err.value)


def test_sqlite_file_that_cannot_be_opened_names_the_file_and_the_setting(tmp_path: Path) -> None:
    blocked = tmp_path / "conversations.sqlite3"
    blocked.mkdir()  # a folder where the file should be
    with pytest.raises(StoreError, match="check ASSISTANT_DATA_DIR") as err:
        ConversationStore(blocked)
    assert str(blocked) in str(err.value)


def test_ping_answers_on_sqlite(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.ping()
    assert store.path == tmp_path / "feedback.sqlite3" and store.path.exists()


@pytest.mark.server
def test_ping_answers_while_the_server_runs_and_fails_plainly_when_it_is_down(
    postgres: PostgresServer, postgres_url: str
) -> None:
    store = ConversationStore(open_database(postgres_url))
    store.ping()
    postgres.stop()
    try:
        with pytest.raises(
            StoreError,
            match=r"cannot reach the database \(postgresql\+psycopg://postgres@127.0.0.1:.*ASSISTANT_DATABASE_URL",
        ):
            store.ping()
    finally:
        postgres.start()
    store.ping()
    store.close()
    store.database.close()


@pytest.mark.server
def test_wrong_password_is_a_store_error_that_shows_neither_password(postgres: PostgresServer) -> None:
    postgres.create_user("wrong_pw_user", SECRET)
    url = postgres.create_database(owner="wrong_pw_user")
    wrong = url.replace(SECRET, "niet-het-wachtwoord")
    with pytest.raises(StoreError, match="password authentication failed") as err:
        FeedbackStore(open_database(wrong))
    assert SECRET not in str(err.value) and "niet-het-wachtwoord" not in str(err.value)
    FeedbackStore(open_database(url)).ping()  # the right password works


def test_without_a_url_conversations_and_feedback_stay_in_their_sqlite_files(tmp_path: Path) -> None:
    components = build_assistant(load_settings(data_dir=tmp_path, _env_file=None))
    components.conversations.new()
    components.feedback.add(Answer.from_json({"question": "q", "answer": "a"}), "up")
    assert components.database is None
    assert sorted(p.name for p in tmp_path.glob("*.sqlite3")) == ["conversations.sqlite3", "feedback.sqlite3"]


@pytest.mark.server
def test_with_a_url_conversations_and_feedback_share_one_postgresql_database(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    postgres.create_user("components_user", SECRET)
    url = postgres.create_database(owner="components_user").replace("postgresql+psycopg://", "postgresql://")
    settings = load_settings(data_dir=tmp_path, database_url=url, _env_file=None)
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    first, second = build_assistant(settings), build_assistant(settings)  # two service instances
    conversation = first.conversations.new()
    feedback_id = first.feedback.add(
        Answer.from_json({"question": "q", "answer": "a", "conversation_id": conversation.id}), "down"
    )
    second.feedback.set_comment(feedback_id, "bron ontbreekt")
    assert second.conversations.get(conversation.id).id == conversation.id
    assert [(f.id, f.conversation_id, f.comment) for f in first.feedback.all()] == [
        (feedback_id, conversation.id, "bron ontbreekt")
    ]
    assert first.conversations.database is first.feedback.database
    assert not list(tmp_path.glob("*.sqlite3"))
    for components in (first, second):
        assert components.database is not None
        components.database.close()
