"""Turning Retell transcripts into OpenAI chat messages.

Retell sends the whole transcript on every request (``reference/retell-protocol.md`` 3.0,
3.4): plain utterances in ``transcript``, and, when enabled, the same conversation with our
reported tool calls woven in (``transcript_with_tool_calls``). The woven form is preferred
because it lets the model see what its tools returned on earlier turns.

Rules:

* ``agent`` is ``assistant``; every other speaking role (``user``, ``transfer_target``,
  ``injected``...) is ``user``. ``(unintelligible audio)`` is passed as is (the prompt says
  what it means). Empty utterances are skipped; consecutive lines of the same speaker (same Retell
  role) merge.
* ``tool_call_invocation`` entries become an assistant message with ``tool_calls`` (attached
  to the assistant line spoken just before, if any); consecutive invocations form one message.
  Each is followed by its ``tool_call_result`` as a ``tool`` message, wherever the result
  appeared. An invocation whose result never arrived (the turn was superseded) gets a
  synthetic result saying so, and a result without an invocation is dropped: the API refuses
  both kinds of orphan.
* ``dtmf`` becomes a bracketed note from the phone system; other entries are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from voiceops.core.transcript import TranscriptEntry, Utterance

Message = dict[str, Any]

REMINDER_NUDGE = (
    "[The caller has been quiet for a while. Check in briefly with one short question.]"
)
CALL_START_NOTE = "[The call has just connected. Greet the caller briefly.]"
_MISSING_RESULT = json.dumps(
    {"status": "unknown", "note": "the turn was interrupted before this tool reported a result"}
)


def transcript_messages(transcript: Sequence[Utterance]) -> list[Message]:
    """Chat messages for a plain transcript."""
    builder = _Builder()
    for utterance in transcript:
        builder.text(utterance.role, utterance.content)
    return builder.messages


def woven_messages(entries: Sequence[TranscriptEntry]) -> list[Message]:
    """Chat messages for ``transcript_with_tool_calls``, tool calls and results paired."""
    results: dict[str, str] = {}
    for entry in entries:
        if entry.role == "tool_call_result" and entry.tool_call_id:
            results.setdefault(entry.tool_call_id, entry.content or "")

    builder = _Builder()
    group: list[Message] = []
    seen: set[str] = set()
    for entry in entries:
        role = entry.role
        if role == "tool_call_invocation":
            call_id = entry.tool_call_id
            if call_id and call_id not in seen:
                seen.add(call_id)
                group.append(
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": entry.name or "",
                            "arguments": entry.arguments or "{}",
                        },
                    }
                )
            continue
        # Anything else closes a run of invocations: consecutive invocations were one
        # parallel request, a result or a line in between means the next call came later.
        builder.tool_calls(group, results)
        group = []
        if role == "tool_call_result":
            continue  # already placed right after its invocation
        if role == "dtmf":
            if entry.digit:
                builder.note(f"[The caller pressed {entry.digit} on the keypad.]")
        elif role not in _SKIPPED and entry.content is not None:
            builder.text(role, entry.content)
    builder.tool_calls(group, results)
    return builder.messages


def conversation(
    transcript: Sequence[Utterance],
    woven: Sequence[TranscriptEntry] | None,
    *,
    reminder: bool,
) -> list[Message]:
    """The non-system messages of a turn.

    A reminder ends with :data:`REMINDER_NUDGE`; an empty conversation that is not a
    reminder gets :data:`CALL_START_NOTE`, so the request is never just a system prompt
    (several OpenAI-compatible servers refuse that).
    """
    messages = woven_messages(woven) if woven else transcript_messages(transcript)
    if reminder:
        messages.append({"role": "user", "content": REMINDER_NUDGE})
    elif not messages:
        messages.append({"role": "user", "content": CALL_START_NOTE})
    return messages


_SKIPPED = frozenset({"node_transition", "sms"})


class _Builder:
    """Appends chat messages, merging consecutive lines of one speaker (never notes)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._speaker: str | None = None
        """Retell role of the last message while it is plain text that may grow."""

    def text(self, speaker: str, content: str) -> None:
        text = content.strip()
        if not text:
            return
        last = self.messages[-1] if self.messages else None
        if last is not None and speaker == self._speaker:
            last["content"] = f"{last['content']} {text}"
            return
        self.messages.append(
            {"role": "assistant" if speaker == "agent" else "user", "content": text}
        )
        self._speaker = speaker

    def note(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})
        self._speaker = None

    def tool_calls(self, calls: list[Message], results: dict[str, str]) -> None:
        if not calls:
            return
        last = self.messages[-1] if self.messages else None
        if last is not None and self._speaker == "agent":
            # The holding line spoken before the tool call belongs to the same message.
            last["tool_calls"] = calls
        else:
            self.messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        for call in calls:
            self.messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call["id"],
                    "content": results.get(call["id"], _MISSING_RESULT),
                }
            )
        self._speaker = None
