"""-v and --mount as dockerd parses them (pure: no daemon; the one disk check is of a
tmp_path), the local driver's store on a tmp_path, and stage 1's mount entries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.errors import Conflict, InvalidParameter
from shared.volumes import mountpoints, parser
from shared.volumes.parser import MountError
from shared.volumes.store import ANONYMOUS_LABEL, VolumeStore
from stages.stage1_lxc import lxc_config


def test_bind_and_volume_forms() -> None:
    m = parser.parse_bind("/srv:/data:ro,Z,rslave")
    assert (m["Type"], m["Source"], m["Destination"], m["RW"], m["Propagation"],
            m["Mode"]) == ("bind", "/srv", "/data", False, "rslave", "ro,Z,rslave")
    v = parser.parse_bind("cache:/var/cache/:nocopy")
    assert (v["Type"], v["Name"], v["Destination"], v["CopyData"], v["Mode"]) == \
        ("volume", "cache", "/var/cache", False, "nocopy")
    assert parser.parse_bind("cache:/c")["Mode"] == "z"  # dockerd's setBindModeIfNull


@pytest.mark.parametrize(("raw", "message"), [
    (":/x", "invalid volume specification: ':/x'"),
    ("/a:/b:c:d", "invalid volume specification: '/a:/b:c:d'"),
    ("/a:/b:ro,ro", "invalid mode: ro,ro"),
    ("/a:/b:shared,slave", "invalid mode: shared,slave"),
])
def test_bad_binds(raw: str, message: str) -> None:
    with pytest.raises(MountError, match=f"^{message}$"):
        parser.parse_bind(raw)


def test_mount_forms_and_refusals(tmp_path: Path) -> None:
    m = parser.parse_mount({"Type": "bind", "Source": str(tmp_path), "Target": "/d",
                            "ReadOnly": True, "BindOptions": {"Propagation": "rshared"}})
    assert (m["RW"], m["Propagation"], m["Mode"]) == (False, "rshared", "")
    t = parser.parse_mount({"Type": "tmpfs", "Target": "/t",
                            "TmpfsOptions": {"SizeBytes": 3 << 20, "Mode": 0o1770}})
    assert t["TmpfsOptions"] == "mode=1770,size=3m"
    for bad, message in [
        ({"Type": "bind", "Source": str(tmp_path / "no"), "Target": "/d"},
         f'invalid mount config for type "bind": bind source path does not exist: '
         f"{tmp_path / 'no'}"),
        ({"Type": "tmpfs", "Source": "x", "Target": "/d"},
         'invalid mount config for type "tmpfs": field Source must not be specified'),
        ({"Type": "volume", "Target": "/d", "BindOptions": {}},
         'invalid mount config for type "volume": field BindOptions must not be specified'),
        ({"Type": "bind", "Source": "/", "Target": "/d",
          "BindOptions": {"Propagation": "sideways"}},
         'invalid mount config for type "bind": invalid propagation mode: sideways'),
        ({"Type": "what", "Target": "/d"}, 'invalid mount config for type "what": mount '
         "type unknown"),
        ({"Type": "volume"}, 'invalid mount config for type "volume": field Target must '
         "not be empty"),
    ]:
        with pytest.raises(MountError) as e:
            parser.parse_mount(bad)
        assert str(e.value) == message


def test_volumes_from_modes() -> None:
    assert parser.parse_volumes_from("c") == ("c", "rw")
    assert parser.parse_volumes_from("c:ro") == ("c", "ro")
    for bad in ("c:rshared", "c:nocopy", "c:bogus"):
        with pytest.raises(MountError, match="invalid mode"):
            parser.parse_volumes_from(bad)


# ---------------------------------------------------------------------- the store


def test_store_is_private_and_refuses_removing_a_volume_in_use(tmp_path: Path) -> None:
    users: dict[str, list[str]] = {}
    store = VolumeStore(str(tmp_path / "volumes"), lambda n: users.get(n, []))
    assert os.stat(tmp_path / "volumes").st_mode & 0o777 == 0o700
    v, new = store.create("data", labels={"a": "b"})
    assert new and store.create("data")[1] is False
    users["data"] = ["c1"]
    with pytest.raises(Conflict, match=r"^remove data: volume is in use - \[c1\]$"):
        store.remove("data")
    store.remove("data", leaving="c1")  # the container being removed does not count
    anon, _ = store.create(anonymous=True)
    assert anon.labels == {ANONYMOUS_LABEL: ""} and len(anon.name) == 64
    with pytest.raises(InvalidParameter,
                       match="^create x1: quota size requested but no quota support$"):
        store.create("x1", options={"size": "1g"})


def test_a_create_that_died_half_way_leaves_no_volume(tmp_path: Path) -> None:
    root = tmp_path / "volumes"
    VolumeStore(str(root), lambda n: []).create("kept")
    (root / "half" / "_data").mkdir(parents=True)  # no record: the daemon died here
    store = VolumeStore(str(root), lambda n: [])
    assert [v.name for v in store.all()] == ["kept"]
    assert not (root / "half").exists()


def test_user_mounts_replace_defaults_and_stay_under_the_daemons_files() -> None:
    defaults = [{"destination": "/proc"}, {"destination": "/etc/hosts"},
                {"destination": "/dev/shm"}]
    user = [{"destination": "/etc"}, {"destination": "/dev/shm"}]
    merged = [m["destination"] for m in mountpoints.merge_mounts(defaults, user)]
    assert merged == ["/proc", "/etc", "/dev/shm", "/etc/hosts"]


# ---------------------------------------------------------------------- stage 1


def test_lxc_entries_keep_propagation_and_resolve_symlinks_inside_the_root(
        tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    root.mkdir()
    os.symlink("/etc", root / "evil")  # absolute: inside the root, that is rootfs/etc
    spec = {"root": {"path": str(root)}, "mounts": [
        {"destination": "/evil/sub", "type": "bind", "source": str(tmp_path),
         "options": ["rbind", "ro", "rslave"]}]}
    (line,) = lxc_config.mounts(spec)
    assert line == (f"lxc.mount.entry = {tmp_path} etc/sub none "
                    "rbind,ro,rslave,create=dir 0 0")


def test_lxc_refuses_a_shared_bind() -> None:
    spec = {"mounts": [{"destination": "/d", "type": "bind", "source": "/srv",
                        "options": ["rbind", "rshared"]}]}
    with pytest.raises(lxc_config.UnsupportedSpec, match="shared propagation"):
        lxc_config.mounts(spec)


def test_mountinfo_paths_are_unescaped_as_the_kernel_escaped_them() -> None:
    from shared.volumes.store import unescape

    assert unescape(r"/a\040b\134c\011d") == "/a b\\c\td"
    assert unescape("/é") == "/é"
