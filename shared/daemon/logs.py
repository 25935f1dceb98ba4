"""The log file of the json-file and local drivers: one JSON object per line of output,
as Docker's json-file driver writes them (which driver a container has, and its
options: shared/daemon/logdrivers.py).

    {"log":"hello\\n","stream":"stdout","time":"2026-11-28T15:00:00.123456789Z"}

Output is split at newlines so `docker logs --tail 3` means three lines; a line longer
than 16 KiB is cut into several entries, as Docker does, so one runaway line cannot
make the daemon hold unbounded memory.

The log is bounded on disk as Docker bounds it, by the driver's options
(`--log-opt max-size=10m --log-opt max-file=3`): once the file has reached max-size,
it is renamed `<log>.1` (`.1` to `.2`, and so on, the oldest dropped) and a new one
begun; readers go through the rotated files, oldest first, then the current one.
With `compress` (the local driver's default) a rotated file is gzipped to `<log>.1.gz`
(then `.2.gz`...), as moby's LogFile does: text compresses tenfold, and only the
current file is ever appended to.
Reading streams from the files: `docker logs` of a gigabyte of output holds a line at a
time, and `--tail N` seeks back from the end.

A container's output is the container's, the log only a copy: a log that cannot be
written (a full disk) loses lines, with a word in the daemon's log, and the container
runs on, as dockerd's copier does.
"""

from __future__ import annotations

import datetime
import gzip
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from shared.daemon.state import rfc3339

MAX_LINE = 16 * 1024
BLOCK = 64 * 1024  # how far back --tail reads at a time

log = logging.getLogger("whalebones")

# The options moby's json-file driver knows (jsonfilelog.ValidateLogOpt); any other is
# refused in its words when the container is created.
KNOWN_OPTIONS = ("max-file", "max-size", "compress", "labels", "labels-regex", "env",
                 "env-regex", "tag")
# Of those, the ones that add attributes to each entry (seen with `docker logs
# --details`): not written here, so refused rather than accepted and ignored.
ATTRIBUTE_OPTIONS = ("labels", "labels-regex", "env", "env-regex", "tag")


@dataclass(frozen=True)
class Entry:
    stream: str  # "stdout" | "stderr"
    data: bytes
    time: str


def entry_unix_time(entry: Entry) -> float:
    """An entry's RFC 3339 time ("2026-11-28T15:00:00.123456789Z") in Unix seconds;
    Python's datetime stops at microseconds, so the fraction is read apart."""
    whole, _, rest = entry.time.rstrip("Z").partition(".")
    fraction = rest
    try:
        seconds = datetime.datetime.fromisoformat(whole + "+00:00").timestamp()
    except ValueError:
        return 0.0  # a line without a time (cut short): as old as can be
    return seconds + (float("0." + fraction) if fraction.isdigit() else 0.0)


@dataclass(frozen=True)
class Limits:
    """How big a log may grow: max_size bytes a file (-1: no limit), max_files files,
    the rotated ones gzipped (compress)."""

    max_size: int = -1
    max_files: int = 1
    compress: bool = False


def refuse_attributes(config: dict[str, str]) -> None:
    for key in config:
        if key in ATTRIBUTE_OPTIONS:
            raise ValueError(f"log opt '{key}' is not supported by this engine: it adds "
                             "attributes to log entries, which are not written here")


def parse_bool(text: str) -> bool:
    """Go's strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def options(config: dict[str, str]) -> Limits:
    """The json-file driver's options, read as moby's jsonfilelog.New reads them;
    ValueError (with dockerd's words) for what it would refuse."""
    for key in config:
        if key not in KNOWN_OPTIONS:
            raise ValueError(f"unknown log opt '{key}' for json-file log driver")
    max_size = -1
    if "max-size" in config:
        max_size = from_human_size(config["max-size"])
        if max_size <= 0:
            raise ValueError("max-size must be a positive number")
    max_files = 1
    if "max-file" in config:
        text = config["max-file"]
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
        max_files = int(text)
        if max_files < 1:
            raise ValueError("max-file cannot be less than 1")
    compress = False
    if "compress" in config:
        compress = parse_bool(config["compress"])
        if compress and (max_files == 1 or max_size == -1):
            raise ValueError("compress cannot be true when max-file is less than 2 or "
                             "max-size is not set")
    refuse_attributes(config)
    return Limits(max_size, max_files, compress)


_DECIMAL = {"k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5}


def from_human_size(text: str) -> int:
    """"10k", "1.5MB", "20 m": bytes, in powers of 1000 (go-units' FromHumanSize)."""
    sep = max(text.rfind(c) for c in "0123456789. ")
    if sep == -1:
        raise ValueError(f"invalid size: '{text}'")
    number, suffix = (text[:sep], text[sep + 1:]) if text[sep] == " " else \
        (text[:sep + 1], text[sep + 1:])
    if not re.fullmatch(r"[0-9]*\.?[0-9]*([eE][+-]?[0-9]+)?", number) or \
            number.strip(".") == "":
        raise ValueError(f'strconv.ParseFloat: parsing "{number}": invalid syntax')
    size = float(number)
    suffix = suffix.lower()
    if suffix in ("", "b"):
        return int(size)
    if suffix[0] not in _DECIMAL or suffix[1:] not in ("", "b", "ib"):
        raise ValueError(f"invalid suffix: '{suffix}'")
    return int(size * _DECIMAL[suffix[0]])


class JsonFileLog:
    """Appends a container's output to `<id>-json.log`, rotating it at `limits`."""

    def __init__(self, path: str, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self._lock = threading.Lock()
        self._partial: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115 - lives with the container
        self._size = os.fstat(self._file.fileno()).st_size
        self._failing = False  # the last write failed: the next one starts a fresh line
        self._closed = False

    def write(self, stream: str, data: bytes) -> None:
        with self._lock:
            buf = self._partial[stream] + data
            lines = buf.split(b"\n")
            self._partial[stream] = lines.pop()
            out = [line + b"\n" for line in lines]
            while len(self._partial[stream]) >= MAX_LINE:
                out.append(self._partial[stream][:MAX_LINE])
                self._partial[stream] = self._partial[stream][MAX_LINE:]
            self._append(stream, out)

    def _append(self, stream: str, chunks: list[bytes]) -> None:
        if not chunks or self._closed:
            return  # closed: a copy that outlived the container's exit (stdio.py)
        now = rfc3339(time.time())
        for chunk in chunks:
            line = json.dumps({"log": chunk.decode("utf-8", "replace"), "stream": stream,
                               "time": now}) + "\n"
            if self._failing:  # after a half-written line, a newline: it stands alone
                line = "\n" + line
            try:
                if self.limits.max_size != -1 and self._size >= self.limits.max_size:
                    self._rotate()
                self._write_all(line.encode())
            except OSError as e:
                if not self._failing:
                    log.warning("%s: log write failed, output dropped until it works: %s",
                                self.path, e)
                self._failing = True
            else:
                if self._failing:
                    log.warning("%s: log writes work again", self.path)
                self._failing = False

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = self._file.write(view) or 0
            self._size += n
            view = view[n:]

    def _rotate(self) -> None:
        """As moby's LogFile.rotate: <log>.N-1 dropped, each .i renamed .i+1, the log
        renamed .1 (or, with max-file 1, removed), and a new log begun. Renamed, never
        truncated: a reader holding a file reads it to its end."""
        self._file.close()
        n = self.limits.max_files
        ext = ".gz" if self.limits.compress else ""
        if n >= 2:
            _unlink(f"{self.path}.{n - 1}{ext}")
            for i in range(n - 1, 1, -1):
                _rename(f"{self.path}.{i - 1}{ext}", f"{self.path}.{i}{ext}")
            _rename(self.path, f"{self.path}.1")
            if self.limits.compress:
                _compress(f"{self.path}.1")
        else:
            _unlink(self.path)
        self._file = open(self.path, "wb", buffering=0)  # noqa: SIM115
        self._size = 0
        self._failing = False  # a new file: no half line in it

    def close(self) -> None:
        """Flush a last line that had no newline, then close."""
        with self._lock:
            for stream, rest in self._partial.items():
                if rest:
                    self._append(stream, [rest])
                self._partial[stream] = b""
            self._closed = True
            self._file.close()


class NoLog:
    """The none driver's log: the output goes to attached clients only."""

    def write(self, stream: str, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


LogWriter = JsonFileLog | NoLog


def open_log(path: str, limits: Limits) -> LogWriter:
    """The log at `path` ("" for none), made with its directory if new."""
    if not path:
        return NoLog()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    return JsonFileLog(path, limits)


def _compress(path: str) -> None:
    """`path` to `path.gz`; the original goes only once the copy is whole, so a reader
    finds one or the other complete. (moby compresses in the background; done here
    while the writer waits, a rotated file being at most max-size.)"""
    try:
        with open(path, "rb") as src, gzip.open(f"{path}.gz.tmp", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.rename(f"{path}.gz.tmp", f"{path}.gz")
    except OSError as e:
        log.warning("%s: compressing a rotated log failed, kept as it is: %s", path, e)
        _unlink(f"{path}.gz.tmp")
        return
    _unlink(path)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _rename(src: str, dst: str) -> None:
    try:
        os.rename(src, dst)
    except FileNotFoundError:
        pass


def _parse(line: bytes) -> Entry | None:
    try:
        obj = json.loads(line)
        return Entry(obj.get("stream", "stdout"), obj.get("log", "").encode(),
                     obj.get("time", ""))
    except (ValueError, AttributeError):
        return None  # a line half-written when the daemon was killed, or the disk full


def log_files(path: str) -> list[str]:
    """The log's files, oldest first: the rotated ones (<log>.N ... <log>.1, each
    perhaps gzipped: <log>.N.gz), then it."""
    rotated: list[str] = []
    while True:
        name = f"{path}.{len(rotated) + 1}"
        if os.path.exists(name):
            rotated.append(name)
        elif os.path.exists(f"{name}.gz"):
            rotated.append(f"{name}.gz")
        else:
            break
    return [*reversed(rotated), path]


def _open(name: str) -> BinaryIO:
    """A log file to read; a gzipped one decompressed into an unnamed temporary file
    first, since --tail seeks back from the end, which a gzip stream cannot."""
    if not name.endswith(".gz"):
        return open(name, "rb")  # noqa: SIM115 - the caller closes it
    plain = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    with gzip.open(name, "rb") as packed:
        shutil.copyfileobj(packed, plain)
    plain.seek(0)
    return plain


def _lines_from_end(f: BinaryIO, n: int) -> tuple[int, int]:
    """Where the last `n` lines of `f` begin: (offset, lines found). Found fewer than
    `n`: the file holds no more, and they begin at 0."""
    end = f.seek(0, os.SEEK_END)
    found, pos = 0, end
    while pos > 0:
        size = min(BLOCK, pos)
        pos -= size
        f.seek(pos)
        block = f.read(size)
        i = len(block)
        while (i := block.rfind(b"\n", 0, i)) >= 0:
            if pos + i + 1 < end:  # a newline that begins a line (not the file's last byte)
                found += 1
                if found == n:
                    return pos + i + 1, n
    return 0, found + (1 if end else 0)


def _tail_start(files: list[BinaryIO], n: int) -> tuple[int, int]:
    """Which file the last `n` lines begin in, and where: (index, offset)."""
    if n == 0:
        return len(files) - 1, files[-1].seek(0, os.SEEK_END)
    for index in range(len(files) - 1, -1, -1):
        offset, found = _lines_from_end(files[index], n)
        if found >= n:
            return index, offset
        n -= found
    return 0, 0


def read(
    path: str,
    streams: set[str],
    tail: int | None = None,
    follow: bool = False,
    still_running: Callable[[], bool] = lambda: False,
    stop: threading.Event | None = None,
) -> Iterator[Entry]:
    """Entries of the chosen streams, through the rotated files: the last `tail` of them,
    then (follow) new ones until the container stops."""
    if not path:
        return  # the none driver's: no log at all
    files: list[BinaryIO] = []
    names: list[str] = []
    for name in log_files(path):
        try:
            files.append(_open(name))  # closed in finally
        except FileNotFoundError:
            try:  # compressed meanwhile
                files.append(_open(f"{name}.gz"))
            except FileNotFoundError:
                continue  # rotated away meanwhile
        names.append(name)
    try:
        if not names or names[-1] != path:
            return  # no log yet
        first, offset = _tail_start(files, tail) if tail is not None else (0, 0)
        for index in range(first, len(files)):
            f = files[index]
            f.seek(offset if index == first else 0)
            for line in f:
                entry = _parse(line)
                if entry and entry.stream in streams:
                    yield entry
        if follow:
            yield from _follow(path, files[-1], streams, still_running, stop)
    finally:
        for f in files:
            f.close()


def _follow(
    path: str,
    f: BinaryIO,
    streams: set[str],
    still_running: Callable[[], bool],
    stop: threading.Event | None,
) -> Iterator[Entry]:
    """New entries as they are written, across rotations, until the container stops."""
    pending = b""
    opened: list[BinaryIO] = []
    try:
        while True:
            chunk = f.readline()
            if chunk:
                pending += chunk
                if pending.endswith(b"\n"):
                    entry = _parse(pending)
                    pending = b""
                    if entry and entry.stream in streams:
                        yield entry
                continue
            if _rotated(path, f):
                # The old file is complete (the writer closes it before renaming it):
                # what is left in it, then on in the new one.
                for line in (pending + f.read()).splitlines():
                    entry = _parse(line)
                    if entry and entry.stream in streams:
                        yield entry
                try:
                    f, pending = open(path, "rb"), b""  # noqa: SIM115 - closed in finally
                except FileNotFoundError:
                    return  # the container was removed meanwhile
                opened.append(f)
                continue
            if stop is not None and stop.is_set():
                return
            if not still_running():
                # One last read: the container may have written just before it exited.
                for line in (pending + f.read()).splitlines():
                    entry = _parse(line)
                    if entry and entry.stream in streams:
                        yield entry
                return
            time.sleep(0.05)
    finally:
        for g in opened:
            g.close()


def _rotated(path: str, f: BinaryIO) -> bool:
    """Whether the log at `path` is a newer file than the one `f` reads (a log being
    rotated has no file at `path` for a moment: not yet)."""
    try:
        return os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return False


def remove(path: str) -> None:
    for name in log_files(path):
        _unlink(name)
