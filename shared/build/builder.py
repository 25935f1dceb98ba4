"""The classic builder (`DOCKER_BUILDKIT=0 docker build`): a loop of run and commit.

Docker's first builder, kept in moby's builder/dockerfile, makes an image per
instruction, each the child of the last:

    FROM busybox          the stage's first image, pulled if missing (or --pull)
    RUN make              a container of the current image runs `/bin/sh -c make`,
                          by whatever executor this era has (LXC, libcontainer,
                          containerd + runc, a shim); its upper dir is committed
    ENV A=1, CMD ...      a container is created (never started) with the command
                          `/bin/sh -c #(nop) ENV A=1`, and committed: an image with
                          the new config and an empty layer
    COPY src /dst         the files are copied into a new container's rootfs, which
                          is committed

The command a step's container was made with is its image's `container_config`, and
that is the build cache's key: a step is skipped (`---> Using cache`) when an image
was already made from the same parent with the same container config. For COPY and
ADD the config's command names the sources' content digest, so a changed file misses.

The stream the docker CLI prints is moby's: {"stream": "Step 1/3 : FROM busybox\\n"},
{"stream": " ---> 1a2b3c4d5e6f\\n"}, {"aux": {"ID": "sha256:..."}} and on failure
{"errorDetail": {"message": ...}, "error": ...}.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.build import dockerfile, steps
from shared.build.cache import BuildCache
from shared.daemon.commit import take_layer
from shared.daemon.engine import unmount_rootfs
from shared.errors import EngineError, InvalidParameter
from shared.images import snapshots
from shared.images.childimage import make_child
from shared.images.store import Image, ImageNotFound

if TYPE_CHECKING:
    from shared.daemon.engine import Engine
    from shared.daemon.state import Container

DEFAULT_SHELL = ["/bin/sh", "-c"]
# moby's builtinAllowedBuildArgs: usable without an ARG, and kept out of the cache key
# and history unless the Dockerfile names them.
PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                        "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
                        "ALL_PROXY", "all_proxy"})


class BuildError(EngineError):
    """A build that failed after it started: reported in the stream (moby's
    jsonmessage.JSONError, with the RUN's exit code)."""

    status = 500

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class BuildOptions:
    dockerfile: str = "Dockerfile"
    tags: list[str] = field(default_factory=list)
    buildargs: dict[str, str | None] = field(default_factory=dict)
    nocache: bool = False
    rm: bool = True
    forcerm: bool = False
    pull: bool = False
    target: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    networkmode: str = ""
    extrahosts: list[str] = field(default_factory=list)
    resources: dict = field(default_factory=dict)  # HostConfig fields for RUN's containers


@dataclass
class Stage:
    """What one stage's dispatch carries from step to step (moby's dispatchState)."""

    name: str
    image: Image | None  # None: FROM scratch, until a step makes an image
    run_config: dict
    args: dict[str, str | None] = field(default_factory=dict)  # declared ARGs
    maintainer: str = ""
    cmd_set: bool = False

    @property
    def image_id(self) -> str:
        return self.image.id if self.image is not None else ""


class Builder:
    def __init__(self, engine: Engine, context_dir: str, options: BuildOptions,
                 emit: Callable[[dict], None]) -> None:
        self.engine = engine
        self.context_dir = context_dir
        self.options = options
        self._emit = emit
        self.cache = BuildCache(engine.images)
        self.containers: list[str] = []  # made by this build and not yet removed
        self.stages: dict[str, Image | None] = {}  # finished stages, by name and index
        self.used_args: set[str] = set()
        self.meta: dict[str, str | None] = {}  # the ARGs before the first FROM
        self.escape = "\\"  # the Dockerfile's escape directive

    # ------------------------------------------------------------ output

    def out(self, text: str) -> None:
        self._emit({"stream": text})

    # ------------------------------------------------------------ the loop

    def build(self, dockerfile_text: str) -> str:
        parsed = steps.parse(dockerfile_text, self.options.dockerfile)
        self.escape = parsed.escape
        stages = parsed.stages
        if self.options.target:
            names = [s.name for s in stages]
            if self.options.target.lower() not in names:
                raise InvalidParameter(
                    f'failed to reach build target {self.options.target} in Dockerfile')
            stages = stages[:names.index(self.options.target.lower()) + 1]
        if not stages:
            raise InvalidParameter("No image was generated. Is your Dockerfile empty?")
        for key in sorted(self.options.labels):
            stages[-1].instructions.append(steps.label_instruction(
                key, self.options.labels[key]))
        total = len(parsed.meta_args) + sum(1 + len(s.instructions) for s in stages)
        index = 1
        meta = self.meta
        for arg in parsed.meta_args:
            self.out(f"Step {index}/{total} : {arg.original}\n")
            index += 1
            for key, value in steps.arg_pairs(
                    arg, lambda w: steps.expand(w, self._meta(meta), self.escape)):
                meta[key] = value
        state: Stage | None = None
        for number, parsed_stage in enumerate(stages):
            self.out(f"Step {index}/{total} : {parsed_stage.source}\n")
            index += 1
            state = self._begin_stage(parsed_stage, meta)
            self._run_triggers(state)
            self.out(f" ---> {state.image_id.removeprefix('sha256:')[:12]}\n")
            for instruction in parsed_stage.instructions:
                self.out(f"Step {index}/{total} : {instruction.original}\n")
                index += 1
                self._dispatch_and_clean(state, instruction)
                self.out(f" ---> {state.image_id.removeprefix('sha256:')[:12]}\n")
            if state.image is not None:
                self._emit({"aux": {"ID": state.image.id}})
            self.stages[str(number)] = state.image
            if parsed_stage.name:
                self.stages[parsed_stage.name] = state.image
        assert state is not None
        unused = sorted(k for k in self.options.buildargs
                        if k not in self.used_args and k not in PROXY_ARGS
                        and k not in meta)
        if unused:
            self.out(f"[Warning] One or more build-args [{' '.join(unused)}] "
                     "were not consumed\n")
        if state.image is None:
            raise BuildError("No image was generated. Is your Dockerfile empty?")
        image = state.image
        self.out(f"Successfully built {image.short_id}\n")
        for tag in self.options.tags:
            self.engine.images.tag(image, tag)
            self.engine.events.image("tag", image.id, _familiar(tag))
            self.out(f"Successfully tagged {_familiar(tag)}\n")
        return image.id

    def _meta(self, meta: dict[str, str | None]) -> dict[str, str]:
        """The values ARGs before the first FROM give (for FROM lines)."""
        values: dict[str, str] = {}
        for key, default in meta.items():
            given = self.options.buildargs.get(key)
            value = given if given is not None else default
            if value is not None:
                values[key] = value
        return values

    def _begin_stage(self, parsed_stage: steps.ParsedStage, meta: dict[str, str | None]
                     ) -> Stage:
        name = steps.expand(parsed_stage.base, self._meta(meta), self.escape)
        self.used_args.update(k for k in meta if k in parsed_stage.base)
        if not name:
            raise BuildError(f"base name ({parsed_stage.base}) should not be blank")
        if parsed_stage.platform:
            platform = steps.expand(parsed_stage.platform, self._meta(meta), self.escape)
            if platform not in ("linux/amd64", "linux", "amd64"):
                raise BuildError(f'"{platform}": only linux/amd64 is supported by this engine')
        image: Image | None
        if name.lower() in self.stages:
            image = self.stages[name.lower()]
        elif name == "scratch":
            image = None
        else:
            image = self._from_image(name, pull=self.options.pull)
        run_config = copy.deepcopy((image.config.get("config") if image else None) or {})
        return Stage(parsed_stage.name, image, run_config)

    def _run_triggers(self, state: Stage) -> None:
        """The base image's ONBUILD instructions, run first in the stage built FROM it
        (moby's dispatchTriggeredOnBuild); the new image does not inherit them."""
        triggers = state.run_config.get("OnBuild") or []
        if not triggers:
            return
        state.run_config["OnBuild"] = None
        self.out(f"# Executing {len(triggers)} build trigger"
                 f"{'s' if len(triggers) > 1 else ''}\n")
        for trigger in triggers:
            try:
                parsed = dockerfile.parse(f"FROM scratch\n{trigger}\n")
            except dockerfile.DockerfileError as e:
                raise BuildError(str(e)) from None
            instructions = parsed.stages[0].instructions
            if len(instructions) != 1:
                raise BuildError("onbuild trigger should be a single expression")
            if instructions[0].keyword in ("ONBUILD", "FROM", "MAINTAINER"):
                raise BuildError(f"{instructions[0].keyword} isn't allowed as an ONBUILD "
                                 "trigger")
            self._dispatch_and_clean(state, instructions[0])

    def _from_image(self, name: str, pull: bool = False) -> Image:
        """The image a FROM (or COPY --from) names; pulled when the engine does not
        have it, or always with `pull` (`docker build --pull`), its progress in the
        build's stream as dockerd shows it."""
        if not pull:
            try:
                return self.engine.images.resolve(name)
            except ImageNotFound:
                pass
            except ValueError as e:
                raise BuildError(str(e)) from None
        from shared.images.registry import progress
        from shared.images.registry.auth import ANONYMOUS
        from shared.images.registry.pull import Pull

        try:
            puller = Pull(self.engine.images, name, ANONYMOUS, None)
            puller.resolve()
            puller.run(progress.Reporter(self._emit))
            return self.engine.images.resolve(name)
        except EngineError as e:
            raise BuildError(e.message) from None
        except ValueError as e:
            raise BuildError(str(e)) from None

    def _dispatch_and_clean(self, state: Stage, instruction: steps.Instruction) -> None:
        ok = False
        try:
            self._dispatch(state, instruction)
            ok = True
        finally:
            # moby's dispatch: rm removes the step's containers after a success only
            # (a failed RUN's container stays for a look inside); forcerm always.
            if self.options.forcerm or (self.options.rm and ok):
                self.remove_containers()

    def remove_containers(self) -> None:
        for cid in list(self.containers):
            with contextlib.suppress(EngineError):
                self.engine.remove(cid, force=True, volumes=True)
            self.containers.remove(cid)
            self.out(f"Removing intermediate container {cid[:12]}\n")

    # ------------------------------------------------------------ the instructions

    def _env(self, state: Stage) -> dict[str, str]:
        """What variables mean in an instruction: the config's Env, then the build args
        the stage declared (moby's dispatch: Env plus buildArgs.FilterAllowed)."""
        env = dict(e.partition("=")[::2] for e in state.run_config.get("Env") or [])
        for key, value in self._allowed_args(state).items():
            env.setdefault(key, value)
        return env

    def _allowed_args(self, state: Stage) -> dict[str, str]:
        """Declared ARGs (and the proxy args) with their values."""
        values: dict[str, str] = {}
        for key, default in state.args.items():
            given = self.options.buildargs.get(key)
            value = given if given is not None else default
            if value is not None:
                values[key] = value
        for key in PROXY_ARGS:
            given = self.options.buildargs.get(key)
            if given is not None and key not in values:
                values[key] = given
        return values

    def _dispatch(self, state: Stage, ins: steps.Instruction) -> None:
        keyword = ins.keyword
        try:
            dockerfile.check_classic(ins)  # --chmod, RUN --mount...: BuildKit's
        except dockerfile.DockerfileError as e:
            raise BuildError(str(e)) from None
        env = self._env(state)
        cfg = state.run_config

        def x(word: str) -> str:
            return steps.expand(word, env, self.escape)

        if keyword == "RUN":
            self._run(state, ins)
        elif keyword == "ENV":
            pairs = [(x(k), x(v)) for k, v in steps.pairs(ins)]
            current = list(cfg.get("Env") or [])
            for key, value in pairs:
                entry = f"{key}={value}"
                for i, old in enumerate(current):
                    if old.partition("=")[0] == key:
                        current[i] = entry
                        break
                else:
                    current.append(entry)
            cfg["Env"] = current
            self._commit_config(state, "ENV " + " ".join(f"{k}={v}" for k, v in pairs))
        elif keyword == "LABEL":
            pairs = [(x(k), x(v)) for k, v in steps.pairs(ins)]
            labels = dict(cfg.get("Labels") or {})
            labels.update(pairs)
            cfg["Labels"] = labels
            self._commit_config(state, "LABEL " + " ".join(f"{k}={v}" for k, v in pairs))
        elif keyword == "MAINTAINER":
            state.maintainer = steps.text(ins)
            self._commit_config(state, "MAINTAINER " + state.maintainer)
        elif keyword in ("CMD", "ENTRYPOINT"):
            command = steps.command(ins, cfg.get("Shell") or DEFAULT_SHELL)
            if keyword == "CMD":
                cfg["Cmd"] = command
                if ins.args:
                    state.cmd_set = True
            else:
                cfg["Entrypoint"] = command
                if not state.cmd_set:
                    cfg["Cmd"] = None
            self._commit_config(state, f"{keyword} {steps.go_quoted_list(command)}")
        elif keyword == "WORKDIR":
            try:
                cfg["WorkingDir"] = dockerfile.workdir(cfg.get("WorkingDir") or "",
                                                       x(steps.text(ins)))
            except dockerfile.DockerfileError as e:
                raise BuildError(str(e)) from None
            self._workdir(state)
        elif keyword == "USER":
            cfg["User"] = x(steps.text(ins))
            self._commit_config(state, f"USER {cfg['User']}")
        elif keyword == "EXPOSE":
            ports = [w for p in ins.args for w in steps.expand_words(p, env, self.escape)]
            exposed = dict(cfg.get("ExposedPorts") or {})
            try:
                exposed.update({port: {} for port in dockerfile.exposed_ports(ports)})
            except (dockerfile.DockerfileError, ValueError) as e:
                raise BuildError(str(e)) from None
            cfg["ExposedPorts"] = exposed
            self._commit_config(state, "EXPOSE " + " ".join(ports))
        elif keyword == "VOLUME":
            paths = [x(p) for p in ins.args]
            if any(not p for p in paths):
                raise BuildError("VOLUME specified can not be an empty string")
            volumes = dict(cfg.get("Volumes") or {})
            volumes.update({p: {} for p in paths})
            cfg["Volumes"] = volumes
            self._commit_config(state, f"VOLUME [{' '.join(paths)}]")
        elif keyword == "STOPSIGNAL":
            cfg["StopSignal"] = x(steps.text(ins))
            self._commit_config(state, f"STOPSIGNAL {cfg['StopSignal']}")
        elif keyword == "ARG":
            parts = []
            for name, default in steps.arg_pairs(ins, x):
                if default is None:  # `ARG NAME` after FROM takes the meta ARG's default
                    default = self.meta.get(name)
                state.args[name] = default
                self.used_args.add(name)
                parts.append(name if default is None else f"{name}={default}")
            self._commit_config(state, "ARG " + " ".join(parts))
        elif keyword == "SHELL":
            cfg["Shell"] = list(ins.args)
            self._commit_config(state, f"SHELL [{' '.join(ins.args)}]")
        elif keyword == "ONBUILD":
            cfg["OnBuild"] = [*(cfg.get("OnBuild") or []), steps.text(ins)]
            self._commit_config(state, "ONBUILD " + steps.text(ins))
        elif keyword in ("COPY", "ADD"):
            self._copy(state, ins, x)
        elif keyword == "HEALTHCHECK":
            if cfg.get("Healthcheck") and (cfg["Healthcheck"].get("Test") or ["NONE"])[0] \
                    != "NONE":
                self.out(f"Note: overriding previous HEALTHCHECK: "
                         f"[{' '.join(cfg['Healthcheck']['Test'])}]\n")
            try:
                cfg["Healthcheck"] = dockerfile.healthcheck(ins)
            except (dockerfile.DockerfileError, ValueError) as e:
                raise BuildError(str(e)) from None
            self._commit_config(state, "HEALTHCHECK " + steps.go_health(cfg["Healthcheck"]))
        else:
            raise InvalidParameter(f"unknown instruction: {keyword}")

    # ------------------------------------------------------------ steps that commit

    def _probe(self, state: Stage, container_config: dict) -> bool:
        """The build cache: an image made before from this parent and this config."""
        if self.options.nocache:
            return False
        cached = self.cache.lookup(state.image_id, container_config)
        if cached is None:
            return False
        self.out(" ---> Using cache\n")
        state.image = cached
        return True

    def _container(self, state: Stage, config: dict) -> Container:
        """A step's container, made by this era's engine as any other (not started)."""
        body: dict[str, Any] = {
            "Image": state.image_id,
            "Cmd": config.get("Cmd"),
            "Entrypoint": config.get("Entrypoint"),
            "Env": config.get("Env") or [],
            "User": config.get("User") or "",
            "WorkingDir": config.get("WorkingDir") or "",
            "Labels": config.get("Labels") or {},
            "HostConfig": {
                **self.options.resources,
                "NetworkMode": self.options.networkmode or "default",
                "ExtraHosts": self.options.extrahosts or None,
                "LogConfig": {"Type": "json-file", "Config": {}},
            },
        }
        c = self.engine.create(None, body)
        self.containers.append(c.id)
        self.out(f" ---> Running in {c.id[:12]}\n")
        return c

    def _commit(self, state: Stage, c: Container | None, container_config: dict,
                upper: str | None = None) -> None:
        """The container's changes (or those of a bare writable layer, `upper`), if
        any, as the stage's next image."""
        layer = None
        if c is not None:
            upper = os.path.join(self.engine.containers.dir(c.id), "upper")
        if upper is not None:
            lowers = self.engine.images.layer_dirs(state.image) if state.image else []
            layer = take_layer(self.engine.images, upper, lowers)
        image = make_child(self.engine.images, state.image, layer,
                           copy.deepcopy(state.run_config),
                           container_config=container_config,
                           container_id=c.id if c is not None else "",
                           author=state.maintainer,
                           created_by=" ".join(container_config.get("Cmd") or []))
        self.cache.record(state.image_id, container_config, image)
        state.image = image

    def _nop(self, state: Stage, comment: str, one_word: bool = False) -> dict:
        shell = list(state.run_config.get("Shell") or DEFAULT_SHELL)
        config = copy.deepcopy(state.run_config)
        config["Cmd"] = [*shell, "#(nop) " + comment] if one_word else [
            *shell, "#(nop) ", comment]
        return config

    def _commit_config(self, state: Stage, comment: str) -> None:
        """A config-only step: moby's commit() with a `#(nop)` command."""
        config = self._nop(state, comment)
        if self._probe(state, config):
            return
        c = self._container(state, config) if state.image is not None else None
        self._commit(state, c, config)

    def _workdir(self, state: Stage) -> None:
        config = self._nop(state, "WORKDIR " + state.run_config["WorkingDir"], one_word=True)
        if self._probe(state, config):
            return
        if state.image is None:
            self._commit(state, None, config)
            return
        c = self._container(state, config)
        with self.mounted(c) as rootfs:
            from shared.securejoin import secure_join
            target = secure_join(rootfs, state.run_config["WorkingDir"])
            os.makedirs(target, mode=0o755, exist_ok=True)
        self._commit(state, c, config)

    @contextlib.contextmanager
    def mounted(self, c: Container) -> Iterator[str]:
        """The container's rootfs, mounted for the daemon to write in (WORKDIR)."""
        image = self.engine.images.get(c.image_id)
        target = tempfile.mkdtemp(prefix="build-rootfs-",
                                  dir=self.engine.containers.dir(c.id))
        snapshots.mount_all(snapshots.mounts(self.engine.images,
                                             self.engine.containers.dir(c.id), image), target)
        try:
            yield target
        finally:
            unmount_rootfs(target)
            os.rmdir(target)

    @contextlib.contextmanager
    def bare_layer(self, image: Image | None) -> Iterator[tuple[str, str]]:
        """A writable layer on `image` with no container (moby's NewRWLayer for COPY
        and ADD): (its mounted rootfs, its upper dir), gone afterwards. On FROM
        scratch there is nothing below: the layer is a plain directory."""
        layer_dir = tempfile.mkdtemp(prefix="build-layer-", dir=self.engine.images.tmp)
        try:
            if image is None:
                upper = os.path.join(layer_dir, "upper")
                os.mkdir(upper, 0o755)
                yield upper, upper
                return
            mounts = snapshots.prepare(self.engine.images, layer_dir, image)
            rootfs = os.path.join(layer_dir, "rootfs")
            os.mkdir(rootfs)
            snapshots.mount_all(mounts, rootfs)
            try:
                yield rootfs, os.path.join(layer_dir, "upper")
            finally:
                unmount_rootfs(rootfs)  # detached if still busy: never left mounted
        finally:
            shutil.rmtree(layer_dir, ignore_errors=True)

    def _run(self, state: Stage, ins: steps.Instruction) -> None:
        if state.image is None:
            raise BuildError("RUN on an image without a filesystem (FROM scratch) has no "
                             "shell to run")
        cmd = steps.command(ins, state.run_config.get("Shell") or DEFAULT_SHELL)
        env_list = list(state.run_config.get("Env") or [])
        have = {e.partition("=")[0] for e in env_list}
        build_args = {k: v for k, v in self._allowed_args(state).items() if k not in have}
        save_cmd = cmd
        keyed = sorted(f"{k}={v}" for k, v in build_args.items()
                       if k in state.args)  # proxy args only when declared
        if keyed:
            save_cmd = [f"|{len(keyed)}", *keyed, *cmd]
        probe_config = copy.deepcopy(state.run_config)
        probe_config["Cmd"] = save_cmd
        if save_cmd:
            probe_config["Entrypoint"] = None
        if self._probe(state, probe_config):
            return
        run_config = copy.deepcopy(state.run_config)
        run_config.update(Cmd=cmd, Env=env_list + [f"{k}={v}" for k, v in build_args.items()],
                          Entrypoint=[""])
        c = self._container(state, run_config)
        code = self._run_container(c)
        if code != 0:
            raise BuildError(f"The command '{' '.join(cmd)}' returned a non-zero code: {code}",
                             code)
        self._commit(state, c, probe_config)

    def _run_container(self, c: Container) -> int:
        """Start the step's container, stream its output, return its exit code."""
        broadcast = self.engine.output(c)
        sub = broadcast.subscribe()
        try:
            self.engine.start(c.id)
            while True:
                stream, data = sub.get()
                if stream == "exit":
                    break
                if data:
                    self.out(data.decode("utf-8", "replace"))
        finally:
            broadcast.unsubscribe(sub)
        return self.engine.wait(c.id).state.exit_code

    def _copy(self, state: Stage, ins: steps.Instruction, x: Callable[[str], str]) -> None:
        words = [x(w) for w in ins.args]
        if len(words) < 2:
            raise BuildError(f"{ins.keyword} requires at least two arguments")
        sources, dest = words[:-1], words[-1]
        source_root = self.context_dir
        preserve = False
        from_stage = ins.flags.get("from")
        mounted: contextlib.ExitStack = contextlib.ExitStack()
        with mounted:
            if from_stage:
                if ins.keyword == "ADD":
                    raise BuildError("ADD does not support the --from flag")
                source_root = mounted.enter_context(self._image_root(from_stage))
                preserve = not ins.flags.get("chown")
            digest = steps.sources_digest(source_root, sources, ins.keyword == "ADD")
            chown = ins.flags.get("chown") or ""
            comment = (f"{ins.keyword} {'--chown=' + chown + ' ' if chown else ''}"
                       f"{digest} in {dest} ")
            config = self._nop(state, comment, one_word=True)
            if self._probe(state, config):
                return
            with self.bare_layer(state.image) as (rootfs, upper):
                target = steps.destination(state.run_config.get("WorkingDir") or "/", dest)
                steps.copy_sources(source_root, sources, rootfs, target,
                                   chown=chown, preserve_owner=preserve,
                                   unpack=ins.keyword == "ADD")
                self._commit(state, None, config, upper=upper)

    @contextlib.contextmanager
    def _image_root(self, name: str) -> Iterator[str]:
        """COPY --from: an earlier stage's (or any image's) files, read-only."""
        image = self.stages.get(name.lower()) if name.lower() in self.stages else None
        if image is None and name.lower() not in self.stages:
            image = self._from_image(name)
        if image is None:
            raise BuildError(f"invalid from flag value {name}: the stage has no files "
                             "(FROM scratch)")
        lowers = list(reversed(self.engine.images.layer_dirs(image)))
        target = tempfile.mkdtemp(prefix="build-from-", dir=self.engine.images.tmp)
        try:
            if len(lowers) == 1:
                snapshots.mount_all([snapshots.Mount("none", lowers[0], ("bind",))], target)
            else:
                snapshots.mount_all([snapshots.Mount(
                    "overlay", "overlay", (f"lowerdir={':'.join(lowers)}",))], target)
            try:
                yield target
            finally:
                unmount_rootfs(target)
        finally:
            os.rmdir(target)


def _familiar(tag: str) -> str:
    from shared.images import reference
    return reference.parse(tag).familiar_string()



class _ConfigOnly(Builder):
    """moby's BuildFromConfig: the same dispatchers, with nothing committed (what
    `docker commit --change` applies to the new image's config)."""

    def __init__(self) -> None:  # no engine: nothing is built
        self.options = BuildOptions()
        self.escape = "\\"
        self.meta = {}
        self.used_args = set()
        self._emit = lambda message: None

    def _commit_config(self, state: Stage, comment: str) -> None:
        pass

    def _workdir(self, state: Stage) -> None:
        pass


def apply_change(config: dict, change: str) -> None:
    """One `docker commit --change` instruction applied to `config` (a 400 for one a
    commit does not take, or a bad one)."""
    try:
        instruction = dockerfile.parse_change(change)
    except dockerfile.DockerfileError as e:
        raise InvalidParameter(str(e)) from None
    try:
        _ConfigOnly()._dispatch(Stage("", None, config), instruction)
    except BuildError as e:
        raise InvalidParameter(e.message) from None
