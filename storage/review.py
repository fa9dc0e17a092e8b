"""The review of given answers: those rated 👎, not or partly covered, unverified or flagged, each with its
rating and comment, a reviewer's note once it is dealt with; and the overview per week and channel.

An item is a rating (`f<id>`, from `FeedbackStore`) or an unrated answer with an issue (`t<position>-<conversation
id>`, a turn of `ConversationStore`: every answer a kept conversation recorded, with its verdict and latency).
The notes are in the table `reviews` of the ratings' database. Conversations and ratings may be two SQLite
files, so nothing joins across them: each is read with its own filters and the two streams are merged.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, get_args

from sqlalchemy import Column, ColumnElement, MetaData, Select, Table, Text, case, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from assistant.types import COVERAGES, LANGUAGES, Answer
from errors import InputError, NotFoundError
from storage.conversations import ConversationStore, stored_answer
from storage.conversations import _conversations as conversations_table  # the tables this module reads
from storage.conversations import _turns as turns_table
from storage.db import SECONDS, TableStore
from storage.feedback import Feedback, FeedbackStore, Rating

ReviewChannel = Literal["web", "slack", "api", "cli"]
CHANNELS: tuple[ReviewChannel, ...] = get_args(ReviewChannel)
# Which items a list holds: None is the review queue (👎 and answers with an issue, rated or not); `any`
# every rating and every unrated answer with an issue; `unrated` only the latter.
RatingFilter = Literal["up", "down", "unrated", "any"]
RATING_FILTERS: tuple[RatingFilter, ...] = get_args(RatingFilter)
Status = Literal["open", "reviewed", "all"]
STATUSES: tuple[Status, ...] = get_args(Status)
MAX_NOTE_CHARS = 2000
MAX_PAGE = 500
_BATCH = 200  # rows read at a time from each store while merging
_KEY = re.compile(r"f(\d{1,18})|t(\d{1,9})-([A-Za-z0-9_-]{1,128})")

_METADATA = MetaData()
_reviews = Table(
    "reviews",
    _METADATA,
    Column("item", Text, primary_key=True),  # the item's key: one review per item
    Column("item_created", SECONDS, nullable=False),  # when the answer was given: retention deletes by it
    Column("created", SECONDS, nullable=False),
    Column("reviewer", Text, nullable=False),
    Column("note", Text, nullable=False),
)
_t, _c = turns_table.c, conversations_table.c
_turn_verdict: ColumnElement[str] = case(
    (_t.coverage.in_(COVERAGES), _t.coverage),
    (_t.refused == 1, "not_covered"),
    else_="answered",
)
_turn_issue = or_(_turn_verdict != "answered", _t.unverified == 1, _t.flagged != "[]")
_TURN_COLUMNS = (
    _t.conversation_id,
    _t.position,
    _t.created,
    _c.owner,
    _t.question,
    _t.standalone_question,
    _t.answer,
    _t.language,
    _t.mode,
    _t.refused,
    _t.sources,
    _t.unverified,
    _t.flagged,
    _t.notices,
    _t.coverage,
    _t.missing,
    _t.latency_ms,
)


@dataclass(frozen=True)
class Review:
    """A reviewer's note on an item: it was looked at, and what was found or done."""

    reviewer: str
    note: str
    created: float


@dataclass(frozen=True)
class ReviewItem:
    """An answer to review, as its user saw it, with its rating and comment (if any) and its review (if any)."""

    key: str
    created: float
    channel: str
    answer: Answer
    rating: Rating | None = None
    comment: str = ""
    position: int | None = None  # the answer's turn in its conversation; None when not known
    review: Review | None = None

    @property
    def issues(self) -> tuple[str, ...]:
        """What makes it worth a look: `down`, `not_covered`, `partial`, `unverified`, `flagged`."""
        a = self.answer
        found = ["down"] if self.rating == "down" else []
        if a.coverage != "answered":
            found.append(a.coverage)
        if a.unverified:
            found.append("unverified")
        if a.flagged:
            found.append("flagged")
        return tuple(found)


@dataclass(frozen=True)
class ItemFilter:
    """Which items a list holds; every value is checked, naming a bad one."""

    channel: str | None = None
    since: float | None = None
    until: float | None = None
    rating: str | None = None  # None: the review queue; up, down, unrated or any
    verdict: str | None = None  # Answer.coverage
    language: str | None = None
    status: str = "open"

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("channel", self.channel, CHANNELS),
            ("rating", self.rating, RATING_FILTERS),
            ("verdict", self.verdict, COVERAGES),
            ("language", self.language, LANGUAGES),
            ("status", self.status, STATUSES),
        ):
            if value is not None and value not in allowed:
                raise InputError(f"unknown {name} {value!r}; use one of {', '.join(allowed)}")
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise InputError("the period ends before it starts; swap the dates")


@dataclass(frozen=True)
class WeekStats:
    """One week (from Monday, UTC) of one channel: questions answered, ratings, verdicts, latency."""

    week: dt.date
    channel: str
    asked: int = 0
    rated: int = 0
    up: int = 0
    down: int = 0
    not_covered: int = 0
    partial: int = 0
    median_latency_ms: float | None = None

    @property
    def share_rated(self) -> float | None:
        return self.rated / self.asked if self.asked else None

    @property
    def share_up(self) -> float | None:
        return self.up / self.rated if self.rated else None

    @property
    def share_down(self) -> float | None:
        return self.down / self.rated if self.rated else None

    @property
    def refusal_rate(self) -> float | None:
        return self.not_covered / self.asked if self.asked else None

    @property
    def partial_rate(self) -> float | None:
        return self.partial / self.asked if self.asked else None


def channel_of(owner: str | None) -> ReviewChannel:
    """The channel of a conversation from its owner (`web:…`, `slack:…`, `api:…`; none: the command line)."""
    prefix = (owner or "").split(":", 1)[0]
    return prefix if prefix in ("web", "slack", "api") else "cli"  # type: ignore[return-value]


def week_of(created: float) -> dt.date:
    """The Monday (UTC) of the week a time falls in."""
    day = dt.datetime.fromtimestamp(created, dt.UTC).date()
    return day - dt.timedelta(days=day.weekday())


class ReviewStore(TableStore):
    """Review items over the conversation and feedback stores; the notes in the feedback store's database."""

    def __init__(self, conversations: ConversationStore, feedback: FeedbackStore) -> None:
        super().__init__(feedback.database, _METADATA)
        self.conversations = conversations
        self.feedback = feedback

    # -- items

    def items(self, filters: ItemFilter | None = None, *, limit: int = 50, offset: int = 0) -> list[ReviewItem]:
        """The items matching `filters` (default: the open review queue), newest first."""
        if not 1 <= limit <= MAX_PAGE:
            raise InputError(f"limit {limit} is out of range; use 1 to {MAX_PAGE}")
        if offset < 0:
            raise InputError(f"offset {offset} is negative; use 0 or more")
        f = filters or ItemFilter()
        streams = []
        if f.rating != "unrated":
            streams.append(self._rated(f))
        if f.rating in (None, "unrated", "any"):
            streams.append(self._unrated(f))
        merged = heapq.merge(*streams, key=lambda item: -item.created)
        return list(itertools.islice(merged, offset, offset + limit))

    def get(self, key: str) -> ReviewItem:
        """The item `key`; `NotFoundError` when there is none."""
        match = _KEY.fullmatch(key or "")
        if match is None:
            raise NotFoundError(
                f"unknown review item {key!r}; pick one from the list (`policy-assistant feedback list`)"
            )
        feedback_id, position, conversation_id = match.groups()
        if feedback_id is not None:
            try:
                rating = self.feedback.get(int(feedback_id))
            except NotFoundError as err:
                raise NotFoundError(f"unknown review item {key!r}; it may have been deleted (retention)") from err
            item = _rated_item(rating, self._position(rating))
        else:
            with self.conversations.database.connect("read the answer") as db:
                row = db.execute(
                    self._turns_query().where(_t.conversation_id == conversation_id, _t.position == int(position))
                ).first()
            if row is None:
                raise NotFoundError(f"unknown review item {key!r}; it may have been deleted (retention)")
            item = _turn_item(row)
        return _with_review(item, self._reviews([item.key]))

    def earlier_turns(self, item: ReviewItem) -> list[Answer]:
        """The answers before `item` in its conversation (a follow-up's history), oldest first."""
        conversation_id = item.answer.conversation_id
        if not conversation_id or not item.position:
            return []
        turns = self.conversations.history(conversation_id)
        return [turn.answer for turn in turns[: item.position]]

    def mark_reviewed(self, key: str, reviewer: str, note: str) -> Review:
        """Record that `reviewer` reviewed item `key`, with `note`. `InputError` when it was reviewed before
        (the first note stays), `NotFoundError` when there is no such item."""
        note = str(note or "").strip()
        if len(note) > MAX_NOTE_CHARS:
            raise InputError(f"the note is {len(note)} characters long; keep it under {MAX_NOTE_CHARS} characters")
        if not reviewer.strip():
            raise InputError("a review needs the reviewer's name")
        item = self.get(key)
        if item.review is not None:
            raise _already_reviewed(key, item.review)
        review = Review(reviewer=reviewer.strip(), note=note, created=time.time())
        row = {"item": key, "item_created": item.created, **asdict(review)}
        try:
            with self.database.begin("store the review", conflicts=True) as db:
                db.execute(insert(_reviews).values(**row))
        except IntegrityError as err:  # another reviewer was quicker
            raise _already_reviewed(key, self._reviews([key])[key]) from err
        return review

    # -- overview

    def overview(self, since: float, until: float | None = None) -> list[WeekStats]:
        """Per week (from Monday, UTC) and channel: questions answered, ratings, not/partly covered, median
        latency; oldest week first."""
        query = (
            select(_t.created, _c.owner, _turn_verdict, _t.latency_ms)
            .join(conversations_table, conversations_table.c.id == _t.conversation_id)
            .where(_t.created >= since)
        )
        if until is not None:
            query = query.where(_t.created < until)
        with self.conversations.database.connect("read the answers") as db:
            turns = db.execute(query).all()
        counts: dict[tuple[dt.date, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        latencies: dict[tuple[dt.date, str], list[float]] = defaultdict(list)
        for created, owner, verdict, latency in turns:
            group: tuple[dt.date, str] = (week_of(created), channel_of(owner))
            counts[group]["asked"] += 1
            if verdict in ("not_covered", "partial"):
                counts[group][verdict] += 1
            if latency:
                latencies[group].append(float(latency))
        for created, channel, rating in self.feedback.ratings_between(since, until):
            group = (week_of(created), channel)
            counts[group]["rated"] += 1
            counts[group][rating] += 1
        return [
            WeekStats(
                week=week,
                channel=channel,
                median_latency_ms=statistics.median(latencies[(week, channel)]) if latencies[(week, channel)] else None,
                **counts[(week, channel)],
            )
            for week, channel in sorted(counts, key=lambda g: (g[0], CHANNELS.index(g[1]) if g[1] in CHANNELS else 9))
        ]

    # -- retention

    def delete_before(self, cutoff: float) -> int:
        """Delete the notes on answers given before `cutoff` (they go with the answers); how many."""
        with self.database.begin("delete old reviews") as db:
            return int(db.execute(delete(_reviews).where(_reviews.c.item_created < cutoff)).rowcount or 0)

    # -- internals

    def _rated(self, f: ItemFilter) -> Iterator[ReviewItem]:
        if f.channel == "cli":
            return  # the command line has no ratings
        for offset in itertools.count(0, _BATCH):
            batch = self.feedback.search(
                since=f.since,
                until=f.until,
                channel=f.channel,
                language=f.language,  # type: ignore[arg-type]
                verdict=f.verdict,  # type: ignore[arg-type]
                rating=f.rating if f.rating in ("up", "down") else None,  # type: ignore[arg-type]
                attention=f.rating is None,
                limit=_BATCH,
                offset=offset,
            )
            items = [_rated_item(rating, None) for rating in batch]
            yield from self._by_status(items, f.status)
            if len(batch) < _BATCH:
                return

    def _unrated(self, f: ItemFilter) -> Iterator[ReviewItem]:
        query = self._turns_query().where(_turn_issue)
        if f.since is not None:
            query = query.where(_t.created >= f.since)
        if f.until is not None:
            query = query.where(_t.created < f.until)
        if f.language is not None:
            query = query.where(_t.language == f.language)
        if f.verdict is not None:
            query = query.where(_turn_verdict == f.verdict)
        if f.channel is not None:
            query = query.where(_channel_condition(f.channel))
        query = query.order_by(_t.created.desc(), _t.conversation_id, _t.position.desc())
        for offset in itertools.count(0, _BATCH):
            with self.conversations.database.connect("read the answers") as db:
                rows = db.execute(query.limit(_BATCH).offset(offset)).all()
            items = [_turn_item(row) for row in rows]
            rated = self._rated_turns(items)
            yield from self._by_status([i for i in items if _identity(i.answer) not in rated], f.status)
            if len(rows) < _BATCH:
                return

    def _turns_query(self) -> Select[Any]:
        return select(*_TURN_COLUMNS).join(conversations_table, conversations_table.c.id == _t.conversation_id)

    def _rated_turns(self, items: list[ReviewItem]) -> set[tuple[str | None, str, str]]:
        """Which of these answers have a rating (they are listed as that rating)."""
        conversation_ids = sorted({i.answer.conversation_id for i in items if i.answer.conversation_id})
        if not conversation_ids:
            return set()
        ratings = self.feedback.search(conversation_ids=conversation_ids, limit=100_000)
        return {_identity(r.answer) for r in ratings}

    def _position(self, rating: Feedback) -> int | None:
        """The turn a rating is about, found by its conversation, question and answer."""
        if not rating.conversation_id:
            return None
        with self.conversations.database.connect("read the conversation") as db:
            found = db.execute(
                select(_t.position)
                .where(
                    _t.conversation_id == rating.conversation_id,
                    _t.question == rating.answer.question,
                    _t.answer == rating.answer.text,
                )
                .order_by(_t.position.desc())
            ).first()
        return int(found[0]) if found else None

    def _by_status(self, items: list[ReviewItem], status: str) -> list[ReviewItem]:
        reviews = self._reviews([i.key for i in items])
        items = [_with_review(i, reviews) for i in items]
        if status == "open":
            return [i for i in items if i.review is None]
        if status == "reviewed":
            return [i for i in items if i.review is not None]
        return items

    def _reviews(self, keys: list[str]) -> dict[str, Review]:
        if not keys:
            return {}
        r = _reviews.c
        with self.database.connect("read the reviews") as db:
            rows = db.execute(select(r.item, r.reviewer, r.note, r.created).where(r.item.in_(keys))).all()
        return {item: Review(reviewer=who, note=note, created=float(when)) for item, who, note, when in rows}


def _channel_condition(channel: str) -> ColumnElement[bool]:
    if channel == "cli":
        return or_(_c.owner.is_(None), ~or_(*(_c.owner.like(f"{c}:%") for c in ("web", "slack", "api"))))
    return _c.owner.like(f"{channel}:%")


def _identity(answer: Answer) -> tuple[str | None, str, str]:
    return (answer.conversation_id, answer.question, answer.text)


def _rated_item(rating: Feedback, position: int | None) -> ReviewItem:
    return ReviewItem(
        key=f"f{rating.id}",
        created=float(rating.created),
        channel=rating.channel,
        answer=rating.answer,
        rating=rating.rating,
        comment=rating.comment,
        position=position,
    )


def _turn_item(row: Sequence[Any]) -> ReviewItem:
    (conv, position, created, owner, q, s, a, lang, m, refused, src, unverified, flagged, notices, cov, miss, ms) = row
    answer = stored_answer(
        question=q,
        standalone=s,
        text=a,
        language=lang,
        mode=m,
        sources=src,
        refused=refused,
        unverified=unverified,
        flagged=flagged,
        notices=notices,
        coverage=cov,
        missing=miss,
        latency_ms=ms,
        conversation_id=conv,
    )
    return ReviewItem(
        key=f"t{position}-{conv}", created=float(created), channel=channel_of(owner), answer=answer, position=position
    )


def _with_review(item: ReviewItem, reviews: dict[str, Review]) -> ReviewItem:
    review = reviews.get(item.key)
    if review is None:
        return item
    return replace(item, review=review)


def _already_reviewed(key: str, review: Review) -> InputError:
    when = dt.datetime.fromtimestamp(review.created, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return InputError(f"{key} was already reviewed by {review.reviewer} on {when}; its note stays as it is")
