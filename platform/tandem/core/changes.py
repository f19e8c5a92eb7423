"""Telling the slices above that a program's mentors changed, without importing them.

`profiles` and `training` sit below `matches` and may not import it, yet a saved mentor profile,
a completed track or a pause changes who can be proposed to the people waiting. They call
`mentors_changed(program_id)` inside the transaction of the change; `create_app` registers the
listeners (the match journey writes a retry marker there, which its worker picks up moments
later), so the change itself pays for one small insert and never for a matching run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

MentorsChanged = Callable[[int], Awaitable[None]]
_listeners: list[MentorsChanged] = []


def on_mentors_changed(listener: MentorsChanged) -> None:
    """Register a listener (once); `create_app` does this."""
    if listener not in _listeners:
        _listeners.append(listener)


async def mentors_changed(program_id: int) -> None:
    """Call inside the change's transaction: listeners write in it, so nothing is announced
    for a change that rolls back."""
    for listener in _listeners:
        await listener(program_id)
