"""`login`: check a username and password with a registry, then keep them in
config.json as the docker CLI does (base64 of user:pass, readable by you only)."""

from __future__ import annotations

import sys

from shared.client.api import Client
from shared.flags import Command, Flag

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from typing import Any

COMMAND = Command(
    "login",
    "[OPTIONS] [SERVER]",
    "Log in to a registry",
    [
        Flag("-u, --username", "Username", metavar="string"),
        Flag("-p, --password", "Password", metavar="string"),
        Flag("--password-stdin", "Take the password from stdin"),
    ],
    max_args=1,
)


def run(client: Client, options: dict[str, Any], args: list[str]) -> int:
    from shared.images.registry import dockerconfig

    server = args[0] if args else dockerconfig.DOCKER_HUB_KEY
    username, password = options["username"], options["password"]
    if options["password_stdin"]:
        if password:
            print("--password and --password-stdin are mutually exclusive", file=sys.stderr)
            return 1
        if not username:
            print("Must provide --username with --password-stdin", file=sys.stderr)
            return 1
        password = sys.stdin.read().rstrip("\r\n")
    elif password:
        print("WARNING! Using --password via the CLI is insecure. Use --password-stdin.",
              file=sys.stderr)
    if not username:
        username = input("Username: ").strip()
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
    body = {"username": username, "password": password, "serveraddress": server}
    client.request("POST", "/auth", body=body)
    path = dockerconfig.store(server, username, password)
    print(f"WARNING! Your password will be stored unencrypted in {path}.", file=sys.stderr)
    print("Login Succeeded")
    return 0
