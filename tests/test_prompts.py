"""Every prompt renders with exactly its variables; missing, unknown and malformed ones are refused."""

from __future__ import annotations

import json
import re

import pytest

import prompts
from errors import ConfigError

EXPECTED = {
    "system_nl": [],
    "system_en": [],
    "answer": ["sources", "question"],
    "compare": ["entries", "sources", "topic"],
    "condense": ["history", "question"],
    "judge_faithfulness": ["question", "answer", "sources"],
    "judge_relevance": ["question", "answer"],
}
NL_REFUSAL = "Dat staat niet in de documenten."
EN_REFUSAL = "The documents don't cover this."


def _values(name: str) -> dict[str, str]:
    return {v: f"<<value of {v}>>" for v in EXPECTED[name]}


def test_names_lists_the_bundled_prompts() -> None:
    assert prompts.names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_prompt_renders_with_its_variables(name: str) -> None:
    assert prompts.placeholders(name) == EXPECTED[name]
    text = prompts.render(name, **_values(name))
    for value in _values(name).values():
        assert text.count(value) == 1
    assert "{{" not in text and "}}" not in text
    assert len(text.split()) > 40  # a real prompt, not a stub


@pytest.mark.parametrize(("name", "variable"), [(n, v) for n, vs in EXPECTED.items() for v in vs])
def test_missing_variable_is_named(name: str, variable: str) -> None:
    values = _values(name)
    del values[variable]
    with pytest.raises(ConfigError, match=rf"{name}.*needs a value for {variable}"):
        prompts.render(name, **values)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_unknown_variable_is_named(name: str) -> None:
    with pytest.raises(ConfigError, match=rf"{name}.*no placeholder for language"):
        prompts.render(name, **_values(name), language="nl")


def test_unknown_prompt_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"unknown prompt 'systeem'.*answer.*system_nl"):
        prompts.render("systeem")


def test_non_text_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="question.*must be text"):
        prompts.render("judge_relevance", question=3, answer="x")  # type: ignore[arg-type]


@pytest.mark.parametrize(("lang", "refusal", "other"), [("nl", NL_REFUSAL, EN_REFUSAL), ("en", EN_REFUSAL, NL_REFUSAL)])
def test_system_prompts_hold_the_exact_refusal_sentence(lang: str, refusal: str, other: str) -> None:
    text = prompts.render(f"system_{lang}")
    assert refusal in [line.strip() for line in text.splitlines()]  # on a line of its own, to copy exactly
    assert other not in text
    assert "[1]" in text and "[2][3]" in text


def test_judges_show_the_exact_refusals_and_a_json_reply() -> None:
    for name in ("judge_faithfulness", "judge_relevance"):
        text = prompts.render(name, **_values(name))
        assert NL_REFUSAL in text and EN_REFUSAL in text
        example = re.search(r"^\{.*\}$", text, re.MULTILINE)
        assert example, f"{name} shows no JSON reply"
        reply = json.loads(example.group())
        assert set(reply) == {"score", "reason"} and 0 <= reply["score"] <= 1


def test_values_are_inserted_verbatim_and_not_rendered_again() -> None:
    text = prompts.render("answer", sources="[1] {{ question }} and {braces}", question="Wat is {x}?")
    assert "[1] {{ question }} and {braces}" in text
    assert text.count("Wat is {x}?") == 1


def test_fill_accepts_any_spacing_and_keeps_single_braces() -> None:
    template = 'A {{question}} B {{  question  }} C {{ answer}} {"score": 1} {not_a_placeholder}'
    assert prompts.fill(template, question="q", answer="a") == 'A q B q C a {"score": 1} {not_a_placeholder}'


def test_fill_refuses_malformed_placeholders() -> None:
    with pytest.raises(ConfigError, match="malformed placeholder"):
        prompts.fill("Vraag: {{ question }", question="q")
    with pytest.raises(ConfigError, match="malformed placeholder"):
        prompts.fill("Vraag: {{ the question }}", question="q")
