"""Pages of the match journey: plain forms, no JavaScript needed. A refused step (a full
caseload, a stale proposal) shows the friendly error page with the reason in plain words."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from markupsafe import Markup

from tandem.accounts import services as accounts
from tandem.core.auth import STAFF, CallerRequest, Role, allow
from tandem.core.edge import PathId
from tandem.core.errors import Invalid, NotFound
from tandem.core.forms import Form, field_text, form_errors
from tandem.matches import engine, services
from tandem.matches.lifecycle import EndReason
from tandem.matches.schemas import SettingsForm
from tandem.profiles import services as profiles
from tandem.profiles.schemas import SHARED_VALUE_LABELS
from tandem.settings import CrisisResource

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
END_REASON_LABELS = {
    EndReason.COMPLETED: "We have finished working together",
    EndReason.REMATCH_REQUESTED: "The newcomer asked for another mentor",
    EndReason.MENTOR_UNAVAILABLE: "I can no longer be a mentor for now",
    EndReason.SAFETY: "Safety",
}
SHARED_LABELS = {
    "recovery_stage": "Where they are in recovery",
    "pathways": "Recovery pathway(s)",
    "hopes": "What they hope for",
    "barriers": "Practical barriers",
    "lived_experience": "Lived experience",
}
# The steps of a batch run, as supervisors read them (older runs stored load/assign/store).
STEP_LABELS = {
    "load_requests": "reading the queue",
    "load_mentors": "reading the mentors",
    "load": "loading",
    "assign": "matching",
    "explain": "explaining",
    "store": "storing",
}
# The same options under every active match of the review queue: rendered once.
END_REASON_OPTIONS = Markup("").join(
    Markup('<option value="{}">{}</option>').format(value, label)
    for value, label in END_REASON_LABELS.items()
)
PAGE_CONTEXT = {
    "day_names": DAY_NAMES,
    "end_reason_options": END_REASON_OPTIONS,
    "step_labels": STEP_LABELS,
    "end_reasons": END_REASON_LABELS,
    "shared_labels": SHARED_LABELS,
    "value_labels": SHARED_VALUE_LABELS,
}


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        f"matches/{template}", context={**PAGE_CONTEXT, **context}, status_code=status_code
    )


def _text(form: dict[str, Any], key: str, limit: int) -> str:
    text = field_text(form, key)
    if len(text) > limit:
        raise Invalid(
            f"Please keep the {key.replace('_', ' ')} under {limit} characters.", field=key
        )
    return text


def _reason(form: dict[str, Any]) -> EndReason:
    try:
        return EndReason(_text(form, "reason", 32))
    except ValueError:
        raise Invalid("Please choose why the match ends.", field="reason") from None


# --- newcomer -------------------------------------------------------------------------------


@get("/match", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def newcomer_page(request: CallerRequest, done: FromQuery[str | None] = None) -> Template:
    try:
        state = await services.my_request(request.user)
    except NotFound:
        state = None
    # The reminder to fill in the intake only for those who have not (asking needs one).
    has_intake = state is not None or await profiles.has_intake(request.user)
    return _page("newcomer.html", state=state, done=done, has_intake=has_intake)


@post("/match/request", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def ask_page(request: CallerRequest) -> Redirect:
    await services.request_mentor(request.user)
    return Redirect("/match?done=asked")


@post("/match/withdraw", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def withdraw_page(request: CallerRequest) -> Redirect:
    await services.withdraw_request(request.user)
    return Redirect("/match?done=withdrawn")


@post("/match/rematch", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def rematch_page(request: CallerRequest) -> Redirect:
    await services.ask_for_another_mentor(request.user)
    return Redirect("/match?done=rematch")


@post("/match/{match_id:int}/end", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def newcomer_end_page(request: CallerRequest, match_id: PathId) -> Redirect:
    await services.end_match(request.user, match_id, EndReason.COMPLETED)
    return Redirect("/match?done=ended")


# --- mentor ---------------------------------------------------------------------------------


@get("/mentor/matches", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def mentor_page(request: CallerRequest, done: FromQuery[str | None] = None) -> Template:
    return _page(
        "mentor.html",
        offers=await services.my_offers(request.user),
        matches=await services.my_matches(request.user),
        done=done,
    )


@post("/mentor/offers/{offer_id:int}/accept", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def accept_page(request: CallerRequest, offer_id: PathId) -> Redirect:
    await services.accept_offer(request.user, offer_id)
    return Redirect("/mentor/matches?done=accepted")


@post("/mentor/offers/{offer_id:int}/decline", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def decline_offer_page(request: CallerRequest, offer_id: PathId, data: Form[Any]) -> Redirect:
    await services.decline_offer(request.user, offer_id, _text(data, "reason", 500))
    return Redirect("/mentor/matches?done=declined")


@post("/mentor/matches/{match_id:int}/end", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def mentor_end_page(request: CallerRequest, match_id: PathId, data: Form[Any]) -> Redirect:
    await services.end_match(request.user, match_id, _reason(data))
    return Redirect("/mentor/matches?done=ended")


# --- staff ----------------------------------------------------------------------------------


@get("/staff/matches", guards=[allow(*STAFF)], include_in_schema=False)
async def queue_page(request: CallerRequest, done: FromQuery[str | None] = None) -> Template:
    return _page(
        "queue.html",
        proposals=await services.review_queue(request.user),
        waiting=await services.waiting_requests(request.user),
        matches=await services.active_matches(request.user),
        batch=await services.latest_batch_run(request.user),
        done=done,
    )


@get("/staff/matches/proposals/{proposal_id:int}", guards=[allow(*STAFF)], include_in_schema=False)
async def proposal_page(request: CallerRequest, proposal_id: PathId) -> Template:
    return _page("proposal.html", proposal=await services.get_proposal(request.user, proposal_id))


@post(
    "/staff/matches/proposals/{proposal_id:int}/approve",
    guards=[allow(*STAFF)],
    include_in_schema=False,
)
async def approve_page(request: CallerRequest, proposal_id: PathId, data: Form[Any]) -> Redirect:
    chosen = _text(data, "mentor_id", 12)
    if chosen and not chosen.isdigit():
        raise Invalid("Please choose a mentor from the list.", field="mentor_id")
    await services.approve_proposal(request.user, proposal_id, int(chosen) if chosen else None)
    return Redirect("/staff/matches?done=approved")


@post(
    "/staff/matches/proposals/{proposal_id:int}/decline",
    guards=[allow(*STAFF)],
    include_in_schema=False,
)
async def decline_proposal_page(
    request: CallerRequest, proposal_id: PathId, data: Form[Any]
) -> Redirect:
    await services.decline_proposal(request.user, proposal_id, _text(data, "note", 1000))
    return Redirect("/staff/matches?done=declined")


@post(
    "/staff/matches/requests/{request_id:int}/retry",
    guards=[allow(*STAFF)],
    include_in_schema=False,
)
async def retry_page(request: CallerRequest, request_id: PathId) -> Redirect:
    await services.retry_request(request.user, request.user.program_id, request_id)
    return Redirect("/staff/matches?done=retried")


@post("/staff/matches/{match_id:int}/end", guards=[allow(*STAFF)], include_in_schema=False)
async def staff_end_page(request: CallerRequest, match_id: PathId, data: Form[Any]) -> Redirect:
    await services.end_match(request.user, match_id, _reason(data))
    return Redirect("/staff/matches?done=ended")


SETTING_FIELDS = tuple(SettingsForm.__struct_fields__)


def _crisis_lines(resources: tuple[CrisisResource, ...]) -> str:
    return "\n".join(" | ".join((r.name, r.contact, r.detail)).rstrip(" |") for r in resources)


def _crisis_resources(text: str) -> tuple[CrisisResource, ...]:
    """One resource a line: name | contact | detail (the detail is optional)."""
    resources = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 2 or not parts[0] or not parts[1] or len(parts) > 3:
            raise Invalid(
                f"Crisis resources: write each as name | contact | detail ({line.strip()!r}).",
                field="crisis_resources",
            )
        resources.append(CrisisResource(parts[0], parts[1], parts[2] if len(parts) == 3 else ""))
    return tuple(resources)


async def _settings_page(
    caller: Any, values: dict[str, Any], error: str | None, status: int
) -> Template:
    policy, version = await services.program_policy(caller.program_id)
    return _page(
        "settings.html",
        v=values,
        error=error,
        weights=engine.weights_of(policy),
        weights_version=version,
        status_code=status,
    )


@get("/staff/settings", guards=[allow(*STAFF)], include_in_schema=False)
async def settings_page(request: CallerRequest, done: FromQuery[str | None] = None) -> Template:
    settings = await accounts.program_settings(request.user.program_id)
    values = {name: getattr(settings, name) for name in SETTING_FIELDS}
    values["crisis_resources"] = _crisis_lines(settings.crisis_resources)
    values["done"] = done
    return await _settings_page(request.user, values, None, 200)


@post("/staff/settings", guards=[allow(*STAFF)], include_in_schema=False)
async def settings_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    """Save the program's matching rules and crisis resources; every change is audited."""
    values = {key: _text(data, key, 2000) for key in (*SETTING_FIELDS, "crisis_resources")}
    values["auto_approve_matches"] = values["auto_approve_matches"] in {"on", "true", "1"}
    try:
        form = msgspec.convert(
            {k: v for k, v in values.items() if k != "crisis_resources"}, SettingsForm, strict=False
        )
        crisis = _crisis_resources(values["crisis_resources"])
    except (msgspec.ValidationError, Invalid) as error:
        message = " ".join(problem.message for problem in form_errors(error, SettingsForm))
        return await _settings_page(request.user, values, message, 400)
    current = await accounts.program_settings(request.user.program_id)
    await accounts.save_program_settings(
        request.user,
        msgspec.structs.replace(current, **msgspec.structs.asdict(form), crisis_resources=crisis),
    )
    return Redirect("/staff/settings?done=saved")


routes = [
    newcomer_page,
    ask_page,
    withdraw_page,
    rematch_page,
    newcomer_end_page,
    mentor_page,
    accept_page,
    decline_offer_page,
    mentor_end_page,
    queue_page,
    proposal_page,
    approve_page,
    decline_proposal_page,
    retry_page,
    staff_end_page,
    settings_page,
    settings_submit,
]
