"""tests/docs/pagerun.py, on strings (unit: no page is run here)."""

from __future__ import annotations

from tests.docs import pagerun

PAGE = """
Some prose.

<!-- wb-run cgroup=v1 -->
    ```console
    $ echo one
    one
    $ printf 'a\\nb\\nc\\n'
    a
    ...
    $ sh -c '
        echo two'
    t...o
    ```

```console
$ not marked
```
"""


def test_a_marked_block_is_read_with_its_options_and_steps() -> None:
    [block] = pagerun.blocks(PAGE)
    assert block.options == {"cgroup": "v1"}
    assert [s.command for s in block.steps] == [
        "echo one", "printf 'a\\nb\\nc\\n'", "sh -c '\n    echo two'"]
    assert block.steps[0].expected == ["one"]


def test_output_matches_line_by_line_with_ellipses() -> None:
    assert pagerun.matches(["a", "..."], ["a", "b", "c"])
    assert pagerun.matches(["t...o"], ["two"])
    assert not pagerun.matches(["a"], ["a", "b"])  # no ellipsis: exact
    assert not pagerun.matches(["two"], ["twox"])
    assert pagerun.matches([], [""])
    assert not pagerun.matches([], ["something"])


def test_a_script_splits_back_into_each_steps_output() -> None:
    steps = pagerun.blocks(PAGE)[0].steps
    printed = "".join(f"{pagerun.SEPARATOR}{n}\nout{n}\n" for n in range(3))
    assert pagerun.outputs(printed + f"{pagerun.SEPARATOR}end\n", 3) == [
        ["out0"], ["out1"], ["out2"]]
    assert "echo @@wb-step@@1" in pagerun.script(steps)
