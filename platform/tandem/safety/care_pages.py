"""Pages of check-ins and mentor self-care: plain forms, no JavaScript needed. A refused form is
shown again with its answers kept and each problem beside its field."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from tandem.core.auth import STAFF, Caller, CallerRequest, Role, allow
from tandem.core.clock import clock
from tandem.core.edge import PathId
from tandem.core.errors import DomainError
from tandem.core.forms import Form, field_list, field_text, form_errors
from tandem.matches import services as matches
from tandem.safety import care_rules as rules
from tandem.safety import care_services as services
from tandem.safety.care_schemas import CheckInCreate, QuietHoursIn, ReturnToUseIn, WellbeingIn

MENTOR = allow(Role.MENTOR)
LABELS = {
    "channels": rules.CHANNEL_LABELS,
    "topics": rules.TOPIC_LABELS,
    "flags": rules.FLAG_LABELS,
    "questions": rules.WELLBEING_QUESTIONS,
    "scale": rules.SCALE_LABELS,
    "hours": [f"{hour:02d}:00" for hour in range(24)],
    "quiet_after_days": rules.QUIET_AFTER_DAYS,
    "frequent_contacts": rules.FREQUENT_CONTACTS,
}


def _page(template: str, status_code: int = 200, **context: Any) -> Template:
    return Template(
        f"safety/care/{template}", context={**LABELS, **context}, status_code=status_code
    )


def _errors(error: msgspec.ValidationError | DomainError, shape: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in form_errors(error, shape):
        found.setdefault(problem.name or "form", problem.message)
    return found


def _blank_or_number(text: str) -> int | str | None:
    return None if text == "" else int(text) if text.isascii() and text.isdigit() else text


# --- check-ins --------------------------------------------------------------------------------


async def _check_ins_page(
    caller: Caller,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Template:
    return _page(
        "check_ins.html",
        status_code=status,
        matches=await matches.my_matches(caller),
        check_ins=await services.my_check_ins(caller),
        quiet=await services.quiet_match_lines(caller),
        v=values or {"contact_date": clock.today().isoformat(), "topics": []},
        errors=errors or {},
        done=done,
    )


@get("/mentor/check-ins", guards=[MENTOR], include_in_schema=False)
async def check_ins_page(request: CallerRequest, done: FromQuery[str | None] = None) -> Template:
    return await _check_ins_page(request.user, done=done)


@post("/mentor/check-ins", guards=[MENTOR], include_in_schema=False)
async def check_in_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    values: dict[str, Any] = {
        key: field_text(data, key)
        for key in ("match_id", "contact_date", "start_time", "minutes", "channel", "note")
    }
    values["topics"] = field_list(data, "topics")
    values["worried"] = field_text(data, "worried") == "yes"
    shaped = {
        **values,
        "match_id": _blank_or_number(values["match_id"]),
        "minutes": _blank_or_number(values["minutes"]),
    }
    shaped = {key: value for key, value in shaped.items() if value not in ("", None)}
    try:
        check_in = await services.log_check_in(request.user, msgspec.convert(shaped, CheckInCreate))
    except (msgspec.ValidationError, DomainError) as error:
        return await _check_ins_page(
            request.user, values=values, errors=_errors(error, CheckInCreate), status=400
        )
    return Redirect(f"/mentor/check-ins?done={'flagged' if check_in.flags else 'logged'}")


# --- self-care ------------------------------------------------------------------------------------


async def _self_care_page(
    caller: Caller,
    *,
    errors: dict[str, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Template:
    return _page(
        "self_care.html",
        status_code=status,
        care=await services.self_care(caller),
        errors=errors or {},
        done=done,
    )


@get("/mentor/self-care", guards=[MENTOR], include_in_schema=False)
async def self_care_page(request: CallerRequest, done: FromQuery[str | None] = None) -> Template:
    return await _self_care_page(request.user, done=done)


@post("/mentor/self-care/quiet-hours", guards=[MENTOR], include_in_schema=False)
async def quiet_hours_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    hours = {key: _blank_or_number(field_text(data, key)) for key in ("start", "end")}
    try:
        await services.set_quiet_hours(request.user, msgspec.convert(hours, QuietHoursIn))
    except (msgspec.ValidationError, DomainError) as error:
        return await _self_care_page(request.user, errors=_errors(error, QuietHoursIn), status=400)
    return Redirect("/mentor/self-care?done=quiet-hours")


@post("/mentor/self-care/wellbeing", guards=[MENTOR], include_in_schema=False)
async def wellbeing_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    answers: dict[str, Any] = {
        key: _blank_or_number(field_text(data, key)) for key in rules.WELLBEING_QUESTIONS
    }
    answers = {key: value for key, value in answers.items() if value is not None}
    answers["talk_to_supervisor"] = field_text(data, "talk_to_supervisor") == "yes"
    try:
        result = await services.record_wellbeing(
            request.user, msgspec.convert(answers, WellbeingIn)
        )
    except (msgspec.ValidationError, DomainError) as error:
        return await _self_care_page(request.user, errors=_errors(error, WellbeingIn), status=400)
    done = (
        "wellbeing-low"
        if result.suggests_conversation and not result.conversation_asked
        else ("wellbeing-talk" if result.conversation_asked else "wellbeing")
    )
    return Redirect(f"/mentor/self-care?done={done}")


@post("/mentor/self-care/conversation", guards=[MENTOR], include_in_schema=False)
async def conversation_submit(request: CallerRequest) -> Redirect:
    await services.ask_for_conversation(request.user)
    return Redirect("/mentor/self-care?done=conversation")


@get("/mentor/self-care/return-to-use", guards=[MENTOR], include_in_schema=False)
async def return_to_use_page(request: CallerRequest) -> Template:
    return _page("return_to_use.html", care=await services.self_care(request.user), result=None)


@post("/mentor/self-care/return-to-use", guards=[MENTOR], include_in_schema=False)
async def return_to_use_submit(request: CallerRequest, data: Form[Any]) -> Template:
    talk = field_text(data, "talk_to_supervisor") == "yes"
    result = await services.report_return_to_use(
        request.user, ReturnToUseIn(talk_to_supervisor=talk)
    )
    return _page("return_to_use.html", care=await services.self_care(request.user), result=result)


@post("/mentor/self-care/ready", guards=[MENTOR], include_in_schema=False)
async def ready_submit(request: CallerRequest) -> Template | Redirect:
    try:
        await services.ready_to_return(request.user)
    except DomainError as error:
        return await _self_care_page(
            request.user, errors={"form": error.message}, status=error.status_code
        )
    return Redirect("/mentor/self-care?done=ready")


# --- supervision ------------------------------------------------------------------------------


@get("/staff/check-ins/flags", guards=[allow(*STAFF)], include_in_schema=False)
async def flags_page(request: CallerRequest) -> Template:
    return _page("flags.html", check_ins=await services.flagged_check_ins(request.user))


@get("/staff/check-ins/quiet", guards=[allow(*STAFF)], include_in_schema=False)
async def quiet_page(request: CallerRequest) -> Template:
    return _page("quiet.html", quiet=await services.quiet_match_lines(request.user))


@get("/staff/self-care/conversations", guards=[allow(*STAFF)], include_in_schema=False)
async def conversations_page(
    request: CallerRequest, done: FromQuery[str | None] = None
) -> Template:
    return _page(
        "conversations.html",
        conversations=await services.conversation_requests(request.user),
        done=done,
    )


@post(
    "/staff/self-care/conversations/{conversation_id:int}/held",
    guards=[allow(*STAFF)],
    include_in_schema=False,
)
async def conversation_held_submit(request: CallerRequest, conversation_id: PathId) -> Redirect:
    await services.mark_conversation_held(request.user, conversation_id)
    return Redirect("/staff/self-care/conversations?done=held")


care_routes = [
    check_ins_page,
    check_in_submit,
    self_care_page,
    quiet_hours_submit,
    wellbeing_submit,
    conversation_submit,
    return_to_use_page,
    return_to_use_submit,
    ready_submit,
    flags_page,
    quiet_page,
    conversations_page,
    conversation_held_submit,
]
