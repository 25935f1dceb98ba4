from stages.stage3_containerd.daemon import run

run()
