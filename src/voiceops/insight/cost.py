"""What a call costs, and what a month of calls will: Retell's part, our LLM's, telephony.

A call on a custom LLM is paid three ways. Retell bills its platform, speech and voice
(``call_cost`` of its call record: ``combined_cost`` and ``product_costs``); the model that
answers every turn is ours and Retell never sees its tokens; telephony is in Retell's bill
for a number bought from Retell and in someone else's for a number of your own over SIP.

Units, and no floats anywhere in the arithmetic:

* amounts in US **cents**, as :class:`~decimal.Decimal`;
* Retell's unit prices in **cents per second** (``unit_price``, ``total_duration_unit_price``);
* LLM prices in **USD per million tokens**, as providers publish them (:class:`TokenPrice`);
* telephony in **cents per minute**.

:func:`call_cost` prices one call; :func:`build_report` sums a window of calls into averages
per call and per minute by part and projects a month at the window's daily volume.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol

MILLION = Decimal(1_000_000)
CENTS_PER_USD = Decimal(100)
SECONDS_PER_MINUTE = Decimal(60)
DAYS_PER_MONTH = Decimal(30)
"""A month, for projections: the walkthrough's 120 calls a day at USD 0.04 is USD 144."""

Part = Literal["retell", "llm", "telephony"]
PARTS: tuple[Part, ...] = ("retell", "llm", "telephony")
PART_LABELS: dict[Part, str] = {
    "retell": "Retell (platform, speech, voice)",
    "llm": "LLM (our model's tokens)",
    "telephony": "telephony (not billed by Retell)",
}

# Products in Retell's ``product_costs`` that are the phone line itself: when one is there,
# Retell billed the telephony and none is added.
TELEPHONY_MARKERS = ("twilio", "telnyx", "telephony", "pstn", "sip", "phone")


@dataclass(frozen=True, slots=True)
class TokenPrice:
    """USD per million tokens: fresh input, input served from the provider's prompt cache,
    and output."""

    input: Decimal
    cached_input: Decimal
    output: Decimal


def _price(input_usd: str, cached_usd: str, output_usd: str) -> TokenPrice:
    return TokenPrice(Decimal(input_usd), Decimal(cached_usd), Decimal(output_usd))


# List prices as the providers published them when this table was written: check yours
# and override or extend them with VOICEOPS_LLM_PRICES.
DEFAULT_PRICES: dict[str, TokenPrice] = {
    "gpt-4o-mini": _price("0.15", "0.075", "0.60"),
    "gpt-4o": _price("2.50", "1.25", "10.00"),
    "gpt-4.1": _price("2.00", "0.50", "8.00"),
    "gpt-4.1-mini": _price("0.40", "0.10", "1.60"),
    "gpt-4.1-nano": _price("0.10", "0.025", "0.40"),
    "gpt-5": _price("1.25", "0.125", "10.00"),
    "gpt-5-mini": _price("0.25", "0.025", "2.00"),
    "gpt-5-nano": _price("0.05", "0.005", "0.40"),
    "claude-3-5-haiku": _price("0.80", "0.08", "4.00"),
    "claude-sonnet-4": _price("3.00", "0.30", "15.00"),
    "llama-3.1-8b-instant": _price("0.05", "0.05", "0.08"),
    "llama-3.3-70b-versatile": _price("0.59", "0.59", "0.79"),
}


class PriceTable:
    """Token prices by model. A model is found by its exact name, else by the longest
    known name it starts with (``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``),
    with any ``provider/`` prefix ignored."""

    def __init__(self, prices: Mapping[str, TokenPrice]) -> None:
        self._prices = {name.lower(): price for name, price in prices.items()}

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, Mapping[str, Decimal]]) -> PriceTable:
        """:data:`DEFAULT_PRICES` with ``overrides`` (``{"model": {"input": ...,
        "cached_input": ..., "output": ...}}``) on top; a missing ``cached_input`` costs
        as much as fresh input. Raises ``ValueError`` for a model without ``input`` or
        ``output`` or with a negative price."""
        prices = dict(DEFAULT_PRICES)
        for model, given in overrides.items():
            unknown = set(given) - {"input", "cached_input", "output"}
            if unknown or "input" not in given or "output" not in given:
                raise ValueError(
                    f"price of {model!r}: give input, output and optionally cached_input "
                    "(USD per million tokens)"
                )
            price = TokenPrice(
                Decimal(given["input"]),
                Decimal(given.get("cached_input", given["input"])),
                Decimal(given["output"]),
            )
            if min(price.input, price.cached_input, price.output) < 0:
                raise ValueError(f"price of {model!r} is negative")
            prices[model] = price
        return cls(prices)

    def price_for(self, model: str) -> TokenPrice | None:
        name = model.strip().lower().rsplit("/", 1)[-1]
        if name in self._prices:
            return self._prices[name]
        known = [k for k in self._prices if name.startswith(k)]
        return self._prices[max(known, key=len)] if known else None

    def models(self) -> list[str]:
        return sorted(self._prices)


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens of one or more LLM requests. ``input`` counts every prompt token, the
    ``cached_input`` ones included (as OpenAI's ``prompt_tokens`` does)."""

    input: int = 0
    cached_input: int = 0
    output: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input + other.input,
            self.cached_input + other.cached_input,
            self.output + other.output,
        )


def llm_cost_cents(usage: TokenUsage, price: TokenPrice) -> Decimal:
    """The cents ``usage`` costs at ``price`` (exact; round only for display)."""
    cached = min(usage.cached_input, usage.input)
    usd_millionths = (
        (usage.input - cached) * price.input
        + cached * price.cached_input
        + usage.output * price.output
    )
    return usd_millionths * CENTS_PER_USD / MILLION


def product_cost_cents(unit_price_cents_per_s: Decimal, seconds: Decimal) -> Decimal:
    """What a product priced per second costs for ``seconds`` (Retell's ``unit_price``)."""
    return unit_price_cents_per_s * seconds


def cents_per_minute(cents_per_second: Decimal) -> Decimal:
    return cents_per_second * SECONDS_PER_MINUTE


@dataclass(frozen=True, slots=True)
class ProductCost:
    product: str
    cents: Decimal
    unit_price: Decimal | None = None
    """Cents per second."""
    transfer_leg: bool = False

    @property
    def is_telephony(self) -> bool:
        name = self.product.lower()
        return any(marker in name for marker in TELEPHONY_MARKERS)


@dataclass(frozen=True, slots=True)
class RetellCost:
    """Retell's ``call_cost`` of one call."""

    combined_cents: Decimal
    products: tuple[ProductCost, ...] = ()
    duration_s: Decimal | None = None
    unit_price: Decimal | None = None
    """``total_duration_unit_price``: every product's per-second price summed (cents/s)."""

    @classmethod
    def from_record(cls, call_cost: Mapping[str, Any] | None) -> RetellCost | None:
        """From the stored ``call_cost`` (decimal strings; see ``store.retell_records``) or
        Retell's own object (numbers); ``None`` when there is no ``combined_cost``."""
        if not call_cost or call_cost.get("combined_cost") is None:
            return None
        products = tuple(
            ProductCost(
                product=str(item["product"]),
                cents=_decimal(item["cost"]),
                unit_price=_maybe_decimal(item.get("unit_price")),
                transfer_leg=bool(item.get("is_transfer_leg_cost", False)),
            )
            for item in call_cost.get("product_costs") or []
            if isinstance(item, Mapping) and "product" in item and "cost" in item
        )
        return cls(
            combined_cents=_decimal(call_cost["combined_cost"]),
            products=products,
            duration_s=_maybe_decimal(call_cost.get("total_duration_seconds")),
            unit_price=_maybe_decimal(call_cost.get("total_duration_unit_price")),
        )

    @property
    def includes_telephony(self) -> bool:
        return any(p.is_telephony for p in self.products)

    @property
    def list_cents_per_minute(self) -> Decimal | None:
        """Retell's per-minute price for this call, from its per-second total."""
        return None if self.unit_price is None else cents_per_minute(self.unit_price)


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"not an amount: {value!r}")
    # str() first: Decimal(0.1) would keep the float's binary error.
    return Decimal(str(value))


def _maybe_decimal(value: object) -> Decimal | None:
    return None if value is None else _decimal(value)


@dataclass(frozen=True, slots=True)
class CallCost:
    """One call's cost by part, in cents."""

    call_id: str
    minutes: Decimal
    retell: Decimal
    llm: Decimal
    telephony: Decimal
    retell_products: tuple[ProductCost, ...] = ()
    has_retell_cost: bool = True
    usage: TokenUsage = field(default_factory=TokenUsage)

    def part(self, name: Part) -> Decimal:
        value: Decimal = getattr(self, name)
        return value

    @property
    def total(self) -> Decimal:
        return self.retell + self.llm + self.telephony

    @property
    def per_minute(self) -> Decimal | None:
        return None if self.minutes == 0 else self.total / self.minutes


def call_cost(
    call_id: str,
    *,
    duration_ms: int | None,
    call_type: str | None,
    retell: RetellCost | None,
    usage: TokenUsage | None,
    price: TokenPrice | None,
    telephony_cents_per_minute: Decimal,
) -> CallCost:
    """Price one call.

    * Retell's part is its ``combined_cost`` (zero, and ``has_retell_cost`` false, before
      Retell has costed the call);
    * the LLM part is the call's tokens at ``price`` (zero without tokens or a price);
    * telephony is ``telephony_cents_per_minute``, pro rata by the second, for a call that
      is not a web call and whose Retell cost has no telephony product.

    The duration is ``duration_ms``, else Retell's billed seconds.
    """
    if duration_ms is not None:
        minutes = Decimal(duration_ms) / 1000 / SECONDS_PER_MINUTE
    elif retell is not None and retell.duration_s is not None:
        minutes = retell.duration_s / SECONDS_PER_MINUTE
    else:
        minutes = Decimal(0)
    usage = usage or TokenUsage()
    llm = llm_cost_cents(usage, price) if price is not None else Decimal(0)
    telephony = Decimal(0)
    if call_type != "web_call" and not (retell is not None and retell.includes_telephony):
        telephony = minutes * telephony_cents_per_minute
    return CallCost(
        call_id=call_id,
        minutes=minutes,
        retell=retell.combined_cents if retell is not None else Decimal(0),
        llm=llm,
        telephony=telephony,
        retell_products=retell.products if retell is not None else (),
        has_retell_cost=retell is not None,
        usage=usage,
    )


class CallRecord(Protocol):
    """What pricing needs of a call's Retell record (``store.retell_records.RetellRecord``)."""

    @property
    def call_id(self) -> str: ...
    @property
    def duration_ms(self) -> int | None: ...
    @property
    def call_type(self) -> str | None: ...
    @property
    def call_cost(self) -> Mapping[str, Any] | None: ...


class CallTokens(Protocol):
    """A call's LLM tokens as stored (``store.usage.CallTokens``)."""

    @property
    def tokens_in(self) -> int: ...
    @property
    def tokens_cached(self) -> int: ...
    @property
    def tokens_out(self) -> int: ...


def record_costs(
    records: Sequence[CallRecord],
    tokens: Mapping[str, CallTokens],
    *,
    price: TokenPrice | None,
    telephony_cents_per_minute: Decimal,
) -> list[CallCost]:
    """Price each stored call: its Retell record, and the tokens its turns recorded."""
    costs = []
    for record in records:
        used = tokens.get(record.call_id)
        costs.append(
            call_cost(
                record.call_id,
                duration_ms=record.duration_ms,
                call_type=record.call_type,
                retell=RetellCost.from_record(record.call_cost),
                usage=None
                if used is None
                else TokenUsage(used.tokens_in, used.tokens_cached, used.tokens_out),
                price=price,
                telephony_cents_per_minute=telephony_cents_per_minute,
            )
        )
    return costs


# --------------------------------------------------------------------------------------
# a window of calls


@dataclass(frozen=True, slots=True)
class Projection:
    calls_per_day: Decimal
    minutes_per_call: Decimal
    cents_per_month: dict[Part, Decimal]

    @property
    def total_cents(self) -> Decimal:
        return sum(self.cents_per_month.values(), Decimal(0))


@dataclass(frozen=True, slots=True)
class CostReport:
    """The cost of the calls of a window of ``days`` days."""

    days: int
    calls: int
    minutes: Decimal
    totals: dict[Part, Decimal]
    products: dict[str, Decimal]
    """Retell's products summed over the window (cents)."""
    without_retell_cost: int
    """Calls Retell had not costed yet (their Retell part counts as zero)."""
    tokens: TokenUsage
    projection: Projection

    @property
    def total_cents(self) -> Decimal:
        return sum(self.totals.values(), Decimal(0))

    def per_call(self, part: Part | None = None) -> Decimal:
        amount = self.total_cents if part is None else self.totals[part]
        return amount / self.calls if self.calls else Decimal(0)

    def per_minute(self, part: Part | None = None) -> Decimal:
        amount = self.total_cents if part is None else self.totals[part]
        return amount / self.minutes if self.minutes else Decimal(0)

    @property
    def calls_per_day(self) -> Decimal:
        return Decimal(self.calls) / Decimal(self.days)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every amount a decimal string, in cents unless the key says USD."""
        return {
            "days": self.days,
            "calls": self.calls,
            "minutes": _text(self.minutes, "0.01"),
            "calls_per_day": _text(self.calls_per_day, "0.01"),
            "without_retell_cost": self.without_retell_cost,
            "tokens": {
                "input": self.tokens.input,
                "cached_input": self.tokens.cached_input,
                "output": self.tokens.output,
            },
            "total_cents": {p: _text(self.totals[p]) for p in PARTS}
            | {"all": _text(self.total_cents)},
            "per_call_cents": {p: _text(self.per_call(p)) for p in PARTS}
            | {"all": _text(self.per_call())},
            "per_minute_cents": {p: _text(self.per_minute(p)) for p in PARTS}
            | {"all": _text(self.per_minute())},
            "retell_products_cents": {k: _text(v) for k, v in sorted(self.products.items())},
            "monthly_projection": {
                "calls_per_day": _text(self.projection.calls_per_day, "0.01"),
                "minutes_per_call": _text(self.projection.minutes_per_call, "0.01"),
                "usd": {
                    p: _text(self.projection.cents_per_month[p] / CENTS_PER_USD, "0.01")
                    for p in PARTS
                }
                | {"all": _text(self.projection.total_cents / CENTS_PER_USD, "0.01")},
            },
        }


def _text(value: Decimal, step: str = "0.0001") -> str:
    return str(value.quantize(Decimal(step), rounding=ROUND_HALF_UP))


def usd(cents: Decimal) -> str:
    """``1234.5`` cents -> ``"12.35"``."""
    return _text(cents / CENTS_PER_USD, "0.01")


def project(
    totals: Mapping[Part, Decimal],
    *,
    calls: int,
    minutes: Decimal,
    calls_per_day: Decimal,
    minutes_per_call: Decimal | None = None,
) -> Projection:
    """A month (:data:`DAYS_PER_MONTH`) at ``calls_per_day``: at the window's average cost
    per call, or, given ``minutes_per_call``, at its average cost per minute times that."""
    average_minutes = minutes / calls if calls else Decimal(0)
    monthly_calls = calls_per_day * DAYS_PER_MONTH
    per_month: dict[Part, Decimal] = {}
    for part in PARTS:
        if minutes_per_call is None:
            per_call = totals[part] / calls if calls else Decimal(0)
        else:
            per_call = (totals[part] / minutes if minutes else Decimal(0)) * minutes_per_call
        per_month[part] = per_call * monthly_calls
    return Projection(
        calls_per_day=calls_per_day,
        minutes_per_call=average_minutes if minutes_per_call is None else minutes_per_call,
        cents_per_month=per_month,
    )


def build_report(
    costs: Sequence[CallCost],
    *,
    days: int,
    calls_per_day: Decimal | None = None,
    minutes_per_call: Decimal | None = None,
) -> CostReport:
    """Sum ``costs`` (the calls of the last ``days`` days) and project a month at their
    daily volume, or at ``calls_per_day`` (and ``minutes_per_call``) when given."""
    if days <= 0:
        raise ValueError("the window must be at least one day")
    totals: dict[Part, Decimal] = {part: Decimal(0) for part in PARTS}
    products: dict[str, Decimal] = {}
    minutes = Decimal(0)
    tokens = TokenUsage()
    for cost in costs:
        for part in PARTS:
            totals[part] += cost.part(part)
        for product in cost.retell_products:
            products[product.product] = products.get(product.product, Decimal(0)) + product.cents
        minutes += cost.minutes
        tokens += cost.usage
    volume = calls_per_day if calls_per_day is not None else Decimal(len(costs)) / days
    return CostReport(
        days=days,
        calls=len(costs),
        minutes=minutes,
        totals=totals,
        products=products,
        without_retell_cost=sum(1 for c in costs if not c.has_retell_cost),
        tokens=tokens,
        projection=project(
            totals,
            calls=len(costs),
            minutes=minutes,
            calls_per_day=volume,
            minutes_per_call=minutes_per_call,
        ),
    )
