"""Turn a polled batch into records, then into changes, poison records and positions."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    return [_joined(msg, _outcome(msg.key(), msg.value(), record_timestamp(msg), parser)) for msg in messages]


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


@dataclass(frozen=True)
class Failure:
    """A record whose decoding raised (a bug): the poison it becomes and the error."""

    poison: Poison
    error: Exception


# A record as a decoding process receives it: key, value, timestamp (Messages cannot be
# pickled); and what it sends back: a change as its fields (a third of the cost of pickling
# the object), a poison record or a failure.
Raw = tuple[bytes | None, bytes | None, int]
Outcome = tuple[str, str, str | None] | Poison | Failure


def raw(messages: Iterable[Message]) -> list[Raw]:
    """What a decoding process needs of each record."""
    return [(msg.key(), msg.value(), record_timestamp(msg)) for msg in messages]


def decode_raw(records: Sequence[Raw], parser: Parser = parse) -> list[Outcome]:
    """`decode` for another process: outcomes in the records' order, every error portable."""
    return [_sendable(_outcome(key, value, stamp, parser)) for key, value, stamp in records]


def rejoin(messages: Sequence[Message], outcomes: Sequence[Outcome]) -> list[Decoded]:
    """The messages with the outcomes `decode_raw` gave for them: what `decode` gives."""
    return [_joined(msg, outcome) for msg, outcome in zip(messages, outcomes, strict=True)]


def _joined(msg: Message, outcome: Outcome | Change) -> Decoded:
    part, offset = int(msg.partition() or 0), int(msg.offset() or 0)
    if type(outcome) is tuple:  # a change as a decoding process sends it
        return part, offset, msg, Change(*outcome), None
    if type(outcome) is Failure:
        return part, offset, msg, outcome.poison, outcome.error
    return part, offset, msg, outcome, None  # type: ignore[return-value]


def _sendable(outcome: Change | Poison | Failure) -> Outcome:
    if isinstance(outcome, Change):
        return outcome.name, outcome.key, outcome.row
    return _portable(outcome) if isinstance(outcome, Failure) else outcome


def _outcome(key: bytes | None, value: bytes | None, stamp: int, parser: Parser) -> Change | Poison | Failure:
    try:
        event = parser(key, value, stamp)
    except Exception as exc:  # noqa: BLE001 - one record must never stop the loop
        return Failure(Poison(f"internal error: {type(exc).__name__}"), exc)
    if isinstance(event, UserAdded):
        return Change.of(event.user.name, event.user)
    if isinstance(event, Poison):
        return event
    return Change.of(event.name, None)


def _portable(failure: Failure) -> Failure:
    """The failure with an error that survives pickling, its traceback kept as a note."""
    error, told = failure.error, "".join(traceback.format_exception(failure.error)).rstrip()
    error.add_note(told)
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - any error that cannot cross is told as text
        error = RuntimeError(told)
    return Failure(failure.poison, error)
