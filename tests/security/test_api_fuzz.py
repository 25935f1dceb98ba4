"""An API fuzzer: requests generated from Docker's own description of its API.

schemathesis reads Docker's published swagger for API 1.45 (docker-api-v1.45.yaml,
moby's api/swagger.yaml at v26.1.5) and generates requests for every operation we
serve: valid ones (each field as the schema allows, in any combination) and malformed
ones (wrong types, missing fields, values out of range). Every answer must be below
500 (a 4xx is a refusal; a 5xx is a bug to fix where the input is read:
shared/daemon/gotypes.py, shared/api/params.py, the routes), and afterwards every
container and image still listed must still inspect.

It runs in-process, against the Flask app of shared/api/app.py over an Engine whose
executor is the FAKE chroot one of tests/unit/fake_executor.py (labelled: nothing here
is a container; the API and the daemon core are what is tested). The budget is fixed
and reproducible: WB_FUZZ_EXAMPLES examples per operation and mode (default 50), at
most WB_FUZZ_SECONDS (default 150) in all, with a derandomized seed (WB_FUZZ_SEED=N
explores elsewhere; WB_FUZZ_TRACE=FILE appends each request to FILE as a curl line,
before it is sent, to find one that hangs).

Left out, each for a reason: pulls, pushes and `docker login` (they reach a registry
over the network), and attach and exec start (they take over the socket, which an
in-process request has not; tests/security/test_attach_backpressure.py attacks them).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

from flask import Flask  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from werkzeug.exceptions import MethodNotAllowed, NotFound  # noqa: E402

from shared.api.app import create_app  # noqa: E402
from shared.daemon.engine import Engine  # noqa: E402
from shared.errors import EngineError  # noqa: E402
from shared.images.busybox import build_busybox  # noqa: E402
from shared.images.store import ImageStore  # noqa: E402
from tests.unit.fake_executor import FakeExecutor  # noqa: E402

SWAGGER = Path(__file__).with_name("docker-api-v1.45.yaml")
EXAMPLES = int(os.environ.get("WB_FUZZ_EXAMPLES", "50"))
SECONDS = float(os.environ.get("WB_FUZZ_SECONDS", "150"))
SEED = os.environ.get("WB_FUZZ_SEED")  # another seed explores other requests

LEFT_OUT = {
    ("POST", "/images/create"), ("POST", "/images/{name}/push"), ("POST", "/auth"),
    ("POST", "/containers/{id}/attach"), ("POST", "/exec/{id}/start"),
    # A stream until its `until`: a generated request without one never ends. Its
    # parameters (since after until, bad filters) are tests/behaviour/test_events.py's.
    ("GET", "/events"),
}

# /images/load's body is a tar (`docker save`'s): the swagger calls it a binary string,
# sent as it is generated. Real and broken tars: test_api_inputs.py, hostile.py.
schemathesis.serializer.alias("application/x-tar", "application/octet-stream")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the engine's overlay mounts need root")


@pytest.fixture(autouse=True)
def _engine_scope() -> None:
    """In-process, once: not run per engine of $WB_ENGINES (conftest.py's fixture,
    which would start each engine, is replaced here)."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Engine]]:
    root = tmp_path_factory.mktemp("fuzz")
    images = ImageStore(str(root / "images"))
    build_busybox(images)
    engine = Engine(FakeExecutor(), str(root / "root"), str(root / "run"), "fake", images)
    try:
        yield create_app(engine), engine
    finally:
        for c in engine.containers.all():
            engine.remove(c.id, force=True)
        engine.shutdown()
        shutil.rmtree(root, ignore_errors=True)


def served(app: Flask, method: str, path: str) -> bool:
    """Whether our app has a route for this operation of Docker's API."""
    adapter = app.url_map.bind("docker")
    try:
        adapter.match(path.replace("{", "").replace("}", ""), method=method)
    except (NotFound, MethodNotAllowed):
        return False
    return True


def inspectable(client, kind: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The ids of what is listed, each checked to inspect."""
    listed = client.get(f"/{kind}/json?all=1")
    assert listed.status_code == 200, listed.get_data(as_text=True)
    ids = [item["Id"] for item in listed.get_json()]
    for item in ids:
        reply = client.get(f"/{kind}/{item}/json")
        assert reply.status_code == 200, (kind, item, reply.get_data(as_text=True))
    return ids


def test_no_generated_request_is_a_server_error(app: tuple[Flask, Engine]) -> None:
    flask_app, engine = app
    client = flask_app.test_client()
    made = client.post("/containers/create?name=fuzz-target",
                       json={"Image": "busybox", "Cmd": ["true"]})
    assert made.status_code == 201, made.get_data(as_text=True)
    containers_before = inspectable(client, "containers")
    inspectable(client, "images")

    schema = schemathesis.openapi.from_path(SWAGGER)
    deadline = time.monotonic() + SECONDS
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in LEFT_OUT or \
                not served(flask_app, operation.method.upper(), operation.path):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if time.monotonic() > deadline:
                break
            ran += 1
            try:
                _fuzz(operation, mode, flask_app, engine, deadline)
            except Unsatisfiable:
                continue  # nothing to break (GET /_ping has no input to get wrong)
            except Exception as e:  # noqa: BLE001 - every operation's failure is reported
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): "
                                f"{str(e)[:2000]}")
    assert ran > 30, f"only {ran} operations fuzzed"
    assert not failures, "\n\n".join(failures)

    # Nothing corrupted: what is listed still inspects; what was listed and is gone was
    # removed whole (a 404), not broken.
    inspectable(client, "containers")
    inspectable(client, "images")
    for cid in containers_before:
        assert client.get(f"/containers/{cid}/json").status_code in (200, 404)
    assert client.get("/_ping").status_code == 200


# Random names find nothing, and a create request for an image that does not exist is
# refused before its body is read: half the cases name what exists instead.
# Any other name must name nothing: a generated id that happens to be a prefix of a
# container the fuzzer made (ids are random: "0" sometimes is) would make the run
# depend on luck, and could start one, or wait (rightly) for one that never stops.
KNOWN = {"/containers/": "fuzz-target", "/images/": "busybox"}
NOTHING = "fuzz-no-such-container"
WAITS = ("/containers/{id}/wait",)
DELIBERATE = (501, 503)  # a known container's next exit may never come


def _names_nothing_by_chance(engine: Engine, ref: str) -> str:
    try:
        engine.containers.get(ref)
    except EngineError:
        return ref
    return NOTHING


def _fuzz(operation, mode, flask_app: Flask, engine: Engine,  # type: ignore[no-untyped-def]
          deadline: float) -> None:
    known = next((v for k, v in KNOWN.items() if operation.path.startswith(k)), None)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=SEED is None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @seed(int(SEED or 0))
    @given(case=operation.as_strategy(generation_mode=mode), existing=st.booleans())
    def run(case, existing: bool) -> None:  # type: ignore[no-untyped-def]
        if time.monotonic() > deadline:
            return
        for param in ("id", "name"):
            if param not in (case.path_parameters or {}):
                continue
            if existing and known and operation.path not in WAITS:
                case.path_parameters[param] = known
            elif operation.path.startswith("/containers/"):
                case.path_parameters[param] = _names_nothing_by_chance(
                    engine, str(case.path_parameters[param]))
        if existing and operation.path == "/containers/create" and isinstance(case.body, dict):
            case.body["Image"] = "busybox"
        if os.environ.get("WB_FUZZ_TRACE"):
            with open(os.environ["WB_FUZZ_TRACE"], "a") as trace:
                print(case.as_curl_command(), file=trace)
        response = _answer(case, flask_app)
        # 501 and 503 are answers, not failures: a route whose feature this engine has
        # not (shared/api/routes/not_yet.py) or a swarm route on a node in no swarm
        # (swarm.py), as a Docker engine without that feature answers. A crash is 500.
        assert response.status_code < 500 or response.status_code in DELIBERATE, (
            f"{response.status_code} {response.text[:500]}\n"
            f"    {case.as_curl_command()}")

    run()


REQUEST_SECONDS = 30  # no request should wait: a hung one fails the run, named


def _answer(case, flask_app: Flask):  # type: ignore[no-untyped-def]
    """case.call in a thread of its own, so that a request that never answers fails
    the test (naming it) instead of hanging `make test`."""
    done: list = []

    def call() -> None:
        try:
            done.append(case.call(app=flask_app))
        except BaseException as e:  # re-raised below, in the test's thread
            done.append(e)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(REQUEST_SECONDS)
    assert done, f"no answer in {REQUEST_SECONDS} s:\n    {case.as_curl_command()}"
    if isinstance(done[0], BaseException):
        raise done[0]
    return done[0]
