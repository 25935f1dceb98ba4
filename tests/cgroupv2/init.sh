#!/bin/busybox sh
# PID 1 of the test VM: the whole "distribution" is this script and a static busybox.
#
# It boots a root that is the host's own filesystem, read-only over 9p, with a tmpfs
# overlay on top so the tests can write; gives it a pure cgroup-v2 /sys/fs/cgroup
# (the kernel was booted with cgroup_no_v1=all, so every controller is on v2); runs
# the checks in it; and leaves their report on a second, writable 9p share.
#
# Parameters come on the kernel command line: wb.stage= wb.repo= wb.python=

/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

for arg in $(cat /proc/cmdline); do
    case "$arg" in
        wb.stage=*) STAGE="${arg#wb.stage=}" ;;
        wb.repo=*) REPO="${arg#wb.repo=}" ;;
        wb.python=*) PYTHON="${arg#wb.python=}" ;;
    esac
done

fail() {
    echo "init: $*"
    echo "init: $*" >> /results/init-error 2>/dev/null
    poweroff -f
}

# The drivers for virtio and 9p are modules in Debian's kernel; no udev here, so
# they go in by hand, each after the modules it needs (the list is in order).
for module in $(cat /modules.list); do
    insmod "/modules/$module.ko" || fail "insmod $module"
done

# The results share first, so that every later failure can be reported on it.
mkdir -p /results /host /overlay /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /results \
    || fail "mount the results share"

# The host's root, read-only. cache=loose lets the guest keep what it read (Python
# reads thousands of files at start-up; each trip to the host is slow under TCG).
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro host /host \
    || fail "mount the host's root"
# Writes go to memory, in an overlay above it: the host is never changed.
mount -t tmpfs -o size=1g tmpfs /overlay
mkdir -p /overlay/upper /overlay/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/overlay/upper,workdir=/overlay/work \
    /newroot || fail "mount the overlay root"

# What a booted system would have mounted: fresh proc, sys, dev, and the cgroup2 tree
# at /sys/fs/cgroup, where every controller now is. /tmp and /run get a tmpfs of their
# own: the daemon mounts overlays there, and an overlay's upper dir cannot be an overlay.
cd /newroot
mount -t proc proc proc
mount -t sysfs sysfs sys
mount -t cgroup2 -o nsdelegate cgroup2 sys/fs/cgroup || fail "mount cgroup2"
mount -t devtmpfs devtmpfs dev
mkdir -p dev/pts dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts dev/pts
mount -t tmpfs tmpfs dev/shm
mount -t tmpfs tmpfs tmp
mount -t tmpfs tmpfs run
mkdir -p run/results
mount --bind /results run/results
ip link set lo up 2>/dev/null

echo "init: cgroup controllers: $(cat sys/fs/cgroup/cgroup.controllers)"
echo "init: running the $STAGE checks in $REPO"
chroot /newroot /bin/sh -c "cd '$REPO' && \
    exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root PYTHONPATH='$REPO' PYTHONDONTWRITEBYTECODE=1 \
    '$PYTHON' -m tests.cgroupv2.checks --stage '$STAGE' --junit /run/results/junit.xml" \
    2>&1 | tee /results/output.log
# The pipe hides the exit status; the host reads the JUnit report instead.

sync
umount /newroot/run/results /results 2>/dev/null
poweroff -f
