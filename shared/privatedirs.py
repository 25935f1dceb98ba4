"""The daemon's directories, closed to local users as dockerd closes its own.

Everything under the data root is root's: image layers keep their setuid binaries and
file capabilities (images need them), container records keep each container's env
(passwords, tokens), and a layer dir is a rootfs any local user could otherwise walk
and execute from: a setuid-root shell in a pulled image is a root shell on the host
(the class of CVE-2021-41091, where dockerd's data dirs were 0701). So, with dockerd's
modes (daemon_unix.go setupDaemonRoot, command/daemon.go, overlay2, image/fs.go):

    data root   0710 root:root  no one else may list it or pass through it
    exec root   0700            FIFOs, netns files, containerd's bundles (its env)
    images/     0700            blobs (configs: env again) and layers
    layers/     0710            overlay2's own mode for its layer dirs
    containers/ 0700, each container's dir 0700 (config.v2.json, logs)

A directory that already exists gets its mode set again: an upgrade from a looser
daemon must not keep the looser mode. os.makedirs alone would not do: its mode is
masked by the umask and not applied to a directory that is there.
"""

from __future__ import annotations

import io
import os

DATA_ROOT = 0o710
EXEC_ROOT = 0o700
PRIVATE = 0o700
LAYERS = 0o710


def make_private_dir(path: str, mode: int = PRIVATE) -> None:
    """mkdir -p path, then chmod it to exactly `mode` (its parents keep theirs)."""
    os.makedirs(path, mode=mode, exist_ok=True)
    os.chmod(path, mode)


def private_file(path: str) -> io.TextIOWrapper:
    """Open `path` for writing as root's alone (0600), for a file that holds a
    container's env: its record, its spec, its bundle. (An existing file's mode is
    set too: open(2) applies the mode only to a file it creates.)"""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return open(fd, "w")
