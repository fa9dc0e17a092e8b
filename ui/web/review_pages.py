"""The review pages as HTML: the list with its filters, one item with its sources as in the chat, the gold form
(sentences of the sources to click as evidence), the overview's charts and table, sign-in and messages.

Pure functions, no web framework. Everything that comes from users or documents is escaped; the markup is
this module's own, styled by `static/review.css` (and the chat's `web.css`), with `static/review.js` for the
clickable sentences.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, urlencode

from assistant.types import COVERAGES, Answer, Source
from index.sentences import split_sentences
from storage.review import CHANNELS, ReviewItem, WeekStats
from ui.gold_candidates import KINDS, Candidate, Corpus, Evidence
from ui.i18n import t
from ui.web import charts
from ui.web.render import CITATION, SectionTexts, marks, sources_html
from ui.web.state import Exchange

PATH = "/review"
EVIDENCE_ROWS = 3
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def e(text: object) -> str:
    """Text as HTML text."""
    return html.escape(str(text), quote=True)


def when(created: float) -> str:
    return dt.datetime.fromtimestamp(created, dt.UTC).strftime("%Y-%m-%d %H:%M")


def document(title: str, body: str, ui: str, reviewer: str | None = None, *, here: str = PATH) -> str:
    """A whole page: head (styles, script), the top bar (pages, language, who is signed in), `body`."""
    other = "en" if ui == "nl" else "nl"
    switch = (
        f'<a href="{e(here)}{"&" if "?" in here else "?"}lang={other}">{"English" if ui == "nl" else "Nederlands"}</a>'
    )
    nav = ""
    if reviewer is not None:
        sign_out = ""
        if reviewer != "local":
            sign_out = (
                f'<form method="post" action="{PATH}/logout" class="rv-inline"><input type="hidden" name="lang" '
                f'value="{ui}"><button type="submit">{t("review.sign_out", ui)}</button></form>'
            )
        nav = (
            f'<a href="{PATH}?lang={ui}">{t("review.queue", ui)}</a>'
            f'<a href="{PATH}/overview?lang={ui}">{t("review.overview", ui)}</a>'
            f'<span class="rv-who">{t("review.signed_in_as", ui, name=e(reviewer))}</span>{sign_out}'
        )
    return (
        f'<!doctype html><html lang="{ui}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(title)}</title>'
        f'<link rel="stylesheet" href="{PATH}/static/web.css"><link rel="stylesheet" href="{PATH}/static/review.css">'
        f'<script src="{PATH}/static/review.js" defer></script><script src="{PATH}/static/cite.js" defer></script>'
        f'</head><body><header class="rv-top"><strong>{t("review.title", ui)}</strong>{nav}'
        f'<span class="rv-lang">{switch}</span></header><main>{body}</main></body></html>'
    )


def message_page(message: str, ui: str, reviewer: str | None = None) -> str:
    return document(t("review.title", ui), f'<p class="rv-error" role="alert">{e(message)}</p>', ui, reviewer)


def login_page(next_path: str, ui: str, error: str = "") -> str:
    alert = f'<p class="rv-error" role="alert">{e(error)}</p>' if error else ""
    body = (
        f"<h1>{t('review.sign_in', ui)}</h1>{alert}"
        f'<form method="post" action="{PATH}/login" class="rv-login">'
        f'<input type="hidden" name="next" value="{e(next_path)}"><input type="hidden" name="lang" value="{ui}">'
        f'<label>{t("review.username", ui)} <input name="username" autocomplete="username" required></label>'
        f'<label>{t("review.password", ui)} <input name="password" type="password" '
        f'autocomplete="current-password" required></label>'
        f'<button type="submit">{t("review.sign_in", ui)}</button></form>'
    )
    return document(t("review.sign_in", ui), body, ui, here=f"{PATH}/login?{urlencode({'next': next_path})}")


# ------------------------------------------------------------------------------------------------ list


def list_page(
    items: Sequence[ReviewItem], query: Mapping[str, str], page: int, has_more: bool, ui: str, reviewer: str
) -> str:
    """The items with the filter form, newest first, a page at a time."""

    def choice(name: str, options: Sequence[tuple[str, str]]) -> str:
        current = query.get(name, "")
        rendered = "".join(
            f'<option value="{e(value)}"{" selected" if value == current else ""}>{e(label)}</option>'
            for value, label in options
        )
        return f'<label>{t(f"review.filter_{name}", ui)} <select name="{name}">{rendered}</select></label>'

    every = ("", t("review.all", ui))
    form = (
        f'<form method="get" action="{PATH}" class="rv-filters"><input type="hidden" name="lang" value="{ui}">'
        + choice("channel", [every, *((c, c) for c in CHANNELS)])
        + f'<label>{t("review.filter_since", ui)} <input type="date" name="since" value="{e(query.get("since", ""))}">'
        f"</label>"
        + f'<label>{t("review.filter_until", ui)} <input type="date" name="until" value="{e(query.get("until", ""))}">'
        f"</label>"
        + choice(
            "rating",
            [
                ("", t("review.rating_queue", ui)),
                ("down", t("review.rating_down", ui)),
                ("up", t("review.rating_up", ui)),
                ("unrated", t("review.rating_unrated", ui)),
                ("any", t("review.all", ui)),
            ],
        )
        + choice("verdict", [every, *((v, t(f"review.verdict_{v}", ui)) for v in COVERAGES)])
        + choice("language", [every, ("nl", "Nederlands"), ("en", "English")])
        + choice(
            "status",
            [("open", t("review.status_open", ui)), ("reviewed", t("review.status_reviewed", ui)), ("all", every[1])],
        )
        + f'<button type="submit">{t("review.apply", ui)}</button></form>'
    )
    rows = "".join(_row(item, ui) for item in items)
    head = "".join(
        f"<th>{t(k, ui)}</th>"
        for k in (
            "review.col_when", "review.col_channel", "review.col_language", "review.col_issues", "review.col_rating",
            "review.col_question", "review.col_answer", "review.col_comment", "review.col_review",
        )
    )  # fmt: skip
    table = (
        f'<table class="rv-items"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        if items
        else f'<p class="rv-empty">{t("review.no_items", ui)}</p>'
    )
    pager = []
    shown = {k: v for k, v in query.items() if v}
    if page > 1:
        pager.append(
            f'<a href="{PATH}?{urlencode({**shown, "lang": ui, "page": page - 1})}">← {t("review.newer", ui)}</a>'
        )
    if has_more:
        pager.append(
            f'<a href="{PATH}?{urlencode({**shown, "lang": ui, "page": page + 1})}">{t("review.older", ui)} →</a>'
        )
    body = (
        f"<h1>{t('review.queue', ui)}</h1>{form}{table}"
        f'<nav class="rv-pager">{" ".join(pager)}</nav>'
        f'<p class="rv-hint">{t("review.times_utc", ui)}</p>'
    )
    return document(t("review.queue", ui), body, ui, reviewer, here=f"{PATH}?{urlencode(shown)}")


def _row(item: ReviewItem, ui: str) -> str:
    a = item.answer
    link = f"{PATH}/items/{quote(item.key)}?lang={ui}"
    reviewed = f"✓ {e(item.review.reviewer)}" if item.review else ""
    return (
        f'<tr data-key="{e(item.key)}"><td class="rv-when">{when(item.created)}</td>'
        f"<td>{e(item.channel)}</td><td>{a.language}</td>"
        f"<td>{_badges(item, ui)}</td><td>{_rating(item, ui)}</td>"
        f'<td><a href="{link}">{e(_shorten(a.question, 120))}</a></td>'
        f"<td>{e(_shorten(a.text, 160))}</td><td>{e(_shorten(item.comment, 120))}</td><td>{reviewed}</td></tr>"
    )


def _badges(item: ReviewItem, ui: str) -> str:
    issues = [i for i in item.issues if i != "down"] or ["answered"]
    return " ".join(f'<span class="rv-badge rv-{issue}">{t(f"review.issue_{issue}", ui)}</span>' for issue in issues)


def _rating(item: ReviewItem, ui: str) -> str:
    return t(f"review.rating_{item.rating}", ui) if item.rating else ""


# ------------------------------------------------------------------------------------------------ item


def item_page(
    item: ReviewItem,
    sections: SectionTexts,
    ui: str,
    reviewer: str,
    token: str,
    *,
    notice: str = "",
    error: str = "",
    note: str = "",
) -> str:
    """One item: the question and answer as the user saw them, with its sources as in the chat, and its review."""
    a = item.answer
    alerts = (f'<p class="rv-notice" role="status">{e(notice)}</p>' if notice else "") + (
        f'<p class="rv-error" role="alert">{e(error)}</p>' if error else ""
    )
    facts = [
        (t("review.col_when", ui), f"{when(item.created)} UTC"),
        (t("review.col_channel", ui), e(item.channel)),
        (t("review.col_language", ui), a.language),
        (t("review.mode", ui), e(a.mode)),
        (t("review.col_issues", ui), _badges(item, ui)),
        (t("review.col_rating", ui), _rating(item, ui) or "–"),
        (t("review.latency", ui), f"{a.latency_ms:.0f} ms" if a.latency_ms else "–"),
    ]
    if a.missing:
        facts.append((t("review.missing", ui), e("; ".join(a.missing))))
    meta = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts)
    standalone = (
        f'<p class="rv-standalone">{t("review.read_as", ui)}: {e(a.standalone_question)}</p>'
        if a.standalone_question and a.standalone_question != a.question
        else ""
    )
    comment = (
        f'<h2>{t("review.comment", ui)}</h2><blockquote class="rv-comment">{e(item.comment)}</blockquote>'
        if item.comment
        else ""
    )
    if item.review:
        review = (
            f'<div class="rv-reviewed" id="rv-review"><h2>{t("review.reviewed", ui)}</h2><p>'
            f"{t('review.reviewed_by', ui, name=e(item.review.reviewer), when=when(item.review.created))}</p>"
            f"<blockquote>{e(item.review.note) or '–'}</blockquote></div>"
        )
    else:
        review = (
            f'<form method="post" action="{PATH}/items/{quote(item.key)}/review" class="rv-review" id="rv-review">'
            f"<h2>{t('review.mark_reviewed', ui)}</h2>{_hidden(token, ui)}"
            f'<label>{t("review.note", ui)}<textarea name="note" rows="3" maxlength="2000" '
            f'placeholder="{t("review.note_placeholder", ui)}">{e(note)}</textarea></label>'
            f'<button type="submit">{t("review.mark_reviewed", ui)}</button></form>'
        )
    gold = (
        f'<a class="rv-button" href="{PATH}/items/{quote(item.key)}/gold?lang={ui}">{t("review.add_to_gold", ui)}</a>'
    )
    body = (
        f'<p><a href="{PATH}?lang={ui}">← {t("review.queue", ui)}</a></p>{alerts}'
        f'<div class="rv-detail"><section class="rv-exchange">'
        f'<h1 class="rv-question">{e(a.question)}</h1>{standalone}'
        f'<div class="rv-answer">{answer_html(a)}</div>{_marks_html(a, ui)}'
        f'<dl class="rv-meta">{meta}</dl>{comment}{review}<p>{gold}</p></section>'
        f'<aside class="rv-sources"><h2>{t("sources", ui)}</h2>'
        f"{sources_html([Exchange(a.question, a)], sections, ui)}</aside></div>"
    )
    return document(a.question[:80], body, ui, reviewer, here=f"{PATH}/items/{quote(item.key)}")


def answer_html(answer: Answer) -> str:
    """The answer's text as HTML, its `[n]` markers links to the sources (as in the chat)."""
    numbers = {s.n for s in answer.sources}
    pieces = CITATION.split(answer.text)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(e(piece).replace("\n\n", "<br><br>").replace("\n", "<br>"))
        elif int(piece) in numbers:
            out.append(f'<a href="#src-1-{int(piece)}" class="pa-cite">[{int(piece)}]</a>')
        else:
            out.append(e(f"[{piece}]"))
    return "".join(out)


def _marks_html(answer: Answer, ui: str) -> str:
    """The chat's marks (refused, unverified, flagged, notices) as HTML: their Markdown is only `**` and escapes."""
    items = []
    for mark in marks(answer, ui):
        text = re.sub(r"\\(.)", r"\1", mark)  # the chat's Markdown escapes
        items.append(_BOLD.sub(r"<strong>\1</strong>", e(text)))
    return f'<ul class="rv-marks">{"".join(f"<li>{m}</li>" for m in items)}</ul>' if items else ""


def _hidden(token: str, ui: str) -> str:
    return f'<input type="hidden" name="token" value="{e(token)}"><input type="hidden" name="lang" value="{ui}">'


# ------------------------------------------------------------------------------------------------ gold


def gold_page(
    item: ReviewItem,
    candidate: Candidate,
    problems: Sequence[str],
    corpus: Corpus,
    sections: SectionTexts,
    ui: str,
    reviewer: str,
    token: str,
    path: Path,
) -> str:
    """The gold form, pre-filled, beside the answer's sources: a click on a sentence makes it the evidence."""
    c = candidate
    alert = (
        f'<div class="rv-error" role="alert"><p>{t("review.gold_problems", ui)}</p><ul>'
        + "".join(f"<li>{e(p)}</li>" for p in problems)
        + "</ul></div>"
        if problems
        else ""
    )

    def select(name: str, options: Sequence[tuple[str, str]], current: str) -> str:
        rendered = "".join(
            f'<option value="{e(v)}"{" selected" if v == current else ""}>{e(label)}</option>' for v, label in options
        )
        return f'<select name="{name}" id="rv-{name}">{rendered}</select>'

    docs = [("", "–")] + [
        (d.id, f"{d.short_title} ({d.year})" if d.year else d.short_title) for d in corpus.documents.values()
    ]
    rows = []
    evidence = list(c.evidence) + [Evidence("", "", "")] * (EVIDENCE_ROWS - len(c.evidence))
    for n, ev in enumerate(evidence[:EVIDENCE_ROWS], start=1):
        rows.append(
            f'<fieldset class="rv-evidence" data-row="{n}"><legend>{t("review.evidence", ui)} {n}</legend>'
            f"<label>{t('review.document', ui)} {select(f'doc_{n}', docs, ev.doc)}</label>"
            f'<label>{t("review.section", ui)} <input name="section_{n}" value="{e(ev.section)}"></label>'
            f'<label>{t("review.quote", ui)} <textarea name="evidence_{n}" rows="3">{e(ev.quote)}</textarea></label>'
            "</fieldset>"
        )
    history = json.dumps([{"role": r, "content": x} for r, x in c.history], ensure_ascii=False, indent=1)

    def text(name: str, label: str, value: str, rows_: int = 2, hint: str = "") -> str:
        small = f"<small>{hint}</small>" if hint else ""
        return (
            f'<label>{label}{small}<textarea name="{name}" id="rv-{name}" rows="{rows_}">{e(value)}</textarea></label>'
        )

    form = (
        f'<form method="post" action="{PATH}/items/{quote(item.key)}/gold" class="rv-gold" id="rv-gold">'
        f"{_hidden(token, ui)}"
        f'<label>id <input name="id" id="rv-id" value="{e(c.id)}" required></label>'
        f"<label>{t('review.col_language', ui)} {select('item_lang', [('nl', 'nl'), ('en', 'en')], c.lang)}</label>"
        f"<label>{t('review.kind', ui)} {select('kind', [(k, k) for k in KINDS], c.kind)}</label>"
        f"<label>{t('review.expected_verdict', ui)} "
        f"{select('coverage', [(v, t(f'review.verdict_{v}', ui)) for v in COVERAGES], c.coverage)}</label>"
        + text("question", t("review.question", ui), c.question)
        + text("answer", t("review.reference_answer", ui), c.answer, 4)
        + text("key_facts", t("review.key_facts", ui), "\n".join(c.key_facts), 3, t("review.key_facts_hint", ui))
        + "".join(rows)
        + text("missing", t("review.missing", ui), "\n".join(c.missing), 2, t("review.one_per_line", ui))
        + text("absent_terms", t("review.absent_terms", ui), "\n".join(c.absent_terms), 2, t("review.absent_hint", ui))
        + text("history", t("review.history", ui), history if c.history else "", 4, t("review.history_hint", ui))
        + f'<p class="rv-hint">{t("review.saved_to", ui, path=e(path))}</p>'
        f'<button type="submit" id="rv-save">{t("review.save_candidate", ui)}</button></form>'
    )
    body = (
        f'<p><a href="{PATH}/items/{quote(item.key)}?lang={ui}">← {e(_shorten(item.answer.question, 80))}</a></p>'
        f"<h1>{t('review.add_to_gold', ui)}</h1>{alert}"
        f'<div class="rv-detail"><section>{form}</section>'
        f'<aside class="rv-sources"><h2>{t("sources", ui)}</h2><p class="rv-hint">{t("review.click_sentence", ui)}</p>'
        + "".join(_clickable_source(s, sections, ui, item.answer.language) for s in item.answer.sources)
        + "</aside></div>"
    )
    return document(t("review.add_to_gold", ui), body, ui, reviewer, here=f"{PATH}/items/{quote(item.key)}/gold")


def _clickable_source(source: Source, sections: SectionTexts, ui: str, language: str) -> str:
    whole = sections.get((source.doc_id, source.section_path), "") if source.section_path else ""
    whole_html = (
        f'<details class="pa-whole"><summary>{t("web.whole_section", ui)}</summary>'
        f'<div class="pa-section-text">{_sentences(whole, source)}</div></details>'
        if whole
        else ""
    )
    year = f" ({source.year})" if source.year else ""
    return (
        f'<div class="pa-source rv-source" data-doc="{e(source.doc_id)}">'
        f'<div class="pa-head"><span class="pa-n">[{source.n}]</span> '
        f"<strong>{e(source.doc_title)}</strong>{year}</div>"
        f'<div class="pa-section">{e(source.label("en" if language == "en" else "nl"))}</div>'
        f'<blockquote class="pa-passage">{_sentences(source.text, source)}</blockquote>{whole_html}</div>'
    )


def _sentences(text: str, source: Source) -> str:
    """`text` with each sentence a clickable span that carries its document and section."""
    out, last = [], 0
    attrs = f'data-doc="{e(source.doc_id)}" data-section="{e(source.section)}"'
    for start, end in split_sentences(text):
        out.append(_gap(text[last:start]))
        out.append(f'<span class="rv-sentence" role="button" tabindex="0" {attrs}>{e(text[start:end])}</span>')
        last = end
    out.append(_gap(text[last:]))
    return "".join(out)


def _gap(text: str) -> str:
    return e(text).replace("\n\n", "<br><br>").replace("\n", " ")


# -------------------------------------------------------------------------------------------- overview


def overview_page(stats: Sequence[WeekStats], weeks_shown: int, ui: str, reviewer: str) -> str:
    """Per week and channel: small charts, then the table with every figure."""
    weeks = sorted({s.week for s in stats})
    channels = [c for c in CHANNELS if any(s.channel == c for s in stats)]
    by = {(s.week, s.channel): s for s in stats}

    def series(value: str) -> dict[str, list[float | None]]:
        return {c: [getattr(by[(w, c)], value) if (w, c) in by else None for w in weeks] for c in channels}

    specs = [
        ("review.asked", "asked", False, ""),
        ("review.share_rated", "share_rated", True, ""),
        ("review.share_up", "share_up", True, ""),
        ("review.share_down", "share_down", True, ""),
        ("review.refusal_rate", "refusal_rate", True, ""),
        ("review.partial_rate", "partial_rate", True, ""),
        ("review.median_latency", "median_latency_ms", False, " ms"),
    ]
    figures = "".join(
        f'<figure class="rv-figure"><figcaption>{t(key, ui)}</figcaption>'
        f"{charts.line_chart(t(key, ui), weeks, series(attr), percent=percent, unit=unit)}</figure>"
        for key, attr, percent, unit in specs
    )
    legend = "".join(f'<span class="rv-key rv-c-{c}">{c}</span>' for c in channels)
    head = "".join(
        f"<th>{t(k, ui)}</th>"
        for k in (
            "review.week", "review.col_channel", "review.asked", "review.share_rated", "review.share_up",
            "review.share_down", "review.refusal_rate", "review.partial_rate", "review.median_latency",
        )
    )  # fmt: skip
    rows = "".join(
        f"<tr><td>{s.week.isoformat()}</td><td>{e(s.channel)}</td><td>{s.asked}</td><td>{_share(s.share_rated)}</td>"
        f"<td>{_share(s.share_up)}</td><td>{_share(s.share_down)}</td><td>{_share(s.refusal_rate)}</td>"
        f"<td>{_share(s.partial_rate)}</td>"
        f"<td>{f'{s.median_latency_ms:.0f} ms' if s.median_latency_ms is not None else '–'}</td></tr>"
        for s in stats
    )
    body = (
        f"<h1>{t('review.overview', ui)}</h1>"
        f'<p class="rv-hint">{t("review.overview_hint", ui, weeks=weeks_shown)}</p>'
        + (
            f'<div class="rv-legend">{legend}</div><div class="rv-charts">{figures}</div>'
            f'<table class="rv-stats"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
            if stats
            else f'<p class="rv-empty">{t("review.no_answers", ui)}</p>'
        )
    )
    return document(t("review.overview", ui), body, ui, reviewer, here=f"{PATH}/overview?weeks={weeks_shown}")


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
