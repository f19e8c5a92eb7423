"""Pages of concerns: plain forms, no JavaScript needed. Every concern page shows the program's
crisis resources inside the page as well as in the bar above it; "escalate now" shows what to
do first, before the form that alerts the on-call supervisor."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from tandem.accounts import services as accounts
from tandem.core.auth import STAFF, Caller, CallerRequest, Role, allow
from tandem.core.edge import PathId
from tandem.core.errors import Invalid
from tandem.core.forms import Form, field_list, field_text, form_errors, whole_number
from tandem.core.severity import Severity
from tandem.core.statuses import MembershipStatus
from tandem.matches import services as matches
from tandem.safety import rules, services
from tandem.safety.care_pages import care_routes
from tandem.safety.schemas import ConcernCreate, SafetySettings, UrgentEscalation

REPORTERS = (Role.NEWCOMER, Role.MENTOR, *STAFF)
ACTION_LABELS = {
    rules.Action.SUSPEND_MATCH: "Suspend the match (it ends for safety)",
    rules.Action.PAUSE_MENTOR: "Pause the mentor's new matches while this is open",
    rules.Action.REQUIRE_RETAKE: "Ask the mentor to take a training module again",
    rules.Action.REMATCH_NEWCOMER: "Find the newcomer another mentor",
}
OUTCOME_LABELS = {
    rules.Outcome.RESOLVED_WITH_COACHING: "Resolved with coaching",
    rules.Outcome.CORRECTIVE_PLAN: "A corrective plan is in place",
    rules.Outcome.MATCH_ENDED: "The match ended",
    rules.Outcome.REFERRED_TO_EMERGENCY_SERVICES: "Emergency services were involved",
    rules.Outcome.MANDATED_REPORT_MADE: "A report the law requires was made",
    rules.Outcome.NOT_SUBSTANTIATED: "Looked into; not borne out",
    rules.Outcome.NO_ACTION_NEEDED: "No action needed",
}
SITUATION_LABELS = {situation: title for situation, (title, _) in rules.URGENT_STEPS.items()}
# The questions' words by category and key, so a concern shows what was answered yes.
QUESTION_TEXTS = {
    category.value: {q.key: q.text for q in rule.questions}
    for category, rule in rules.CATEGORIES.items()
}
PAGE_CONTEXT = {
    "question_texts": QUESTION_TEXTS,
    "action_labels": ACTION_LABELS,
    "outcome_labels": OUTCOME_LABELS,
    "situation_labels": SITUATION_LABELS,
    "urgent_steps": rules.URGENT_STEPS,
    "while_waiting": rules.WHILE_WAITING,
}


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        f"safety/{template}", context={**PAGE_CONTEXT, **context}, status_code=status_code
    )


def _id(form: dict[str, Any], key: str) -> int | None:
    text = field_text(form, key)
    if not text:
        return None
    number = whole_number(text)
    if number is None:
        raise Invalid("Please choose from the list.", field=key)
    return number


async def _choices(caller: Caller) -> dict[str, Any]:
    """The matches (and, for staff, the mentors) a concern can be about."""
    mine = await matches.my_matches(caller)
    mentors = []
    if caller.is_staff:
        mentors = await accounts.list_members(
            caller, role=Role.MENTOR, status=MembershipStatus.ACTIVE
        )
    return {"matches": mine, "mentors": mentors}


# --- reporting ------------------------------------------------------------------------------


@get("/concerns/new", guards=[allow(*REPORTERS)], include_in_schema=False)
async def report_page(request: CallerRequest) -> Template:
    return _page(
        "report.html",
        categories=services.categories(),
        v={},
        errors=[],
        **await _choices(request.user),
    )


@post("/concerns/new", guards=[allow(*REPORTERS)], include_in_schema=False)
async def report_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    """File the concern; only the chosen category's answers count (the form lists them all)."""
    category = field_text(data, "category")
    values = {
        "category": category,
        "match_id": field_text(data, "match_id"),
        "about_membership_id": field_text(data, "about_membership_id"),
        "description": field_text(data, "description"),
        "urgent": field_text(data, "urgent") == "on",
        "ask_for_another_mentor": field_text(data, "ask_for_another_mentor") == "on",
    }
    try:
        known = rules.CATEGORIES[rules.Category(category)].questions if category in set(
            rules.Category
        ) else ()  # fmt: skip
        prefix = f"{category}:"
        answers = [a[len(prefix) :] for a in field_list(data, "answers") if a.startswith(prefix)]
        body = msgspec.convert(
            {
                **values,
                "match_id": _id(data, "match_id"),
                "about_membership_id": _id(data, "about_membership_id"),
                "answers": [a for a in answers if a in {q.key for q in known}],
            },
            ConcernCreate,
        )
        filed = await services.report_concern(request.user, body)
    except (msgspec.ValidationError, Invalid) as error:
        return _page(
            "report.html",
            status_code=400,
            categories=services.categories(),
            v=values,
            errors=form_errors(error, ConcernCreate),
            **await _choices(request.user),
        )
    return Redirect(f"/concerns/mine?filed={filed.id}")


@get("/concerns/mine", guards=[allow(*REPORTERS)], include_in_schema=False)
async def mine_page(request: CallerRequest, filed: FromQuery[int | None] = None) -> Template:
    return _page("mine.html", concerns=await services.my_concerns(request.user), filed=filed)


# --- escalate now ---------------------------------------------------------------------------


@get("/mentor/escalate", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def escalate_page(request: CallerRequest) -> Template:
    return _page("escalate.html", matches=await matches.my_matches(request.user), errors=[], v={})


@post("/mentor/escalate", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def escalate_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    values = {
        "situation": field_text(data, "situation"),
        "description": field_text(data, "description"),
        "match_id": field_text(data, "match_id"),
    }
    try:
        # "none": the mentor said it is about someone who is not one of their mentees.
        match_id = None if values["match_id"] == "none" else _id(data, "match_id")
        body = msgspec.convert(
            {"situation": values["situation"], "description": values["description"]}
            | {"match_id": match_id},
            UrgentEscalation,
        )
        filed = await services.escalate_now(request.user, body)
    except (msgspec.ValidationError, Invalid) as error:
        return _page(
            "escalate.html",
            status_code=400,
            matches=await matches.my_matches(request.user),
            errors=form_errors(error, UrgentEscalation),
            v=values,
        )
    return Redirect(f"/concerns/mine?filed={filed.id}")


# --- the supervisor queue -----------------------------------------------------------------


@get("/staff/concerns", guards=[allow(*STAFF)], include_in_schema=False)
async def queue_page(
    request: CallerRequest,
    severity: FromQuery[Severity | None] = None,
    overdue: FromQuery[int | None] = None,
) -> Template:
    """Open concerns, most severe and nearest deadline first; `?severity=S1`, `?overdue=1`."""
    items = await services.queue(request.user, severity=severity, overdue_only=bool(overdue))
    summary = await services.open_concern_summary(request.user.program_id)
    return _page("queue.html", items=items, summary=summary, severity=severity, overdue=overdue)


@get("/staff/concerns/{concern_id:int}", guards=[allow(*STAFF)], include_in_schema=False)
async def concern_page(
    request: CallerRequest, concern_id: PathId, done: FromQuery[str | None] = None
) -> Template:
    return await _concern(request.user, concern_id, done=done)


async def _concern(
    caller: Caller,
    concern_id: int,
    *,
    done: str | None = None,
    error: Invalid | None = None,
    values: dict[str, Any] | None = None,
) -> Template:
    """The concern's page; after a refused step, again with the message beside its form and
    what the supervisor typed kept, instead of a page that loses it."""
    return _page(
        "concern.html",
        status_code=400 if error else 200,
        concern=await services.open_concern(caller, concern_id),
        modules=services.module_titles(),
        done=done,
        errors=form_errors(error, None) if error else [],
        v=values or {},
    )


def _back(concern_id: int, done: str) -> Redirect:
    return Redirect(f"/staff/concerns/{concern_id}?done={done}")


@post(
    "/staff/concerns/{concern_id:int}/acknowledge", guards=[allow(*STAFF)], include_in_schema=False
)
async def acknowledge_page(request: CallerRequest, concern_id: PathId) -> Redirect:
    await services.acknowledge(request.user, concern_id)
    return _back(concern_id, "acknowledged")


def _note(form: dict[str, Any]) -> str:
    note = field_text(form, "note")
    if len(note) > 4000:
        raise Invalid("Please keep the note under 4,000 characters.", field="note")
    return note


@post("/staff/concerns/{concern_id:int}/notes", guards=[allow(*STAFF)], include_in_schema=False)
async def note_page(
    request: CallerRequest, concern_id: PathId, data: Form[Any]
) -> Redirect | Template:
    try:
        await services.add_note(request.user, concern_id, _note(data))
    except Invalid as error:
        return await _concern(
            request.user, concern_id, error=error, values={"note": field_text(data, "note")}
        )
    return _back(concern_id, "noted")


@post("/staff/concerns/{concern_id:int}/act", guards=[allow(*STAFF)], include_in_schema=False)
async def act_page(
    request: CallerRequest, concern_id: PathId, data: Form[Any]
) -> Redirect | Template:
    try:
        try:
            action = rules.Action(field_text(data, "action"))
        except ValueError:
            raise Invalid("Please choose a step to take.", field="action") from None
        await services.act(request.user, concern_id, action, field_text(data, "module_id") or None)
    except Invalid as error:
        return await _concern(request.user, concern_id, error=error)
    return _back(concern_id, "acted")


@post("/staff/concerns/{concern_id:int}/close", guards=[allow(*STAFF)], include_in_schema=False)
async def close_page(
    request: CallerRequest, concern_id: PathId, data: Form[Any]
) -> Redirect | Template:
    try:
        try:
            outcome = rules.Outcome(field_text(data, "outcome"))
        except ValueError:
            raise Invalid("Please choose how the concern ends.", field="outcome") from None
        await services.close(request.user, concern_id, outcome, _note(data))
    except Invalid as error:
        return await _concern(
            request.user, concern_id, error=error, values={"close_note": field_text(data, "note")}
        )
    return _back(concern_id, "closed")


# --- settings -----------------------------------------------------------------------------


async def _settings_page(
    caller: Caller, values: dict[str, Any], errors: list[Any], status: int
) -> Template:
    supervisors = await accounts.list_members(
        caller, role=Role.SUPERVISOR, status=MembershipStatus.ACTIVE
    )
    return _page(
        "settings.html", status_code=status, v=values, errors=errors, supervisors=supervisors
    )


@get("/staff/concerns/settings", guards=[allow(*STAFF)], include_in_schema=False)
async def settings_page(request: CallerRequest, done: FromQuery[str | None] = None) -> Template:
    values = msgspec.structs.asdict(await services.safety_settings(request.user))
    return await _settings_page(request.user, {**values, "done": done}, [], 200)


@post("/staff/concerns/settings", guards=[allow(*STAFF)], include_in_schema=False)
async def settings_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    values = {name: field_text(data, name) for name in SafetySettings.__struct_fields__}
    try:
        form = msgspec.convert(
            {**values, "on_call_supervisor_id": _id(data, "on_call_supervisor_id")},
            SafetySettings,
            strict=False,
        )
        await services.save_safety_settings(request.user, form)
    except (msgspec.ValidationError, Invalid) as error:
        return await _settings_page(request.user, values, form_errors(error, SafetySettings), 400)
    return Redirect("/staff/concerns/settings?done=saved")


routes = [
    report_page,
    report_submit,
    mine_page,
    escalate_page,
    escalate_submit,
    queue_page,
    concern_page,
    acknowledge_page,
    note_page,
    act_page,
    close_page,
    settings_page,
    settings_submit,
    *care_routes,
]
