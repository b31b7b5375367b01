"""Turns outside any booking: a caller let down, and a caller checking whom they called.

A caller let down ("nobody was there when I came in") hears an apology, then the choice of
a new booking or someone from the team. A caller whose booking the salon seems to have lost
("I just got a text saying I don't have one") hears an apology and the choice of looking it
up by name or having the team sort it out; said again, more upset, the team comes first.
Nobody is argued with, and nobody is asked which service they want.

"Is this Doctor Patel's dental office?" gets "No, this is ..." (a wrong number then ends
politely); "is this the hair place on Maple Street?" gets "Yes, this is ...".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from voiceops.flow.existing import ExistingSteps
from voiceops.flow.steps import Say, Step
from voiceops.flow.when import normalise

if TYPE_CHECKING:
    from voiceops.flow.understand import Understanding

NEW_OR_TEAM = (
    "I can have someone from the team look into it, or book you a new time now."
    " Which would you prefer?"
)
_LOOK_OR_TEAM = (
    "I can look it up by your name, or have someone from the team sort it out."
    " Which would you prefer?"
)
_TEAM_OR_LOOK = (
    "I can have someone from the team sort it out right away, or look it up by your name."
    " Which would you prefer?"
)
_ASKED_FOR = re.compile(
    r"\b(?:is this|is that|am i (?:speaking|talking) (?:to|with)|have i (?:reached|got))"
    r" (?P<rest>.{1,80})$"
)
_GENERIC = frozenset({"the", "and", "of", "street", "road", "avenue", "lane", "shop", "studio"})
"""Words of a business name that say nothing about which business it is."""
_ELSEWHERE = re.compile(
    r"\b(?:dental|dentist\w*|doctor\w*|dr|clinic|surgery|medical|hospital|office|pizza\w*"
    r"|restaurant|cafe|bakery|pharmacy|bank|school|vet|veterinary|garage|law|lawyers?"
    r"|insurance|hotel|plumb\w*|police|council|pet|nails?|spa|gym|taxi|cab|\w+'s)\b"
)
"""Words that name another kind of business, or someone's ("Doctor Patel's")."""


_UPSET = re.compile(
    r"\b(?:(?:second|third|fourth|another) time|again|keeps happening|every time|ridiculous"
    r"|unbelievable|unacceptable|frustrat\w*|annoy\w*|fed up|sick of|a joke|seriously"
    r"|honestly|come on)\b"
)
"""Frustration, said while a lost booking is being sorted: sorry again, the team first."""
_TEAM = re.compile(r"\b(?:team|someone|somebody|person|manager|staff|human)\b")


class AsideSteps(ExistingSteps):
    """Apologies and "is this ...?", outside any booking."""

    def _let_down(self, u: Understanding) -> list[Step] | None:
        """Sorry, then the caller's choices; ``None`` when the turn is about something else
        (a booking under way, a request of its own)."""
        state = self.state
        lost = state.task == "lookup" and state.awaiting in ("new_or_team", "lookup_name")
        upset = lost and _UPSET.search(u.text) and not _TEAM.search(u.text)
        if u.social not in ("complaint", "missing_booking") and not upset:
            return None
        # "A text saying my booking was cancelled" asks no cancellation.
        allowed = {"book", "lookup", "greeting", "cancel" if u.social == "missing_booking" else ""}
        if (state.task is not None and not lost) or u.intents - allowed:
            return None
        said = state.asked.get("let_down", 0)
        state.asked["let_down"] = said + 1
        if u.social != "missing_booking" and not lost:
            # Let down ("nobody was there when I came in"): a person or a new time.
            state.awaiting = "new_or_team"
            return [Say("I'm really sorry about that."), Say(NEW_OR_TEAM)]
        state.finish_task()
        state.task = "lookup"
        if u.name is not None:
            state.slots.name = u.name
            return [Say("I'm so sorry about that. Let me look."), *self._find(u, name=u.name)]
        state.awaiting = "new_or_team"
        if said:
            return [Say("I'm really sorry, that shouldn't happen."), Say(_TEAM_OR_LOOK)]
        return [Say("I'm so sorry about that."), Say(_LOOK_OR_TEAM)]

    def _on_new_or_team(self, u: Understanding) -> list[Step] | None:
        """ "Yes, please" to looking a lost booking up: by the caller's number, then name."""
        if self.state.task == "lookup" and u.affirm and not (u.intents or u.name or u.deny):
            return self._find(u)
        return super()._on_new_or_team(u)

    def _whom(self, u: Understanding) -> str:
        """Who answered, to "is this ...?": yes when the caller names this business, no
        when another, else just its name."""
        business = self.profile.business_name
        asked = _ASKED_FOR.search(u.text)
        rest = asked.group("rest") if asked is not None else ""
        ours = {w for w in normalise(business).split() if w not in _GENERIC and len(w) > 2}
        ours.add(normalise(self.profile.agent_name))
        if normalise(business) in u.text or ours & set(rest.split()):
            return f"Yes, this is {business}."
        if _ELSEWHERE.search(rest):
            return f"No, this is {business}."
        return f"This is {business}."
