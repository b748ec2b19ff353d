import pytest

from ums_find.http.partitioner import murmur2, partition_for

# Values from Apache Kafka's UtilsTest.testMurmur2 (Java).
JAVA_MURMUR2 = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]


@pytest.mark.parametrize(("key", "expected"), JAVA_MURMUR2)
def test_murmur2_equals_javas(key: bytes, expected: int) -> None:
    assert murmur2(key) == expected


def test_partition_is_the_positive_hash_modulo_the_count() -> None:
    assert partition_for(b"21", 3) == (-973932308 & 0x7FFFFFFF) % 3
    assert {partition_for(k, 1) for k, _ in JAVA_MURMUR2} == {0}
    with pytest.raises(ValueError):
        partition_for(b"abc", 0)
