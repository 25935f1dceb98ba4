from stages.stage3_containerd.containerd.server import main
from stages.stage4_shim.containerd.tasks import TasksService

# Not a subreaper: the shims, not containerd, are the containers' parents now.
main(make_tasks=TasksService, subreaper=False, prog="python -m stages.stage4_shim.containerd")
