"""English questions in plain words reach the Dutch text through the glossary's domain vocabulary, in the
lexical ranking that the fusion weighs with the dense ones (`assistant/retrieve.py`)."""

from __future__ import annotations

from assistant.build import Parts

# "country teams" reads "landenteams" in the glossary; the corpus names the 27 teams in one passage.
COUNTRY_TEAMS = "How many country teams did the Commission set up to support the Member States?"


def test_an_english_paraphrase_is_searched_with_the_dutch_domain_words(corpus_components: Parts) -> None:
    found = corpus_components.retriever.retrieve(COUNTRY_TEAMS, "en", k=5)
    assert "landenteam" in found.query_terms  # "country teams" → "landenteams", stemmed
    assert any("27 landenteams" in h.passage for h in found.hits)
    lasting = corpus_components.retriever.retrieve("What lasting framework was set up abroad?", "en").query_terms
    assert {"permanent", "buitenland"} <= set(lasting)
