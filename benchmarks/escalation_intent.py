"""How well the escalation intent rules read the labelled corpus in ``tests/data/escalation``.

For each file: precision and recall of the flow brain's reading (any request, clear or
indirect) and of the safety net the turn runner applies before every brain (clear requests
only), every utterance either got wrong, and the time one uncached reading takes.

    scripts/escalation_report            # both files
    scripts/escalation_report --quiet    # figures only
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from voiceops.agent import intent

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "escalation"
FILES = ("corpus.jsonl", "held_out.jsonl")
LABELS = ("request", "other")
BOOKING_TURNS = (
    "Hi, I'd like to book a haircut for tomorrow at 3pm please.",
    "Thursday at 2 works for me.",
    "It's Dana Reyes.",
    "Yes, that's right.",
    "How much is a colour, and how long does it take?",
)
"""What most turns look like: no person word in them, so the reading stops at once."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    note: str = ""


@dataclass(slots=True)
class Score:
    """A confusion matrix, and what fell outside the diagonal."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    missed: list[Example] = field(default_factory=list)
    wrongly: list[Example] = field(default_factory=list)

    def add(self, example: Example, predicted: bool) -> None:
        actual = example.label == "request"
        if actual and predicted:
            self.tp += 1
        elif actual:
            self.fn += 1
            self.missed.append(example)
        elif predicted:
            self.fp += 1
            self.wrongly.append(example)
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load(path: Path) -> list[Example]:
    """The examples of one JSONL file; a bad line is an error naming it."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("label") not in LABELS or not isinstance(row.get("text"), str):
            raise ValueError(f"{path.name}:{number}: needs a text and a label in {LABELS}")
        examples.append(Example(row["text"], row["label"], row.get("note", "")))
    return examples


def score(examples: Sequence[Example]) -> tuple[Score, Score]:
    """(the flow brain's reading, the safety net's) over ``examples``."""
    flow, net = Score(), Score()
    for example in examples:
        request = intent.person_request(example.text)
        flow.add(example, request is not None)
        net.add(example, request is not None and request.clarity == "clear")
    return flow, net


def microseconds_per_reading(texts: Sequence[str], rounds: int = 20, tries: int = 5) -> float:
    """CPU time of one uncached reading of ``texts``, on average (the cache is cleared before
    every round; the best of ``tries``, so other processes on the machine count little)."""
    best = float("inf")
    for _ in range(tries):
        started = time.process_time()
        for _ in range(rounds):
            intent._read.cache_clear()
            for text in texts:
                intent.person_request(text)
        best = min(best, (time.process_time() - started) / (rounds * len(texts)))
    return best * 1e6


def _report(name: str, examples: Sequence[Example], quiet: bool) -> list[str]:
    flow, net = score(examples)
    requests = sum(1 for e in examples if e.label == "request")
    lines = [
        f"{name}: {len(examples)} utterances ({requests} requests)",
        f"  flow brain (any request): precision {flow.precision:.1%}, recall {flow.recall:.1%}",
        f"  safety net (clear only):  precision {net.precision:.1%}, recall {net.recall:.1%}",
    ]
    if not quiet:
        for label, wrong in (("missed", flow.missed), ("wrongly taken", flow.wrongly)):
            lines.extend(f"    {label}: {e.text!r}  [{e.note}]" for e in wrong)
        lines.extend(f"    safety net fired on: {e.text!r}  [{e.note}]" for e in net.wrongly)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="figures only, no utterances")
    args = parser.parse_args(argv)
    everything: list[Example] = []
    out: list[str] = []
    for name in FILES:
        examples = load(DATA / name)
        everything.extend(examples)
        out.extend(_report(name, examples, args.quiet))
    out.extend(_report("all", everything, quiet=True))
    corpus = microseconds_per_reading([e.text for e in everything])
    booking = microseconds_per_reading(BOOKING_TURNS)
    out.append(
        f"one uncached reading, CPU: {corpus:.1f} µs for these utterances (all name a person),"
        f" {booking:.1f} µs for a booking call's turns"
    )
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
