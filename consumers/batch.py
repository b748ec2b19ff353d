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


def plan(messages: Iterable[Message], positions: Mapping[int, int | None], parser: Parser = parse) -> Plan:
    """Parse owned records not yet applied; each partition advances past its last one.

    `positions` maps each owned partition to its stored next offset (None: none stored).
    """
    result = Plan()
    last: dict[int, int] = {}
    for msg in messages:
        part, offset = int(msg.partition() or 0), int(msg.offset() or 0)
        if part not in positions or offset < (positions[part] or 0):
            continue
        result.records += 1
        last[part] = offset
        event = _decode(msg, parser, result)
        if isinstance(event, Poison):
            result.poison.append((msg, event.reason))
        elif isinstance(event, UserAdded):
            result.changes.append(Change(event.user.name, event.user))
        else:
            result.changes.append(Change(event.name, None))
    result.positions = [Position(p, positions[p], offset + 1) for p, offset in sorted(last.items())]
    return result


def _decode(msg: Message, parser: Parser, result: Plan) -> Event | Poison:
    try:
        return parser(msg.key(), msg.value(), record_timestamp(msg))
    except Exception as exc:  # noqa: BLE001 - one record must never stop the loop
        result.failures.append((msg, exc))
        return Poison(f"internal error: {type(exc).__name__}")
