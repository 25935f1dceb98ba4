"""The builder's config-only dispatchers, as `docker commit --change` applies them
(moby's BuildFromConfig), and the HEALTHCHECK history text. Pure: no engine."""

from __future__ import annotations

import pytest

from shared.build import steps
from shared.build.builder import apply_change
from shared.errors import InvalidParameter


def _applied(*changes: str, config: dict | None = None) -> dict:
    config = dict(config or {"Env": ["PATH=/bin", "A=1"], "Cmd": ["sh"]})
    for change in changes:
        apply_change(config, change)
    return config


def test_env_expands_and_replaces() -> None:
    config = _applied("ENV A=2 B=${A}-x", 'ENV C="two words"')
    assert config["Env"] == ["PATH=/bin", "A=2", "B=1-x", "C=two words"]


def test_cmd_and_entrypoint_forms() -> None:
    assert _applied("CMD echo hi")["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    assert _applied('CMD ["cat", "/f"]')["Cmd"] == ["cat", "/f"]
    # an ENTRYPOINT clears a CMD the same build did not set (dispatchEntrypoint)
    config = _applied('ENTRYPOINT ["top"]')
    assert config["Entrypoint"] == ["top"] and config["Cmd"] is None


def test_workdir_user_labels_ports_volumes() -> None:
    config = _applied("WORKDIR /a", "WORKDIR b", "USER nobody", "LABEL x=1 'y z'=2",
                      "EXPOSE 80 53/udp", "VOLUME /data")
    assert config["WorkingDir"] == "/a/b" and config["User"] == "nobody"
    assert config["Labels"] == {"x": "1", "y z": "2"}
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert config["Volumes"] == {"/data": {}}


@pytest.mark.parametrize(("change", "message"), [
    ("RUN echo hi", "run is not a valid change command"),
    ("COPY a b", "copy is not a valid change command"),
    ("FROM busybox", "from is not a valid change command"),
    ("STOPSIGNAL SIGINT", "stopsignal is not a valid change command"),  # dockerd 20.10
])
def test_what_a_commit_refuses(change: str, message: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        _applied(change)
    assert str(refused.value) == message


def test_healthcheck_history_text_is_dockerds() -> None:
    config = _applied("HEALTHCHECK --interval=1m30s --retries=2 CMD true")
    assert config["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    assert steps.go_health(config["Healthcheck"]) == (
        "&{Test:[CMD-SHELL true] Interval:1m30s Timeout:0s StartPeriod:0s Retries:2}")
