"""`build`: build an image from a Dockerfile with the daemon's classic builder.

The context directory is sent as a tar, without what its .dockerignore excludes (the
docker CLI's job, not the daemon's: the files never leave the client). A Dockerfile
outside the context travels in the tar under a name of its own, as the docker CLI
sends it.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import sys
import tarfile
import tempfile

from shared.client.api import Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "build",
    "[OPTIONS] PATH",
    "Build an image from a Dockerfile",
    [
        Flag("--add-host", "Add a custom host-to-IP mapping (host:ip)", metavar="list",
             many=True),
        Flag("--build-arg", "Set build-time variables", metavar="list", many=True),
        Flag("-f, --file", "Name of the Dockerfile (Default is 'PATH/Dockerfile')",
             metavar="string"),
        Flag("--force-rm", "Always remove intermediate containers"),
        Flag("--label", "Set metadata for an image", metavar="list", many=True),
        Flag("--network", "Set the networking mode for the RUN instructions during build",
             metavar="string"),
        Flag("--no-cache", "Do not use cache when building the image"),
        Flag("--platform", "Set platform if server is multi-platform capable",
             metavar="string"),
        Flag("--pull", "Always attempt to pull a newer version of the image"),
        Flag("-q, --quiet", "Suppress the build output and print image ID on success"),
        Flag("--rm", "Remove intermediate containers after a successful build",
             default=True),
        Flag("-t, --tag", "Name and optionally a tag in the 'name:tag' format",
             metavar="list", many=True),
        Flag("--target", "Set the target build stage to build.", metavar="string"),
    ],
    min_args=1,
    max_args=1,
)


def _pairs(items: list[str], from_env: bool) -> dict[str, str | None]:
    """KEY=VALUE; a bare KEY takes the client's environment's value (--build-arg)."""
    found: dict[str, str | None] = {}
    for item in items:
        key, eq, value = item.partition("=")
        found[key] = value if eq else (os.environ.get(key) if from_env else "")
    return found


def context_tar(directory: str, dockerfile: str | None) -> tuple[tempfile.SpooledTemporaryFile,
                                                                 str]:
    """The context as a tar (.dockerignore applied) and the Dockerfile's name in it."""
    from shared.build import dockerignore

    directory = os.path.abspath(directory)
    ignore_path = os.path.join(directory, ".dockerignore")
    patterns: list[str] = []
    if os.path.isfile(ignore_path):
        with open(ignore_path, encoding="utf-8") as f:
            patterns = dockerignore.read_patterns(f.read())
    out = tempfile.SpooledTemporaryFile(max_size=16 << 20)
    name = "Dockerfile"
    extra: bytes | None = None
    if dockerfile:
        full = os.path.abspath(dockerfile)
        if os.path.commonpath([full, directory]) == directory:
            name = os.path.relpath(full, directory)
        else:
            with open(full, "rb") as f:
                extra = f.read()
            name = f".dockerfile.{secrets.token_hex(10)}"
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        # The Dockerfile and .dockerignore travel even when ignored: the daemon reads them.
        for rel in dockerignore.included(directory, dockerignore.client_patterns(patterns,
                                                                                 name)):
            tar.add(os.path.join(directory, rel), arcname=rel, recursive=False)
        if extra is not None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(extra), 0o644
            tar.addfile(info, io.BytesIO(extra))
    out.seek(0)
    return out, name


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.client.jsonstream import Display, StreamError, send_file

    if args[0] == "-" or "://" in args[0]:
        print("this client builds from a local directory only", file=sys.stderr)
        return 1
    if not os.path.isdir(args[0]):
        print(f'unable to prepare context: path "{args[0]}" not found', file=sys.stderr)
        return 1
    body, dockerfile = context_tar(args[0], options["file"])
    query: dict[str, Any] = {
        "t": options["tag"] or [],
        "dockerfile": dockerfile,
        "buildargs": json.dumps(_pairs(options["build_arg"] or [], True)),
        "labels": json.dumps(_pairs(options["label"] or [], False)),
        "nocache": options["no_cache"] or None,
        "rm": 1 if options["rm"] else 0,
        "forcerm": options["force_rm"] or None,
        "pull": options["pull"] or None,
        "q": options["quiet"] or None,
        "target": options["target"] or None,
        "networkmode": options["network"] or None,
        "extrahosts": options["add_host"] or [],
        "platform": options["platform"] or None,
        "version": "1",
    }
    if not options["quiet"]:
        size = body.seek(0, os.SEEK_END)
        body.seek(0)
        print(f"Sending build context to Docker daemon  {size / 1024:.3f}kB")
        print()
    with body:
        response = send_file(client, "POST", "/build", body, query=query)  # type: ignore[arg-type]
    try:
        Display(sys.stdout, terminal=False).follow(response)
    except StreamError as error:
        print(str(error), file=sys.stderr)
        return error.code
    return 0
