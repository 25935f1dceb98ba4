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


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    stage: str
    task: str
    why: str
    targets: tuple[Target, ...]
    hints: tuple[str, ...]
    tests: tuple[str, ...]
    needs_root: bool = True
    reading: tuple[str, ...] = field(default_factory=tuple)


LIBCONTAINER = "stages/stage2_libcontainer/libcontainer"
LIBCONTAINER_TESTS = "tests/stages/stage2/test_libcontainer.py"

EXERCISES: tuple[Exercise, ...] = (
    Exercise(
        name="pivot-root",
        title="Leave the host's root filesystem with pivot_root",
        stage="stage2",
        task="Make the container's rootfs the root of its mount namespace, and make the "
             "host's old root disappear from it entirely.",
        why="chroot only changes how paths are looked up for one process: the host's "
            "root is still mounted, and a process with CAP_SYS_CHROOT can climb back "
            "out. pivot_root swaps the mounts themselves, so the old root can be "
            "unmounted and nothing of the host is left to escape to.",
        targets=(Target(f"{LIBCONTAINER}/rootfs.py", "pivot", stub="raise"),),
        hints=(
            "The calls you need are already wrapped in syscalls.py: pivot_root, mount, "
            "umount2 (and the flags MS_SLAVE, MS_REC, MNT_DETACH).",
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
        name="uts-hostname",
        title="A hostname of its own, in a UTS namespace",
        stage="stage2",
        task="Inside the container's init, give the container the hostname of its spec, "
             "when the spec asks for a UTS namespace.",
        why="The hostname belongs to a UTS namespace. The container's init was cloned "
            "into a new one, which starts as a copy of the host's: set it there and "
            "the host's hostname does not change.",
        targets=(Target(f"{LIBCONTAINER}/init.py", "container_init",
                        statement='if "uts" in spec_ns', stub="pass"),),
        hints=(
            "The spec has it at spec['hostname']; the namespaces asked for are in "
            "spec_ns, a set of names such as 'uts'.",
            "Python's socket module can set the hostname: socket.sethostname(name).",
            "Wrap the call in `with step(f'sethostname {name}'):` so that a failure "
            "names the operation, like every other step of init.",
        ),
        tests=(f"{LIBCONTAINER_TESTS}::test_pid_1_hostname_and_own_proc",),
        reading=(f"{LIBCONTAINER}/init.py", f"{LIBCONTAINER}/namespaces.py"),
    ),
    Exercise(
        name="drop-capabilities",
        title="Drop capabilities from the bounding set",
        stage="stage2",
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
            "prctl(PR_CAPBSET_DROP, n) drops one from the bounding set: "
            "syscalls.prctl(syscalls.PR_CAPBSET_DROP, n, what=...).",
            "Give each call a `what=` that names the capability (NAMES[n]) so that an "
            "error says which one could not be dropped.",
        ),
        tests=(f"{LIBCONTAINER_TESTS}::test_capabilities_and_no_new_privs_are_dockers",
               f"{LIBCONTAINER_TESTS}::test_non_root_user_and_groups"),
        reading=(f"{LIBCONTAINER}/capabilities.py", "shared/oci/defaults.py"),
    ),
)

BY_NAME = {e.name: e for e in EXERCISES}
