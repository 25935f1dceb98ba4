"""Data that outlives a container: bind mounts, named and anonymous volumes.

Docker's model (moby's daemon/volume): each container has *mount points*, decided once
at create from `-v`, `--mount`, `--volumes-from` and the image's VOLUME (parser.py,
mountpoints.py); the daemon owns the volumes themselves (store.py, the local driver:
a directory per volume under <root>/volumes, root's alone). At each start the mount
points become bind mounts in the runtime spec, which every era applies its own way.
"""
