"""Unit tests (pure): shell-word expansion, shared/build/substitution.py.

The tables are cases from moby/buildkit's lexer test data
(frontend/dockerfile/shell/envVarTest, a third of its Unix rows, run with
PWD=/home SHELL=bash KOREAN=한국어 NULL=; and wordsTest whole, whose ENV lines add to the
environment of the rows after them): the same files at buildkit eeb7b65a (v0.8, the
one dockerd 20.10 vendors) and at today's master, so both dialects run them. The
newer forms are checked with cases from master's lex_test.go TestProcessWithMatches.
"""

from __future__ import annotations

import pytest

from shared.build.substitution import SubstitutionError, env_map, expand, expand_words

ENV_VAR_TEST = [
    ('hello', 'hello'),
    ("he\\'llo", "he'llo"),
    ('"abc\\tdef"', 'abc\\tdef'),
    ('hello\\', 'hello'),
    ('"hello\\"', 'error'),
    ("'hello\\'", 'hello\\'),
    ('"\'\'"', "''"),
    ('he$.x', 'he$.x'),
    ('he\\$PWD', 'he$PWD'),
    ('"he\\\\$PWD"', 'he\\/home'),
    ('he\\${}', 'he${}'),
    ('${}aaa', 'error'),
    ('he${hi}', 'he'),
    ('he${.}', 'error'),
    ('he${XXX:-$PWD}xx', 'he/homexx'),
    ('he${XXX:YYY}', 'error'),
    ('he${PWD?}', 'he/home'),
    ('he${NULL:?}', 'error'),
    ('he${PWD:+${SHELL}}xx', 'hebashxx'),
    ("'he${XX}'", 'he${XX}'),
    ('"$PWD"', '/home'),
    ('\'"hello"\'', '"hello"'),
    ("'he\\$PWD'", 'he\\$PWD'),
    ('he${PWD:+${PWD}:}xx', 'he/home:xx'),
    ('안녕하세요', '안녕하세요'),
    ("안녕\\'하세요", "안녕'하세요"),
    ('"안녕\\t하세요"', '안녕\\t하세요'),
    ('안녕하세요\\\\', '안녕하세요\\'),
    ('"안녕\'하세요"', "안녕'하세요"),
    ('안녕$1x', '안녕x'),
    ('안녕$PWD', '안녕/home'),
    ('안녕\\${}', '안녕${}'),
    ('안녕${}xx', 'error'),
    ('안녕${PWD}', '안녕/home'),
    ('안녕${PWD:-000}xx', '안녕/homexx'),
    ('안녕${XXX:-${YYY:-yyy}}xx', '안녕yyyxx'),
    ('안녕${PWD:+${XXX}}xx', '안녕xx'),
    ('안녕${PWD:+000}xx', '안녕000xx'),
    ('"안녕\'$PWD\'"', "안녕'/home'"),
    ('"안녕\\$PWD"', '안녕$PWD'),
    ('안녕${PWD:=000}xx', 'error'),
    ('안녕${XXX:-\\${PWD}z}xx', '안녕${PWDz}xx'),
    ('${{aaa}', 'error'),
    ('${{aaa:-bbb}', 'error'),
    ('${aaa:-bbb}', 'bbb'),
    ('${aaa:-bbb {foo}', 'bbb {foo'),
    ('${:+bbb}', 'error'),
    ('${1:+bbb}', ''),
    ('${2}', ''),
    ('$3', ''),
    ('${3:-bbb}', 'bbb'),
    ('${4:+bbb}', ''),
    ('${5}', ''),
    ('$6', ''),
    ('${6:-bbb}', 'bbb'),
    ('${7:+bbb}', ''),
    ('${8}', ''),
    ('$9', ''),
    ('${9:-bbb}', 'bbb'),
    ('${999:+bbb}', ''),
    ('${999}aaa', 'aaa'),
    ('$001', ''),
    ('${001:-bbb}', 'bbb'),
    ('${001:+bbb}aaa', 'aaa'),
    ('${@}', ''),
    ('$@@@', '@@'),
    ('${@:+bbb}aaa', 'aaa'),
    ('${*}', ''),
    ('$#', ''),
    ('${#:-bbb}', 'bbb'),
    ('${?:+bbb}', ''),
    ('${-}', ''),
    ('$$', ''),
    ('${$:-bbb}', 'bbb'),
    ('${!:+bbb}', ''),
    ('${0}', ''),
]
ENV_VAR_ENV = env_map(["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="])

WORDS_TEST = [
    ('hello', 'hello'),
    ('hello${hi}bye', 'hellobye'),
    ('ENV', 'hi=hi'),
    ('hello${hi}bye', 'hellohibye'),
    ('ENV', 'space=abc  def'),
    ('hello${space}bye', 'helloabc,defbye'),
    ('hello"${space}"bye', 'helloabc  defbye'),
    ('hello "${space}"bye', 'hello,abc  defbye'),
    ('ENV', 'leading=  ab c'),
    ('hello${leading}def', 'hello,ab,cdef'),
    ('hello"${leading}" def', 'hello  ab c,def'),
    ('hello"${leading}"', 'hello  ab c'),
    ('hello${leading}', 'hello,ab,c'),
    ('ENV', 'trailing=ab c   '),
    ('hello${trailing}', 'helloab,c'),
    ('hello${trailing}d', 'helloab,c,d'),
    ('hello"${trailing}"d', 'helloab c   d'),
    ('hel"lo${trailing}"', 'helloab c   '),
    ('hello" there  "', 'hello there  '),
    ('hello there', 'hello,there'),
    ('hello\\ there', 'hello there'),
    ('hello" there', 'error'),
    ('hello\\" there', 'hello",there'),
    ('hello"\\\\there"', 'hello\\there'),
    ('hello"\\there"', 'hello\\there'),
    ("hello'\\\\there'", 'hello\\\\there'),
    ("hello'\\there'", 'hello\\there'),
    ("hello'$there'", 'hello$there'),]


@pytest.mark.parametrize("newer", [False, True], ids=["dockerd-20.10", "newer"])
@pytest.mark.parametrize(("word", "expected"), ENV_VAR_TEST)
def test_buildkit_env_var_test(word: str, expected: str, newer: bool) -> None:
    if expected == "error":
        with pytest.raises(SubstitutionError):
            expand(word, ENV_VAR_ENV, newer=newer)
    else:
        assert expand(word, ENV_VAR_ENV, newer=newer) == expected


@pytest.mark.parametrize("newer", [False, True], ids=["dockerd-20.10", "newer"])
def test_buildkit_words_test(newer: bool) -> None:
    env: list[str] = []
    for text, expected in WORDS_TEST:
        if text == "ENV":
            env.append(expected)
            continue
        try:
            words = expand_words(text, env_map(env), newer=newer)
        except SubstitutionError:
            words = ["error"]
        assert words == expected.split(","), text


@pytest.mark.parametrize(("word", "env", "expected"), [
    ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx  ccc"),
    ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", {"FOO": "xxx", "BAR": ""}, "xxx bbb ccc"),
    ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa bbb "),
    ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", {"FOO": "xxx", "BAR": ""}, "aaa  "),
    ("${BAR?bbb}", {"BAR": ""}, ""),
    ("${FOO#*x*y}", {"FOO": "xxyy"}, "y"),
    ("${FOO##*x}", {"FOO": "xxyy"}, "yy"),
    ("${FOO#?\\?}", {"FOO": "???y"}, "?y"),
    ("${FOO%%\\**\\*}", {"FOO": "a***yy*"}, "a"),
    ("${ABC:-.}${FOO%x}${ABC:-.}", {"FOO": "xxyy"}, ".xxyy."),
    ("${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", {"FOO": "/foo*/*/*.txt", "NEEDLE": "\\*/"},
     "/foo.*/*.txt - /foo..*.txt"),
    ("${FOO/$NEEDLE/$REPLACEMENT}",
     {"FOO": "http://google.de", "NEEDLE": "http://", "REPLACEMENT": "https://"},
     "https://google.de"),
    ("${FOO//\\//\\/}", {"FOO": "/tmp/foo.txt"}, "\\/tmp\\/foo.txt"),
    ("${FOO///}", {}, ""),
])
def test_newer_forms(word: str, env: dict[str, str], expected: str) -> None:
    assert expand(word, env, newer=True) == expected


@pytest.mark.parametrize(("word", "message"), [
    # dockerd 20.10's words, checked against it (DOCKER_BUILDKIT=0 docker build)
    ("${B", 'failed to process "${B": missing \':\' in substitution'),
    ("${FOO-x}", 'failed to process "${FOO-x}": missing \':\' in substitution'),
    ("${FOO#x}", 'failed to process "${FOO#x}": missing \':\' in substitution'),
    ("${FOO:=x}", 'failed to process "${FOO:=x}": unsupported modifier (=) in substitution'),
    ("${BAZ?ccc}", 'failed to process "${BAZ?ccc}": BAZ: ccc'),
    ("${BAR:?}", 'failed to process "${BAR:?}": BAR: is not allowed to be empty'),
    ("${BAZ?}", 'failed to process "${BAZ?}": BAZ: is not allowed to be unset'),
    ("${FOO:-x", "failed to process \"${FOO:-x\": syntax error: missing '}'"),
    ("${}", 'failed to process "${}": syntax error: bad substitution'),
    ("'open", 'failed to process "\'open": unexpected end of statement while looking for '
              "matching single-quote"),
])
def test_errors_carry_dockerds_words(word: str, message: str) -> None:
    with pytest.raises(SubstitutionError) as err:
        expand(word, {"FOO": "xxyy", "BAR": ""})
    assert str(err.value) == message


@pytest.mark.parametrize(("word", "message"), [
    ("${FOO=aaa}", 'failed to process "${FOO=aaa}": unsupported modifier (=) in substitution'),
    ("${FOO:#x}", 'failed to process "${FOO:#x}": unsupported modifier (:#) in substitution'),
    ("${FOO//ww}", "failed to process \"${FOO//ww}\": syntax error: missing '/' in ${}"),
    # the end of the text read as a modifier: Go prints the EOF rune as U+FFFD
    ("${FOO", 'failed to process "${FOO": unsupported modifier (\ufffd) in substitution'),
])
def test_newer_errors(word: str, message: str) -> None:
    with pytest.raises(SubstitutionError) as err:
        expand(word, {"FOO": "xxyy", "BAR": ""}, newer=True)
    assert str(err.value) == message


def test_the_two_dialects_differ_where_dockerd_did() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert expand("${UNSET:+x}${EMPTY:+x}${SET:+x}", env) == "x"
    assert expand("${EMPTY:-d}${SET:-d}", env) == "dv"
    assert expand("${EMPTY-d}", env, newer=True) == ""
    with pytest.raises(SubstitutionError):
        expand("${EMPTY-d}", env)


def test_quotes_and_escapes() -> None:
    env = {"A": "x y"}
    assert expand("'$A'", env) == "$A"  # single quotes: literal
    assert expand('"$A"', env) == "x y"  # double quotes: expanded
    assert expand("\\$A", env) == "$A"  # escaped dollar
    assert expand('"a\\"b"', env) == 'a"b'
    assert expand("`$A", env, escape="`") == "$A"  # the escape directive's token
    assert expand("c:\\dir", env, escape="`") == "c:\\dir"


def test_expose_splits_expanded_words_only() -> None:
    env = {"PORTS": "80 443/tcp"}
    assert expand_words("$PORTS 8080", env) == ["80", "443/tcp", "8080"]
    assert expand_words('"$PORTS"', env) == ["80 443/tcp"]


def test_used_names_are_recorded() -> None:
    used: set[str] = set()
    expand("${A}-${B:-x}-$C", {"A": "1", "C": "3"}, used=used)
    assert used == {"A", "C"}


def test_env_map_last_wins() -> None:
    assert env_map(["A=1", "B=2=3", "A=4", "C"]) == {"A": "4", "B": "2=3", "C": ""}
