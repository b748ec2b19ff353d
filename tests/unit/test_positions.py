import threading

import pytest

from ums_find.http.positions import InvalidToken, PositionWatch, Token
from ums_find.store import DatabaseUnavailable


@pytest.mark.parametrize(
    "text", ["", "1", "1:", ":1", "a:1", "1:-1", "1:2:3", " 1:2", "1:2 ", "1:" + "9" * 19, "01:2", "00:2"]
)
def test_invalid_tokens_are_refused(text: str) -> None:
    with pytest.raises(InvalidToken):
        Token.parse(text)


def test_a_token_is_applied_once_the_next_offset_passes_it() -> None:
    token = Token.parse("2:41")
    assert token == Token(2, 41)
    assert not token.applied({}) and not token.applied({2: 41}) and not token.applied({1: 100})
    assert token.applied({2: 42})


def test_waiters_wake_when_the_poller_sees_the_checkpoint_pass() -> None:
    reads = [0]
    released = threading.Event()

    def read() -> dict[int, int]:
        reads[0] += 1
        return {0: 10} if released.is_set() else {0: 5}

    waiter = PositionWatch(read, 0.001, 0.001)
    assert not waiter.wait_for(Token(0, 7), 0.05, 8)  # the poller reads, but the record is not there yet
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(waiter.wait_for(Token(0, 7), 60, 8))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    released.set()
    for thread in threads:
        thread.join(60)
    assert results == [True, True, True] and waiter.waiting == 0 and reads[0] >= 2


def test_a_database_fault_while_polling_ends_in_a_timeout_not_an_error() -> None:
    def read() -> dict[int, int]:
        raise DatabaseUnavailable("down")

    assert PositionWatch(read, 0.001, 0.001).wait_for(Token(0, 0), 0.05, 8) is False


def test_past_the_cap_a_wait_answers_at_once_and_says_whether_the_record_is_in() -> None:
    released = threading.Event()
    waiter = PositionWatch(lambda: {0: 9 if released.is_set() else 5}, 0.001, 0.001)
    assert waiter.current() == {0: 5}
    blocked = threading.Thread(target=waiter.wait_for, args=(Token(0, 7), 60, 1))
    blocked.start()
    while waiter.waiting == 0:  # the first waiter is in: the cap of one is reached
        released.wait(0.001)
    # No timing: a wait of an hour that returns at all returned at once.
    assert waiter.wait_for(Token(0, 7), 3600, 1) is False
    assert waiter.wait_for(Token(0, 3), 3600, 1) is True
    assert waiter.wait_for(Token(0, 7), 3600, 0) is False
    released.set()
    blocked.join(60)
    assert waiter.waiting == 0


def test_the_reader_is_told_what_waiting_requests_need_and_only_while_they_wait() -> None:
    released = threading.Event()
    asked: list[dict[int, int]] = []
    waiter: PositionWatch

    def read() -> dict[int, int]:
        asked.append(waiter.wanted())
        return {0: 9, 1: 4} if released.is_set() else {0: 5}

    waiter = PositionWatch(read, 0.001, 0.001)
    assert waiter.wanted() == {}
    threads = [
        threading.Thread(target=waiter.wait_for, args=(token, 60, 8))
        for token in (Token(0, 7), Token(0, 6), Token(1, 3))
    ]
    for thread in threads:
        thread.start()
    while waiter.waiting < 3:
        released.wait(0.001)
    while {0: 8, 1: 4} not in asked:  # the next offsets past the highest waited-for record
        released.wait(0.001)
    released.set()
    for thread in threads:
        thread.join(60)
    assert waiter.wanted() == {}
