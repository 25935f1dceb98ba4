"""`-u name[:group]` -> numeric ids, read from the container's own /etc/passwd.

The kernel knows only numbers. Names mean whatever the *image* says they mean, so
they are looked up in the container's root filesystem, never the host's: `nobody`
may be 65534 in busybox and 99 elsewhere.

A number is always an id, never a name: `-u 1000` is uid 1000 even when the image's
passwd names a user "1000" with uid 0 (CVE-2016-3697, fixed in runc's GetExecUser by
this rule: a numeric user matches passwd entries by uid only, a name by name only; the
same for groups).

The files are the container's, so they are read as hostile (see securejoin's
read_regular_file): resolved inside the rootfs, only a regular file, at most
MAX_USER_FILE bytes. Anything else (a FIFO, a device, a directory) counts as no file,
as moby/sys/user's openUserFile does: the image gets the ids it asked for by number,
and root when it named none.
"""

from __future__ import annotations

from shared.oci.runtime_spec import SpecError, User
from shared.securejoin import FileTooLarge, read_regular_file

# moby/sys/user's cap (10 MiB): a real passwd of 100,000 users is about 6 MB, and the
# daemon holds the whole file in memory at every start and exec.
MAX_USER_FILE = 10 << 20


def _read(rootfs: str, path: str) -> list[list[str]]:
    try:
        data = read_regular_file(rootfs, path, MAX_USER_FILE)
    except FileTooLarge as e:
        raise SpecError(f"read {path} in the container: {e.strerror}") from None
    except OSError:  # missing, not a regular file, a symlink loop: no entries
        return []
    text = data.decode("utf-8", errors="replace")
    return [line.split(":") for line in text.splitlines() if line.strip() and line[0] != "#"]


def _id(text: str) -> int | None:
    """The id a user or group part means, or None when it is a name."""
    return int(text) if text.isascii() and text.isdigit() else None


def _matches(fields: list[str], part: str, number: int | None) -> bool:
    """A passwd or group entry is the one asked for: by id if a number, else by name."""
    if number is None:
        return fields[0] == part
    return fields[2].isdigit() and int(fields[2]) == number


def resolve(rootfs: str, spec: str, group_add: list[str] | None = None) -> User:
    """Docker's user rules: "", "uid", "uid:gid", "name", "name:group", mixed; and
    `--group-add` (HostConfig.GroupAdd), see additional_groups."""
    spec = spec or "0"
    user_part, _, group_part = spec.partition(":")
    passwd = _read(rootfs, "/etc/passwd")
    groups = _read(rootfs, "/etc/group")

    uid_arg, gid_arg = _id(user_part), _id(group_part)
    entry = next((f for f in passwd if len(f) >= 6 and f[2].isdigit() and f[3].isdigit()
                  and _matches(f, user_part, uid_arg)), None)
    if entry is not None:
        uid, gid, home = int(entry[2]), int(entry[3]), entry[5] or "/"
    elif uid_arg is not None:
        uid, gid, home = uid_arg, 0, "/"
    else:
        raise SpecError(
            f"unable to find user {user_part}: no matching entries in passwd file"
        )

    if group_part:
        match = next((g for g in groups if len(g) >= 3 and g[2].isdigit()
                      and _matches(g, group_part, gid_arg)), None)
        if match is not None:
            gid = int(match[2])
        elif gid_arg is not None:
            gid = gid_arg
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
    extra += tuple(g for g in additional_groups(groups, group_add or []) if g not in extra)
    return User(uid=uid, gid=gid, additional_gids=extra, home=home if entry else "/")


MAX_ID = 2**31 - 1  # moby/sys/user's bound, for 32-bit systems' sake


def additional_groups(groups: list[list[str]], wanted: list[str]) -> list[int]:
    """`--group-add` names and numbers -> gids, as moby/sys/user's GetAdditionalGroups:
    a name must be in the container's /etc/group; a number may be absent from it
    (it is used as is), and a name that is a number matches by gid only."""
    result: list[int] = []
    for item in wanted:
        number = _id(item)
        match = next((g for g in groups if len(g) >= 3 and g[2].isdigit()
                      and _matches(g, item, number)), None)
        if match is not None:
            gid = int(match[2])
        elif number is not None:
            gid = number
        else:
            raise SpecError(f"unable to find group {item}: no matching entries in group file")
        if gid > MAX_ID:
            raise SpecError(f"uids and gids must be in range 0-{MAX_ID}")
        if gid not in result:
            result.append(gid)
    return result
