"""An attached session: what `run`, `start -a` and `exec` do while a process runs.

The docker CLI's order matters, and we keep it:

    1. attach   hijack a connection for the streams *before* the process starts,
                so not one byte of its output is missed;
    2. wait     ask to be told of the exit, also before start, so a container
                that exits at once cannot slip by (`--rm` would even delete it);
    3. start
    4. copy streams until the daemon ends them, then read the wait reply.

While it runs: with a TTY, our terminal is raw and its size follows the window;
without one, Ctrl-C and friends are passed on to the container (docker's
--sig-proxy), since our terminal is not the container's.
"""

from __future__ import annotations

import os
import sys

from shared.client.api import APIError, Client, Hijacked, Response
from shared.client.attach import copy_streams

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from collections.abc import Callable

PROXIED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


def start_error_status(message: str) -> int:
    """docker's exit status for a process that could not start: 127 not found,
    126 found but not runnable, 125 anything else the daemon refused."""
    if "executable file not found" in message or "no such file or directory" in message:
        return 127
    if "permission denied" in message or "is a directory" in message:
        return 126
    return 125


def report_start_error(program: str, verb: str, error: APIError) -> int:
    print(
        f"{program}: Error response from daemon: {error.message}\n\n"
        f"Run '{program} {verb} --help' for more information",
        file=sys.stderr,
    )
    return start_error_status(error.message)


def detach_keys(option: str | None) -> str:
    """The detach keys as the docker CLI chooses them: --detach-keys, else the
    "detachKeys" of its config.json, else "" (the daemon's Ctrl-P Ctrl-Q)."""
    if option:
        return option
    from shared.images.registry.dockerconfig import read_config

    try:
        configured = read_config().get("detachKeys")
    except (OSError, ValueError):
        return ""  # an unreadable config: the docker CLI warns and goes on too
    return configured if isinstance(configured, str) else ""


def key_bytes(keys: str) -> bytes:
    """What our side watches for; the daemon has refused invalid keys already."""
    from shared.detachkeys import DEFAULT, to_bytes

    try:
        return to_bytes(keys) if keys else DEFAULT
    except ValueError:
        return DEFAULT  # as the docker CLI: the default, if the daemon let them pass


def attach_container(client: Client, container: str, *, stdin: bool,
                     keys: str = "") -> Hijacked:
    query: dict[str, object] = {"stream": 1, "stdin": stdin, "stdout": 1, "stderr": 1}
    if keys:
        query["detachKeys"] = keys
    return client.hijack(f"/containers/{container}/attach", query=query)


def wait_for_exit(client: Client, container: str, *, removed: bool) -> Response:
    """Ask for the exit status. The daemon answers with headers at once and with the
    body `{"StatusCode": N}` only when the condition is met; we read it later."""
    condition = "removed" if removed else "next-exit"
    return client.stream("POST", f"/containers/{container}/wait", query={"condition": condition})


def exit_status(program: str, waiter: Response) -> int:
    result = waiter.json() or {}
    error = result.get("Error")
    if error and error.get("Message"):
        print(f"{program}: Error waiting for container: {error['Message']}", file=sys.stderr)
        return 125
    return int(result.get("StatusCode", 125))


def stream_while_running(
    client: Client,
    conn: Hijacked,
    *,
    tty: bool,
    stdin: bool,
    resize_path: str | None,
    kill_path: str | None,
    keys: str = "",
) -> bool:
    """Copy the streams until they end, with the terminal or signals handled.
    Returns True if the user detached (`keys`, or Ctrl-P Ctrl-Q) instead.

    `resize_path` is where window sizes go (/containers/ID/resize or
    /exec/ID/resize); `kill_path` where proxied signals go (None: do not proxy).
    """
    if tty:
        _follow_window_size(client, resize_path)
        if stdin and os.isatty(0):
            from shared.client.terminal import raw_mode

            with raw_mode(0):
                return copy_streams(conn, tty=tty, send_stdin=stdin,
                                    detach_keys=key_bytes(keys))
    elif kill_path is not None:
        _proxy_signals(client, kill_path)
    return copy_streams(conn, tty=tty, send_stdin=stdin, detach_keys=key_bytes(keys))


def _follow_window_size(client: Client, resize_path: str | None) -> None:
    if resize_path is None or not os.isatty(1):
        return
    import signal

    from shared.client.terminal import window_size

    def resize(*_: object) -> None:
        size = window_size(1)
        if size is not None:
            try:
                client.request("POST", resize_path, query={"h": size[0], "w": size[1]})
            except APIError:
                pass  # the process may have just exited; nothing to resize then

    resize()
    signal.signal(signal.SIGWINCH, resize)


def _proxy_signals(client: Client, kill_path: str) -> None:
    import signal

    def forward(signal_number: int, _frame: object) -> None:
        name = signal.Signals(signal_number).name
        try:
            client.request("POST", kill_path, query={"signal": name})
        except APIError:
            pass  # already gone: the stream will end by itself

    for name in PROXIED_SIGNALS:
        signal.signal(getattr(signal, name), forward)


def run_attached(
    client: Client,
    program: str,
    verb: str,
    container: str,
    *,
    tty: bool,
    stdin: bool,
    auto_remove: bool,
    start: Callable[[], None],
    keys: str = "",
) -> int:
    """Steps 1-4 above for a container; returns its exit status."""
    conn = attach_container(client, container, stdin=stdin, keys=keys)
    waiter = wait_for_exit(client, container, removed=auto_remove)
    try:
        start()
    except APIError as error:
        conn.sock.close()
        if auto_remove:
            waiter.read()  # let the daemon finish removing it, as docker does
        else:
            waiter.close()
        return report_start_error(program, verb, error)
    detached = stream_while_running(
        client,
        conn,
        tty=tty,
        stdin=stdin,
        resize_path=f"/containers/{container}/resize",
        kill_path=f"/containers/{container}/kill",
        keys=keys,
    )
    if detached:  # the container runs on; nothing to wait for
        waiter.close()
        return 0
    return exit_status(program, waiter)
