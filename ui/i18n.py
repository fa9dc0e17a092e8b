"""Every word the web UI and the Slack bot show their users, in Dutch (the default) and English: one table,
one lookup (`t`).

Keys are grouped by where the text appears: `web.*` (the Gradio chat), `slack.*` (the bot), `review.*` (the
review page), and the few without a prefix that both use with the same wording.
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
    # the coverage verdict: a badge on every answer, and what the documents lack
    "coverage.answered": {"nl": "Gedekt door de documenten", "en": "Covered by the documents"},
    "coverage.partial": {"nl": "Gedeeltelijk gedekt", "en": "Partly covered"},
    "coverage.not_covered": {"nl": "Niet gedekt", "en": "Not covered"},
    "coverage.missing": {"nl": "De documenten noemen geen: {missing}", "en": "The documents do not give: {missing}"},
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
    "slack.partial": {
        "nl": "◐ *Gedeeltelijk gedekt:* de documenten geven maar een deel van wat gevraagd is.",
        "en": "◐ *Partly covered:* the documents give only part of what was asked.",
    },
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
    # -- slack: the comment modal after 👎
    "slack.comment_title": {"nl": "Wat ging er mis?", "en": "What went wrong?"},
    "slack.comment_label": {"nl": "Toelichting (optioneel)", "en": "Comment (optional)"},
    "slack.comment_placeholder": {
        "nl": "Wat ontbrak of klopte niet aan dit antwoord?",
        "en": "What was missing or wrong in this answer?",
    },
    "slack.comment_submit": {"nl": "Versturen", "en": "Send"},
    "slack.comment_close": {"nl": "Overslaan", "en": "Skip"},
    "slack.thanks_comment": {
        "nl": "Bedankt, je toelichting is opgeslagen.",
        "en": "Thanks, your comment was saved.",
    },
    # -- review page (reviewers only)
    "review.title": {"nl": "Beoordeling van antwoorden", "en": "Answer review"},
    "review.queue": {"nl": "Te beoordelen", "en": "Review queue"},
    "review.overview": {"nl": "Overzicht", "en": "Overview"},
    "review.signed_in_as": {"nl": "ingelogd als {name}", "en": "signed in as {name}"},
    "review.sign_in": {"nl": "Inloggen", "en": "Sign in"},
    "review.sign_out": {"nl": "Uitloggen", "en": "Sign out"},
    "review.username": {"nl": "Gebruikersnaam", "en": "User name"},
    "review.password": {"nl": "Wachtwoord", "en": "Password"},
    "review.sign_in_failed": {
        "nl": "Onbekende gebruikersnaam of verkeerd wachtwoord.",
        "en": "Unknown user name or wrong password.",
    },
    "review.sign_in_needed": {
        "nl": "Log in als beoordelaar om deze pagina te openen.",
        "en": "Sign in as a reviewer to open this page.",
    },
    "review.denied_not_reviewer": {
        "nl": "Deze pagina is alleen voor beoordelaars; vraag de beheerder u toe te voegen aan ASSISTANT_REVIEWERS.",
        "en": "This page is for reviewers only; ask the administrator to add you to ASSISTANT_REVIEWERS.",
    },
    "review.denied_remote": {
        "nl": "Zonder login (ASSISTANT_WEB_USERS) is deze pagina alleen op deze computer (127.0.0.1) te openen.",
        "en": "Without a login (ASSISTANT_WEB_USERS) this page opens on this machine (127.0.0.1) only.",
    },
    "review.form_expired": {
        "nl": "Dit formulier is verlopen of niet van deze pagina; laad de pagina opnieuw en probeer het nog eens.",
        "en": "This form has expired or does not come from this page; reload the page and try again.",
    },
    "review.all": {"nl": "alle", "en": "all"},
    "review.apply": {"nl": "Filteren", "en": "Filter"},
    "review.filter_channel": {"nl": "Kanaal", "en": "Channel"},
    "review.filter_since": {"nl": "Vanaf", "en": "From"},
    "review.filter_until": {"nl": "Tot en met", "en": "Up to"},
    "review.filter_rating": {"nl": "Beoordeling", "en": "Rating"},
    "review.filter_verdict": {"nl": "Oordeel", "en": "Verdict"},
    "review.filter_language": {"nl": "Taal", "en": "Language"},
    "review.filter_status": {"nl": "Status", "en": "Status"},
    "review.rating_queue": {"nl": "niet nuttig en problemen", "en": "not helpful and issues"},
    "review.rating_unrated": {"nl": "niet beoordeeld", "en": "not rated"},
    "review.rating_up": {"nl": "👍 nuttig", "en": "👍 helpful"},
    "review.rating_down": {"nl": "👎 niet nuttig", "en": "👎 not helpful"},
    "review.status_open": {"nl": "open", "en": "open"},
    "review.status_reviewed": {"nl": "beoordeeld", "en": "reviewed"},
    "review.verdict_answered": {"nl": "beantwoord", "en": "answered"},
    "review.verdict_partial": {"nl": "deels gedekt", "en": "partly covered"},
    "review.verdict_not_covered": {"nl": "niet gedekt", "en": "not covered"},
    "review.issue_answered": {"nl": "beantwoord", "en": "answered"},
    "review.issue_partial": {"nl": "deels gedekt", "en": "partly covered"},
    "review.issue_not_covered": {"nl": "niet gedekt", "en": "not covered"},
    "review.issue_unverified": {"nl": "niet geverifieerd", "en": "unverified"},
    "review.issue_flagged": {"nl": "gemarkeerd", "en": "flagged"},
    "review.col_when": {"nl": "Tijd", "en": "Time"},
    "review.col_channel": {"nl": "Kanaal", "en": "Channel"},
    "review.col_language": {"nl": "Taal", "en": "Language"},
    "review.col_issues": {"nl": "Oordeel", "en": "Verdict"},
    "review.col_rating": {"nl": "Beoordeling", "en": "Rating"},
    "review.col_question": {"nl": "Vraag", "en": "Question"},
    "review.col_answer": {"nl": "Antwoord", "en": "Answer"},
    "review.col_comment": {"nl": "Toelichting", "en": "Comment"},
    "review.col_review": {"nl": "Beoordeeld", "en": "Reviewed"},
    "review.no_items": {"nl": "Geen antwoorden met deze filters.", "en": "No answers match these filters."},
    "review.newer": {"nl": "nieuwer", "en": "newer"},
    "review.older": {"nl": "ouder", "en": "older"},
    "review.times_utc": {"nl": "Tijden in UTC.", "en": "Times in UTC."},
    "review.mode": {"nl": "Modus", "en": "Mode"},
    "review.latency": {"nl": "Antwoordtijd", "en": "Latency"},
    "review.missing": {"nl": "Ontbreekt in de documenten", "en": "Missing from the documents"},
    "review.read_as": {"nl": "gelezen als", "en": "read as"},
    "review.comment": {"nl": "Toelichting van de gebruiker", "en": "The user's comment"},
    "review.reviewed": {"nl": "Beoordeeld", "en": "Reviewed"},
    "review.reviewed_by": {"nl": "door {name} op {when} UTC", "en": "by {name} on {when} UTC"},
    "review.mark_reviewed": {"nl": "Markeren als beoordeeld", "en": "Mark as reviewed"},
    "review.note": {"nl": "Notitie", "en": "Note"},
    "review.note_placeholder": {
        "nl": "Wat was er mis, wat is eraan gedaan?",
        "en": "What was wrong, what was done about it?",
    },
    "review.add_to_gold": {"nl": "Toevoegen aan de gouden set", "en": "Add to the gold set"},
    "review.saved_candidate": {
        "nl": "Opgeslagen als kandidaat {id} voor de gouden set.",
        "en": "Saved as gold candidate {id}.",
    },
    "review.gold_problems": {
        "nl": "Niet opgeslagen; dit klopt nog niet met de regels van de gouden set:",
        "en": "Not saved; this does not meet the gold set's rules yet:",
    },
    "review.kind": {"nl": "Soort", "en": "Kind"},
    "review.expected_verdict": {"nl": "Verwacht oordeel", "en": "Expected verdict"},
    "review.question": {"nl": "Vraag", "en": "Question"},
    "review.reference_answer": {"nl": "Referentieantwoord", "en": "Reference answer"},
    "review.key_facts": {"nl": "Kernfeiten", "en": "Key facts"},
    "review.key_facts_hint": {
        "nl": " (1 tot 3, elk hoogstens 4 woorden uit het bewijs, één per regel)",
        "en": " (1 to 3, each at most 4 words from the evidence, one per line)",
    },
    "review.evidence": {"nl": "Bewijs", "en": "Evidence"},
    "review.document": {"nl": "Document", "en": "Document"},
    "review.section": {"nl": "Sectie (kop zoals gedrukt)", "en": "Section (heading as printed)"},
    "review.quote": {"nl": "Citaat (letterlijk, 20 tot 300 tekens)", "en": "Quote (verbatim, 20 to 300 characters)"},
    "review.one_per_line": {"nl": " (één per regel)", "en": " (one per line)"},
    "review.absent_terms": {"nl": "Afwezige zoektermen", "en": "Absent search terms"},
    "review.absent_hint": {
        "nl": " (alleen onbeantwoordbaar: termen die nergens in het corpus staan, één per regel)",
        "en": " (unanswerable only: terms found nowhere in the corpus, one per line)",
    },
    "review.history": {"nl": "Eerdere beurten", "en": "Earlier turns"},
    "review.history_hint": {
        "nl": " (alleen followup: JSON, afwisselend user en assistant)",
        "en": " (followup only: JSON, alternating user and assistant)",
    },
    "review.saved_to": {"nl": "Wordt opgeslagen in {path}.", "en": "Saved to {path}."},
    "review.save_candidate": {"nl": "Kandidaat opslaan", "en": "Save candidate"},
    "review.click_sentence": {
        "nl": "Klik op een zin om die als bewijs te kiezen.",
        "en": "Click a sentence to choose it as the evidence.",
    },
    "review.overview_hint": {
        "nl": "De laatste {weeks} weken, per week (vanaf maandag, UTC) en kanaal.",
        "en": "The last {weeks} weeks, per week (from Monday, UTC) and channel.",
    },
    "review.no_answers": {"nl": "Nog geen antwoorden in deze periode.", "en": "No answers in this period yet."},
    "review.week": {"nl": "Week", "en": "Week"},
    "review.asked": {"nl": "Vragen", "en": "Questions"},
    "review.share_rated": {"nl": "Aandeel beoordeeld", "en": "Share rated"},
    "review.share_up": {"nl": "Aandeel nuttig (👍)", "en": "Share helpful (👍)"},
    "review.share_down": {"nl": "Aandeel niet nuttig (👎)", "en": "Share not helpful (👎)"},
    "review.refusal_rate": {"nl": "Niet gedekt", "en": "Not covered"},
    "review.partial_rate": {"nl": "Deels gedekt", "en": "Partly covered"},
    "review.median_latency": {"nl": "Mediane antwoordtijd", "en": "Median latency"},
    # -- compare over time: the web view, entries inline in the chat, the Slack blocks
    "compare.tab_chat": {"nl": "Vragen", "en": "Ask"},
    "compare.tab": {"nl": "Vergelijken over tijd", "en": "Compare over time"},
    "compare.topic": {"nl": "Onderwerp", "en": "Topic"},
    "compare.topic_placeholder": {
        "nl": "Bijvoorbeeld: terugkeer, hervestiging, talentpartnerschappen (of een vergelijkende vraag)",
        "en": "For example: return, resettlement, talent partnerships (or a comparative question)",
    },
    "compare.run": {"nl": "Vergelijken", "en": "Compare"},
    "compare.from": {"nl": "Vanaf jaar", "en": "From year"},
    "compare.to": {"nl": "Tot en met jaar", "en": "To year"},
    "compare.year": {"nl": "Jaar", "en": "Year"},
    "compare.document": {"nl": "Document", "en": "Document"},
    "compare.says": {"nl": "Wat het document zegt", "en": "What the document says"},
    "compare.not_addressed": {"nl": "Niet behandeld in dit document", "en": "Not addressed in this document"},
    "compare.nearest": {"nl": "dichtstbijzijnde passage", "en": "nearest passage"},
    "compare.changed": {"nl": "Wat veranderde", "en": "What changed"},
    "compare.quoted": {"nl": "", "en": "The sentences are quoted in Dutch."},
    "compare.inline": {"nl": "Per document, in volgorde van jaar", "en": "By document, in year order"},
    "compare.empty": {
        "nl": "De vergelijking verschijnt hier: per document, in volgorde van jaar, wat het over het onderwerp zegt.",
        "en": "The comparison appears here: for each document, in year order, what it says on the topic.",
    },
    "compare.sources_empty": {
        "nl": "De bronnen van de vergelijking verschijnen hier.",
        "en": "The sources of the comparison appear here.",
    },
    "compare.export_md": {"nl": "Exporteren (Markdown)", "en": "Export (Markdown)"},
    "compare.export_csv": {"nl": "Exporteren (CSV)", "en": "Export (CSV)"},
    "compare.export_empty": {"nl": "Maak eerst een vergelijking.", "en": "Make a comparison first."},
    "compare.file": {"nl": "vergelijking", "en": "comparison"},  # the exports' file name
    "compare.unverified": {
        "nl": "Niet geverifieerd: de regel 'wat veranderde' verwijst naar geen geldige bron.",
        "en": "Unverified: the 'what changed' line cites no valid source.",
    },
    "compare.year_invalid": {
        "nl": "'{value}' is geen jaartal; vul een jaar in zoals 2011 of laat het vak leeg.",
        "en": "'{value}' is not a year; enter a year such as 2011 or leave the box empty.",
    },
    "slack.compare_heading": {
        "nl": "*{topic}*: per document, in volgorde van jaar",
        "en": "*{topic}*: by document, in year order",
    },
    "slack.compare_empty": {
        "nl": "Waarover wil je de documenten vergelijken? Bijvoorbeeld: _vergelijk terugkeer_",
        "en": "What should the documents be compared on? For example: _compare return_",
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
