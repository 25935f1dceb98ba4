"""Unit tests: Docker's rules for merging a create request with its image's config.

Pure functions, no root and no daemon (shared/daemon/containerconfig.py); the behaviour
suite checks the same rules end to end on every stage.
"""

from __future__ import annotations

import pytest

from shared.daemon import containerconfig
from shared.daemon.containerconfig import command, merge
from shared.errors import InvalidParameter, NotFound

IMAGE = {"Cmd": ["sh"], "Env": ["PATH=/image/bin", "A=image"], "WorkingDir": "/srv",
         "Labels": {"from": "image"}, "ExposedPorts": {"80/tcp": {}}}


@pytest.mark.parametrize(
    ("config", "image", "expected"),
    [
        ({}, {"Cmd": ["sh"]}, ["sh"]),
        ({"Cmd": ["echo", "hi"]}, {"Cmd": ["sh"]}, ["echo", "hi"]),
        ({"Cmd": ["-l"]}, {"Entrypoint": ["ls"], "Cmd": ["/"]}, ["ls", "-l"]),
        ({}, {"Entrypoint": ["ls"], "Cmd": ["/"]}, ["ls", "/"]),
        # A new entrypoint drops the image's Cmd: `--entrypoint ls busybox` runs `ls`.
        ({"Entrypoint": ["ls"]}, {"Cmd": ["sh"]}, ["ls"]),
        ({"Entrypoint": [""], "Cmd": ["true"]}, {"Entrypoint": ["ls"]}, ["true"]),
    ],
)
def test_entrypoint_and_cmd_merge_as_docker_does(config, image, expected) -> None:
    assert command(config, image) == expected


def test_the_request_is_merged_over_the_image_once() -> None:
    m = merge({"Cmd": ["echo", "hi"], "Env": ["A=mine", "B=2", "NOVALUE"],
               "Labels": {"by": "me"}}, "busybox", IMAGE, None)
    assert (m.path, m.args) == ("echo", ["hi"])
    assert m.config["Env"] == ["PATH=/image/bin", "A=mine", "B=2"]
    assert m.config["WorkingDir"] == "/srv"
    assert m.config["Labels"] == {"from": "image", "by": "me"}
    assert m.config["ExposedPorts"] == {"80/tcp": {}}
    assert m.config["StopSignal"] == "SIGTERM"
    assert m.host_config["LogConfig"] == {"Type": "json-file", "Config": {}}


def test_an_image_without_path_gets_the_usual_one() -> None:
    m = merge({}, "x", {"Cmd": ["sh"]}, None)
    assert m.config["Env"] == [f"PATH={containerconfig.DEFAULT_PATH}"]


def test_the_request_body_is_not_changed() -> None:
    body = {"Cmd": ["true"], "HostConfig": {"NetworkMode": "none",
                                            "PortBindings": {"80/tcp": [{"HostPort": "8080"}]}}}
    m = merge(body, "x", IMAGE, lambda name: name)
    assert m.host_config["PortBindings"] == {}  # Docker ignores them without a network
    assert body["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostPort": "8080"}]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "the body must be an object"),
        ({"HostConfig": {"Memory": 1024}}, "Minimum memory limit allowed is 6MB"),
        ({"HostConfig": {"RestartPolicy": {"Name": "sometimes"}}}, "invalid restart policy"),
        ({"HostConfig": {"SecurityOpt": ["bogus"]}}, "invalid --security-opt"),
        ({"HostConfig": {"PortBindings": {"http": [{}]}}}, "http"),
        ({"HostConfig": {"NetworkMode": "container:web", "PublishAllPorts": True}},
         "conflicting options: port publishing"),
        ({"Hostname": "h", "HostConfig": {"NetworkMode": "container:web"}},
         "conflicting options: hostname"),
    ],
)
def test_what_cannot_run_is_refused_before_anything_exists(body, message) -> None:
    with pytest.raises(InvalidParameter, match=message):
        merge(body, "x", {"Cmd": ["sh"]}, lambda name: name)


def test_nothing_to_run_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="No command specified"):
        merge({"Entrypoint": [""]}, "x", {}, None)


def test_networks_are_named_as_the_resolver_says() -> None:
    names = {"default": "bridge", "shop": "shop", "a1b2": "shop"}
    m = merge({"HostConfig": {"NetworkMode": "a1b2"},
               "NetworkingConfig": {"EndpointsConfig": {"shop": {"Aliases": ["db"]}}}},
              "x", IMAGE, names.__getitem__)
    assert m.host_config["NetworkMode"] == "shop"
    assert m.networks == {"shop": {"Aliases": ["db"]}}


def test_without_bridge_networking_only_the_builtin_modes_exist() -> None:
    assert merge({}, "x", IMAGE, None).host_config["NetworkMode"] == "default"
    with pytest.raises(NotFound, match="network shop not found"):
        merge({"HostConfig": {"NetworkMode": "shop"}}, "x", IMAGE, None)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"Env": "A=1"}, "Env"),
        ({"Env": ["A=1", 2]}, "Env"),
        ({"Labels": ["a"]}, "Labels"),
        ({"Labels": {"a": 1}}, "Labels[a]"),
        ({"HostConfig": "x"}, "HostConfig"),
        ({"Tty": "yes"}, "Tty"),
        ({"User": 0}, "User"),
        ({"StopTimeout": "10"}, "StopTimeout"),
        ({"StopTimeout": float("nan")}, "StopTimeout"),
        ({"StopTimeout": True}, "StopTimeout"),
        ({"StopSignal": "SIGNOPE"}, "Invalid signal: SIGNOPE"),
        ({"Cmd": {"a": 1}}, "Cmd"),
    ],
)
def test_wrong_types_are_refused_with_a_400(body, words) -> None:
    with pytest.raises(InvalidParameter, match=words.replace("[", r"\[").replace("]", r"\]")):
        merge(body, "x", IMAGE, None)


def test_a_cmd_string_is_one_word_as_dockers_strslice() -> None:
    m = merge({"Cmd": "echo hi"}, "x", IMAGE, None)
    assert (m.path, m.args) == ("echo hi", [])
    assert m.config["Cmd"] == ["echo hi"]
    assert merge({"StopSignal": "9", "StopTimeout": 3}, "x", IMAGE, None).config["StopTimeout"] == 3
