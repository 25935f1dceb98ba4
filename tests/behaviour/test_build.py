"""`DOCKER_BUILDKIT=0 docker build`: the classic builder, on every stage and on the
reference, checked by what the built images do and contain (`docker run`, their
config, `docker history`), by the cache, and by what a failed build leaves."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.behaviour.clients import Clients
from tests.engines import DOCKER_CLI, start_engine

LEGACY = {"DOCKER_BUILDKIT": "0"}

MULTI_STEP = """\
FROM busybox
ARG FLAVOUR=plain
ENV GREETING=hello APP_HOME=/app
LABEL role=test "two words"="a b"
WORKDIR $APP_HOME
COPY file.txt ./
RUN echo "$GREETING $FLAVOUR" > /msg && echo built-it
EXPOSE 8080
USER nobody
CMD ["cat", "/msg"]
"""


@pytest.fixture
def tag(clients: Clients) -> Iterator[str]:
    name = clients.name() + "-img"
    yield name
    clients.docker("rmi", "-f", name)


def _context(tmp_path: Path, dockerfile: str, **files: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for name, text in files.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def _build(clients: Clients, context: Path, *args: str):
    return clients.docker("build", *args, str(context), env=LEGACY, timeout=180)


def _run(clients: Clients, image: str, *command: str) -> str:
    out = clients.docker("run", "--rm", image, *command)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_multi_step_build(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path, MULTI_STEP, **{"file.txt": "from the context\n"})
    out = _build(clients, ctx, "-t", tag, "--build-arg", "FLAVOUR=spicy")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert "Step 1/10 : FROM busybox" in lines
    assert "Step 7/10 : RUN echo \"$GREETING $FLAVOUR\" > /msg && echo built-it" in lines
    assert "built-it" in lines
    assert re.fullmatch(r"Successfully built [0-9a-f]{12}", lines[-2])
    assert lines[-1] == f"Successfully tagged {tag}:latest"
    assert _run(clients, tag) == "hello spicy\n"
    assert _run(clients, tag, "sh", "-c", "pwd; id -un; cat file.txt").splitlines() == [
        "/app", "nobody", "from the context"]
    config = clients.api("GET", f"/images/{tag}/json").json()["Config"]
    assert "GREETING=hello" in config["Env"] and "APP_HOME=/app" in config["Env"]
    assert not any(e.startswith("FLAVOUR=") for e in config["Env"])  # an ARG is no ENV
    assert config["Labels"] == {"role": "test", "two words": "a b"}
    assert config["WorkingDir"] == "/app" and config["User"] == "nobody"
    assert config["Cmd"] == ["cat", "/msg"] and "8080/tcp" in config["ExposedPorts"]
    history = clients.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", tag)
    created_by = history.stdout.splitlines()
    assert created_by[0] == '/bin/sh -c #(nop)  CMD ["cat" "/msg"]'
    assert created_by[3] == '|1 FLAVOUR=spicy /bin/sh -c echo "$GREETING $FLAVOUR" > /msg ' \
                            "&& echo built-it"
    assert created_by[4].startswith("/bin/sh -c #(nop) COPY file:") and \
        created_by[4].endswith(" in ./ ")
    assert created_by[5] == "/bin/sh -c #(nop) WORKDIR /app"
    assert created_by[6] == "/bin/sh -c #(nop)  LABEL role=test two words=a b"
    assert created_by[7] == "/bin/sh -c #(nop)  ENV GREETING=hello APP_HOME=/app"
    assert created_by[8] == "/bin/sh -c #(nop)  ARG FLAVOUR=plain"
    # Every step's container is gone (rm is the default).
    assert clients.container_ids() == clients.before


def test_the_second_build_uses_the_cache(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path, MULTI_STEP, **{"file.txt": "one\n"})
    first = _build(clients, ctx, "-t", tag)
    assert first.returncode == 0, first.stdout + first.stderr
    second = _build(clients, ctx, "-t", tag)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count(" ---> Using cache") == 9
    assert "Running in" not in second.stdout
    assert first.stdout.splitlines()[-2] == second.stdout.splitlines()[-2]  # the same ID
    # A changed file misses from its COPY on; --no-cache misses everywhere.
    (ctx / "file.txt").write_text("two\n")
    changed = _build(clients, ctx, "-t", tag)
    assert changed.stdout.count(" ---> Using cache") == 4, changed.stdout
    assert _run(clients, tag, "cat", "file.txt") == "two\n"
    fresh = _build(clients, ctx, "--no-cache", "-t", tag)
    assert fresh.returncode == 0 and "Using cache" not in fresh.stdout
    assert fresh.stdout.splitlines()[-2] != changed.stdout.splitlines()[-2]


MULTI_STAGE = """\
FROM busybox AS build
RUN mkdir /out && echo compiled > /out/app && echo secret > /out/.secret
FROM busybox
COPY --from=build /out/app /bin/app
CMD ["cat", "/bin/app"]
"""


def test_multi_stage_and_target(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path, MULTI_STAGE)
    out = _build(clients, ctx, "-t", tag)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Step 3/5 : FROM busybox" in out.stdout
    assert _run(clients, tag) == "compiled\n"
    assert _run(clients, tag, "sh", "-c", "test -e /out || echo no-out") == "no-out\n"
    target = _build(clients, ctx, "--target", "build", "-t", tag)
    assert target.returncode == 0, target.stderr
    assert "Step 3/" not in target.stdout
    assert _run(clients, tag, "cat", "/out/app") == "compiled\n"
    missing = _build(clients, ctx, "--target", "nowhere", "-t", tag)
    assert missing.returncode != 0


def test_a_failing_run_reports_its_exit_code(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path, "FROM busybox\nENV A=1\nRUN echo before; exit 3\nCMD true\n")
    images = {i["Id"] for i in clients.api("GET", "/images/json?all=1").json()}
    out = _build(clients, ctx, "--force-rm", "-t", tag)
    assert out.returncode == 3  # the CLI exits with the step's code
    assert "The command '/bin/sh -c echo before; exit 3' returned a non-zero code: 3" \
        in out.stderr
    assert "before" in out.stdout and "Successfully" not in out.stdout
    assert clients.api("GET", f"/images/{tag}/json").status == 404
    assert clients.container_ids() == clients.before  # --force-rm: no container left
    left = {i["Id"] for i in clients.api("GET", "/images/json?all=1").json()} - images
    assert len(left) <= 1  # at most the ENV step's image (a cache entry), never the RUN's
    # Without --force-rm, Docker keeps the failed step's container for a look inside.
    kept = _build(clients, ctx, "-t", tag)
    assert kept.returncode == 3
    stayed = clients.container_ids() - clients.before
    assert len(stayed) == 1
    assert clients.inspect(stayed.pop())["State"]["ExitCode"] == 3


def test_dockerignore_and_another_dockerfile(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path, "", **{
        "build.Dockerfile": "FROM busybox\nCOPY . /ctx\nCMD [\"ls\", \"-a\", \"/ctx\"]\n",
        ".dockerignore": "secret*\n**/*.log\n!keep.log\n",
        "secret.txt": "no", "app.txt": "yes", "sub__debug.log": "no", "keep.log": "yes"})
    out = _build(clients, ctx, "-f", str(ctx / "build.Dockerfile"), "-t", tag)
    assert out.returncode == 0, out.stdout + out.stderr
    listed = set(_run(clients, tag).split())
    assert {"app.txt", "keep.log", "sub"} <= listed
    assert "secret.txt" not in listed
    assert _run(clients, tag, "ls", "/ctx/sub") == ""


def test_a_bad_dockerfile_is_refused(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path, "FROM busybox\nNOSUCH thing\n")
    out = _build(clients, ctx, "-t", tag)
    assert out.returncode == 1
    assert "unknown instruction: NOSUCH" in out.stderr
    assert clients.container_ids() == clients.before


def test_docker_py_builds(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path, "FROM busybox\nRUN echo from-py > /py\nCMD [\"cat\", \"/py\"]\n")
    image, logs = clients.py.images.build(path=str(ctx), tag=tag, rm=True)
    assert f"{tag}:latest" in image.tags
    text = "".join(chunk.get("stream", "") for chunk in logs)
    assert "Step 2/3 : RUN echo from-py > /py" in text and "Successfully built" in text
    assert _run(clients, tag) == "from-py\n"


def test_our_cli_builds(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx", "FROM busybox\nARG WHO\nCOPY . /ctx\n"
                   "RUN echo \"hi $WHO\" > /hi\nCMD [\"cat\", \"/hi\"]\n",
                   **{".dockerignore": "*.secret\n", "a.secret": "no", "b.txt": "yes"})
    out = clients.ours("build", "-t", tag, "--build-arg", "WHO=ours", "--label", "k=v",
                       str(ctx), timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Step 1/6 : FROM busybox" in out.stdout
    assert out.stdout.splitlines()[-1] == f"Successfully tagged {tag}:latest"
    assert _run(clients, tag) == "hi ours\n"
    assert "a.secret" not in _run(clients, tag, "ls", "/ctx").split()
    labels = clients.api("GET", f"/images/{tag}/json").json()["Config"]["Labels"]
    assert labels == {"k": "v"}
    quiet = clients.ours("build", "-q", "-t", tag, str(ctx), timeout=180)
    assert quiet.returncode == 0 and re.fullmatch(r"sha256:[0-9a-f]{64}\n", quiet.stdout)
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN exit 7\n")
    failed = clients.ours("build", "--force-rm", str(ctx), timeout=180)
    assert failed.returncode == 7
    assert "The command '/bin/sh -c exit 7' returned a non-zero code: 7" in failed.stderr


def test_history_names_the_steps_images(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path, "FROM busybox\nENV A=1\nRUN echo x > /x\n")
    out = _build(clients, ctx, "-t", tag)
    assert out.returncode == 0, out.stderr
    steps = re.findall(r" ---> ([0-9a-f]{12})\n", out.stdout)
    rows = clients.docker("history", "-q", tag).stdout.split()
    base = clients.docker("history", "-q", "busybox").stdout.split()
    assert rows == steps[:0:-1] + base  # steps[0]: the FROM, busybox itself
    assert clients.api("GET", f"/images/{tag}/json").json()["Parent"].startswith(
        "sha256:" + steps[-2])


def test_an_ignored_dockerfile_is_read_but_not_copied(clients, tag: str, tmp_path: Path
                                                     ) -> None:
    ctx = _context(tmp_path, "FROM busybox\nCOPY . /ctx\n",
                   **{".dockerignore": "Dockerfile\n.dockerignore\n", "kept.txt": "x"})
    for build in (clients.docker, clients.ours):
        out = build("build", "-t", tag, str(ctx), env=LEGACY, timeout=180)
        assert out.returncode == 0, out.stdout + out.stderr
        assert _run(clients, tag, "ls", "-a", "/ctx").split() == [".", "..", "kept.txt"]


@pytest.mark.skipif(shutil.which("skopeo") is None, reason="skopeo is not installed")
def test_a_built_image_is_a_real_image(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx", "FROM busybox\nRUN echo x > /x && rm /bin/ls\n"
                   "ENV A=1\n")
    assert _build(clients, ctx, "-t", tag).returncode == 0
    saved = tmp_path / "image.tar"
    out = clients.docker("save", "-o", str(saved), tag)
    assert out.returncode == 0, out.stderr
    seen = subprocess.run(["skopeo", "inspect", "--config", f"docker-archive:{saved}"],
                          capture_output=True, text=True, timeout=60)
    assert seen.returncode == 0, seen.stderr
    config = json.loads(seen.stdout)
    inspect = clients.api("GET", f"/images/{tag}/json").json()
    assert config["rootfs"]["diff_ids"] == inspect["RootFS"]["Layers"]
    assert [h.get("empty_layer", False) for h in config["history"][-2:]] == [False, True]
    assert "A=1" in config["config"]["Env"]


@pytest.mark.skipif(shutil.which("dockerd") is None, reason="no dockerd to load the image into")
def test_a_built_image_loads_into_a_real_docker_engine(clients, tag: str,
                                                       tmp_path: Path) -> None:
    """`docker save` from this engine, `docker load` into a real dockerd of its own,
    and the image runs there as it was built."""
    if not clients.engine.ours:
        pytest.skip("the reference is the real engine: nothing to carry over")
    ctx = _context(tmp_path / "ctx", "FROM busybox\nRUN echo built here > /proof && rm /bin/ls\n"
                   "ENV A=1\nCMD [\"cat\", \"/proof\"]\n")
    assert _build(clients, ctx, "-t", tag).returncode == 0
    saved = tmp_path / "image.tar"
    out = clients.docker("save", "-o", str(saved), tag)
    assert out.returncode == 0, out.stderr
    with start_engine("reference") as real:
        docker = [DOCKER_CLI, "-H", real.host]
        loaded = subprocess.run([*docker, "load", "-i", str(saved)], capture_output=True,
                                text=True, timeout=120)
        assert loaded.returncode == 0, loaded.stderr
        ran = subprocess.run([*docker, "run", "--rm", "--network", "none", tag],
                             capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout == "built here\n"
        gone = subprocess.run([*docker, "run", "--rm", "--network", "none", tag,
                               "ls"], capture_output=True, text=True, timeout=120)
        assert gone.returncode != 0, "the layer's whiteout of /bin/ls was lost"
        env = subprocess.run([*docker, "image", "inspect", "-f", "{{json .Config.Env}}",
                              tag], capture_output=True, text=True, timeout=60)
        assert "A=1" in json.loads(env.stdout)


def test_from_scratch(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx", "FROM busybox AS tools\nFROM scratch\n"
                   "COPY --from=tools /bin/busybox /bin/busybox\nCOPY hello /etc/hello\n"
                   'ENTRYPOINT ["/bin/busybox"]\nCMD ["cat", "/etc/hello"]\n',
                   hello="from scratch\n")
    out = _build(clients, ctx, "-t", tag)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _run(clients, tag) == "from scratch\n"
    layers = clients.api("GET", f"/images/{tag}/json").json()["RootFS"]["Layers"]
    assert len(layers) == 2


def test_onbuild_triggers_run_in_the_child_build(clients, tag: str, tmp_path: Path) -> None:
    base = _context(tmp_path / "base", "FROM busybox\nONBUILD RUN echo triggered > /t\n")
    assert _build(clients, base, "-t", tag + "-base").returncode == 0
    try:
        child = _context(tmp_path / "child", f"FROM {tag}-base\nCMD [\"cat\", \"/t\"]\n")
        out = _build(clients, child, "-t", tag)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "# Executing 1 build trigger" in out.stdout
        assert _run(clients, tag) == "triggered\n"
        config = clients.api("GET", f"/images/{tag}/json").json()["Config"]
        assert not config["OnBuild"]
    finally:
        clients.docker("rmi", "-f", tag, tag + "-base")


def test_a_copy_never_leaves_the_context(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path / "ctx", "FROM busybox\nCOPY ../outside /x\n")
    (tmp_path / "outside").write_text("not yours")
    out = _build(clients, ctx, "-t", tag)
    assert out.returncode != 0
    assert "forbidden path outside the build context: ../outside" in out.stderr
    # A symlink in the context is followed inside the context only: /etc is the
    # context's etc, which it does not have.
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY link/passwd /x\n")
    (ctx / "link").symlink_to("/etc")
    out = _build(clients, ctx, "-t", tag)
    assert out.returncode != 0 and "Successfully" not in out.stdout
    assert clients.api("GET", f"/images/{tag}/json").status == 404


@pytest.fixture(scope="module")
def registry():
    from tests.registry import have_registry, start_registry

    if not have_registry():
        pytest.skip("docker-registry not installed")
    with start_registry() as running:
        yield running


def test_from_an_image_not_here_pulls_it(clients, tag: str, tmp_path: Path, registry
                                         ) -> None:
    remote = f"{registry.host}/wb/{tag}:v1"
    assert clients.docker("tag", "busybox", remote).returncode == 0
    try:
        assert clients.docker("push", remote).returncode == 0
        assert clients.docker("rmi", remote).returncode == 0
        ctx = _context(tmp_path, f"FROM {remote}\nRUN echo pulled > /p\n")
        out = _build(clients, ctx, "-t", tag)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "Pulling from wb/" in out.stdout
        assert _run(clients, tag, "cat", "/p") == "pulled\n"
        assert clients.api("GET", f"/images/{remote}/json").status == 200
        again = _build(clients, ctx, "--pull", "-t", tag)  # asks the registry again
        assert again.returncode == 0, again.stdout + again.stderr
        assert "Pulling from wb/" in again.stdout and "Using cache" in again.stdout
    finally:
        clients.docker("rmi", "-f", remote)


def test_network_and_extra_hosts_reach_run(clients, tag: str, tmp_path: Path) -> None:
    ctx = _context(tmp_path, "FROM busybox\nRUN ls /sys/class/net > /nets && "
                   "grep buildhost /etc/hosts > /hosts\n")
    out = _build(clients, ctx, "--no-cache", "--network", "none", "--add-host",
                 "buildhost:10.1.2.3", "-t", tag)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _run(clients, tag, "cat", "/nets").split() == ["lo"]
    assert _run(clients, tag, "cat", "/hosts").split() == ["10.1.2.3", "buildhost"]
