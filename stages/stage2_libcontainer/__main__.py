from stages.stage2_libcontainer.daemon import run

run()
