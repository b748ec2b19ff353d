"""The replay's reader: the topic from its start into the side tables, through the consume path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from consumers.batch import records
from consumers.kafka import KafkaUnavailable
from consumers.pipeline import PipelinedStore
from consumers.projector import READ_AHEAD, Projector
from ums_find import kafka
from ums_find.kafka import OFFSET_BEGINNING, KafkaError, KafkaException, Message, TopicPartition
from ums_find.settings import KafkaSettings, Settings
from ums_find.store import Tables
from ums_find.store.projection import ProjectionStore


class PoisonCounter:
    """A dead-letter sink that counts poison records instead: the live consumer dead-lettered them."""

    def __init__(self) -> None:
        self.seen: set[tuple[int, int]] = set()

    def send(self, poison: Sequence[tuple[Message, str]]) -> None:
        """Remember where each poison record is (a retried batch counts once)."""
        self.seen.update((int(m.partition() or 0), int(m.offset() or 0)) for m, _ in poison)


@dataclass(frozen=True)
class Extent:
    """The topic's partitions, their low and high watermarks, and whether it is compacted."""

    starts: dict[int, int]
    ends: dict[int, int]
    policy: str

    @property
    def truncated(self) -> list[int]:
        """Partitions whose earliest records are gone on a topic that is not compacted."""
        if self.policy == "compact":
            return []
        return [p for p, low in sorted(self.starts.items()) if low > 0]


def topic_extent(settings: KafkaSettings, timeout_s: float = 10.0) -> Extent:
    """Look the topic up; KafkaUnavailable if it is missing or the broker does not answer."""
    consumer = kafka.consumer(settings, f"{settings.group_id}.replay")
    try:
        marks = kafka.watermarks(consumer, settings.topic, timeout_s)
        config = kafka.topic_configs(kafka.admin(settings), [settings.topic], timeout_s)[settings.topic]
    except (KafkaException, LookupError, TimeoutError) as exc:
        raise KafkaUnavailable(f"topic {settings.topic}: {exc}") from exc
    finally:
        consumer.close()
    starts, ends = {p: m[0] for p, m in marks.items()}, {p: m[1] for p, m in marks.items()}
    return Extent(starts, ends, config["cleanup.policy"])


@dataclass(frozen=True)
class Written:
    """What a side reader wrote: records applied (poison included), poison passed over, next offsets."""

    records: int
    poison: int
    positions: dict[int, int]


class SideReader:
    """Applies the topic, from its start, to the side tables with the live consumer's Projector."""

    def __init__(self, settings: Settings, tables: Tables, partitions: Sequence[int]) -> None:
        # The broker answers a connection's requests in turn, so each watermark query (one per
        # partition, under the writer lock too) waits behind a fetch held open for new records:
        # up to 500 ms each by default. Measured: 1.5 s of writer lock for three partitions.
        overrides = {
            "enable.partition.eof": True,
            "queued.max.messages.kbytes": 65536,
            "fetch.wait.max.ms": 50,
        }
        self.consumer = kafka.consumer(settings.kafka, f"{settings.kafka.group_id}.replay", **overrides)
        # The live consumer's name: the swap then hands these checkpoints over as they are.
        writer = ProjectionStore(settings.mysql, settings.consumer.name, settings.kafka.topic, tables)
        self._store = PipelinedStore(writer, settings.consumer.retry_max_s)
        self._poison = PoisonCounter()
        self._projector = Projector(
            self.consumer,
            self._store,
            self._poison,
            settings.kafka.topic,
            batch_size=settings.consumer.replay_batch_size,
            retry_limit_s=settings.consumer.retry_max_s,
            decode_workers=settings.consumer.decode_workers,
        )
        self._topic, self._batch = settings.kafka.topic, settings.consumer.replay_batch_size
        self.partitions = list(partitions)
        # How far each partition is known complete: applied, or seen to end there.
        self.reached: dict[int, int] = dict.fromkeys(self.partitions, 0)

    def start(self) -> None:
        """Read every partition from its beginning (the side tables are empty)."""
        self._projector.partitions.read_from_beginning(self.partitions)

    def turn(self, targets: Mapping[int, int] | None = None) -> None:
        """Fetch and apply one batch; with `targets`, only records before each partition's target."""
        # Several batches a turn: each next one is decoded while the last is written.
        fetched = records(self.consumer.consume(self._batch * READ_AHEAD, 0.2), self._on_event)
        if targets is not None:
            fetched = self._before(fetched, targets)
        self._projector.apply(fetched)
        for part, offset in self._positions().items():
            self.reached[part] = max(self.reached[part], offset)

    def highs(self) -> dict[int, int]:
        """Each partition's high watermark, from the broker (KafkaUnavailable if it does not answer)."""
        try:
            marks = kafka.watermarks(self.consumer, self._topic, 5.0, self.partitions)
        except KafkaException as exc:
            raise KafkaUnavailable(f"watermarks of {self._topic}: {exc}") from exc
        return {p: high for p, (_low, high) in marks.items()}

    def rewind(self) -> None:
        """Go back to the applied positions, to fetch again what `turn` left out."""
        for part in self.partitions:
            offset = self._projector.positions.get(part)
            self.reached[part] = offset or 0
            target = OFFSET_BEGINNING if offset is None else offset
            self.consumer.seek(TopicPartition(self._topic, part, target))

    def flush(self) -> None:
        """Wait until every applied batch is written (WriterFailed if one could not be)."""
        self._store.flush()

    def finish_writing(self) -> Written:
        """Write what is queued, leave the database, and say what the side tables hold."""
        self._store.flush()
        self._store.close()
        return Written(self._projector.applied, len(self._poison.seen), self._positions())

    def close(self) -> None:
        """Leave the broker and the database."""
        self._projector.close()
        self.consumer.close()
        self._store.close()

    def _positions(self) -> dict[int, int]:
        return {p: offset or 0 for p, offset in self._projector.positions.items()}

    def _on_event(self, msg: Message, err: KafkaError) -> bool:
        if err.code() != KafkaError._PARTITION_EOF:
            return False
        part = int(msg.partition() or 0)
        self.reached[part] = max(self.reached[part], int(msg.offset() or 0))
        return True

    def _before(self, records: list[Message], targets: Mapping[int, int]) -> list[Message]:
        kept = []
        for msg in records:
            part, offset = int(msg.partition() or 0), int(msg.offset() or 0)
            if offset < targets.get(part, 0):
                kept.append(msg)
            elif part in targets:
                self.reached[part] = max(self.reached[part], targets[part])
        return kept
