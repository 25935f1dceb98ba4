"""The exercises. Adding one is adding an entry here (and tests/docs proves it works).

Each names the code the learner writes (a function, or one statement inside one),
what to do, hints from gentle to explicit, and the focused tests that check it: tests
from the project's own suites, which fail against the stub and pass with the project's
code (tests/docs/test_exercises.py proves both, for every exercise).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """What gets stubbed: `function` ("name" or "Class.method") in `path`; with
    `statement`, only the statement inside it whose first line starts with that text."""

    path: str
    function: str
    statement: str | None = None
    # "raise": the stub raises NotImplementedError (containers cannot start until it is
    # written: for code that must never be skipped, like leaving the host's root);
    # "pass": the engine runs on without it, and the tests show what is missing.
    stub: str = "raise"


# How hard an exercise is, 1 to 3, in words.
DIFFICULTY = {1: "gentle", 2: "medium", 3: "hard"}


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    stage: str
    difficulty: int  # 1 gentle, 2 medium, 3 hard (DIFFICULTY)
    minutes: int  # about how long it takes, hints read, checks run
    task: str
    why: str
    targets: tuple[Target, ...]
    hints: tuple[str, ...]
    tests: tuple[str, ...]
    needs_root: bool = True
    reading: tuple[str, ...] = field(default_factory=tuple)
    # Environment for the checks, e.g. which engine the behaviour suite runs against.
    env: tuple[tuple[str, str], ...] = ()
    # The cgroup versions the stubbed code is written for: `exercise-check` says which
    # one the checks exercised on this host (a hybrid host like this one: v1 only).
    cgroup_versions: tuple[int, ...] = ()
    cgroup_note: str = ""  # what the checks do on a host of the other version

    @property
    def level(self) -> str:
        return DIFFICULTY[self.difficulty]

    @property
    def stage_number(self) -> int | None:
        """The stage the exercise is about (None: code every stage shares)."""
        return int(self.stage.removeprefix("stage")) if self.stage.startswith("stage") else None

    @property
    def run_stage(self) -> int:
        """The stage `make exercise-run` starts: the exercise's, or stage 2 for code
        every stage shares (STAGE=N picks another)."""
        return self.stage_number or 2


LIBCONTAINER = "stages/stage2_libcontainer/libcontainer"
LIBCONTAINER_TESTS = "tests/stages/stage2/test_libcontainer.py"
STAGE1_CONFIG = "stages/stage1_lxc/lxc_config.py"
STAGE1_TESTS = "tests/stages/stage1/test_lxc_config.py"
STAGE4_TESTS = "tests/stages/stage4/test_shims.py"

# In the order a learner should take them (`make exercises` lists them so): from one
# flag of a system call to the shim that outlives containerd.
EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="clone-flags",
        title="From the spec's namespaces to clone flags",
        stage="stage2",
        difficulty=1,
        minutes=15,
        task="Compute the flags for unshare(2)/clone(2) that make every namespace the "
             "spec asks for: each entry of linux.namespaces without a `path` is a new one.",
        why="A namespace is made by one bit in a system call: CLONE_NEWPID for its own "
            "pid numbers, CLONE_NEWNS for its own mounts, CLONE_NEWNET for its own "
            "network, and so on. An entry with a `path` is not made but joined "
            "(setns), which is how two containers share a network.",
        targets=(Target(f"{LIBCONTAINER}/namespaces.py", "new_flags", stub="raise"),),
        hints=(
            "FLAGS, just above, maps each OCI namespace type ('pid', 'network', "
            "'mount'...) to its CLONE_NEW* bit.",
            "Combine the bits with |, starting from 0.",
            "Skip the entries that have a path: join_paths() deals with them.",
        ),
        tests=(f"{LIBCONTAINER_TESTS}::test_pid_1_hostname_and_own_proc",
               f"{LIBCONTAINER_TESTS}::test_namespace_with_a_path_is_joined_not_made"),
        reading=(f"{LIBCONTAINER}/namespaces.py", f"{LIBCONTAINER}/init.py"),
    ),
    Exercise(
        name="uts-hostname",
        title="A hostname of its own, in a UTS namespace",
        stage="stage2",
        difficulty=1,
        minutes=10,
        task="Inside the container's init, give the container the hostname of its spec, "
             "when the spec asks for a UTS namespace.",
        why="The hostname belongs to a UTS namespace. The container's init was cloned "
            "into a new one, which starts as a copy of the host's: set it there and "
            "the host's hostname does not change.",
        targets=(Target(f"{LIBCONTAINER}/init.py", "container_init",
                        statement='if "uts" in new_ns', stub="pass"),),
        hints=(
            "The config has it at config.hostname (empty when the spec gives none); "
            "the namespaces made for the container are in new_ns, a set of names such "
            "as 'uts'.",
            "The kernel object sets the hostname: kernel.sethostname(name).",
            "Every step of init runs inside a step(...) block, so that a failure names "
            "the operation: the domainname step just below your TODO is the model.",
        ),
        tests=(f"{LIBCONTAINER_TESTS}::test_pid_1_hostname_and_own_proc",),
        reading=(f"{LIBCONTAINER}/init.py", f"{LIBCONTAINER}/namespaces.py"),
    ),
    Exercise(
        name="lxc-cgroup-limits",
        title="Stage 1: a resource limit, as LXC config keys",
        stage="stage1",
        difficulty=1,
        minutes=20,
        task="Turn the spec's linux.resources into LXC's cgroup v1 keys: one "
             "`lxc.cgroup.<file> = <value>` line for each limit the spec sets, such as "
             "`lxc.cgroup.memory.limit_in_bytes = 33554432` for `docker run -m 32m`.",
        why="In 2013 Docker did not write a single cgroup file itself: its LXC template "
            "said `lxc.cgroup.memory.limit_in_bytes = ...` and LXC wrote the file, in the "
            "container's cgroup, before the container's first process ran. The limit "
            "is the kernel's (the memory controller kills the process that goes over "
            "it); the config line is only how the request reaches it.",
        targets=(Target(STAGE1_CONFIG, "cgroups",
                        statement="for (group, field), key in CGROUP_V1_KEYS.items()",
                        stub="pass"),),
        hints=(
            "CGROUP_V1_KEYS, near the top of the file, maps each (group, field) of "
            "linux.resources, e.g. ('memory', 'limit'), to the v1 file it goes to.",
            "A limit the spec does not set has no line at all: `res.get(group, {})` "
            "is an empty dict when the spec has no such group.",
            "Every line of the config is made by line(key, value), which refuses a "
            "value with a newline in it. The key is 'lxc.cgroup.' and the file's name.",
        ),
        tests=(f"{STAGE1_TESTS}::test_docker_run_m_u_w",
               f"{STAGE1_TESTS}::test_cgroup_v1_and_v2_keys",
               f"{STAGE1_TESTS}::test_more_cgroup_v1_keys",
               "tests/behaviour/test_limits.py::test_pids_limit_stops_a_fork_bomb"),
        reading=(STAGE1_CONFIG, "shared/oci/resources.py"),
        env=(("WB_ENGINES", "stage1"),),
    ),
    Exercise(
        name="lxc-network",
        title="Stage 1: a container's network, as LXC's veth keys",
        stage="stage1",
        difficulty=2,
        minutes=30,
        task="Write the `lxc.net.N.*` lines for one interface the daemon planned: a veth "
             "pair whose host end is on the network's bridge, and whose other end is "
             "the container's eth0, with its MAC, its address and (on the first "
             "network) the default route.",
        why="A new network namespace has nothing but a loopback. Docker 0.1 asked LXC "
            "for `lxc.network.type = veth` and `lxc.network.link = docker0`: LXC made the "
            "pair on the host, put one end on the bridge and moved the other into the "
            "container's namespace before its first process ran. Every later stage does "
            "the same with netlink itself; here it is ten lines of config.",
        targets=(Target(STAGE1_CONFIG, "veth", stub="raise"),),
        hints=(
            "ifc is one entry of the daemon's plan: bridge, host_end, ifname, mac, "
            "address, prefixlen, gateway, default_route. LXC wants `.type` first.",
            "The keys, after `{key}.`: type (veth), link (the bridge), veth.pair (the "
            "host end's name), name, hwaddr, ipv4.address, ipv4.gateway, flags (up).",
            "ipv4.address is 'ADDRESS/PREFIX BROADCAST': ipaddress.ip_interface gives "
            "the network and its broadcast_address. Only a default_route gets a "
            "gateway. A name longer than IFNAMSIZ is a ValueError: LXC would invent one.",
        ),
        tests=(f"{STAGE1_TESTS}::test_the_daemons_plan_becomes_lxc_net_keys",
               f"{STAGE1_TESTS}::test_a_host_end_name_lxc_would_replace_is_refused",
               "tests/stages/stage1/test_lxc_stage.py::"
               "test_lxc_makes_the_bridge_network_from_the_daemons_plan"),
        reading=(STAGE1_CONFIG, "shared/oci/runtime_spec.py"),
    ),
    Exercise(
        name="entrypoint-and-cmd",
        title="Write config.json's command: ENTRYPOINT and CMD",
        stage="all",
        difficulty=1,
        minutes=20,
        task="Work out the argv of the container's process from what the user gave "
             "(`docker run IMAGE ARGS`, `--entrypoint`) and what the image says.",
        why="The OCI runtime spec has one `process.args`; Docker has two knobs, "
            "ENTRYPOINT and CMD, from the image and from the command line. How they "
            "combine is a rule every Docker user relies on without knowing it.",
        targets=(Target("shared/daemon/containerconfig.py", "command", stub="raise"),),
        hints=(
            "The entrypoint is the user's if they gave one, else the image's. "
            "The arguments are the user's Cmd if they gave any, else the image's Cmd.",
            "But a user's --entrypoint resets the image's Cmd: with --entrypoint and "
            "no arguments, the image's Cmd is not used.",
            "Entrypoint and Cmd can each be missing, a list or (old images) a string. "
            "Nothing at all to run is an error (SpecError), as in Docker.",
        ),
        tests=("tests/unit/test_containerconfig.py::test_entrypoint_and_cmd_merge_as_docker_does",),
        needs_root=False,
        reading=("shared/daemon/containerconfig.py",),
    ),
    Exercise(
        name="drop-capabilities",
        title="Drop capabilities from the bounding set",
        stage="stage2",
        difficulty=1,
        minutes=20,
        task="Remove from the process's bounding set every capability that is not in "
             "`keep`, so that nothing the container runs can ever get it back.",
        why="Root in a container is still root to the kernel, except for what the "
            "capabilities allow. Docker keeps 14 of them by default. The bounding set "
            "is the ceiling: a capability dropped from it cannot be regained, not even "
            "by executing a setuid or file-capability binary.",
        targets=(Target(f"{LIBCONTAINER}/capabilities.py", "drop_bounding", stub="pass"),),
        hints=(
            "Capabilities are numbered from 0 to last_cap(); `keep` is a bit mask: "
            "capability n is kept when keep & (1 << n).",
            "prctl(2)'s PR_CAPBSET_DROP drops one capability from the bounding set. "
            "The kernel object wraps prctl (kernel.py); syscalls.py has the constant.",
            "Every kernel call takes a `what=` naming the operation, so that an error "
            "says which capability could not be dropped: NAMES maps numbers to names.",
        ),
        tests=(f"{LIBCONTAINER_TESTS}::test_capabilities_and_no_new_privs_are_dockers",
               f"{LIBCONTAINER_TESTS}::test_non_root_user_and_groups"),
        reading=(f"{LIBCONTAINER}/capabilities.py", "shared/oci/defaults.py"),
    ),
    Exercise(
        name="pids-limit",
        title="A ceiling on processes, with the pids cgroup",
        stage="stage2",
        difficulty=1,
        minutes=20,
        cgroup_versions=(1, 2),
        task="When the spec sets linux.resources.pids.limit, write it into the "
             "container's cgroup, for cgroup v1 and for v2 (a negative limit means no "
             "limit at all).",
        why="A container that forks without end (a fork bomb, or a leak) would take "
            "every process slot of the host. The pids controller counts the processes "
            "of a cgroup and makes fork() fail past its limit, inside that cgroup only. "
            "`docker run --pids-limit` is this file.",
        targets=(Target(f"{LIBCONTAINER}/cgroups/v1.py", "V1Manager.set_pids_limit",
                        stub="pass"),
                 Target(f"{LIBCONTAINER}/cgroups/v2.py", "V2Manager.set_pids_limit",
                        stub="pass")),
        hints=(
            "The limit is resources.pids_limit (configs.py: 0 when none is set); "
            "container.py calls set_pids_limit once init is made (and create() for "
            "`runc update`).",
            "The file is pids.max, in both cgroup versions; `self._file(...)` finds "
            "it (v1 wants the controller's name too: self._file('pids', 'pids.max')).",
            "`write(path, text)` from cgroups/__init__.py writes a cgroup file and "
            "names the file in its error. Write 'max' for a negative limit.",
        ),
        tests=(f"{LIBCONTAINER_TESTS}::test_pids_limit",),
        reading=(f"{LIBCONTAINER}/cgroups/__init__.py", f"{LIBCONTAINER}/cgroups/v1.py",
                 f"{LIBCONTAINER}/cgroups/v2.py"),
    ),
    Exercise(
        name="pivot-root",
        title="Leave the host's root filesystem with pivot_root",
        stage="stage2",
        difficulty=2,
        minutes=30,
        task="Make the container's rootfs the root of its mount namespace, and make the "
             "host's old root disappear from it entirely.",
        why="chroot only changes how paths are looked up for one process: the host's "
            "root is still mounted, and a process with CAP_SYS_CHROOT can climb back "
            "out. pivot_root swaps the mounts themselves, so the old root can be "
            "unmounted and nothing of the host is left to escape to.",
        targets=(Target(f"{LIBCONTAINER}/rootfs.py", "pivot", stub="raise"),),
        hints=(
            "The calls you need are methods of `kernel` (kernel.py): chdir, pivot_root, "
            "mount, umount2 (and the flags MS_SLAVE, MS_REC, MNT_DETACH).",
            "The trick runc uses: chdir into the new root, then pivot_root('.', '.'). "
            "The old root is now stacked on top of the new one, at '.'.",
            "Before unmounting the old root, make it a slave mount (MS_SLAVE | MS_REC) "
            "so the unmount cannot propagate back to the host.",
            "Unmount it lazily (MNT_DETACH): the host's mounts under it are busy. "
            "Then chdir('/').",
        ),
        tests=(f"{LIBCONTAINER_TESTS}::test_pivot_root_leaves_no_host_mount_and_no_old_root",
               f"{LIBCONTAINER_TESTS}::test_output_and_exit_code"),
        reading=(f"{LIBCONTAINER}/rootfs.py", f"{LIBCONTAINER}/syscalls.py"),
    ),
    Exercise(
        name="overlay-layers",
        title="Stack an image's layers with overlayfs",
        stage="all",
        difficulty=2,
        minutes=30,
        task="Return the overlay mount that makes a container's root filesystem: the "
             "image's layers, read-only, under a writable upper directory of its own.",
        why="Every container of an image shares the image's layers, unchanged; "
            "whatever a container writes lands in its own upper directory. That is "
            "why starting a container copies nothing, and why `docker rm` throws "
            "away exactly the container's changes.",
        targets=(Target("shared/images/snapshots.py", "prepare", stub="raise"),),
        hints=(
            "store.layer_dirs(image) lists the unpacked layers, bottom layer first.",
            "overlayfs wants lowerdir=TOP:...:BOTTOM, the top layer first, joined "
            "with ':'; then upperdir= and workdir=, two directories on the same "
            "filesystem that you create in container_dir.",
            "An image with no layers still needs one lowerdir: an empty directory. "
            "Refuse paths containing ',' or ':', which would break the options.",
        ),
        tests=("tests/images/test_overlay.py::test_merged_view_honours_whiteouts",),
        reading=("shared/images/snapshots.py", "shared/images/store.py"),
    ),
    Exercise(
        name="oci-whiteouts",
        title="A container's diff as a layer: overlay whiteouts into OCI ones",
        stage="all",
        difficulty=2,
        minutes=25,
        task="`docker commit` writes a container's upper dir as a layer tar. Write the "
             "two tar entries that stand for deletions: the OCI whiteout of a deleted "
             "file, and the marker of an opaque directory.",
        why="overlayfs records a deletion as a 0/0 character device and a directory "
            "removed and made again as an xattr, trusted.overlay.opaque. Neither means "
            "anything in a tar that another engine unpacks onto its own storage (and "
            "trusted.* xattrs need CAP_SYS_ADMIN to restore), so image layers say it "
            "with names: `.wh.NAME` deletes NAME from the layers below, and "
            "`.wh..wh..opq` empties its directory of them.",
        targets=(Target("shared/images/layerdiff.py", "whiteout_entry", stub="raise"),
                 Target("shared/images/layerdiff.py", "opaque_entry", stub="raise")),
        hints=(
            "Both are empty regular files: tarfile.TarInfo(name) with type REGTYPE and "
            "size 0.",
            "The whiteout of `etc/motd` is `etc/.wh.motd` (rpartition('/') splits the "
            "parent from the name; mind an entry at the top, with no parent); mode 0o600.",
            "The opaque marker of `opt` is `opt/.wh..wh..opq`, with the directory's own "
            "mode (stat.S_IMODE), owner and mtime, as moby's overlay converter copies "
            "them from the directory's header.",
        ),
        tests=("tests/unit/test_layerdiff.py::test_overlay_whiteouts_become_oci_whiteouts",),
        reading=("shared/images/layerdiff.py", "shared/daemon/changes.py",
                 "shared/images/unpack.py"),
    ),
    Exercise(
        name="volume-copy-up",
        title="A new volume takes the image's files: the copy-up",
        stage="stage2",
        difficulty=2,
        minutes=30,
        task="When an empty volume is first mounted over a path where the image has "
             "files, fill it with them, with their owners and modes, as Docker does; "
             "leave a volume that has anything in it alone.",
        why="`docker run -v pgdata:/var/lib/postgresql/data postgres` works on the first "
            "run because the new volume starts as a copy of what the image keeps there. "
            "Without it the mount would hide the image's files behind an empty "
            "directory. It must happen once: a volume with data in it is the user's, "
            "and the image's path is read inside the container's root, whose symlinks "
            "the image chose.",
        targets=(Target("shared/volumes/mountpoints.py", "copy_up", stub="pass"),),
        hints=(
            "Return at once if the volume's directory is not empty (os.listdir).",
            "Find the image's directory with secure_join(rootfs, destination): a symlink "
            "in the image stays inside the root. Skip it unless it is a real directory.",
            "Copy with owners, modes and symlinks kept as they are (`cp -a SRC/. DST/`), "
            "then give the volume's own directory the source directory's owner and mode.",
        ),
        tests=("tests/behaviour/test_volumes.py::"
               "test_new_volume_takes_the_image_files_with_owners",
               "tests/behaviour/test_volumes.py::"
               "test_image_volume_gets_an_anonymous_volume_with_its_files"),
        reading=("shared/volumes/mountpoints.py", "shared/volumes/store.py",
                 "shared/securejoin.py"),
        env=(("WB_ENGINES", "stage2"),),
    ),
    Exercise(
        name="freezer",
        title="docker pause: freeze a whole cgroup",
        stage="stage2",
        difficulty=2,
        minutes=30,
        cgroup_versions=(1, 2),
        task="Freeze every process of the container's cgroup, for cgroup v1 and for "
             "v2, and return only once the kernel says the group is frozen.",
        why="`docker pause` must stop a whole container at once, without the processes "
            "noticing. SIGSTOP cannot: a parent sees its child stop, and the signal "
            "reaches one process at a time while others go on forking. The freezer "
            "stops the group in the scheduler itself. Freezing takes a moment (v1 "
            "says FREEZING meanwhile), so a pause that returns early could still let "
            "a process run.",
        targets=(Target(f"{LIBCONTAINER}/cgroups/v1.py", "V1Manager.freeze", stub="pass"),
                 Target(f"{LIBCONTAINER}/cgroups/v2.py", "V2Manager.freeze", stub="pass")),
        hints=(
            "thaw(), just below each freeze(), is the other half: the same file, the "
            "other value.",
            "v1: write 'FROZEN' to freezer.state in the freezer hierarchy "
            "(self._dir('freezer')), then read the file back until it says FROZEN. "
            "v2: write '1' to cgroup.freeze (self._file(...)), then wait until "
            "cgroup.events has `frozen 1` (self._events(...) parses it).",
            "Wait in a bounded loop with a short time.sleep(), not forever: a group "
            "whose processes are all gone never reports anything.",
        ),
        tests=(f"{LIBCONTAINER_TESTS}::test_pause_and_resume",
               "tests/behaviour/test_pause.py::test_pause_freezes_and_unpause_thaws"),
        reading=(f"{LIBCONTAINER}/cgroups/v1.py", f"{LIBCONTAINER}/cgroups/v2.py",
                 f"{LIBCONTAINER}/container.py", "shared/daemon/engine.py"),
        env=(("WB_ENGINES", "stage2"),),
    ),
    Exercise(
        name="seccomp-conditions",
        title="Which of Docker's seccomp rules apply to this container",
        stage="stage2",
        difficulty=2,
        minutes=30,
        task="Decide whether one rule of a seccomp profile applies to a container, from "
             "its `includes` and `excludes` conditions: the container's capabilities "
             "(its bounding set), the host's kernel version and its architecture.",
        why="Docker's default profile is not one list: a container given CAP_SYS_ADMIN "
            "may call mount, unshare and setns, one without it may not, and a call the "
            "kernel gained in 5.x is allowed only on such kernels. The conditions are "
            "resolved once, when the spec is built, into a plain allow list for this "
            "container: the filter the kernel runs has no idea what a capability is.",
        targets=(Target("shared/oci/seccomp.py", "_applies", stub="raise"),),
        hints=(
            "Read a rule of shared/oci/seccomp_default.json with `includes` "
            "(`\"caps\": [\"CAP_SYS_ADMIN\"]`) and one with `excludes`: each is an object "
            "of optional `caps`, `arches` and `minKernel`.",
            "`includes`: every condition given must hold (all its caps in `caps`, `arch` "
            "among its arches, the kernel at least minKernel). `excludes`: the rule is "
            "dropped if any condition given holds.",
            "Kernel versions compare as tuples: _min_kernel('4.8') is (4, 8), and "
            "`kernel` is already one.",
        ),
        tests=("tests/unit/test_oci_seccomp.py::test_capabilities_decide_the_conditional_rules",
               "tests/unit/test_oci_seccomp.py::test_the_kernel_version_decides_min_kernel_rules",
               "tests/unit/test_oci_seccomp.py::"
               "test_the_architecture_decides_arch_rules_and_arch_map",
               "tests/unit/test_oci_seccomp.py::"
               "test_a_custom_profile_with_excludes_and_the_old_name_field"),
        needs_root=False,
        reading=("shared/oci/seccomp.py", "shared/oci/seccomp_default.json",
                 "shared/oci/runtime_spec.py"),
    ),
    Exercise(
        name="device-filter",
        title="cgroup v2's device controller: an eBPF program",
        stage="stage2",
        difficulty=3,
        minutes=45,
        cgroup_versions=(2,),
        cgroup_note="Your program is still checked here: the pure checks decide as the "
                    "kernel would, and one loads it for real and attaches it to a cgroup "
                    "of the cgroup2 tree this hybrid host also has.",
        task="Assemble the container's device rules into one eBPF program for cgroup v2: "
             "the blocks of rule_block() in the right order, and the verdict when no "
             "rule matches.",
        why="On cgroup v1 the kernel keeps a device allow-list per cgroup. Cgroup v2 has "
            "no such file: the kernel runs a program, attached to the container's "
            "cgroup, at every open() and mknod() of a device node. Without it, root in a "
            "container on a pure-v2 host can mknod the host's disk and read it. The "
            "rules mean what the v1 list meant (the last matching rule decides), but a "
            "program stops at its first `exit`.",
        targets=(Target(f"{LIBCONTAINER}/cgroups/devicefilter.py", "build", stub="raise"),),
        hints=(
            "Start from prologue(): it loads the context's fields into registers R2-R5 "
            "once; each rule_block() compares them and exits with its verdict, or jumps "
            "to the next block.",
            "The first block that matches decides. So that it is the verdict of the "
            "*last* matching rule, as on v1, emit the rules last first (reversed()).",
            "A rule that matches everything (rule_block's second value) ends the "
            "program: the verifier refuses code it can never reach. Otherwise finish "
            "with the default: R0 = 0 (deny), exit. Join the instructions with b''.join.",
        ),
        tests=("tests/stages/stage2/test_devicefilter.py::"
               "test_pure_default_rules_decide_as_the_v1_list_would",
               "tests/stages/stage2/test_devicefilter.py::test_pure_last_matching_rule_wins",
               "tests/stages/stage2/test_devicefilter.py::test_pure_allow_all_ends_the_program",
               "tests/stages/stage2/test_devicefilter.py::"
               "test_real_kernel_program_denies_dev_null_in_a_v2_cgroup_on_this_host"),
        reading=(f"{LIBCONTAINER}/cgroups/devicefilter.py", f"{LIBCONTAINER}/cgroups/bpf.py",
                 f"{LIBCONTAINER}/cgroups/v2.py", "shared/oci/defaults.py"),
    ),
    Exercise(
        name="registry-challenge",
        title="The registry's token dance, step one: read the challenge",
        stage="all",
        difficulty=2,
        minutes=25,
        task="Parse a WWW-Authenticate header, such as "
             '`Bearer realm="https://auth.example/token",service="registry"`, into its '
             "scheme and parameters.",
        why="A registry answers an anonymous request with 401 and a challenge that says "
            "where to get a token and for which service. Every pull from Docker Hub "
            "starts with this dance; getting it wrong means no image at all.",
        targets=(Target("shared/images/registry/auth.py", "parse_challenge", stub="raise"),),
        hints=(
            "The scheme is the first word, in any case: compare it lowercased.",
            "The parameters are key=value pairs separated by commas, the value quoted "
            "or not. A regular expression is already there: _PARAM.",
            "Keys are case-insensitive: lowercase them. A header with nothing in it "
            "gives None.",
        ),
        tests=("tests/images/test_registry.py::test_challenges_are_parsed",
               "tests/images/test_registry.py::test_push_then_pull_back_same_digest"),
        needs_root=False,
        reading=("shared/images/registry/auth.py", "shared/images/registry/client.py"),
    ),
    Exercise(
        name="create-start-split",
        title="The create/start split: let a created container run",
        stage="stage3",
        difficulty=2,
        minutes=30,
        task="Write Container.start: the container's init is blocked, opening "
             "exec.fifo for writing; let it through, and make sure it really went on.",
        why="The OCI lifecycle has two steps so that a caller can place the process "
            "(in a cgroup, on a network) after everything is set up and before any of "
            "the user's code runs. `runc create` does the slow work and exits; "
            "`runc start`, from another process, only has to open a FIFO.",
        targets=(Target(f"{LIBCONTAINER}/container.py", "Container.start", stub="raise"),),
        hints=(
            "Opening a FIFO for writing blocks until someone opens it for reading. "
            "Init is blocked in exactly that open (see init.py).",
            "Open self.fifo with os.O_RDONLY | os.O_NONBLOCK: opening the read end then "
            "never blocks, and init's open returns.",
            "Init writes one byte once it is through. Wait for it (select, with a "
            "deadline): if it never comes, init died, and start must say so. Then "
            "close the fd and remove the FIFO: the container is no longer 'created'.",
        ),
        tests=(f"{LIBCONTAINER_TESTS}::test_created_waits_for_start_and_load_works_from_"
               "another_process",
               "tests/stages/stage3/test_runc.py::test_create_then_start"),
        reading=(f"{LIBCONTAINER}/container.py", f"{LIBCONTAINER}/init.py",
                 "stages/stage3_containerd/runc/start.py"),
    ),
    Exercise(
        name="grpc-start",
        title="A gRPC call to containerd: start a task",
        stage="stage3",
        difficulty=2,
        minutes=20,
        task="The daemon's executor is asked to start a created container: pass it on "
             "to containerd, as a Start call of its Tasks service.",
        why="From stage 3 on the daemon makes no container and starts none itself: "
            "everything it does to a container is a call to containerd, over gRPC, "
            "carrying the containerd-namespace metadata. Start is the smallest one: "
            "containerd then runs `runc start`, which lets the container's init run.",
        targets=(Target("stages/stage3_containerd/containerd_executor.py",
                        "ContainerdExecutor.start", stub="raise"),),
        hints=(
            "Look at proto/containerd.proto: which rpc of the Tasks service starts a "
            "task, and which request message does it take? (Its exec_id stays empty: "
            "this is the container itself, not an exec.)",
            "The generated code has a class per message (pb.<Message>(field=...)) and, "
            "on the stub self.tasks, a method per rpc of the Tasks service.",
            "No method of this class calls a stub directly: see how pause() or state() "
            "make their call, and do the same. That path adds the namespace metadata "
            "and turns gRPC errors into the daemon's.",
        ),
        tests=("tests/behaviour/test_run.py::test_exit_code_is_passed_through",
               "tests/behaviour/test_run.py::test_output_reaches_stdout"),
        reading=("stages/stage3_containerd/containerd_executor.py",
                 "stages/stage3_containerd/proto/containerd.proto",
                 "stages/stage3_containerd/containerd/tasks.py"),
        env=(("WB_ENGINES", "stage3"),),
    ),
    Exercise(
        name="shim-exit-file",
        title="Stage 4: the shim keeps the exit status, on disk",
        stage="stage4",
        difficulty=2,
        minutes=25,
        task="When the container's init exits, the shim records its status in the "
             "bundle (exit.json), durably, so that a containerd restarted after the shim "
             "itself died can still say how the container ended.",
        why="In Docker 1.11 the shim (containerd-shim) was born so that containerd could "
            "die or be upgraded while containers run: the shim is the container's "
            "parent and keeps its exit status until someone asks. A shim that dies too "
            "would lose it, and the container would be reported killed (137); so the "
            "status goes to a file, written so that a crash never leaves half of one.",
        targets=(Target("stages/stage4_shim/shim/server.py", "write_exit", stub="pass"),),
        hints=(
            "read_exit(), just below, says what the file looks like: JSON with "
            "`status` and `exited_at`, in os.path.join(bundle, EXIT_FILE).",
            "Durable means: the data reached the disk before anyone can see the file. "
            "Write a temporary file next to it, flush() it and os.fsync() its fd.",
            "Then rename the temporary file over the real name: rename(2) is atomic, "
            "so a reader sees the old file or the whole new one, never half of it.",
        ),
        tests=(f"{STAGE4_TESTS}::test_an_exit_recorded_by_a_shim_that_then_died_is_reported",
               f"{STAGE4_TESTS}::test_a_killed_shim_ends_its_container_and_leaves_nothing"),
        reading=("stages/stage4_shim/shim/server.py", "stages/stage4_shim/shim/main.py",
                 "stages/stage4_shim/containerd/tasks.py"),
    ),
    Exercise(
        name="containerd-adopts-shims",
        title="Stage 4: a restarted containerd finds its shims again",
        stage="stage4",
        difficulty=3,
        minutes=40,
        task="When containerd starts, adopt every task that is still there from before: "
             "each bundle with a shim's address is a task, whose shim is alive (watch it "
             "again) or dead (end the task with what it recorded).",
        why="This is what the shim was for. With stage 3, killing containerd kills the "
            "containers' parent and their stdio. With stage 4, containerd holds nothing "
            "a container needs: everything is in the shims and their bundles on disk, "
            "so a new containerd, or a new version of it, rebuilds its whole state by "
            "reading them back (containerd calls this loading its tasks).",
        targets=(Target("stages/stage4_shim/containerd/tasks.py", "TasksService._restore",
                        stub="pass"),),
        hints=(
            "The state directory holds one directory per containerd namespace, and in "
            "it one bundle per container ('s' and 'runtime' are not namespaces). "
            "find_shim(bundle) reads the shim's address file.",
            "A bundle without a shim address or a config.json is a create that never "
            "finished: remove it. The others become ShimTask entries of self._tasks.",
            "Ask each shim its state (a short timeout). A shim that is gone: "
            "self._shim_died(task) says how the task ended, and _report_exit tells the "
            "waiters. A live one whose task is not just 'created': self._monitor(task).",
        ),
        tests=(f"{STAGE4_TESTS}::test_kill_9_containerd_and_everything_works_again",
               f"{STAGE4_TESTS}::test_an_exit_while_containerd_is_down_is_reported",
               f"{STAGE4_TESTS}::test_an_exit_recorded_by_a_shim_that_then_died_is_reported"),
        reading=("stages/stage4_shim/containerd/tasks.py",
                 "stages/stage4_shim/containerd/shims.py", "stages/stage4_shim/shim/server.py"),
    ),
)

BY_NAME = {e.name: e for e in EXERCISES}
