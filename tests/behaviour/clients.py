"""The three ways a test talks to an engine, plus raw HTTP for error statuses.

    clients.docker(*args)   the real docker CLI        -> CompletedProcess (text)
    clients.ours(*args)     our CLI, python -m shared.client -> CompletedProcess (text)
    clients.py              docker-py DockerClient
    clients.api(method, path, body=None)  one HTTP request -> Response
    clients.name()          a fresh container name, removed (rm -f) after the test
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.engines import DOCKER_CLI, Engine, UnixHTTPConnection, repo_env

_counter = itertools.count()
Completed = subprocess.CompletedProcess  # text, or bytes with binary=True


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> str:
        """The `message` of an error body `{"message": "..."}`."""
        return str(self.json().get("message", ""))


class Clients:
    def __init__(self, engine: Engine, test_name: str) -> None:
        self.engine = engine
        self.names: list[str] = []
        self._prefix = "wb-" + re.sub(r"[^a-zA-Z0-9]+", "-", test_name)[:30].strip("-").lower()
        self._py: Any = None
        self._docker_config = engine.workdir / "docker-config"
        self._docker_config.mkdir(exist_ok=True)
        self.before = self.container_ids()

    # --- names and clean-up ---------------------------------------------------------

    def name(self) -> str:
        """A container name unique to this run; the container is removed after the test."""
        name = f"{self._prefix}-{next(_counter)}-{uuid.uuid4().hex[:6]}"
        self.names.append(name)
        return name

    def container_ids(self) -> set[str]:
        return {c["Id"] for c in self.api("GET", "/containers/json?all=1").json()}

    def cleanup(self) -> list[str]:
        """rm -f every container this test named or made; return the names it made."""
        for name in self.names:
            self.api("DELETE", f"/containers/{name}?force=1&v=1")
        left = self.container_ids() - self.before
        for cid in left:
            self.api("DELETE", f"/containers/{cid}?force=1&v=1")
        if self._py is not None:
            self._py.close()
        return sorted(left)

    # --- the clients ----------------------------------------------------------------

    def docker(self, *args: str, input: str | None = None, timeout: float = 60,
               env: dict[str, str] | None = None, binary: bool = False) -> Completed:
        """The real docker CLI against this engine (bytes, untranslated, with binary=True)."""
        full_env = {**os.environ, "DOCKER_CONFIG": str(self._docker_config), **(env or {})}
        return subprocess.run([DOCKER_CLI, "-H", self.engine.host, *args], input=input,
                              capture_output=True, text=not binary, timeout=timeout, env=full_env,
                              stdin=None if input is not None else subprocess.DEVNULL)

    def ours(self, *args: str, input: str | None = None, timeout: float = 60,
             env: dict[str, str] | None = None, binary: bool = False) -> Completed:
        """Our CLI (shared.client) against this engine (bytes with binary=True)."""
        return subprocess.run([*self.ours_command(), *args], input=input,
                              capture_output=True, text=not binary, timeout=timeout,
                              env=repo_env(**(env or {})),
                              stdin=None if input is not None else subprocess.DEVNULL)

    def docker_command(self) -> list[str]:
        return [DOCKER_CLI, "-H", self.engine.host]

    def ours_command(self) -> list[str]:
        return [sys.executable, "-m", "shared.client", "-H", self.engine.host]

    def cli_env(self) -> dict[str, str]:
        return repo_env(DOCKER_CONFIG=str(self._docker_config))

    @property
    def py(self) -> Any:
        """docker-py, negotiating the API version with the engine."""
        if self._py is None:
            import docker

            self._py = docker.DockerClient(base_url=self.engine.host, timeout=60)
        return self._py

    def api(self, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None, timeout: float = 30) -> Response:
        """One raw HTTP request; a dict or list body is sent as JSON."""
        headers = dict(headers or {})
        if isinstance(body, dict | list):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            headers.setdefault("Content-Type", "application/json")
        conn = UnixHTTPConnection(str(self.engine.socket), timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            reply = conn.getresponse()
            data = reply.read()
        finally:
            conn.close()
        return Response(reply.status, {k.lower(): v for k, v in reply.getheaders()}, data)

    # --- conveniences ---------------------------------------------------------------

    def inspect(self, name: str) -> dict[str, Any]:
        reply = self.api("GET", f"/containers/{name}/json")
        assert reply.status == 200, (reply.status, reply.body)
        return reply.json()

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 10,
                   what: str = "condition") -> Any:
        return wait_until(predicate, timeout, what)


def wait_until(predicate: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    """Poll `predicate` until it is truthy (returned) or `timeout` seconds pass (fail)."""
    end = time.monotonic() + timeout
    while True:
        with contextlib.suppress(AssertionError):
            value = predicate()
            if value:
                return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
