"""What recording "the context the model saw" costs a turn: masking and bounding the
messages of an LLM turn (``agent.turn_record.model_context``), with the default profile's
rendered voice prompt and a conversation that grows by two lines a turn.

    .venv/bin/python -m benchmarks.model_context [--turns 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from voiceops.agent.turn_record import model_context
from voiceops.config import DEFAULT_PROFILE
from voiceops.core.profile import load_profile


def conversation(turn: int, prompt: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = [{"role": "system", "content": prompt}]
    for n in range(min(turn, 30)):
        lines.append(
            {"role": "user", "content": f"Line {n}: a haircut at 3pm, I'm on 212 555 01{n:02d}"}
        )
        lines.append({"role": "assistant", "content": f"Reply {n}: 3 PM on Wednesday is free."})
    lines.append({"role": "system", "content": f"Now for the caller: turn {turn}, 2026-12-01."})
    return lines


def _per_turn_us(calls: list[list[dict[str, Any]]]) -> float:
    started = time.perf_counter()
    for messages in calls:
        model_context(messages)
    return (time.perf_counter() - started) / len(calls) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=2000)
    args = parser.parse_args()
    profile = load_profile(DEFAULT_PROFILE)
    # About the size of a rendered voice prompt with the profile's services and FAQ.
    prompt = "\n".join([profile.model_dump_json()] * 2)[:8000]
    same = [conversation(turn % 40, prompt) for turn in range(args.turns)]
    new = [conversation(turn % 40, f"{prompt}\nturn {turn}") for turn in range(args.turns)]
    out = sys.stdout
    out.write(f"voice prompt {len(prompt)} chars, up to 62 messages, {args.turns} turns\n")
    out.write(f"  the same prompt every turn: {_per_turn_us(same):.0f} us per turn\n")
    out.write(f"  a new prompt every turn:    {_per_turn_us(new):.0f} us per turn\n")


if __name__ == "__main__":
    main()
