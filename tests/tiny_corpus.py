"""A tiny two-document corpus for tests that need an index of their own, built in a second."""

from __future__ import annotations

import json
from pathlib import Path

MANIFEST = {
    "documents": [
        {
            "id": "asiel-2021",
            "file": "asiel.txt",
            "title": "Gemeenschappelijk asielbeleid in de Unie",
            "short_title": "Asielbeleid",
            "year": 2021,
            "doc_type": "communication",
            "reference": None,
        },
        {
            "id": "talent-2019",
            "file": "talent.txt",
            "title": "Legale migratie en talent",
            "short_title": "Legale migratie",
            "year": 2019,
            "doc_type": "factsheet",
            "reference": None,
        },
    ]
}
ASIEL_TXT = """Gemeenschappelijk asielbeleid in de Unie


1. INLEIDING

De Europese Unie werkt aan een gemeenschappelijk stelsel voor asiel. Dit
document beschrijft hoe de lidstaten samen de verantwoordelijkheid dragen.


2. SOLIDARITEIT TUSSEN LIDSTATEN

Een lidstaat die onder druk staat door een groot aantal aankomsten kan de
andere lidstaten om hulp vragen, bijvoorbeeld door herplaatsing van
asielzoekers of door steun bij de terugkeer van afgewezen aanvragers.


3. PROCEDURES AAN DE BUITENGRENS

Iedereen die de buitengrens irregulier overschrijdt, ondergaat eerst een
screening met een identiteitscontrole, een gezondheidscontrole en een
veiligheidscontrole. De screening duurt ten hoogste vijf dagen.
"""
TALENT_TXT = """Legale migratie en talent


1. INLEIDING

Veel sectoren in Europa kampen met een tekort aan personeel. Legale migratie
kan helpen om die tekorten op de arbeidsmarkt op te vangen.


2. DE EUROPESE BLAUWE KAART

Hooggekwalificeerde werknemers van buiten de Unie kunnen een Europese blauwe
kaart aanvragen. Daarvoor hebben zij een arbeidscontract nodig met een salaris
boven een drempel die elke lidstaat vaststelt.
"""
Q_SCREENING = "Hoeveel dagen mag de controle van irreguliere migranten bij aankomst duren?"
Q_BLUE_CARD = "Which permit lets highly skilled workers from outside Europe work in the EU?"


def write_tiny_corpus(corpus: Path) -> Path:
    """Write the manifest and the two documents into `corpus` (created); return it."""
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    (corpus / "asiel.txt").write_text(ASIEL_TXT, encoding="utf-8")
    (corpus / "talent.txt").write_text(TALENT_TXT, encoding="utf-8")
    return corpus
