"""Unit tests (no daemon) of how a request is read: JSON bodies, filters, Go types."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from shared.api import params
from shared.daemon import gotypes
from shared.errors import InvalidParameter
from shared.images.store import _unix_time

app = Flask(__name__)


def body_of(raw: str) -> dict:
    with app.test_request_context("/", method="POST", data=raw):
        return params.json_body()


def filters_of(raw: str) -> dict[str, list[str]]:
    with app.test_request_context("/", query_string={"filters": raw}):
        return params.query_filters()


@pytest.mark.parametrize(("raw", "words"), [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"a": ' + "[" * 65 + "]" * 65 + "}", "nested deeper than 64"),
    ('{"a": NaN}', "NaN"), ('{"a": -Infinity}', "-Infinity"), ('{"a": 1e999}', "1e999"),
    ("{not json", "invalid JSON"), ("[1]", "must be an object"), ("\xff", "invalid JSON"),
])
def test_a_malformed_body_is_a_400(raw: str, words: str) -> None:
    with pytest.raises(InvalidParameter, match=words):
        body_of(raw)


def test_a_body_as_deep_as_a_real_one_is_read() -> None:
    deep = {"HostConfig": {"Mounts": [{"VolumeOptions": {"DriverConfig": {"Options": {}}}}]}}
    assert body_of(json.dumps(deep)) == deep
    assert body_of("") == {}


@pytest.mark.parametrize(("raw", "expected"), [
    ('{"name": ["a", "b"]}', {"name": ["a", "b"]}),
    ('{"name": {"a": true, "b": false}}', {"name": ["a", "b"]}),  # moby keeps both keys
    ('{"name": [], "id": null, "label": {}}', {}),  # no values: no filter, as in moby
])
def test_filters_in_both_of_mobys_forms(raw: str, expected: dict) -> None:
    assert filters_of(raw) == expected


@pytest.mark.parametrize("raw", [
    '{"name": "x"}', '{"name": 1}', '{"name": ["x", 1]}', '{"name": {"x": "yes"}}',
    '["name"]', '"name"', "{bad", "[" * 5000,
])
def test_filters_of_any_other_shape_are_invalid(raw: str) -> None:
    with pytest.raises(InvalidParameter, match="^invalid filter"):
        filters_of(raw)


@pytest.mark.parametrize(("value", "gotype", "words"), [
    ("1g", "int64", "cannot unmarshal string into HostConfig.Memory of type int64"),
    (1.5, "int64", "number 1.5"), (True, "int64", "bool"), (70000, "uint16", "uint16"),
    (-1, "uint64", "uint64"), (2**63, "int64", "int64"), (1, "string", "number 1"),
    (["a", 1], gotypes.STRINGS, r"HostConfig.Memory\[1\] of type string"),
    ({"a": 1}, gotypes.STRING_MAP, r"HostConfig.Memory\[a\]"), ([1], "strslice", r"\[\]string"),
    ({"Name": 1}, {"Name": "string"}, "HostConfig.Memory.Name"), ("x", {}, "object"),
])
def test_go_types_refuse_what_gos_decoder_refuses(value: object, gotype: gotypes.GoType,
                                                  words: str) -> None:
    with pytest.raises(InvalidParameter, match=words):
        gotypes.check(value, gotype, "HostConfig.Memory")


@pytest.mark.parametrize(("value", "gotype"), [
    (None, "int64"), (-(2**63), "int64"), (65535, "uint16"), ("x", "strslice"),
    (["x"], "strslice"), ({"x": {}}, gotypes.MapOf(gotypes.EMPTY_STRUCT)),
    ({"Name": "a", "Unknown": [1]}, {"Name": "string"}),  # unknown fields: ignored, as Go
])
def test_go_types_accept_what_gos_decoder_accepts(value: object, gotype: gotypes.GoType) -> None:
    gotypes.check(value, gotype, "x")


@pytest.mark.parametrize(("created", "expected"), [
    ("2024-01-02T03:04:05.123456789Z", 1704164645), ("2024-01-02T03:04:05+01:00", 1704161045),
    (None, 0), ("", 0), ("yesterday", 0), ("2020-13-45T99:99:99Z", 0), (1577836800, 0),
    ("99999-01-01T00:00:00Z", 0), ({"a": 1}, 0),
])
def test_an_image_date_that_is_no_date_is_0(created: object, expected: int) -> None:
    assert _unix_time(created) == expected
