"""`pull`: fetch an image from a registry, showing the daemon's progress as it goes."""

from __future__ import annotations

import sys

from shared.client.api import Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any, TextIO

COMMAND = Command(
    "pull",
    "[OPTIONS] NAME[:TAG|@DIGEST]",
    "Download an image from a registry",
    [
        Flag("--platform", "Set platform if server is multi-platform capable", metavar="string"),
        Flag("-q, --quiet", "Suppress verbose output"),
    ],
    min_args=1,
    max_args=1,
)

DOCKER_HUB = "docker.io"


def split_name(name: str) -> tuple[str, str, str]:
    """`host:5000/x/y:tag` -> (registry, repository as given, tag or @digest part).

    Docker's rule for the first component: a registry if it has a dot or a port or
    is `localhost`; otherwise the name is on Docker Hub."""
    first, slash, _ = name.partition("/")
    registry = first if slash and ("." in first or ":" in first or first == "localhost") \
        else DOCKER_HUB
    repository, at, digest = name.partition("@")
    if at:
        return registry, repository, digest
    last = repository.rfind(":")
    if last > repository.rfind("/"):
        return registry, repository[:last], repository[last + 1:]
    return registry, repository, ""


def normalized(name: str) -> str:
    """What the docker CLI prints after a pull: docker.io/library/busybox:latest."""
    registry, repository, ref = split_name(name)
    if registry == DOCKER_HUB and not repository.startswith(DOCKER_HUB + "/"):
        repository = f"{DOCKER_HUB}/{repository if '/' in repository else 'library/' + repository}"
    separator = "@" if ref.startswith("sha256:") else ":"
    return f"{repository}{separator}{ref or 'latest'}"


def registry_auth(registry: str) -> dict[str, str]:
    """The X-Registry-Auth header: our login for `registry`, from config.json."""
    from shared.images.registry.dockerconfig import registry_auth_header

    return {"X-Registry-Auth": registry_auth_header(registry)}


def pull_image(client: Client, name: str, *, platform: str | None = None,
               quiet: bool = False, out: TextIO | None = None) -> int:
    """Pull `name` and show the progress on `out` (stdout); what `run` and `create`
    can call when the image is missing. Returns the exit status."""
    from shared.client.jsonstream import Display, StreamError

    out = out or sys.stdout
    registry, repository, ref = split_name(name)
    if not ref:
        print("Using default tag: latest", file=out)
    query = {"fromImage": repository, "tag": ref or "latest", "platform": platform}
    response = client.stream("POST", "/images/create", query=query,
                             headers=registry_auth(registry))
    display = Display(out, terminal=out.isatty() and not quiet, quiet=quiet)
    try:
        display.follow(response)
    except StreamError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(normalized(name), file=out)
    return 0


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    return pull_image(client, args[0], platform=options["platform"], quiet=options["quiet"])
