"""What parts compile from a profile is built once per profile and never outlives a change."""

from __future__ import annotations

from voiceops.config import DEFAULT_PROFILE
from voiceops.core.profile import AgentProfile, load_profile


def test_derived_values_are_built_once_and_dropped_by_a_changed_copy() -> None:
    profile = load_profile(DEFAULT_PROFILE)
    built: list[str] = []

    def names(p: AgentProfile) -> list[str]:
        built.append(p.business_name)
        return [s.name for s in p.services]

    first = profile.derived("test.names", names)
    assert profile.derived("test.names", names) is first
    assert built == ["Maple Street Hair"]
    renamed = profile.model_copy(update={"business_name": "Oak Lane Hair"})
    assert renamed.derived("test.names", names) == first
    assert built == ["Maple Street Hair", "Oak Lane Hair"]
    assert profile.derived("test.names", names) is first  # the original keeps its own


def test_sub_models_keep_their_own_derived_values() -> None:
    profile = load_profile(DEFAULT_PROFILE)
    rules = profile.escalation
    value = rules.derived("test.count", lambda r: len(r.trigger_phrases))
    assert rules.derived("test.count", lambda r: -1) == value
