"""The review page at `/review`, for reviewers only: the answers worth a look (rated 👎, not or partly covered,
unverified, flagged) with filters, one answer with its sources as in the chat, marking it reviewed with a
note, turning it into a gold candidate, and the overview per week and channel.

Who may open it (`ReviewAccess`): with logins (ASSISTANT_WEB_USERS), a login named in ASSISTANT_REVIEWERS;
another login gets 403. Without logins, only a browser on this machine (127.0.0.1), as the chat itself.
The page has its own sign-in (a signed cookie, valid on every instance with the same logins) and HTTP Basic
for scripts; every form carries a token tied to the reviewer, so another site cannot post in their name.
Questions are staff's words: they are shown here, to reviewers, and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from errors import ConfigError, InputError, NotFoundError, PolicyAssistantError
from storage.review import ItemFilter, ReviewItem, ReviewStore
from ui.feedback import open_review, parse_day
from ui.gold_candidates import Candidate, CandidateFile, Corpus, Evidence, draft, validate
from ui.i18n import t
from ui.network import is_loopback
from ui.web import review_pages as pages
from ui.web.review_pages import EVIDENCE_ROWS, PATH

if TYPE_CHECKING:
    from assistant.build import Parts
    from ui.web.render import SectionTexts

COOKIE = "pa_review"
SESSION_SECONDS = 12 * 3600
LOCAL_REVIEWER = "local"  # who reviews without logins: whoever sits at this machine
REVIEWERS_SETTING = "ASSISTANT_REVIEWERS"
STATIC = Path(__file__).with_name("static")
STATIC_FILES = {
    "review.css": "text/css",
    "review.js": "text/javascript",
    "web.css": "text/css",
    "cite.js": "text/javascript",
}
PAGE_SIZE = 50


class Denied(Exception):
    """The request may not see the review page: `status` 401 (sign in) or 403, with a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_reviewers(raw: str | None, users: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """The reviewer logins of the `reviewers` setting; `ConfigError` for a name that is not a login."""
    names = tuple(dict.fromkeys(n.strip() for n in (raw or "").split(",") if n.strip()))
    logins = {name for name, _ in users}
    unknown = [n for n in names if users and n not in logins]
    if unknown:
        raise ConfigError(
            f"{REVIEWERS_SETTING} names {', '.join(unknown)}, not a login of ASSISTANT_WEB_USERS; "
            "name logins of ASSISTANT_WEB_USERS (comma-separated)"
        )
    return names


class ReviewAccess:
    """Who is asking, and whether they may review: signed cookies, HTTP Basic, or this machine without logins."""

    def __init__(self, users: Sequence[tuple[str, str]], reviewers: Sequence[str], secret: str) -> None:
        self.users = dict(users)
        self.reviewers = frozenset(reviewers)
        # With logins the key follows from them: every instance with the same logins accepts the cookie, and
        # a changed password ends the sessions. Without, the installation's own secret.
        material = json.dumps(sorted(self.users.items())) if self.users else secret
        self._key = hashlib.sha256(f"policy-assistant review\n{material}".encode()).digest()

    @property
    def logins(self) -> bool:
        return bool(self.users)

    def check_password(self, name: str, password: str) -> bool:
        expected = self.users.get(name)
        return expected is not None and hmac.compare_digest(expected.encode(), password.encode())

    def cookie_value(self, name: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + SESSION_SECONDS)
        payload = f"{name}:{expires}"
        return f"{base64.urlsafe_b64encode(payload.encode()).decode()}.{self._sign(payload)}"

    def user(self, request: Request) -> str | None:
        """The signed-in login of `request` (cookie or HTTP Basic), or None."""
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                name, _, password = base64.b64decode(basic[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return name if self.check_password(name, password) else None
        raw = request.cookies.get(COOKIE, "")
        encoded, _, signature = raw.partition(".")
        try:
            payload = base64.urlsafe_b64decode(encoded.encode()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, _, expires = payload.rpartition(":")
        if not hmac.compare_digest(signature, self._sign(payload)) or not expires.isdigit():
            return None
        return name if int(expires) > time.time() and name in self.users else None

    def reviewer(self, request: Request) -> str:
        """The reviewer making `request`; `Denied` (401 sign in, 403 not a reviewer / not this machine)."""
        if not self.logins:
            host = request.client.host if request.client else ""
            if not is_loopback(host):
                raise Denied(403, "review.denied_remote")
            return LOCAL_REVIEWER
        name = self.user(request)
        if name is None:
            raise Denied(401, "review.sign_in_needed")
        if name not in self.reviewers:
            raise Denied(403, "review.denied_not_reviewer")
        return name

    def form_token(self, reviewer: str) -> str:
        """The token every form of `reviewer` carries."""
        return self._sign(f"form:{reviewer}")

    def check_form(self, reviewer: str, token: str) -> None:
        if not hmac.compare_digest(token or "", self.form_token(reviewer)):
            raise Denied(403, "review.form_expired")

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


class ReviewPages:
    """The review routes' behaviour over the parts (stores opened on first use)."""

    def __init__(self, parts: Parts, access: ReviewAccess, open_store: Callable[[], ReviewStore]) -> None:
        self.parts = parts
        self.access = access
        self.store = functools.cache(open_store)
        self.corpus = functools.cache(lambda: Corpus(parts.settings.corpus_dir))
        self._sections: tuple[Any, SectionTexts] = (None, {})

    def candidates(self) -> CandidateFile:
        from eval.gold import DEFAULT_GOLD  # the gold set proper: its ids are taken

        return CandidateFile(self.parts.settings.candidates_path, sorted(DEFAULT_GOLD.parent.glob("*.jsonl")))

    def sections(self) -> SectionTexts:
        """The whole text of every section of the active index (for "read the whole section")."""
        from index.sections import section_texts

        try:
            chunks = self.parts.store.chunks()
        except PolicyAssistantError:
            return {}
        built_from, texts = self._sections
        if built_from is not chunks:
            texts = section_texts(chunks)
            self._sections = (chunks, texts)
        return texts

    def draft(self, item: ReviewItem) -> Candidate:
        return draft(item, self.store().earlier_turns(item), self.corpus(), self.candidates().taken())


def mount_review(app: FastAPI, parts: Parts, users: Sequence[tuple[str, str]], secret: str) -> None:
    """Add the review routes under `/review` to `app` (before the chat is mounted at `/`)."""
    access = ReviewAccess(users, parse_reviewers(parts.settings.reviewers, users), secret)
    review = ReviewPages(parts, access, lambda: open_review(parts))

    def guarded(request: Request, ui: str, render: Callable[[str], Response]) -> Response:
        """`render(reviewer)`, or the sign-in / refusal page; store errors become a plain page."""
        try:
            reviewer = access.reviewer(request)
        except Denied as denied:
            if denied.status == 401 and request.method == "GET":
                target = f"{PATH}/login?{urlencode({'next': _relative(request), 'lang': ui})}"
                return RedirectResponse(target, status_code=303)
            return _html(pages.message_page(t(str(denied), ui), ui), denied.status)
        try:
            return render(reviewer)
        except Denied as denied:
            return _html(pages.message_page(t(str(denied), ui), ui, reviewer), denied.status)
        except NotFoundError as err:
            return _html(pages.message_page(str(err), ui, reviewer), 404)
        except PolicyAssistantError as err:  # the database is down, a bad filter ...
            status = 400 if isinstance(err, InputError) else 503
            return _html(pages.message_page(str(err), ui, reviewer), status)

    @app.get(f"{PATH}/static/{{name}}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            return PlainTextResponse("not found", status_code=404)
        return Response((STATIC / name).read_bytes(), media_type=STATIC_FILES[name])

    @app.get(f"{PATH}/login", include_in_schema=False)
    def login_form(request: Request, next: str = PATH, lang: str = "nl") -> Response:  # noqa: A002
        ui = _ui(lang)
        if not access.logins:
            return RedirectResponse(_safe_next(next), status_code=303)
        return _html(pages.login_page(_safe_next(next), ui))

    @app.post(f"{PATH}/login", include_in_schema=False)
    def login(
        username: str = Form(""),
        password: str = Form(""),
        next: str = Form(PATH),
        lang: str = Form("nl"),  # noqa: A002
    ) -> Response:
        ui = _ui(lang)
        if not access.check_password(username.strip(), password):
            return _html(pages.login_page(_safe_next(next), ui, t("review.sign_in_failed", ui)), 401)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            COOKIE,
            access.cookie_value(username.strip()),
            max_age=SESSION_SECONDS,
            path=PATH,
            httponly=True,
            samesite="strict",
        )
        return response

    @app.post(f"{PATH}/logout", include_in_schema=False)
    def logout(lang: str = Form("nl")) -> Response:
        response = RedirectResponse(f"{PATH}/login?lang={_ui(lang)}", status_code=303)
        response.delete_cookie(COOKIE, path=PATH)
        return response

    @app.get(PATH, include_in_schema=False)
    def item_list(
        request: Request,
        lang: str = "nl",
        channel: str = "",
        since: str = "",
        until: str = "",
        rating: str = "",
        verdict: str = "",
        language: str = "",
        status: str = "open",
        page: int = 1,
    ) -> Response:
        ui = _ui(lang)
        query = {
            "channel": channel,
            "since": since,
            "until": until,
            "rating": rating,
            "verdict": verdict,
            "language": language,
            "status": status,
        }

        def render(reviewer: str) -> Response:
            filters = ItemFilter(
                channel=channel or None,
                since=parse_day(since, "since"),
                until=parse_day(until, "until", end=True),
                rating=rating or None,
                verdict=verdict or None,
                language=language or None,
                status=status or "open",
            )
            number = max(page, 1)
            found = review.store().items(filters, limit=PAGE_SIZE + 1, offset=(number - 1) * PAGE_SIZE)
            html = pages.list_page(found[:PAGE_SIZE], query, number, len(found) > PAGE_SIZE, ui, reviewer)
            return _html(html)

        return guarded(request, ui, render)

    @app.get(f"{PATH}/overview", include_in_schema=False)
    def overview(request: Request, lang: str = "nl", weeks: int = 12) -> Response:
        ui = _ui(lang)

        def render(reviewer: str) -> Response:
            span = min(max(weeks, 1), 104)
            since = time.time() - span * 7 * 86400
            stats = review.store().overview(since)
            return _html(pages.overview_page(stats, span, ui, reviewer))

        return guarded(request, ui, render)

    @app.get(f"{PATH}/items/{{key}}", include_in_schema=False)
    def item(request: Request, key: str, lang: str = "nl", done: str = "") -> Response:
        ui = _ui(lang)

        def render(reviewer: str) -> Response:
            found = review.store().get(key)
            notice = t("review.saved_candidate", ui, id=done) if done else ""
            html = pages.item_page(found, review.sections(), ui, reviewer, access.form_token(reviewer), notice=notice)
            return _html(html)

        return guarded(request, ui, render)

    @app.post(f"{PATH}/items/{{key}}/review", include_in_schema=False)
    def mark_reviewed(
        request: Request, key: str, note: str = Form(""), token: str = Form(""), lang: str = Form("nl")
    ) -> Response:
        ui = _ui(lang)

        def render(reviewer: str) -> Response:
            access.check_form(reviewer, token)
            store = review.store()
            try:
                store.mark_reviewed(key, reviewer, note)
            except InputError as err:  # reviewed before: the first note stays, this one is shown back
                found = store.get(key)
                html = pages.item_page(
                    found, review.sections(), ui, reviewer, access.form_token(reviewer), error=str(err), note=note
                )
                return _html(html, 409 if found.review else 400)
            return RedirectResponse(f"{PATH}/items/{quote(key)}?lang={ui}", status_code=303)

        return guarded(request, ui, render)

    @app.get(f"{PATH}/items/{{key}}/gold", include_in_schema=False)
    def gold_form(request: Request, key: str, lang: str = "nl") -> Response:
        ui = _ui(lang)

        def render(reviewer: str) -> Response:
            found = review.store().get(key)
            candidate = review.draft(found)
            html = pages.gold_page(
                found, candidate, [], review.corpus(), review.sections(), ui, reviewer, access.form_token(reviewer),
                review.candidates().path,
            )  # fmt: skip
            return _html(html)

        return guarded(request, ui, render)

    @app.post(f"{PATH}/items/{{key}}/gold", include_in_schema=False)
    async def save_gold(request: Request, key: str) -> Response:
        form = await request.form()
        fields = {name: str(value) for name, value in form.items()}
        ui = _ui(fields.get("lang", "nl"))

        def render(reviewer: str) -> Response:
            access.check_form(reviewer, fields.get("token", ""))
            found = review.store().get(key)
            candidate, problems = candidate_from_form(fields, key)
            file = review.candidates()
            if not problems:
                try:
                    saved = file.add(candidate, review.corpus())
                except InputError as err:
                    problems = [str(err)]
                else:
                    return RedirectResponse(
                        f"{PATH}/items/{quote(key)}?{urlencode({'lang': ui, 'done': saved.id})}", status_code=303
                    )
            checked, _ = validate(candidate, review.corpus(), file.taken())
            html = pages.gold_page(
                found, checked if problems else candidate, problems, review.corpus(), review.sections(), ui, reviewer,
                access.form_token(reviewer), file.path,
            )  # fmt: skip
            return _html(html, 422)

        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(guarded, request, ui, render)


def candidate_from_form(fields: dict[str, str], key: str) -> tuple[Candidate, list[str]]:
    """The candidate the gold form describes, and what could not be read from it (the history's JSON)."""

    def lines(name: str) -> tuple[str, ...]:
        return tuple(line.strip() for line in fields.get(name, "").splitlines() if line.strip())

    problems: list[str] = []
    history: tuple[tuple[str, str], ...] = ()
    raw_history = fields.get("history", "").strip()
    if raw_history:
        try:
            turns = json.loads(raw_history)
            history = tuple((str(turn["role"]), str(turn["content"])) for turn in turns)
        except (json.JSONDecodeError, KeyError, TypeError):
            problems.append('the history is not a JSON list of {"role": ..., "content": ...} objects')
    evidence = tuple(
        Evidence(fields.get(f"doc_{n}", ""), fields.get(f"section_{n}", "").strip(), fields.get(f"evidence_{n}", ""))
        for n in range(1, EVIDENCE_ROWS + 1)
        if fields.get(f"doc_{n}") or fields.get(f"evidence_{n}", "").strip()
    )
    candidate = Candidate(
        id=fields.get("id", "").strip(),
        lang=fields.get("item_lang", ""),
        question=fields.get("question", "").strip(),
        answer=fields.get("answer", "").strip(),
        kind=fields.get("kind", ""),
        key_facts=lines("key_facts"),
        evidence=evidence,
        coverage=fields.get("coverage", ""),
        missing=lines("missing"),
        absent_terms=lines("absent_terms"),
        history=history,
        origin=key,
    )
    return candidate, problems


def _ui(lang: str) -> str:
    return "en" if lang == "en" else "nl"


def _relative(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _safe_next(target: str) -> str:
    """Only a path of the review page: a sign-in link cannot send the reviewer elsewhere."""
    return target if target.startswith(PATH) and not target.startswith("//") and "\\" not in target else PATH


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})
