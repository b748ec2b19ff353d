"""A stand-in for AddService: contract-conformant records keyed by name."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime

from consumers.kafka import KafkaUnavailable
from ums_find.domain import PHONE_MAX, PHONE_MIN, Name, PhoneNumber, User
from ums_find.events import encode
from ums_find.kafka import Message, Outgoing, Producer, deliver_all


def token(msg: Message) -> str:
    """The position token of a written record: `<partition>:<offset>`."""
    return f"{msg.partition()}:{msg.offset()}"


def publish_user(producer: Producer, topic: str, user: User, timeout_s: float = 30.0) -> str:
    """Write one user and return its position token once the broker has it."""
    delivery = deliver_all(producer, [_record(topic, user)], timeout_s)
    if not delivery.complete or not delivery.written:
        raise KafkaUnavailable(
            f"record not written: {delivery.errors(1)[0] if delivery.failed else 'timed out'}"
        )
    return token(delivery.written[0])


def _record(topic: str, user: User) -> Outgoing:
    return Outgoing(topic, user.name.value.encode("utf-8"), encode(user))


def random_user(rng: random.Random) -> User:
    """A valid user with a random name and phone."""
    length = rng.randint(8, 16)
    name = "".join(rng.choices(string.ascii_letters + string.digits, k=length))
    return User(Name(name), PhoneNumber(rng.randint(PHONE_MIN, PHONE_MAX)), datetime.now(UTC))


def publish_random(
    producer: Producer, topic: str, count: int, seed: int | None = None, timeout_s: float = 60.0
) -> int:
    """Write `count` random users; return how many the broker acknowledged."""
    rng = random.Random(seed)
    records = (_record(topic, random_user(rng)) for _ in range(count))
    return len(deliver_all(producer, records, timeout_s).written)
