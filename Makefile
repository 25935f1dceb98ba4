# Whalebones: Docker's engine, era by era.
#   make stage-4 && ./run busybox sh     start a stage, open a shell in a container
#   CONFIG_FILE=my.json make stage-2     a daemon.json other than /etc/whalebones/daemon.json
#   make test                            set everything up and run the tests
#   make test-runtime [RUNTIME=runc|crun]  the OCI runtime conformance suite (tests/runtime)
#   make test-cgroup-v2                  stages 2 and 4's limits on pure cgroup v2, in a small VM
#   make docs / make docs-serve          build the docs site (site/) / serve it on :8000
#   make prepare                         fetch all the above needs, once: then it works offline
SHELL := /bin/bash
PY := .venv/bin/python
IMAGES_ROOT := /var/lib/whalebones/images
# What the stages and tests need from Debian. python3-venv makes the virtualenv from
# Debian's own Python (fast to start: every CLI call pays its start-up).
# python3-seccomp: libseccomp, which stage 2's libcontainer (and so our runc) loads
# the seccomp filter with; Debian's binding, imported from its file (libcontainer/seccomp.py).
APT_RUN := busybox-static python3-venv iptables python3-seccomp tini  # iptables: NAT and published ports; tini: --init
APT_TEST := $(APT_RUN) docker.io runc crun lxc python3-lxc docker-registry skopeo apache2-utils openssl
APT_LXC := lxc  # stage 1 drives LXC's tools
# make test-cgroup-v2 boots a VM (Debian's kernel is fetched by the test, not installed)
APT_CGROUP_V2 := qemu-system-x86 busybox-static
CGROUP_V2_STAGES ?= stage2 stage4
PYTEST_ARGS ?=
# The engines the behaviour suite runs against in `make test`; RUNTIME=runc makes
# stage 3's containerd use Debian's runc instead of ours.
ENGINES ?= stage1,stage2,stage3,stage4
export RUNTIME

.PHONY: help deps-run deps-test deps-lxc deps-cgroup-v2 venv images stage-1 stage-2 stage-3 \
        stage-4 stop status test test-unit test-behaviour test-reference test-runtime test-cgroup-v2 lint \
        bench clean prepare

help:
	@sed -n 's/^#   //p' Makefile

define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps-run:
	$(call apt_install,$(APT_RUN))

deps-test:
	$(call apt_install,$(APT_TEST))

deps-lxc:
	$(call apt_install,$(APT_LXC))

deps-cgroup-v2:
	$(call apt_install,$(APT_CGROUP_V2))

.venv/.installed: pyproject.toml
	@[ -x $(PY) ] || /usr/bin/python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

# The gRPC code is generated from the .proto (never committed), again when it changes,
# with the messages' type stubs (.pyi) that mypy reads in `make lint`.
PROTO := stages/stage3_containerd/proto/containerd.proto
PROTO_OUT := $(PROTO:.proto=_pb2.py) $(PROTO:.proto=_pb2.pyi) $(PROTO:.proto=_pb2_grpc.py)
$(PROTO_OUT) &: $(PROTO) .venv/.installed
	$(PY) -m stages.stage3_containerd.proto.build

venv: deps-run .venv/.installed $(PROTO_OUT)

images: venv
	@PYTHONPATH=$(CURDIR) $(PY) -m shared.images.busybox --root $(IMAGES_ROOT)

stage-1: deps-lxc
stage-1 stage-2 stage-3 stage-4: venv images
	@scripts/stage start $(subst stage-,,$@)

stop:
	@scripts/stage stop

status:
	@scripts/stage status

# ruff, then mypy over shared/ and stages/ ([tool.mypy] in pyproject.toml says what it checks)
lint: venv
	$(PY) -m ruff check shared stages tests scripts exercises
	PYTHONPATH=$(CURDIR) $(PY) -m mypy

test: deps-test venv lint
	WB_ENGINES=$(ENGINES) PYTHONPATH=$(CURDIR) $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests

# The same behaviour, CLI and attack suites against a real Docker engine: proof the tests
# are honest.
test-reference: deps-test venv
	WB_ENGINES=reference PYTHONPATH=$(CURDIR) $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests/behaviour tests/client tests/security

# The OCI runtime spec's requirements, checked against one runtime binary: RUNTIME is
# ours (bin/whalebones-runc) by default, or runc, crun, a path. `make test` runs it too
# (it is under tests/), with ours unless RUNTIME says otherwise.
test-runtime: deps-test venv
	PYTHONPATH=$(CURDIR) $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests/runtime

# The cgroup checks of tests/cgroupv2 in a QEMU VM booted with cgroup_no_v1=all (this
# machine's controllers are all on v1). On a pure-v2 host they also run natively:
# PYTHONPATH=. .venv/bin/python -m tests.cgroupv2.checks
test-cgroup-v2: deps-cgroup-v2 venv
	@for stage in $(CGROUP_V2_STAGES); do \
	  PYTHONPATH=$(CURDIR) $(PY) -m tests.cgroupv2.vm --stage $$stage || exit 1; \
	done

# e.g. make bench BENCH_ARGS="--runs 5 --only profile": writes docs/generated/bench.json
bench: deps-test venv images
	PYTHONPATH=$(CURDIR) $(PY) -m tests.bench $(BENCH_ARGS)

clean: stop
	rm -rf .venv

# --- the docs site (mkdocs-material; docs/, mkdocs.yml, scripts/docs/) -------------
# Pages about the code (sources, diffs between stages, references) are generated at
# build time by scripts/docs/hooks.py; mermaid.js is shipped with the site (no CDN),
# fetched from the npm registry at a pinned version when missing. test-docs opens the
# built site in Debian's chromium (Playwright drives it; no browser download).
APT_DOCS := chromium
MERMAID_VERSION := 11.12.0
MERMAID_SHA256 := 07e37dfa97b337ccc85365d57eddf99b9706f09db3b59b260d0333b23b343c4b
MERMAID_JS := docs/assets/vendor/mermaid.min.js
DOCS_ADDR ?= 127.0.0.1:8000

.PHONY: deps-docs docs docs-serve test-docs docs-screenshots docs-process-trees docs-traces

deps-docs:
	$(call apt_install,$(APT_DOCS))

.venv/.docs-installed: pyproject.toml .venv/.installed
	$(PY) -m pip install -q -e '.[docs]'
	@touch $@

$(MERMAID_JS):
	$(PY) scripts/docs/vendor_mermaid.py $(MERMAID_VERSION) $(MERMAID_SHA256) $@

docs: venv .venv/.docs-installed $(MERMAID_JS)
	NO_MKDOCS_2_WARNING=1 PYTHONPATH=$(CURDIR) $(PY) -m mkdocs build --strict

docs-serve: venv .venv/.docs-installed $(MERMAID_JS)
	NO_MKDOCS_2_WARNING=1 PYTHONPATH=$(CURDIR) $(PY) -m mkdocs serve --strict -a $(DOCS_ADDR)

# The process trees on the stage pages, as observed (root; stage 1 needs LXC). Commit
# docs/generated/ afterwards: the docs build itself never needs root.
docs-process-trees: venv images deps-lxc
	PYTHONPATH=$(CURDIR) $(PY) scripts/docs/process_tree.py

# The path of one request through each stage, in trace mode (root, like the above).
docs-traces: venv images deps-lxc
	PYTHONPATH=$(CURDIR) $(PY) scripts/docs/request_trace.py

# (tests/docs/test_exercises.py runs in make test; it needs no browser)
test-docs: deps-docs docs
	PYTHONPATH=$(CURDIR) $(PY) -m pytest -q -p no:cacheprovider tests/docs/test_site.py tests/docs/test_diagram_text.py \
	  tests/docs/test_offline_build.py

# The home page and stage 4's page at 1280 and 390 px wide, into docs/dev/screenshots/
# (committed for review; not part of the site)
docs-screenshots: deps-docs docs
	PYTHONPATH=$(CURDIR) $(PY) scripts/docs/screenshots.py

# Everything that comes from the network, fetched once (a workshop runs it the day
# before): Debian's packages, the virtualenv with the test and docs extras, mermaid.js,
# the busybox image. Afterwards make stage-N, test, docs, docs-serve, test-docs and the
# exercise targets fetch nothing (tests/docs/test_offline_build.py builds the docs in a
# network namespace with only loopback to prove it).
prepare: deps-test deps-docs venv .venv/.docs-installed $(MERMAID_JS) images

# --- workshop exercises (exercises/; each has a page on the docs site) --------------
#   make exercises; make exercise NAME=pivot-root; then exercise-check, exercise-hint,
#   exercise-reset, exercise-solution [APPLY=1], exercise-run [STAGE=N] with the same NAME;
#   a cgroup exercise: exercise-check V2=1 runs its checks in a cgroup v2 VM
EXERCISES := PYTHONPATH=$(CURDIR) $(PY) -m exercises
.PHONY: exercises exercise exercise-check exercise-hint exercise-reset exercise-solution \
        exercise-run

exercises: venv
	@$(EXERCISES) list

exercise: venv
	@$(EXERCISES) start $(NAME)

exercise-check exercise-hint exercise-reset: venv
	@$(EXERCISES) $(subst exercise-,,$@) $(NAME) $(if $(and $(V2),$(filter exercise-check,$@)),--v2)

exercise-solution: venv
	@$(EXERCISES) solution $(NAME) $(if $(APPLY),--apply)

# The exercise's stage, started from its working copy (scripts/stage, WB_SOURCE):
# ./run then runs your code. `make stop` stops it.
exercise-run: venv images
	@$(EXERCISES) run $(NAME) $(if $(STAGE),--stage $(STAGE))
