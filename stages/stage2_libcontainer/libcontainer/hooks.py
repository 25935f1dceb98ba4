"""OCI hooks: programs the runtime runs at fixed points of a container's life.

    prestart, createRuntime   create, mounts done, before pivot_root   runtime's namespaces
    createContainer           create, right after them                 the container's
    startContainer            start, before the program's execve       the container's
    poststart                 start, after that execve                 runtime's
    poststop                  delete, after the container is gone      runtime's

Who runs them is what puts them in the right namespaces: the runtime process itself
runs prestart, createRuntime, poststart and poststop; init runs createContainer
(before pivot_root, so that the hook's path is still the host's) and startContainer
(after it: the path is the container's). Each gets the container's state (the OCI
state object) as JSON on its stdin, exactly its `env` as environment, and is killed
after `timeout` seconds. A failure of one of the first four fails the operation; a
failure of poststart or poststop is only a warning, and the next hook still runs.

Run from init too, so plain system calls only (fork, execve, waitpid): init is a
fork of a possibly multithreaded caller, where subprocess's locks are no safe bet.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

from stages.stage2_libcontainer.libcontainer.errors import ContainerError

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from collections.abc import Callable

KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop")


class HookError(ContainerError):
    """A hook that could not run, failed, or outlived its timeout."""


class Hook:
    """One entry of a `hooks` list. (A plain class: `runc start` and `delete` read
    hooks, and `dataclasses` costs each of them ~5 ms.)"""

    def __init__(self, path: str, args: list[str], env: list[str], timeout: int) -> None:
        self.path = path
        self.args = args or [path]  # no args: argv is the path alone, as execv's caller
        self.env = env
        self.timeout = timeout  # seconds; 0: none


def from_spec(spec: dict) -> dict[str, list[Hook]]:
    """The spec's `hooks`, by kind; ValueError(field, message) for a bad entry."""
    given = spec.get("hooks") or {}
    if not isinstance(given, dict):
        raise ValueError("hooks", "must be an object")
    result: dict[str, list[Hook]] = {}
    for kind in KINDS:
        entries = given.get(kind) or []
        if not isinstance(entries, list):
            raise ValueError(f"hooks.{kind}", "must be an array")
        for i, entry in enumerate(entries):
            where = f"hooks.{kind}[{i}]"
            if not isinstance(entry, dict):
                raise ValueError(where, "must be an object")
            path, args = entry.get("path"), entry.get("args") or []
            env, timeout = entry.get("env") or [], entry.get("timeout") or 0
            if not isinstance(path, str) or not os.path.isabs(path):
                raise ValueError(f"{where}.path", "must be an absolute path")
            for name, value in (("args", args), ("env", env)):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{where}.{name}", "must be an array of strings")
            if not isinstance(timeout, int) or timeout < 0 or entry.get("timeout") == 0:
                raise ValueError(f"{where}.timeout", "must be greater than zero")
            result.setdefault(kind, []).append(Hook(path, args, env, timeout))
    return result


def run(hook: Hook, state: dict) -> None:
    """Run one hook to its end with the state on its stdin; HookError if it fails."""
    env = dict(item.split("=", 1) for item in hook.env if "=" in item)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(read_end, 0)
            os.close(read_end)
            os.close(write_end)
            # Python ignores SIGPIPE, and an ignored signal stays ignored across
            # execve: the hook gets the default back, as from any shell.
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.execve(hook.path, hook.args, env)
        except OSError as e:
            os.write(2, f"hook {hook.path}: {e.strerror}\n".encode())
        os._exit(127)
    os.close(read_end)
    try:
        os.write(write_end, json.dumps(state).encode())
    except OSError:
        pass  # a hook need not read its stdin
    finally:
        os.close(write_end)
    deadline = time.monotonic() + hook.timeout if hook.timeout else None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if deadline is not None and time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise HookError(f"hook {hook.path} timed out after {hook.timeout} s")
        time.sleep(0.002)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        what = f"exit status {code}" if code > 0 else f"signal {-code}"
        raise HookError(f"hook {hook.path} failed: {what}")


def run_all(hooks: dict[str, list[Hook]], kind: str, state: dict) -> None:
    """Every hook of a kind, in order; the first failure stops them and is raised."""
    for i, hook in enumerate(hooks.get(kind, [])):
        try:
            run(hook, state)
        except HookError as e:
            raise HookError(f"{kind} hook #{i}: {e}") from None
        except OSError as e:
            raise HookError(f"{kind} hook #{i}: {hook.path}: {e.strerror}") from None


def run_all_warning(hooks: dict[str, list[Hook]], kind: str, state: dict,
                    warn: Callable[[str], None]) -> None:
    """poststart and poststop: a failure is a warning, and the next hook still runs."""
    for i, hook in enumerate(hooks.get(kind, [])):
        try:
            run_all({kind: [hook]}, kind, state)
        except HookError as e:
            warn(str(e).replace(f"{kind} hook #0", f"{kind} hook #{i}"))


def warn_on_stderr(message: str) -> None:
    """Where a hook's warning goes when the caller gave no log of its own."""
    print(f"warning: {message}", file=sys.stderr, flush=True)
