"""A stand-in for AddService: contract-conformant records keyed by name."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import UTC, datetime

from confluent_kafka import KafkaError, Message, Producer

from consumers.kafka import KafkaUnavailable
from ums_find.domain import PHONE_MAX, PHONE_MIN, Name, PhoneNumber, User
from ums_find.events import encode


def token(msg: Message) -> str:
    """The position token of a written record: `<partition>:<offset>`."""
    return f"{msg.partition()}:{msg.offset()}"


def publish_user(producer: Producer, topic: str, user: User, timeout_s: float = 30.0) -> str:
    """Write one user and return its position token once the broker has it."""
    result: list[Message] = []
    errors: list[KafkaError] = []

    def delivered(err: KafkaError | None, msg: Message) -> None:
        (errors.append(err) if err is not None else result.append(msg))

    producer.produce(topic, key=user.name.value.encode("utf-8"), value=encode(user), on_delivery=delivered)
    producer.flush(timeout_s)
    if errors or not result:
        raise KafkaUnavailable(f"record not written: {errors[0] if errors else 'timed out'}")
    return token(result[0])


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
    acked: list[int] = [0]

    def delivered(err: KafkaError | None, _msg: Message) -> None:
        acked[0] += err is None

    for _ in range(count):
        user = random_user(rng)
        _produce_waiting(producer, topic, user.name.value.encode("utf-8"), encode(user), delivered)
    producer.flush(timeout_s)
    return acked[0]


def _produce_waiting(
    producer: Producer, topic: str, key: bytes, value: bytes, cb: Callable[[KafkaError | None, Message], None]
) -> None:
    while True:
        try:
            producer.produce(topic, key=key, value=value, on_delivery=cb)
            producer.poll(0)
            return
        except BufferError:
            # The local queue is full: let deliveries drain before adding more.
            producer.poll(0.1)
