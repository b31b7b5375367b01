"""The optional LLM judge for criteria that words and tools cannot check.

A turn's ``judge: "offers the nearest free times"`` is put to a model with the call's
transcript up to that turn. The model must answer by calling one function,
``verdict(verdict, reason)``, at temperature 0, with ``pass``, ``fail`` or ``unsure`` and a
one-sentence reason (LiveKit's judges and Pipecat's ``eval:`` do the same). Verdicts are
cached by (criterion, transcript) in a JSON file, so a re-run of an unchanged conversation
asks nothing, costs nothing and cannot drift.

The judge is never required: without ``--judge`` the criteria are listed as not judged,
and CI runs without it. ``unsure`` is reported, not failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import openai

log = logging.getLogger("voiceops.evals")

VerdictKind = Literal["pass", "fail", "unsure"]
_KINDS: tuple[VerdictKind, ...] = ("pass", "fail", "unsure")
_INSTRUCTIONS = (
    "You judge one reply of a phone receptionist (the agent) in the transcript below. "
    "Decide whether the agent's LAST reply meets the criterion. Judge only what the "
    "transcript shows; if it does not show enough to decide, answer unsure. Answer by "
    "calling the function verdict with a one-sentence reason."
)
_VERDICT_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "verdict",
        "description": "Whether the agent's last reply meets the criterion.",
        "parameters": {
            "type": "object",
            "properties": {
                "verdict": {"type": "string", "enum": list(_KINDS)},
                "reason": {"type": "string"},
            },
            "required": ["verdict", "reason"],
            "additionalProperties": False,
        },
    },
}


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: VerdictKind
    reason: str
    cached: bool = False


def cache_key(criterion: str, transcript: str) -> str:
    canonical = json.dumps([criterion.strip(), transcript], ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class JudgeCache:
    """Verdicts by (criterion, transcript), kept in one JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, dict[str, str]] = {}
        self._dirty = False
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raw = {}
        except (OSError, ValueError) as exc:
            log.warning("judge cache %s unreadable (%s); starting afresh", path, exc)
            raw = {}
        if isinstance(raw, dict):
            self._entries = {
                k: v for k, v in raw.items() if isinstance(v, dict) and v.get("verdict") in _KINDS
            }

    def get(self, key: str) -> Verdict | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        verdict: VerdictKind = "pass"
        for kind in _KINDS:
            if entry.get("verdict") == kind:
                verdict = kind
        return Verdict(verdict, str(entry.get("reason", "")), cached=True)

    def put(self, key: str, verdict: Verdict) -> None:
        self._entries[key] = {"verdict": verdict.verdict, "reason": verdict.reason}
        self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._entries, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)
        self._dirty = False


class Judge:
    """Asks ``model`` through ``client`` (any OpenAI-compatible API) for verdicts."""

    def __init__(self, client: openai.AsyncOpenAI, model: str, cache: JudgeCache) -> None:
        self.client = client
        self.model = model
        self.cache = cache
        self.asked = 0
        self._lock = asyncio.Lock()

    async def verdict(self, criterion: str, transcript: str) -> Verdict:
        key = cache_key(criterion, transcript)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        async with self._lock:
            hit = self.cache.get(key)
            if hit is not None:
                return hit
            self.asked += 1
            verdict = await self._ask(criterion, transcript)
            if verdict.verdict != "unsure" or verdict.reason:
                self.cache.put(key, verdict)
            return verdict

    async def _ask(self, criterion: str, transcript: str) -> Verdict:
        request: dict[str, Any] = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": _INSTRUCTIONS},
                {"role": "user", "content": f"Criterion: {criterion}\n\nTranscript:\n{transcript}"},
            ],
            "tools": [_VERDICT_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "verdict"}},
        }
        try:
            response = await self.client.chat.completions.create(**request)
        except openai.OpenAIError as exc:
            return Verdict("unsure", f"the judge could not be asked: {type(exc).__name__}")
        return parse_verdict(response)


def parse_verdict(response: Any) -> Verdict:
    """The verdict in a chat completion whose message calls ``verdict``."""
    try:
        call = response.choices[0].message.tool_calls[0]
        args = json.loads(call.function.arguments)
    except (AttributeError, IndexError, TypeError, ValueError):
        return Verdict("unsure", "the judge did not answer with a verdict")
    kind = args.get("verdict") if isinstance(args, dict) else None
    reason = str(args.get("reason", "")) if isinstance(args, dict) else ""
    for candidate in _KINDS:
        if kind == candidate:
            return Verdict(candidate, reason)
    return Verdict("unsure", f"the judge answered {kind!r}")
