import json
import logging

from ums_find.logs import REQUEST_ID, JsonFormatter, mask_phones


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("ums_find.test", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_runs_of_ten_to_fifteen_digits_keep_only_their_last_two() -> None:
    assert mask_phones("call 9876543210 now") == "call ********10 now"
    assert mask_phones("999999999999999") == "*************99"
    assert mask_phones("offset 123456789, id 1234567890123456") == "offset 123456789, id 1234567890123456"


def test_a_line_is_one_json_object_with_request_id_and_extras() -> None:
    reset = REQUEST_ID.set("req-1")
    try:
        line = JsonFormatter().format(record("phone %s", 9876543210, partition=2, offset=7))
    finally:
        REQUEST_ID.reset(reset)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "WARNING" and entry["logger"] == "ums_find.test" and entry["ts"]
    assert entry["event"] == "phone ********10" and "9876543210" not in line
    assert (entry["request_id"], entry["partition"], entry["offset"]) == ("req-1", 2, 7)


def test_tracebacks_are_masked_too() -> None:
    try:
        raise ValueError("bad phone 9876543210")
    except ValueError:
        rec = record("failed")
        rec.exc_info = __import__("sys").exc_info()
    line = JsonFormatter().format(rec)
    assert "9876543210" not in line and "********10" in json.loads(line)["exc"]


def test_uncaught_exceptions_of_threads_and_of_main_are_json_lines_masked(capsys) -> None:  # type: ignore[no-untyped-def]
    import sys
    import threading

    from ums_find import logs

    saved = (sys.excepthook, threading.excepthook, logging.getLogger().handlers[:], logging.getLogger().level)
    try:
        logs.configure("INFO")

        def boom() -> None:
            raise RuntimeError("phone 9876543210 broke it")

        thread = threading.Thread(target=boom, name="worker-1")
        thread.start()
        thread.join()
        try:
            raise KeyError("call 9123456780")
        except KeyError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook, threading.excepthook = saved[0], saved[1]
        logging.getLogger().handlers[:] = saved[2]
        logging.getLogger().setLevel(saved[3])
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [entry["level"] for entry in lines] == ["CRITICAL", "CRITICAL"]
    assert "worker-1" in lines[0]["event"] and "RuntimeError" in lines[0]["exc"]
    assert "KeyError" in lines[1]["exc"]
    assert not any("9876543210" in json.dumps(e) or "9123456780" in json.dumps(e) for e in lines)
