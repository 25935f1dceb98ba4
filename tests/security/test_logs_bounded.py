"""A container's output must not take the host's disk or the daemon with it.

- `--log-opt max-size/max-file` bound the json-file log as Docker's do: the log is
  rotated to `<log>.1` ... and `docker logs` reads through the rotated files, oldest
  first, so it shows the tail of the output.
- A log that cannot be written (the disk full: /dev/full bind-mounted over the log file,
  which fails every write with ENOSPC as a full disk does) loses lines, but neither the
  container nor the daemon's copy of its output stops: an attached client gets all of it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.behaviour.clients import Clients

LINE = "0123456789" * 4
PRINT_10K = f'i=0; while [ $i -lt 200 ]; do echo "line $i {LINE}"; i=$((i+1)); done'


def log_files(path: str) -> dict[str, int]:
    folder, base = os.path.split(path)
    return {name: os.path.getsize(os.path.join(folder, name))
            for name in os.listdir(folder) if name.startswith(base)}


def test_max_size_and_max_file_bound_the_log_on_disk(clients: Clients) -> None:
    name = clients.name()
    done = clients.docker("run", "--name", name, "--log-opt", "max-size=1k",
                          "--log-opt", "max-file=2", "busybox", "sh", "-c", PRINT_10K)
    assert done.returncode == 0, done.stderr
    log_path = clients.inspect(name)["LogPath"]
    files = log_files(log_path)
    base = os.path.basename(log_path)
    assert set(files) == {base, f"{base}.1"}, files  # dockerd's names; max-file=2: two
    for size in files.values():
        assert size < 1000 + 200, files  # max-size, passed at most by its last entry

    shown = clients.docker("logs", name)
    assert shown.returncode == 0, shown.stderr
    numbers = [int(line.split()[1]) for line in shown.stdout.splitlines()]
    assert numbers[-1] == 199  # the tail of the output...
    assert 0 not in numbers  # ...not its head, rotated away
    assert numbers == list(range(numbers[0], 200))  # in order, across the files, none lost
    tail = clients.docker("logs", "--tail", "3", name)
    assert [int(line.split()[1]) for line in tail.stdout.splitlines()] == [197, 198, 199]


def test_unknown_log_options_are_refused_at_create(clients: Clients) -> None:
    done = clients.docker("create", "--name", clients.name(), "--log-opt", "max-bytes=1k",
                          "busybox", "true")
    assert done.returncode != 0
    assert "unknown log opt 'max-bytes' for json-file log driver" in done.stderr


@pytest.mark.ours_only(reason="dockerd reads max-size's value only at start, and fails it then")
def test_a_max_size_that_is_no_size_is_refused_at_create(clients: Clients) -> None:
    name = clients.name()
    done = clients.docker("create", "--name", name, "--log-opt", "max-size=lots",
                          "busybox", "true")
    assert done.returncode != 0
    assert "invalid size: 'lots'" in done.stderr
    assert clients.api("GET", f"/containers/{name}/json").status == 404


@contextmanager
def full_disk_under(path: str) -> Iterator[None]:
    """Every write to `path` fails with ENOSPC while inside."""
    open(path, "ab").close()
    subprocess.run(["mount", "--bind", "/dev/full", path], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", path], check=False)  # (an engine may have replaced it)


@pytest.mark.ours_only(reason="dockerd replaces the log file the test covers with /dev/full "
                       "(the mount is gone when the container ends): no full disk to see")
def test_a_full_disk_does_not_stop_the_container_or_its_output(clients: Clients) -> None:
    name = clients.name()
    # 200 KB: more than a pipe holds, so a copy that stopped reading would block the
    # container (or kill it with SIGPIPE, had it closed its end).
    created = clients.docker("create", "--name", name, "busybox", "seq", "1", "30000")
    assert created.returncode == 0, created.stderr
    cid = created.stdout.strip()
    root = clients.api("GET", "/info").json()["DockerRootDir"]
    log_path = os.path.join(root, "containers", cid, f"{cid}-json.log")
    with full_disk_under(log_path):
        done = clients.docker("start", "-a", name, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [str(i) for i in range(1, 30001)]
        assert clients.inspect(name)["State"]["ExitCode"] == 0
    assert os.path.getsize(log_path) == 0  # every write to the log failed, none got through
    assert clients.api("GET", "/_ping").status == 200
    assert clients.docker("logs", name).returncode == 0
