"""The web interface's own words (labels, buttons, messages), in Dutch (the default) and English."""

from __future__ import annotations

from typing import Literal

UILanguage = Literal["nl", "en"]

TEXTS: dict[str, dict[UILanguage, str]] = {
    "title": {"nl": "Beleidsassistent migratie en asiel", "en": "Migration and asylum policy assistant"},
    "mode": {"nl": "Antwoordmodus", "en": "Answer mode"},
    "index": {"nl": "Index", "en": "Index"},
    "index_status": {
        "nl": "{documents} documenten, {chunks} fragmenten, laatst geïndexeerd {when}",
        "en": "{documents} documents, {chunks} chunks, last indexed {when}",
    },
    "index_empty": {
        "nl": "leeg: voer `policy-assistant index` uit",
        "en": "empty: run `policy-assistant index`",
    },
    "index_unavailable": {"nl": "niet beschikbaar ({error})", "en": "unavailable ({error})"},
    "never": {"nl": "nooit", "en": "never"},
    "question": {"nl": "Uw vraag", "en": "Your question"},
    "placeholder": {
        "nl": "Stel een vraag over migratie- en asielbeleid, in het Nederlands of Engels",
        "en": "Ask a question about migration and asylum policy, in Dutch or English",
    },
    "send": {"nl": "Versturen", "en": "Send"},
    "new": {"nl": "Nieuw gesprek", "en": "New conversation"},
    "answer_language": {"nl": "Antwoordtaal", "en": "Answer language"},
    "auto": {"nl": "Automatisch", "en": "Automatic"},
    "ui_language": {"nl": "Taal van de interface", "en": "Interface language"},
    "documents": {"nl": "Alleen deze documenten", "en": "Only these documents"},
    "documents_info": {"nl": "Leeg: alle documenten", "en": "Empty: all documents"},
    "sources": {"nl": "Bronnen", "en": "Sources"},
    "no_sources": {
        "nl": "De bronnen van een antwoord verschijnen hier.",
        "en": "The sources of an answer appear here.",
    },
    "turn": {"nl": "Vraag {n}", "en": "Question {n}"},
    "whole_section": {"nl": "Hele sectie lezen", "en": "Read the whole section"},
    "export": {"nl": "Gesprek exporteren (Markdown)", "en": "Export conversation (Markdown)"},
    "export_file": {"nl": "Export", "en": "Export"},
    "comment": {"nl": "Toelichting bij uw beoordeling (optioneel)", "en": "Comment on your rating (optional)"},
    "comment_placeholder": {"nl": "Wat ontbrak of klopte niet?", "en": "What was missing or wrong?"},
    "send_comment": {"nl": "Toelichting versturen", "en": "Send comment"},
    "thanks": {"nl": "Bedankt voor uw beoordeling.", "en": "Thank you for your rating."},
    "thanks_comment": {"nl": "Bedankt, uw toelichting is opgeslagen.", "en": "Thank you, your comment was saved."},
    "rate_first": {
        "nl": "Beoordeel eerst een antwoord met 👍 of 👎.",
        "en": "Rate an answer with 👍 or 👎 first.",
    },
    "refused": {
        "nl": "Geen antwoord: de documenten bevatten dit niet.",
        "en": "No answer: the documents do not cover this.",
    },
    "unverified": {
        "nl": "Niet geverifieerd: het antwoord verwijst naar geen geldige bron.",
        "en": "Unverified: the answer cites no valid source.",
    },
    "check": {"nl": "Controleer", "en": "Check"},
    "error": {"nl": "Er ging iets mis", "en": "Something went wrong"},
    "error_internal": {
        "nl": "onverwachte fout ({error}); probeer het opnieuw of meld het aan de beheerder",
        "en": "unexpected error ({error}); try again or tell the administrator",
    },
    "export_heading": {"nl": "Gesprek", "en": "Conversation"},
    "export_question": {"nl": "Vraag", "en": "Question"},
    "export_answer": {"nl": "Antwoord", "en": "Answer"},
    "export_empty": {"nl": "Er is nog geen gesprek om te exporteren.", "en": "There is no conversation to export yet."},
    "conversation": {"nl": "gesprek", "en": "conversation"},
}

EXAMPLES: tuple[str, ...] = (
    "Hoeveel mensen zijn sinds 2015 via hervestiging in de EU opgevangen?",
    "Wat is het solidariteitsmechanisme in het migratiepact?",
    "What is the purpose of the screening before entry?",
    "How long may the screening at the external border take?",
)


def t(key: str, lang: str = "nl", **values: object) -> str:
    """The text `key` in the interface language `lang` (Dutch for anything but "en")."""
    text = TEXTS[key]["en" if lang == "en" else "nl"]
    return text.format(**values) if values else text
