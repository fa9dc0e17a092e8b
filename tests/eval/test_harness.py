"""The evaluation harness end to end on a tiny hand-made gold file, against the real corpus index."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistant.build import Parts, build_assistant
from assistant.settings import Settings, load_settings
from assistant.types import EXTRACTIVE, Answer, Source
from eval import cli
from eval.gold import GoldItem, load_gold
from eval.report import write_report
from eval.run import EvalRun, ItemResult, evaluate, history_conversation, score
from tests.assistant import openai_server
from tests.assistant.openai_server import ScriptedOpenAIServer

scripted_openai = openai_server.scripted_openai

PACT_FILE = "001_3177b919d2c77f1a.txt"  # the pact's corpus file name, accepted as a document id
TINY_GOLD: list[dict[str, Any]] = [
    {
        "id": "t-nl-1",
        "lang": "nl",
        "kind": "number",
        "question": "Hoeveel asielaanvragen werden er volgens het migratiepact in 2019 in de EU ingediend?",
        "answer": "In 2019 werden ongeveer 698 000 asielaanvragen ingediend.",
        "key_facts": ["698 000"],
        "doc": PACT_FILE,
        "section": "1. INLEIDING: EEN NIEUW MIGRATIE- EN ASIELPACT",
        "evidence": "nam het aantal asielaanvragen af tot 698 000 in 2019",
    },
    {
        "id": "t-nl-2",
        "lang": "nl",
        "kind": "followup",
        "question": "En in 2015?",
        "answer": "In 2015 werden 1,28 miljoen asielaanvragen ingediend.",
        "key_facts": ["1,28 miljoen"],
        "doc": "pact-2020",
        "section": "1. INLEIDING: EEN NIEUW MIGRATIE- EN ASIELPACT",
        "evidence": "Na de piek in 2015, toen 1,28 miljoen asielaanvragen werden ingediend",
        "history": [
            {
                "role": "user",
                "content": "Hoeveel asielaanvragen werden er volgens het migratiepact in 2019 in de EU ingediend?",
            },
            {"role": "assistant", "content": "Volgens het pact waren dat er in 2019 ongeveer 698 000."},
        ],
    },
    {
        "id": "t-en-1",
        "lang": "en",
        "kind": "factoid",
        "question": "What does the screening of irregular arrivals at the external border include?",
        "answer": "Identification, health and security checks, fingerprinting and registration in Eurodac.",
        "key_facts": ["vingerafdrukken", "Eurodac"],
        "doc": PACT_FILE,
        "section": "2.1 Nieuwe procedures voor snelle vaststelling van status bij aankomst",
        "evidence": "Deze screening omvat identificatie, gezondheids- en veiligheidscontroles, het afnemen van "
        "vingerafdrukken en registratie in de Eurodac-databank.",
    },
    {
        "id": "t-en-2",
        "lang": "en",
        "kind": "unanswerable",
        "question": "What was the price of a litre of milk in Belgium in 2023?",
        "answer": "The documents don't cover this.",
        "key_facts": [],
        "doc": None,
        "section": None,
        "evidence": None,
    },
]
RESULT_FIELDS = {
    "id",
    "lang",
    "kind",
    "question",
    "standalone_question",
    "answer",
    "refused",
    "sources",
    "latency_ms",
    "scores",
    "key_facts",
    "failures",
}
SCORE_NAMES = {
    "retrieval.rank",
    "retrieval.hit@1",
    "retrieval.hit@3",
    "retrieval.hit@5",
    "retrieval.reciprocal_rank",
    "citations.valid",
    "citations.precision",
    "citations.has_citation",
    "answer.key_fact_recall",
    "language.match",
    "refusal.correct",
}
METRIC_NAMES = {
    "retrieval.hit@1",
    "retrieval.hit@3",
    "retrieval.hit@5",
    "retrieval.mrr",
    "citations.validity",
    "citations.precision",
    "citations.with_citation",
    "answer.key_fact_recall",
    "language.match",
    "refusal.recall",
    "refusal.false_rate",
    "latency.p50_ms",
    "latency.p95_ms",
}


def write_gold(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="policy-assistant")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["eval", *argv])


@pytest.fixture(scope="module")
def evaluated(corpus_components: Parts, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of `policy-assistant eval` on the tiny gold file."""
    folder = tmp_path_factory.mktemp("eval")
    gold = write_gold(folder / "tiny.jsonl", TINY_GOLD)
    out = folder / "out"
    assert cli.run(corpus_components, parse("--gold", str(gold), "--out", str(out), "--mode", "extractive")) == 0
    return out


def read_results(out: Path) -> dict[str, dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["id"]: r for r in map(json.loads, lines)}


def test_all_four_output_files_are_written(evaluated: Path) -> None:
    for name in ("results.jsonl", "metrics.json", "report.md", "report.html"):
        assert (evaluated / name).stat().st_size > 0, name


def test_results_hold_answer_sources_latency_and_every_score(evaluated: Path) -> None:
    results = read_results(evaluated)
    assert list(results) == ["t-nl-1", "t-nl-2", "t-en-1", "t-en-2"]
    for result in results.values():
        assert set(result) >= RESULT_FIELDS, result["id"]
        assert set(result["scores"]) >= SCORE_NAMES, result["id"]
        assert result["answer"] and result["latency_ms"] > 0
        assert result["sources"], result["id"]
        assert {"n", "doc_id", "section", "text"} <= set(result["sources"][0])


def test_corpus_file_names_are_accepted_as_document_ids(evaluated: Path) -> None:
    results = read_results(evaluated)
    assert results["t-nl-1"]["docs"] == ["pact-2020"]
    assert results["t-nl-1"]["scores"]["retrieval.hit@5"] is True  # the evidence is among its sources


def test_follow_up_is_asked_with_its_history(evaluated: Path) -> None:
    followup = read_results(evaluated)["t-nl-2"]
    assert followup["standalone_question"] != followup["question"]
    assert "asielaanvragen" in followup["standalone_question"]


def test_unanswerable_item_has_no_recall_or_retrieval_score(evaluated: Path) -> None:
    scores = read_results(evaluated)["t-en-2"]["scores"]
    assert scores["answer.key_fact_recall"] is None
    assert scores["retrieval.hit@5"] is None


def test_metrics_are_split_by_language_and_kind(evaluated: Path) -> None:
    metrics = json.loads((evaluated / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["overall"]) >= METRIC_NAMES
    assert set(metrics["by_language"]) == {"nl", "en"}
    assert set(metrics["by_kind"]) == {"number", "followup", "factoid", "unanswerable"}
    assert metrics["counts"]["overall"] == {"items": 4, "answerable": 3, "unanswerable": 1}
    assert metrics["by_kind"]["unanswerable"]["answer.key_fact_recall"] is None
    assert metrics["meta"]["mode"] == "extractive"
    assert "judge skipped" in metrics["meta"]["judge_notice"]


def test_report_has_a_chart_per_group_and_the_failures(evaluated: Path) -> None:
    md = (evaluated / "report.md").read_text(encoding="utf-8")
    page = (evaluated / "report.html").read_text(encoding="utf-8")
    for group in ("Retrieval", "Citations", "Answers", "Language", "Refusal", "Latency"):
        assert f"## {group}" in md and f"<h2>{group}</h2>" in page
    assert page.count("<svg") == 6
    assert "## Failures" in md and "<h2>Failures" in page
    failing = [r for r in read_results(evaluated).values() if r["failures"]]
    for result in failing:
        assert f"### {result['id']}" in md
        assert "Expected key facts" in md


def assert_loads_nothing(page: str) -> None:
    assert not re.search(r"""(?:src|href|action|xmlns)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"url\(|@import|<script|<link|<iframe|<img|<a\s", page, re.IGNORECASE)


def test_report_html_loads_nothing_from_outside(evaluated: Path) -> None:
    assert_loads_nothing((evaluated / "report.html").read_text(encoding="utf-8"))


def test_a_web_address_quoted_in_a_source_stays_plain_text(evaluated: Path, tmp_path: Path) -> None:
    failing = read_results(evaluated)["t-nl-1"]
    failing["failures"] = ["listed in the report with its sources"]
    failing["sources"][0]["text"] = "Zie https://eur-lex.europa.eu/x<script>alert(1)</script> voor de tekst."
    failing["scores"]["citations.cited"] = [failing["sources"][0]["n"]]
    metrics = json.loads((evaluated / "metrics.json").read_text(encoding="utf-8"))
    run = EvalRun(results=[ItemResult(**failing)], metrics=metrics)
    _, html_path = write_report(run, tmp_path)
    page = html_path.read_text(encoding="utf-8")
    assert "https://eur-lex.europa.eu/x&lt;script&gt;" in page  # shown, escaped, not a link
    assert_loads_nothing(page)


def test_gate_failure_exits_1_and_names_the_metric(
    corpus_components: Parts, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = write_gold(tmp_path / "one.jsonl", TINY_GOLD[:1])
    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        json.dumps(
            {
                "tolerance": 0.03,
                "floors": {"retrieval.hit@5": 0.9},
                "ceilings": {"latency.p95_ms": 0.001},
                "metrics": {},
            }
        ),
        encoding="utf-8",
    )
    args = parse("--gold", str(gold), "--out", str(tmp_path / "out"), "--baseline", str(baseline))
    assert cli.run(corpus_components, args) == 1
    verdict = capsys.readouterr().out.split("regression gate FAILED", 1)[1]
    assert "latency.p95_ms" in verdict and "above its ceiling 0.00" in verdict
    assert "retrieval.hit@5" not in verdict  # the evidence is found: that floor holds


def test_update_baseline_refuses_a_subset_of_the_gold_set(corpus_components: Parts, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(
        json.dumps(
            {
                "tolerance": 0.05,
                "floors": {"citations.validity": 1.0},
                "ceilings": {"refusal.false_rate": 0.1},
                "metrics": {"old": 1},
            }
        )
    )
    gold = write_gold(tmp_path / "one.jsonl", TINY_GOLD[:1])
    # A baseline records the whole gold set; a subset cannot replace it.
    from errors import InputError

    with pytest.raises(InputError, match="whole gold set"):
        cli.run(corpus_components, parse("--gold", str(gold), "--baseline", str(baseline), "--update-baseline"))
    assert json.loads(baseline.read_text())["metrics"] == {"old": 1}


@pytest.mark.parametrize(("argv", "message"), [(("--k", "0"), "--k 0"), (("--limit", "0"), "--limit 0")])
def test_bad_options_get_a_clear_message(corpus_components: Parts, argv: tuple[str, ...], message: str) -> None:
    from errors import InputError

    with pytest.raises(InputError, match=message):
        cli.run(corpus_components, parse(*argv))


def test_llm_judge_scores_each_answer(
    corpus_components: Parts,
    tmp_path: Path,
    scripted_openai: ScriptedOpenAIServer,
) -> None:
    judged = build_assistant(_with_judge(corpus_components.settings, scripted_openai.base_url, "judge-model"))
    judged.assistant = corpus_components.assistant  # the index already loaded; only the judge differs
    scripted_openai.reply_text('{"score": 0.5, "reason": "one claim unsupported"}')
    scripted_openai.reply_text('{"score": 1, "reason": "answers the question"}')
    gold = write_gold(tmp_path / "one.jsonl", TINY_GOLD[:1])
    out = tmp_path / "out"
    assert cli.run(judged, parse("--gold", str(gold), "--out", str(out))) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["overall"]["judge.faithfulness"] == 0.5
    assert metrics["overall"]["judge.relevance"] == 1.0
    assert metrics["meta"]["judge"] == "judge-model"
    prompts = [r.body["messages"][0]["content"] for r in scripted_openai.chat_requests]
    assert "698 000" in prompts[0]  # the faithfulness prompt carries the sources
    assert TINY_GOLD[0]["question"] in prompts[1]
    assert "<h2>LLM judge</h2>" in (out / "report.html").read_text(encoding="utf-8")


def _with_judge(settings: Settings, base_url: str | None, model: str | None) -> Settings:
    """`settings` with the LLM judge's endpoint, as ASSISTANT_JUDGE_BASE_URL and ASSISTANT_JUDGE_MODEL set it."""
    return settings.model_copy(update={"judge_base_url": base_url, "judge_model": model})


def test_half_configured_judge_is_a_clear_error() -> None:
    from errors import ConfigError

    settings = load_settings()
    with pytest.raises(ConfigError, match="ASSISTANT_JUDGE_BASE_URL"):
        cli.judge_from_settings(_with_judge(settings, None, "m"))
    assert cli.judge_from_settings(settings)[0] is None


# ------------------------------------------------------------------------------------------- scoring


def _source(n: int, text: str) -> Source:
    return Source(
        n=n,
        chunk_id=f"c{n}",
        doc_id="pact-2020",
        doc_title="Pact",
        doc_short_title="Pact",
        year=2020,
        section="1. Inleiding",
        section_path="1. Inleiding",
        text=text,
        similarity=0.9,
    )


ITEM = GoldItem(
    id="x",
    lang="nl",
    question="Hoeveel asielaanvragen waren er in 2019?",
    answer="698 000",
    key_facts=("698 000",),
    docs=("pact-2020",),
    sections=("1.",),
    evidence=("nam het aantal asielaanvragen af tot 698 000 in 2019",),
    kind="number",
)
RIGHT = _source(1, "Na de piek in 2015 nam het aantal asielaanvragen af tot 698 000 in 2019.")
OTHER = _source(2, "De screening omvat identificatie en vingerafdrukken.")


def _answer(text: str, sources: tuple[Source, ...], refused: bool = False) -> Answer:
    return Answer(
        question=ITEM.question,
        standalone_question=ITEM.question,
        language="nl",
        mode=EXTRACTIVE,
        text=text,
        sources=sources,
        refused=refused,
    )


def test_a_right_answer_scores_high() -> None:
    scores = score(ITEM, _answer("Het aantal daalde tot 698 000 in 2019. [1]", (RIGHT, OTHER)))
    assert scores["retrieval.hit@1"] and scores["answer.key_fact_recall"] == 1.0
    assert scores["citations.valid"] and scores["citations.precision"] == 1.0 and scores["language.match"]


def test_a_deliberately_wrong_answer_scores_low_on_every_count() -> None:
    wrong = _answer("The screening includes fingerprints. [2] [5]", (OTHER, _source(3, "Over visa.")))
    scores = score(ITEM, wrong)
    assert scores["retrieval.hit@5"] is False and scores["retrieval.reciprocal_rank"] == 0.0
    assert scores["answer.key_fact_recall"] == 0.0
    assert scores["citations.valid"] is False  # [5] points nowhere
    assert scores["citations.precision"] == 0.0
    assert scores["language.match"] is False  # asked in Dutch, answered in English


def test_a_refusal_of_an_answerable_question_gets_no_credit_for_its_source_list() -> None:
    refusal = _answer(
        "Dat staat niet in de documenten. De dichtstbijzijnde passages: [1] Pact — 698 000", (RIGHT,), refused=True
    )
    scores = score(ITEM, refusal)
    assert scores["answer.key_fact_recall"] == 0.0
    assert scores["citations.valid"] is None and scores["refusal.correct"] is False
    assert scores["retrieval.hit@1"] is True  # retrieval is measured all the same


def test_history_becomes_a_conversation() -> None:
    item = load_gold([write_gold_tmp(TINY_GOLD[1])])[0]
    conversation = history_conversation(item)
    assert conversation is not None and len(conversation.turns) == 1
    assert conversation.turns[0].question.startswith("Hoeveel asielaanvragen")
    assert conversation.turns[0].language == "nl"


def write_gold_tmp(item: dict[str, Any]) -> Path:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    return write_gold(folder / "one.jsonl", [item])


def test_evaluate_reports_progress_and_leaves_no_conversations_behind(corpus_components: Parts) -> None:
    items = load_gold([write_gold_tmp(TINY_GOLD[1])])
    calls: list[tuple[int, int]] = []
    before = corpus_components.assistant.conversations
    run = evaluate(
        corpus_components.assistant,
        items,
        mode="extractive",
        k=3,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 1)]
    assert len(run.results[0].sources) == 3
    assert corpus_components.assistant.conversations is before
