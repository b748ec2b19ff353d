"""Starting assigned partitions: their watermarks from the broker, where to start, and saying so."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from consumers.metrics import ConsumerMetrics
from consumers.ports import RecordSource
from consumers.start import RESET, CheckpointAhead, Start, start_at
from ums_find.kafka import KafkaException, TopicPartition

log = logging.getLogger(__name__)

WATERMARK_TIMEOUT_S = 5.0


class Assignment:
    """Decides where each assigned partition starts, and reports what is out of the ordinary."""

    def __init__(
        self, consumer: RecordSource, topic: str, metrics: ConsumerMetrics, policy: str = RESET
    ) -> None:
        self._consumer, self._topic, self._metrics, self._policy = consumer, topic, metrics, policy
        self._reported: set[tuple[int, int]] = set()
        self.partition_count: int | None = None

    def starts(self, stored: Mapping[int, int | None]) -> list[Start]:
        """Each partition's start; raises KafkaException (no watermarks) or CheckpointAhead."""
        self.check_partition_count()
        result = []
        for part, checkpoint in sorted(stored.items()):
            # Exported at 0 from the start: increase() sees the first event only after a 0 sample.
            self._metrics.checkpoint_ahead.labels(str(part))
            if checkpoint is None:  # the beginning, whatever the watermarks say
                result.append(start_at(part, None, 0, 0))
                continue
            tp = TopicPartition(self._topic, part)
            low, high = self._consumer.get_watermark_offsets(tp, timeout=WATERMARK_TIMEOUT_S, cached=False)
            try:
                start = start_at(part, checkpoint, low, high, self._policy)
            except CheckpointAhead:
                self._report_ahead(part, checkpoint, high, "stopping (UMS_ON_CHECKPOINT_AHEAD=fail)")
                raise
            if start.ahead:
                self._report_ahead(part, checkpoint, high, "reading the partition from its beginning again")
            elif start.lost:
                log.warning(
                    "%s[%d]: records %d to %d were deleted (retention) before they were applied; "
                    "going on from %d",
                    self._topic,
                    part,
                    checkpoint,
                    low - 1,
                    low,
                )
            result.append(start)
        return result

    def _report_ahead(self, part: int, checkpoint: int, high: int, action: str) -> None:
        # Once per partition and stale checkpoint: a rebalance before the first batch finds it again.
        if (part, checkpoint) in self._reported:
            return
        self._reported.add((part, checkpoint))
        self._metrics.checkpoint_ahead.labels(str(part)).inc()
        log.error(
            "%s[%d]: the checkpoint %d is beyond the partition's end %d (the topic was recreated "
            "or truncated); %s",
            self._topic,
            part,
            checkpoint,
            high,
            action,
        )

    def check_partition_count(self) -> None:
        """Warn when the topic has gained partitions since the last look."""
        try:
            meta = self._consumer.list_topics(self._topic, timeout=WATERMARK_TIMEOUT_S).topics.get(
                self._topic
            )
        except KafkaException as exc:
            log.debug("partition count unknown: %s", exc)
            return
        if meta is None or meta.error is not None or not meta.partitions:
            return
        count, known = len(meta.partitions), self.partition_count
        self.partition_count = count
        if known is not None and count > known:
            log.warning(
                "%s went from %d to %d partitions: names now map to other partitions, so the view's "
                "order per name is no longer guaranteed; `ums-find replay` restores it",
                self._topic,
                known,
                count,
            )
