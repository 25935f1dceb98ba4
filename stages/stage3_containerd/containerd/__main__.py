from stages.stage3_containerd.containerd.server import main

main()
