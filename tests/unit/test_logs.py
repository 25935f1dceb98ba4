"""Unit tests (no daemon, no container) of the json-file log: Docker's options,
rotation, reading across the rotated files, and a disk that is full."""

from __future__ import annotations

import os
import threading

import pytest

from shared.daemon import logs
from shared.daemon.logs import JsonFileLog, Limits


@pytest.mark.parametrize(("config", "limits"), [
    ({}, Limits(-1, 1)), ({"max-size": "10k"}, Limits(10_000, 1)),
    ({"max-size": "1m", "max-file": "3"}, Limits(1_000_000, 3)),
    ({"max-size": "1.5MB"}, Limits(1_500_000, 1)), ({"max-size": "2 KiB"}, Limits(2000, 1)),
    ({"max-size": "100"}, Limits(100, 1)),
    ({"max-size": "1k", "max-file": "2", "compress": "true"}, Limits(1000, 2, True)),
    ({"compress": "false"}, Limits(-1, 1, False)),
])
def test_log_options_read_as_mobys_json_file_driver(config: dict, limits: Limits) -> None:
    assert logs.options(config) == limits


@pytest.mark.parametrize(("config", "words"), [
    ({"max-size": "lots"}, "invalid size"), ({"max-size": "10x"}, "invalid suffix"),
    ({"max-size": "0"}, "max-size must be a positive number"),
    ({"max-size": "-1k"}, "invalid syntax"), ({"max-file": "0"}, "cannot be less than 1"),
    ({"max-file": "two"}, "invalid syntax"), ({"max-file": "1_0"}, "invalid syntax"),
    ({"max-bytes": "1"}, "unknown log opt 'max-bytes' for json-file log driver"),
    ({"compress": "yes"}, 'strconv.ParseBool: parsing "yes": invalid syntax'),
    ({"compress": "true", "max-size": "1k"}, "compress cannot be true when max-file is less"),
    ({"compress": "1", "max-file": "3"}, "max-size is not set"),
    # accepted by dockerd, which adds them to each entry: not written here, so refused
    ({"tag": "x"}, "log opt 'tag' is not supported by this engine"),
    ({"labels": "a"}, "log opt 'labels' is not supported"),
])
def test_log_options_dockerd_refuses(config: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        logs.options(config)


def lines(n: int, width: int = 40) -> list[bytes]:
    return [f"line {i:05d} ".encode().ljust(width, b"x") + b"\n" for i in range(n)]


def written(path: str, limits: Limits, data: list[bytes], stream: str = "stdout") -> None:
    log = JsonFileLog(path, limits)
    for line in data:
        log.write(stream, line)
    log.close()


def test_rotation_keeps_max_file_files_of_about_max_size(tmp_path) -> None:
    path = str(tmp_path / "c-json.log")
    written(path, Limits(1000, 3), lines(500))
    assert sorted(os.listdir(tmp_path)) == ["c-json.log", "c-json.log.1", "c-json.log.2"]
    for name in os.listdir(tmp_path):  # a file may pass max-size by its last entry
        assert os.path.getsize(tmp_path / name) < 1000 + 200
    entries = [e.data for e in logs.read(path, {"stdout"})]
    assert entries == lines(500)[-len(entries):]  # the newest, in order, none missing
    assert 10 < len(entries) < 40


def test_max_file_1_starts_the_log_anew(tmp_path) -> None:
    path = str(tmp_path / "c-json.log")
    written(path, Limits(500, 1), lines(100))
    assert os.listdir(tmp_path) == ["c-json.log"]
    assert [e.data for e in logs.read(path, {"stdout"})][-1] == lines(100)[-1]


@pytest.mark.parametrize("tail", [0, 1, 5, 17, 30, 1000])
def test_tail_reaches_back_across_rotated_files(tmp_path, tail: int) -> None:
    path = str(tmp_path / "c-json.log")
    written(path, Limits(1000, 5), lines(60))
    everything = [e.data for e in logs.read(path, {"stdout"})]
    got = [e.data for e in logs.read(path, {"stdout"}, tail=tail)]
    assert got == (everything[-tail:] if tail else [])


def test_tail_counts_lines_then_filters_streams(tmp_path) -> None:
    """As before rotation existed (and as moby reads a tail): the last N lines of the
    file, of which those of the chosen stream."""
    path = str(tmp_path / "c-json.log")
    log = JsonFileLog(path, Limits())
    for i in range(10):
        log.write("stdout" if i % 2 else "stderr", f"{i}\n".encode())
    log.close()
    assert [e.data for e in logs.read(path, {"stdout"}, tail=4)] == [b"7\n", b"9\n"]


def test_tail_of_a_big_log_reads_only_its_end(tmp_path) -> None:
    path = str(tmp_path / "c-json.log")
    with open(path, "wb") as f:  # 64 MiB of garbage, then two entries
        f.write((b"x" * 1023 + b"\n") * 65536)
    written(path, Limits(), [b"a\n", b"b\n"])
    reads: list[int] = []
    real_read = logs._lines_from_end

    def counting(f, n):  # type: ignore[no-untyped-def]
        at, found = real_read(f, n)
        reads.append(f.tell())
        return at, found

    logs._lines_from_end = counting  # type: ignore[assignment]
    try:
        assert [e.data for e in logs.read(path, {"stdout"}, tail=2)] == [b"a\n", b"b\n"]
    finally:
        logs._lines_from_end = real_read  # type: ignore[assignment]
    assert reads and os.path.getsize(path) - min(reads) <= 2 * logs.BLOCK


def test_follow_goes_on_across_a_rotation(tmp_path) -> None:
    path = str(tmp_path / "c-json.log")
    log = JsonFileLog(path, Limits(300, 2))
    done = threading.Event()
    got: list[bytes] = []

    def follow() -> None:
        for e in logs.read(path, {"stdout"}, tail=0, follow=True,
                           still_running=lambda: not done.is_set()):
            got.append(e.data)

    reader = threading.Thread(target=follow)
    log.write("stdout", b"before\n")
    reader.start()
    threading.Event().wait(0.2)  # the reader is past its tail, following
    for line in lines(40):  # a rotation every third line or so, while the reader follows
        log.write("stdout", line)
        threading.Event().wait(0.05)  # a reader polls every 50 ms: it sees each rotation
    threading.Event().wait(0.3)
    done.set()
    reader.join(10)
    log.close()
    assert got == lines(40)


def test_a_full_disk_loses_lines_not_the_writer(tmp_path) -> None:
    """/dev/full: every write fails with ENOSPC, as on a full disk (a real one: the
    kernel's, not a fake)."""
    log = JsonFileLog("/dev/full", Limits())
    for line in lines(100):
        log.write("stdout", line)  # must not raise
    log.close()


def test_after_a_failed_write_the_next_line_stands_alone(tmp_path) -> None:
    path = str(tmp_path / "c-json.log")
    log = JsonFileLog(path, Limits())
    log.write("stdout", b"one\n")
    with open(path, "ab") as f:  # a line the full disk cut short
        f.write(b'{"log":"tw')
    log._failing = True
    log.write("stdout", b"three\n")
    log.close()
    assert [e.data for e in logs.read(path, {"stdout"})] == [b"one\n", b"three\n"]


def test_compressed_rotation_gzips_the_rotated_files_and_reads_through_them(tmp_path) -> None:
    import gzip

    path = str(tmp_path / "container.log")
    written(path, Limits(1000, 3, compress=True), lines(500))
    assert sorted(os.listdir(tmp_path)) == ["container.log", "container.log.1.gz",
                                            "container.log.2.gz"]
    with gzip.open(tmp_path / "container.log.1.gz") as f:
        assert b'"stream": "stdout"' in f.readline()
    entries = [e.data for e in logs.read(path, {"stdout"})]
    assert entries == lines(500)[-len(entries):]
    assert 10 < len(entries) < 40  # three files of about 1000 bytes: not one
    tail = [e.data for e in logs.read(path, {"stdout"}, tail=len(entries) - 2)]
    assert tail == entries[2:]  # --tail seeks back through a gzipped file too
    logs.remove(path)
    assert os.listdir(tmp_path) == []
