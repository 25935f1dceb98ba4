"""Fixtures for the CLI tests: an engine to talk to, and the CLIs to talk with.

The engine is $WB_TEST_HOST when set (`unix:///path`, e.g. one of our stages, which
must already have busybox:latest), else each engine named by `--engine` or
$WB_ENGINES (`stage2,stage4`; tests/engines.py ENGINES), else a private real dockerd
(`reference`). Each is started for the session in a directory of its own and stopped
by PID (tests/engines.py start_engine); every test runs once per engine.

Most tests run twice, once with our `whalebones` and once with the real docker CLI,
with the same assertions: whatever docker does, we do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines import DOCKER_CLI, DOCKERD, repo_env, start_engine

# Debian's interpreter starts faster than a pyenv shim; either runs the CLI.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
OURS = [PYTHON, "-S", "-m", "shared.client"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_name" in metafunc.fixturenames:
        if os.environ.get("WB_TEST_HOST"):
            names = ["given"]
        else:
            given = metafunc.config.getoption("engine") or [os.environ.get("WB_ENGINES") or
                                                             "reference"]
            names = [n.strip() for item in given for n in item.split(",") if n.strip()]
        metafunc.parametrize("engine_name", names, scope="session")


@pytest.fixture(scope="session")
def host(engine_name: str) -> Iterator[str]:
    """`unix:///...` of an Engine API with busybox:latest in its image store."""
    if engine_name == "given":
        yield os.environ["WB_TEST_HOST"]
        return
    if engine_name == "reference" and not os.path.exists(DOCKERD):
        pytest.skip(f"no WB_TEST_HOST given and no reference dockerd at {DOCKERD}")
    if os.geteuid() != 0:
        pytest.skip(f"engine {engine_name} needs root")
    with start_engine(engine_name) as engine:
        yield engine.host


class Cli:
    """One CLI pointed at the test engine: `cli("ps", "-a")` -> CompletedProcess (text)."""

    def __init__(self, name: str, host: str, config_dir: Path) -> None:
        self.name = name
        if name == "whalebones":
            self.argv = [*OURS, "-H", host]
            self.env = repo_env()
        else:
            self.argv = [DOCKER_CLI, "-H", host]
            self.env = dict(os.environ, DOCKER_CONFIG=str(config_dir))

    def __call__(self, *args: str, input: str | None = None,
                 timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.argv, *args], input=input, capture_output=True,
                              text=True, timeout=timeout, env=self.env,
                              stdin=None if input is not None else subprocess.DEVNULL)


@pytest.fixture(params=["whalebones", "docker"])
def cli(request: pytest.FixtureRequest, host: str,
        tmp_path_factory: pytest.TempPathFactory) -> Cli:
    if request.param == "docker" and not shutil.which(DOCKER_CLI):
        pytest.skip(f"the real docker CLI is not at {DOCKER_CLI}")
    return Cli(request.param, host, tmp_path_factory.mktemp("docker-config"))


@pytest.fixture
def ours(host: str) -> Cli:
    """Only our CLI: for what the docker CLI does differently (pulls, messages)."""
    return Cli("whalebones", host, Path("/nonexistent"))


@pytest.fixture
def name(host: str) -> Iterator[str]:
    """A fresh container name; whatever has it is removed after the test."""
    from shared.client.api import APIError, Client

    container = f"wb-client-{uuid.uuid4().hex[:10]}"
    yield container
    try:
        Client(host).request("DELETE", f"/containers/{container}", query={"force": True})
    except APIError as error:
        assert error.status == 404, error.message


@pytest.fixture(autouse=True)
def no_containers_left(host: str) -> Iterator[None]:
    """Every test leaves the engine with the containers it found."""
    from shared.client.api import Client

    client = Client(host)
    before = {c["Id"] for c in client.request("GET", "/containers/json", query={"all": True})}
    yield
    after = {c["Id"] for c in client.request("GET", "/containers/json", query={"all": True})}
    left = after - before
    for container in left:
        client.request("DELETE", f"/containers/{container}", query={"force": True})
    assert not left, f"containers left behind: {left}"
