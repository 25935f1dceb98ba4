"""User namespaces: root inside, an ordinary uid outside.

A user namespace renumbers users and groups. Its uid_map says which host ids the
ids inside stand for ("0 100000 65536": uid 0 inside is uid 100000 on the host, and
65535 more after it). Inside, the container's root has every capability, but only over
what its namespace owns: the namespaces made after it (mount, network, pid...), and
files whose owner is mapped. To the host, and to a file owned by an unmapped id, it is
uid 100000, nobody special. A container escape lands as that nobody.

The order is the kernel's, and it is the same dance as runc's nsexec.c:

    intermediate: unshare(CLONE_NEWUSER) ... asks the caller: "write my maps"
    caller:       writes /proc/<pid>/uid_map and gid_map, answers "done"
    intermediate: setresuid/setresgid(0): root *inside*; then unshare the rest

Why the caller writes the maps: a process may write its own map only for the one
uid it had outside (user_namespaces(7)); a range of 65536 ids takes a writer in the
parent namespace with CAP_SETUID there, and the caller is host root. Why the other
namespaces come after: a namespace belongs to the user namespace its creator was in
at the time, and only that owner's root may mount in a mount namespace, set the
hostname of a uts one, or mount proc for a pid one. Why setresuid(0) at all: until
then the intermediate is still host uid 0, which the map does not name, so inside it
shows as the overflow id 65534 and could not even create a file (EOVERFLOW).
"""

from __future__ import annotations

import os

from stages.stage2_libcontainer.libcontainer.errors import os_error

TYPE_CHECKING = False  # not typing's: see the package docstring
if TYPE_CHECKING:
    from stages.stage2_libcontainer.libcontainer.configs import IDMap


def map_text(mappings: list[IDMap]) -> str:
    """The kernel's format, one "inside outside count" line per run."""
    return "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in mappings)


def write_maps(pid: int, uid_maps: list[IDMap], gid_maps: list[IDMap]) -> None:
    """The caller's half: each map is written once, in one write(2) (the kernel
    refuses a second write, or a map split over two)."""
    for name, mappings in (("uid_map", uid_maps), ("gid_map", gid_maps)):
        path = f"/proc/{pid}/{name}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, map_text(mappings).encode())
            finally:
                os.close(fd)
        except OSError as e:
            raise os_error(f"write {path} ({map_text(mappings).strip()!r})", e.errno) from None


def become_root() -> None:
    """Root of the user namespace just entered (its maps written): group first, as
    changing the uid first would lose the right to change the group."""
    os.setresgid(0, 0, 0)
    os.setgroups([])  # no supplementary group of the host's comes along
    os.setresuid(0, 0, 0)


def is_mapped(container_id: int, mappings: list[IDMap]) -> bool:
    """Whether an id inside has a host id in these maps."""
    return any(m.container_id <= container_id < m.container_id + m.size for m in mappings)


def host_id(container_id: int, mappings: list[IDMap]) -> int:
    """The host id that stands for `container_id` (itself without maps: no user
    namespace, or one joined by path, whose root is taken to be host root)."""
    for m in mappings:
        if m.container_id <= container_id < m.container_id + m.size:
            return m.host_id + container_id - m.container_id
    return container_id


def check_reachable(path: str, uid: int, gid: int) -> None:
    """The container's root must be able to walk to its rootfs: init mounts it as the
    root of the user namespace, which to the host is `uid`, no one special, so every
    directory down to it needs search (x) permission for it. runc needs the same and fails
    on the mount with a bare EACCES; this says which directory, before anything is made."""
    from stages.stage2_libcontainer.libcontainer.errors import ContainerError

    current = os.path.abspath(path)
    while True:
        st = os.stat(current)
        if st.st_uid == uid:
            bit = 0o100
        elif st.st_gid == gid:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            raise ContainerError(
                f"rootfs {path}: the container's root (host uid {uid}) cannot reach it: "
                f"{current} is mode {st.st_mode & 0o7777:o}, without search permission for it")
        if current == "/":
            return
        current = os.path.dirname(current)
