"""Pages for the newcomer intake and the mentor profile. Plain forms; no JavaScript needed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import get, post
from litestar.response import Redirect, Template

from matching.vocabulary import (
    FORMAT_LABELS,
    GENDER_LABELS,
    PATHWAY_LABELS,
)
from tandem.core.auth import CallerRequest, Role, allow
from tandem.core.errors import DomainError, FieldError, NotFound
from tandem.core.forms import Form, form_errors, whole_number
from tandem.profiles import services
from tandem.profiles.schemas import MentorProfileUpdate, NewcomerIntake

# Availability is offered as blocks of the day: fine enough to find overlap, quick on a phone.
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TIME_BLOCKS = (
    ("08:00", "12:00", "Morning"),
    ("12:00", "17:00", "Afternoon"),
    ("17:00", "21:00", "Evening"),
    ("21:00", "23:00", "Late evening"),
)
LIST_FIELDS = (
    "pathways",
    "formats",
    "barriers",
    "lived_experience",
    "share_with_mentor",
)

CHOICES = {
    "pathways": PATHWAY_LABELS,
    "formats": FORMAT_LABELS,
    "genders": GENDER_LABELS,
    "lived_experience": {
        "parenting": "Parenting",
        "veteran": "Military service",
        "lgbtq": "LGBTQ+",
        "criminal_legal": "The criminal legal system",
        "chronic_pain": "Chronic pain",
        "mental_health": "Mental health",
        "housing_instability": "Housing instability",
        "young_adult": "Being a young adult",
        "older_adult": "Being an older adult",
        "grief": "Grief and loss",
        "domestic_violence": "Domestic violence",
        "healthcare_worker": "Working in healthcare",
    },
    "barriers": {
        "transport": "Getting there (no transport)",
        "childcare": "Childcare",
        "language": "Language",
        "cost": "Cost",
        "internet": "Internet or phone access",
        "disability": "Access needs or disability",
    },
    "share_with_mentor": {
        "recovery_stage": "Where I am in my recovery",
        "pathways": "My recovery pathway(s)",
        "hopes": "What I hope for (in my own words)",
        "barriers": "Practical barriers",
        "lived_experience": "Lived experience I chose above",
    },
    "recovery_stages": {
        "exploring": "Exploring, not started yet",
        "under_30_days": "Less than 30 days",
        "1_to_3_months": "1 to 3 months",
        "3_to_12_months": "3 to 12 months",
        "1_to_2_years": "1 to 2 years",
        "over_2_years": "More than 2 years",
    },
    "days": DAY_NAMES,
    "blocks": TIME_BLOCKS,
}


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v != ""]


def form_to_profile(form: dict[str, Any]) -> dict[str, Any]:
    """Turn the flat form (repeated checkbox keys, a slot grid) into the API's shape."""
    data: dict[str, Any] = {
        key: (value[-1] if isinstance(value, list) else value).strip()
        for key, value in form.items()
        if key not in (*LIST_FIELDS, "slot", "_csrf_token", "languages")
    }
    for key in LIST_FIELDS:
        data[key] = _as_list(form.get(key))
    data["languages"] = [
        code.strip().lower()
        for code in str(form.get("languages", "")).replace(";", ",").split(",")
        if code.strip()
    ]
    slots = []
    for value in _as_list(form.get("slot")):
        # "day|start|end" from the grid; anything else is left for validation to name.
        day, _, times = value.partition("|")
        start, _, end = times.partition("|")
        slots.append({"day": _number_or_text(day), "start": start, "end": end})
    data["availability"] = slots
    for key in ("recovery_start", "recovery_stage"):
        if not data.get(key):
            data[key] = None
    if "capacity" in data:
        data["capacity"] = _number_or_text(data["capacity"])
    return data


def _number_or_text(text: str) -> int | str:
    """A number typed into a form, or the text as it came for validation to refuse by name."""
    number = whole_number(text)
    return text if number is None else number


def _slot_keys(availability: list[Any]) -> set[str]:
    return {f"{slot.day}|{slot.start}|{slot.end}" for slot in availability}


def _form_page(
    template: str, values: dict[str, Any], errors: list[FieldError], status: int = 200
) -> Template:
    return Template(
        template,
        context={"v": values, "choices": CHOICES, "errors": errors},
        status_code=status,
    )


async def _show_form(
    template: str, load: Callable[[], Awaitable[Any]], blank: dict[str, Any]
) -> Template:
    """The form filled with the saved profile, or `blank` the first time."""
    try:
        saved = await load()
    except NotFound:
        return _form_page(template, {**blank, "slots": set()}, [])
    values = msgspec.to_builtins(saved)
    values["slots"] = _slot_keys(saved.availability)
    values["languages"] = ", ".join(saved.languages)
    return _form_page(template, values, [])


async def _submit_form(
    template: str,
    data: dict[str, Any],
    shape: type[NewcomerIntake] | type[MentorProfileUpdate],
    save: Callable[[Any], Awaitable[Any]],
    done: str,
) -> Template | Redirect:
    """Validate the form as the API would; on a problem, show it again with the answers kept."""
    values = form_to_profile(data)
    try:
        await save(msgspec.convert(values, shape))
    except (msgspec.ValidationError, DomainError) as error:
        return _redisplay(template, values, form_errors(error, shape))
    return Redirect(done)


@get("/intake", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def intake_page(request: CallerRequest) -> Template:
    return await _show_form(
        "profiles/intake.html",
        lambda: services.get_intake(request.user),
        {"languages": "en", "wanted_gender": "same"},
    )


@post("/intake", guards=[allow(Role.NEWCOMER)], include_in_schema=False)
async def intake_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    return await _submit_form(
        "profiles/intake.html",
        data,
        NewcomerIntake,
        lambda intake: services.save_intake(request.user, intake),
        "/home?saved=intake",
    )


@get("/mentor/profile", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def mentor_profile_page(request: CallerRequest) -> Template:
    return await _show_form(
        "profiles/mentor_profile.html",
        lambda: services.get_mentor_profile(request.user),
        {"languages": "en", "capacity": 2},
    )


@post("/mentor/profile", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def mentor_profile_submit(request: CallerRequest, data: Form[Any]) -> Template | Redirect:
    return await _submit_form(
        "profiles/mentor_profile.html",
        data,
        MentorProfileUpdate,
        lambda profile: services.save_mentor_profile(request.user, profile),
        "/home?saved=profile",
    )


@post("/mentor/pause", guards=[allow(Role.MENTOR)], include_in_schema=False)
async def mentor_pause_submit(request: CallerRequest, data: Form[Any]) -> Redirect:
    pause = data.get("action") == "pause"
    await services.set_paused(request.user, pause, str(data.get("note", ""))[:500])
    return Redirect("/home")


def _redisplay(template: str, values: dict[str, Any], errors: list[FieldError]) -> Template:
    values["slots"] = {f"{s['day']}|{s['start']}|{s['end']}" for s in values["availability"]}
    values["languages"] = ", ".join(values["languages"])
    return _form_page(template, values, errors, status=400)


routes = [
    intake_page,
    intake_submit,
    mentor_profile_page,
    mentor_profile_submit,
    mentor_pause_submit,
]
