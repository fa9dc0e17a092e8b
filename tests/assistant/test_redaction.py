"""Credentials in `ASSISTANT_OPENAI_BASE_URL` never reach a user, the conversation store or the log.

A real index of the tiny corpus, the real scripted OpenAI-compatible server reached through
`http://user:PASSWORD@127.0.0.1:PORT/v1`, failing in the ways a user sees as a fallback notice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.build import Parts, build_assistant
from assistant.core import Done, Reset
from assistant.redact import HTTP_LOGGERS, quiet_http_loggers, redact
from assistant.settings import Settings, load_settings

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # `tests.*` needs the repository root (see test_llm.py)
    sys.path.insert(0, _ROOT)

from tests.assistant import openai_server  # noqa: E402
from tests.assistant.openai_server import ScriptedOpenAIServer  # noqa: E402
from tests.tiny_corpus import Q_SCREENING, write_tiny_corpus  # noqa: E402

scripted_openai = openai_server.scripted_openai

PASSWORD = "s3cr3t-Pa55"
USER = "proxyuser"


def _settings(data_dir: Path, corpus: Path, base_url: str) -> Settings:
    return load_settings(
        _env_file=None,
        data_dir=data_dir,
        corpus_dir=corpus,
        openai_base_url=base_url,
        openai_model="scripted-model",
        answer_mode="openai",
        openai_max_retries=0,
        openai_timeout=5.0,
        warm_up=False,
    )


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("redaction")
    corpus = write_tiny_corpus(root / "corpus")
    build_assistant(_settings(root / "index", corpus, "http://127.0.0.1:9/v1")).indexer.run()
    return root / "index", corpus


@pytest.fixture
def quiet_loggers() -> Iterator[None]:
    levels = {name: logging.getLogger(name).level for name in HTTP_LOGGERS}
    quiet_http_loggers()
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _parts(indexed: tuple[Path, Path], tmp_path: Path, base_url: str) -> Parts:
    index_dir, corpus = indexed
    parts = build_assistant(_settings(tmp_path, corpus, base_url))
    reader = build_assistant(_settings(index_dir, corpus, base_url))
    parts.store, parts.retriever = reader.store, reader.retriever  # the module's index; the store in tmp_path
    return parts


def _stored_text(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "conversations.sqlite3") as db:
        rows = db.execute("SELECT * FROM turns").fetchall() + db.execute("SELECT * FROM conversations").fetchall()
    assert rows, "the turns were stored"
    return json.dumps(rows, ensure_ascii=False)


@pytest.mark.parametrize("failure", ["echoing 500", "unreachable"])
def test_the_password_in_the_base_url_shows_nowhere(  # type: ignore[no-untyped-def]
    failure: str, indexed, scripted_openai: ScriptedOpenAIServer, tmp_path: Path, caplog, quiet_loggers
) -> None:
    port = scripted_openai.base_url.split(":")[2].split("/")[0]
    base_url = f"http://{USER}:{PASSWORD}@127.0.0.1:{port}/v1"
    if failure == "unreachable":
        scripted_openai.stop()
    else:  # a proxy that echoes the URL it was asked for, credentials and all
        scripted_openai.reply_status(500, f"upstream error for {base_url}/chat/completions")
        scripted_openai.reply_text("Dit antwoord komt nooit.")  # the follow-up's condensation: not reached
    caplog.set_level(logging.DEBUG)
    parts = _parts(indexed, tmp_path, base_url)
    conversation = parts.conversations.new("api:local")
    events = list(parts.assistant.ask_stream(Q_SCREENING, conversation))
    answer = next(e.answer for e in events if isinstance(e, Done))
    resets = [e.reason for e in events if isinstance(e, Reset)]

    assert answer.fallback == "llm_error" and "vijf dagen" in answer.text, "answered from the sources"
    (notice,) = answer.notices
    assert notice.startswith("Het taalmodel gaf geen antwoord; dit antwoord is uit de bronnen samengesteld.")
    assert "http://***@127.0.0.1" in notice, "the reason names the endpoint, without its user-info"
    shown = json.dumps([answer.to_json(), resets], ensure_ascii=False)
    assert PASSWORD not in shown and USER not in shown
    stored = _stored_text(tmp_path)
    assert PASSWORD not in stored and USER not in stored and "vijf dagen" in stored
    if failure == "echoing 500":
        assert scripted_openai.chat_requests, "the model was really asked"
    assert caplog.records, "the call was logged"
    assert PASSWORD not in caplog.text and USER not in caplog.text
    assert PASSWORD not in repr(parts.llm)


def test_redact_blanks_user_info_only() -> None:
    assert redact("at http://u:p@h:8/v1 now") == "at http://***@h:8/v1 now"
    assert redact("https://u:p@ss@host/v1") == "https://***@host/v1", "an unencoded @ in the password"
    assert redact("postgresql+psycopg://app:pw@db/x") == "postgresql+psycopg://***@db/x"
    assert redact("http://host/v1/users/a@b and mail a@b.nl") == "http://host/v1/users/a@b and mail a@b.nl"


def test_http_client_loggers_are_quiet(quiet_loggers: None) -> None:
    assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in HTTP_LOGGERS)
