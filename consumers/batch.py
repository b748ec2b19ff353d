"""Turn a polled batch into records, then into changes, poison records and positions."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from consumers.kafka import KafkaUnavailable, log_deduplicated, record_timestamp
from ums_find.events import Event, Poison, UserAdded, parse
from ums_find.kafka import KafkaError, Message
from ums_find.store import Change, Position

log = logging.getLogger(__name__)

Parser = Callable[[bytes | None, bytes | None, int], Event | Poison]
# Takes an error event of a consumed batch (True) or leaves it to the default handling (False).
EventHandler = Callable[[Message, KafkaError], bool]


def records(messages: Iterable[Message], on_event: EventHandler) -> list[Message]:
    """The records of a consumed batch; each error event is offered to `on_event` first.

    An event it does not take is logged (once a minute), and raises KafkaUnavailable when fatal.
    """
    kept = []
    for msg in messages:
        err = msg.error()
        if err is None:
            kept.append(msg)
        elif not on_event(msg, err):
            log_deduplicated(log, f"consume error: {err}")
            if err.fatal():
                raise KafkaUnavailable(str(err))
    return kept


@dataclass
class Plan:
    """What one batch asks of the store and the dead-letter topic."""

    changes: list[Change] = field(default_factory=list)
    poison: list[tuple[Message, str]] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    records: int = 0
    # Records whose decoding raised (a bug): dead-lettered too, and logged once applied.
    failures: list[tuple[Message, Exception]] = field(default_factory=list)


# A record read, before it is planned: its partition, offset, message and what it asks.
Decoded = tuple[int, int, Message, Change | Poison, Exception | None]


def decode(messages: Iterable[Message], parser: Parser = parse) -> list[Decoded]:
    """Read each record by the contract; pure, so it may run ahead of the batch's plan."""
    return [_decoded(msg, parser) for msg in messages]


def plan(decoded: Iterable[Decoded], positions: Mapping[int, int | None]) -> Plan:
    """Take the owned records not yet applied; each partition advances past its last one.

    `positions` maps each owned partition to its stored next offset (None: none stored).
    """
    result = Plan()
    last: dict[int, int] = {}
    for part, offset, msg, outcome, failure in decoded:
        if part not in positions or offset < (positions[part] or 0):
            continue
        result.records += 1
        last[part] = offset
        if type(outcome) is Change:
            result.changes.append(outcome)
        else:
            result.poison.append((msg, outcome.reason))  # type: ignore[union-attr]
            if failure is not None:
                result.failures.append((msg, failure))
    result.positions = [Position(p, positions[p], offset + 1) for p, offset in sorted(last.items())]
    return result


def _decoded(msg: Message, parser: Parser) -> Decoded:
    part, offset = int(msg.partition() or 0), int(msg.offset() or 0)
    try:
        event = parser(msg.key(), msg.value(), record_timestamp(msg))
    except Exception as exc:  # noqa: BLE001 - one record must never stop the loop
        return part, offset, msg, Poison(f"internal error: {type(exc).__name__}"), exc
    if isinstance(event, UserAdded):
        return part, offset, msg, Change(event.user.name, event.user), None
    if isinstance(event, Poison):
        return part, offset, msg, event, None
    return part, offset, msg, Change(event.name, None), None
