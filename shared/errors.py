"""The daemon's errors, each carrying the HTTP status Docker answers with.

They live below everything that raises them (the image store, the network, the
engine), so none of those needs to import the daemon to say what went wrong.

The wording is Docker's, because users (and the docker CLI) read it: the CLI prints
`Error response from daemon: <message>` and chooses its own exit code from the status.
"""

from __future__ import annotations


class EngineError(Exception):
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidParameter(EngineError):
    status = 400


class NotFound(EngineError):
    status = 404


class Conflict(EngineError):
    status = 409


class NotModified(EngineError):
    """Already in the asked-for state (stop of a stopped container): 304, no body."""

    status = 304


class NoSuchContainer(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"No such container: {ref}")


class NoSuchExec(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"No such exec instance: {ref}")


class NotRunning(Conflict):
    def __init__(self, cid: str) -> None:
        super().__init__(f"Container {cid} is not running")


class NotImplementedYet(EngineError):
    """A route of Docker's API whose feature this engine does not have (yet): 501.

    Docker itself never answers 501; a client gets a clear message naming the missing
    feature instead of a "page not found" that reads like a wrong URL.
    """

    status = 501


class Unavailable(EngineError):
    """Docker's errdefs.Unavailable (503): what a node not in a swarm answers to the
    swarm routes."""

    status = 503
