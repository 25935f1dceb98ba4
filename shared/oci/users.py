"""`-u name[:group]` -> numeric ids, read from the container's own /etc/passwd.

The kernel knows only numbers. Names mean whatever the *image* says they mean, so
they are looked up in the container's root filesystem, never the host's: `nobody`
may be 65534 in busybox and 99 elsewhere.
"""

from __future__ import annotations

from shared.oci.runtime_spec import SpecError, User
from shared.securejoin import secure_join


def _read(rootfs: str, path: str) -> list[list[str]]:
    try:
        with open(secure_join(rootfs, path), encoding="utf-8", errors="replace") as f:
            return [line.rstrip("\n").split(":") for line in f if line.strip() and line[0] != "#"]
    except OSError:  # missing, a directory, a symlink loop: no entries
        return []


def resolve(rootfs: str, spec: str) -> User:
    """Docker's user rules: "", "uid", "uid:gid", "name", "name:group", mixed."""
    spec = spec or "0"
    user_part, _, group_part = spec.partition(":")
    passwd = _read(rootfs, "/etc/passwd")
    groups = _read(rootfs, "/etc/group")

    entry = None
    for fields in passwd:
        if len(fields) >= 6 and (fields[0] == user_part or fields[2] == user_part):
            entry = fields
            break
    if entry is not None:
        uid, gid, home = int(entry[2]), int(entry[3]), entry[5] or "/"
    elif user_part.isdigit():
        uid, gid, home = int(user_part), 0, "/"
    else:
        raise SpecError(
            f"unable to find user {user_part}: no matching entries in passwd file"
        )

    if group_part:
        match = next(
            (g for g in groups if len(g) >= 3 and (g[0] == group_part or g[2] == group_part)),
            None,
        )
        if match is not None:
            gid = int(match[2])
        elif group_part.isdigit():
            gid = int(group_part)
        else:
            raise SpecError(
                f"unable to find group {group_part}: no matching entries in group file"
            )

    name = entry[0] if entry else None
    extra = tuple(
        int(g[2])
        for g in groups
        if name and len(g) >= 4 and name in g[3].split(",") and g[2].isdigit() and int(g[2]) != gid
    )
    return User(uid=uid, gid=gid, additional_gids=extra, home=home if entry else "/")
