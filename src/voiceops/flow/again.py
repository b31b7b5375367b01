"""The same question, asked again in a row: worded otherwise, or another way to an answer.

A caller who does not answer "which service would you like?" the way the agent expects
("any time works", "sure", their name) must not hear it five times. The agent counts how
often in a row it asks the same thing (:class:`~voiceops.flow.state.FlowState` ``row``);
the question may be asked twice, and from the third time on it is not said the same way:
the service question lists the services with their prices, then offers a person; the day,
time and "anything else?" questions are worded otherwise, in turn. What the caller gave
in the meantime (a day, a time, a name) stays in the slots whatever is asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceops.flow.wording import join_and, with_article
from voiceops.tools.timefmt import spoken_price

if TYPE_CHECKING:
    from voiceops.core.profile import AgentProfile
    from voiceops.flow.state import Awaiting

SAME_IN_A_ROW = 2
"""A question may be asked this many times in a row in the same words."""
_PRICED_AT_MOST = 5
"""Services listed with their prices; a longer list is not read out."""
_REWORDED: dict[Awaiting, tuple[str, ...]] = {
    "day": ("Is there a day that works best for you?", "Which day suits you best?"),
    "time": ("Is there a time that works best for you?", "Which time suits you best?"),
    "anything_else": ("Anything else I can do for you?", "Is there anything else?"),
}
"""Other words for questions a caller may rightly hear several times in a row."""


def asked_again(awaiting: Awaiting, row: int, profile: AgentProfile) -> str | None:
    """The question for ``awaiting`` asked for the ``row``-th time in a row, when it must
    not be the usual words; ``None`` to ask as usual (or, for the service past its list,
    when a person is to be offered instead)."""
    if row <= SAME_IN_A_ROW:
        return None
    if awaiting == "service":
        services = profile.services
        if row > SAME_IN_A_ROW + 1 or not services or len(services) > _PRICED_AT_MOST:
            return None
        priced = [
            f"{with_article(s.name)} {'is ' if i == 0 else ''}{spoken_price(s.price)}"
            for i, s in enumerate(services)
        ]
        listed = join_and(priced)
        return f"{listed[:1].upper()}{listed[1:]}. Which service would you like?"
    words = _REWORDED.get(awaiting)
    if words is None:
        return None
    return words[(row - SAME_IN_A_ROW - 1) % len(words)]


def offers_person(awaiting: Awaiting, row: int) -> bool:
    """Asked so often in a row that a person is offered instead (the service question,
    after its list with prices)."""
    return awaiting == "service" and row > SAME_IN_A_ROW + 1
