from stages.stage4_shim.daemon import run

run()
