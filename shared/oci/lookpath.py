"""Finding the program a container runs, as execvp(3) would, and runc's words when it
cannot be run: the daemon makes "not found" exit code 127 and "permission denied" 126,
as Docker does.

Stage 2's init looks from inside the container (after pivot_root, as the final user,
right before execve). Stage 1 looks from the host, in the container's root filesystem,
before LXC starts: LXC would only log the failure.
"""

from __future__ import annotations

import os

from shared.securejoin import secure_join

# Docker's PATH for a container whose image sets none; also the lookup's, as execvp's.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class LookPathError(Exception):
    """The program cannot be run; the message says why, as runc says it."""


class NotFound(LookPathError):
    """No such program: what a shell calls "command not found" (exit status 127)."""


class NotExecutable(LookPathError):
    """The program is there but cannot run (no x bit, a directory): a shell's 126."""


def look_path(name: str, path: str = DEFAULT_PATH, root: str = "/") -> str:
    """The program `name` (a path if it has a "/", else looked up in `path`, the
    container's $PATH), as the container sees it.

    `root` is the container's root filesystem as seen from where we look: "/" inside
    the container; from the host, its rootfs directory, where secure_join follows the
    image's symlinks as if that directory were "/".
    """
    candidates = [name] if "/" in name else [os.path.join(d or ".", name) for d in path.split(":")]
    for candidate in candidates:
        here = candidate if root == "/" else secure_join(root, os.path.join("/", candidate))
        if os.path.isfile(here):
            if not os.stat(here).st_mode & 0o111:
                raise NotExecutable(f'exec: "{name}": permission denied')
            return candidate
        if "/" in name:
            if os.path.isdir(here):
                raise NotExecutable(f'exec: "{name}": is a directory: permission denied')
            raise NotFound(f'exec: "{name}": stat {name}: no such file or directory')
    raise NotFound(f'exec: "{name}": executable file not found in $PATH')
