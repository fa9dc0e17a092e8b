"""Every word the web UI and the Slack bot show their users, in Dutch (the default) and English: one table,
one lookup (`t`).

Keys are grouped by where the text appears: `web.*` (the Gradio chat), `slack.*` (the bot), and the few
without a prefix that both use with the same wording.
"""

from __future__ import annotations

from assistant.types import Language

TEXTS: dict[str, dict[Language, str]] = {
    # -- shared
    "sources": {"nl": "Bronnen", "en": "Sources"},
    # -- web: header and index status
    "web.conversation_not_found": {
        "nl": "Gesprek niet gevonden; er is een nieuw gesprek begonnen.",
        "en": "Conversation not found; a new conversation has started.",
    },
    "web.history_unavailable": {
        "nl": "De gespreksgeschiedenis is nu niet beschikbaar (de database is onbereikbaar); vragen worden wel "
        "beantwoord, maar niet bewaard.",
        "en": "The conversation history is unavailable right now (the database cannot be reached); questions are "
        "answered but not kept.",
    },
    "web.title": {"nl": "Beleidsassistent migratie en asiel", "en": "Migration and asylum policy assistant"},
    "web.mode": {"nl": "Antwoordmodus", "en": "Answer mode"},
    "web.index": {"nl": "Index", "en": "Index"},
    "web.index_status": {
        "nl": "{documents} documenten, {chunks} fragmenten, laatst geïndexeerd {when}",
        "en": "{documents} documents, {chunks} chunks, last indexed {when}",
    },
    "web.index_empty": {
        "nl": "leeg: voer `policy-assistant index` uit",
        "en": "empty: run `policy-assistant index`",
    },
    "web.index_unavailable": {"nl": "niet beschikbaar ({error})", "en": "unavailable ({error})"},
    "web.never": {"nl": "nooit", "en": "never"},
    # -- web: controls
    "web.ui_language": {"nl": "Taal van de interface", "en": "Interface language"},
    "web.question": {"nl": "Uw vraag", "en": "Your question"},
    "web.placeholder": {
        "nl": "Stel een vraag over migratie- en asielbeleid, in het Nederlands of Engels",
        "en": "Ask a question about migration and asylum policy, in Dutch or English",
    },
    "web.send": {"nl": "Versturen", "en": "Send"},
    "web.new": {"nl": "Nieuw gesprek", "en": "New conversation"},
    "web.answer_language": {"nl": "Antwoordtaal", "en": "Answer language"},
    "web.auto": {"nl": "Automatisch", "en": "Automatic"},
    "web.documents": {"nl": "Alleen deze documenten", "en": "Only these documents"},
    "web.documents_info": {"nl": "Leeg: alle documenten", "en": "Empty: all documents"},
    "web.export": {"nl": "Gesprek exporteren (Markdown)", "en": "Export conversation (Markdown)"},
    "web.export_file": {"nl": "Export", "en": "Export"},
    "web.comment": {"nl": "Toelichting bij uw beoordeling (optioneel)", "en": "Comment on your rating (optional)"},
    "web.comment_placeholder": {"nl": "Wat ontbrak of klopte niet?", "en": "What was missing or wrong?"},
    "web.send_comment": {"nl": "Toelichting versturen", "en": "Send comment"},
    # -- web: answers and sources
    "web.no_sources": {
        "nl": "De bronnen van een antwoord verschijnen hier.",
        "en": "The sources of an answer appear here.",
    },
    "web.turn": {"nl": "Vraag {n}", "en": "Question {n}"},
    "web.whole_section": {"nl": "Hele sectie lezen", "en": "Read the whole section"},
    "web.refused": {
        "nl": "Geen antwoord: de documenten bevatten dit niet.",
        "en": "No answer: the documents do not cover this.",
    },
    "web.unverified": {
        "nl": "Niet geverifieerd: het antwoord verwijst naar geen geldige bron.",
        "en": "Unverified: the answer cites no valid source.",
    },
    "web.check": {"nl": "Controleer", "en": "Check"},
    "web.error": {"nl": "Er ging iets mis", "en": "Something went wrong"},
    "web.error_internal": {
        "nl": "onverwachte fout ({error}); probeer het opnieuw of meld het aan de beheerder",
        "en": "unexpected error ({error}); try again or tell the administrator",
    },
    # -- web: feedback
    "web.thanks": {"nl": "Bedankt voor uw beoordeling.", "en": "Thank you for your rating."},
    "web.thanks_comment": {
        "nl": "Bedankt, uw toelichting is opgeslagen.",
        "en": "Thank you, your comment was saved.",
    },
    "web.rate_first": {
        "nl": "Beoordeel eerst een antwoord met 👍 of 👎.",
        "en": "Rate an answer with 👍 or 👎 first.",
    },
    # -- web: Markdown export
    "web.export_heading": {"nl": "Gesprek", "en": "Conversation"},
    "web.export_question": {"nl": "Vraag", "en": "Question"},
    "web.export_answer": {"nl": "Antwoord", "en": "Answer"},
    "web.export_empty": {
        "nl": "Er is nog geen gesprek om te exporteren.",
        "en": "There is no conversation to export yet.",
    },
    "web.conversation": {"nl": "gesprek", "en": "conversation"},  # the export's file name
    # -- slack: answers
    "slack.searching": {"nl": "🔎 Ik zoek in de documenten…", "en": "🔎 Searching the documents…"},
    "slack.no_sources": {"nl": "Geen bronnen gevonden.", "en": "No sources found."},
    "slack.refused": {
        "nl": "⚠️ *Geweigerd:* de documenten bevatten hier geen antwoord op. Hieronder de dichtstbijzijnde passages.",
        "en": "⚠️ *Refused:* the documents do not cover this. The nearest passages are listed below.",
    },
    "slack.unverified": {
        "nl": "⚠️ *Niet geverifieerd:* het antwoord verwijst naar geen geldige bron; controleer het zelf.",
        "en": "⚠️ *Unverified:* the answer cites no valid source; check it yourself.",
    },
    "slack.flagged": {"nl": "🔍 *Controleer:*", "en": "🔍 *Check:*"},
    "slack.mode": {"nl": "modus", "en": "mode"},
    "slack.truncated": {
        "nl": "… _(ingekort: het volledige antwoord past niet in één Slack-bericht)_",
        "en": "… _(shortened: the full answer does not fit in one Slack message)_",
    },
    "slack.more_sources": {"nl": "_en nog {n} bronnen_", "en": "_and {n} more sources_"},
    # -- slack: feedback
    "slack.helpful": {"nl": "Was dit nuttig?", "en": "Was this helpful?"},
    "slack.thanks_up": {"nl": "Bedankt voor je 👍!", "en": "Thanks for the 👍!"},
    "slack.thanks_down": {
        "nl": "Bedankt voor je 👎; we gebruiken het om de antwoorden te verbeteren.",
        "en": "Thanks for the 👎; we use it to improve the answers.",
    },
    "slack.feedback_gone": {
        "nl": "Dit antwoord is niet meer te vinden; je beoordeling is niet opgeslagen.",
        "en": "This answer can no longer be found; your rating was not stored.",
    },
    # -- slack: notices and errors
    "slack.rate_limited": {
        "nl": "Rustig aan 🙂 je stelde net al {limit} vragen. Probeer het over {seconds} s opnieuw.",
        "en": "Easy there 🙂 you just asked {limit} questions. Please try again in {seconds} s.",
    },
    "slack.error": {"nl": "⚠️ Dat lukte niet: {error}", "en": "⚠️ That did not work: {error}"},
    "slack.error_internal": {
        "nl": "⚠️ Er ging iets mis bij het beantwoorden ({error}). Probeer het later opnieuw.",
        "en": "⚠️ Something went wrong while answering ({error}). Please try again later.",
    },
    "slack.empty": {
        "nl": "Stel me een vraag over migratie- en asielbeleid, bijvoorbeeld: _Wat is het solidariteitsmechanisme?_",
        "en": "Ask me a question about migration and asylum policy, e.g. _What is the solidarity mechanism?_",
    },
}

# The example questions of the empty web chat, in both languages whatever the interface language.
EXAMPLES: tuple[str, ...] = (
    "Hoeveel mensen zijn sinds 2015 via hervestiging in de EU opgevangen?",
    "Wat is het solidariteitsmechanisme in het migratiepact?",
    "What is the purpose of the screening before entry?",
    "How long may the screening at the external border take?",
)


def t(key: str, lang: str | None = "nl", **values: object) -> str:
    """The text `key` in language `lang` (Dutch for anything but "en"), with `values` filled in."""
    text = TEXTS[key]["en" if lang == "en" else "nl"]
    return text.format(**values) if values else text
