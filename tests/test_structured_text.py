"""load_structured_text: JSON without PyYAML, YAML through it, errors as one exception type."""

import subprocess
import sys

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from kubeskippy.structured_text import StructuredTextError, load_structured_text


def test_json_and_yaml_texts_give_the_same_value():
    assert load_structured_text('{"a": {"limits": {"memory": "1Gi"}}, "b": [1, 2.5, null]}') == \
        load_structured_text("a:\n  limits:\n    memory: 1Gi\nb: [1, 2.5, ~]\n") == \
        {"a": {"limits": {"memory": "1Gi"}}, "b": [1, 2.5, None]}


def test_yaml_flow_style_that_is_not_json_is_still_read():
    assert load_structured_text("{a: 1, b: [x, y]}") == {"a": 1, "b": ["x", "y"]}


def test_text_that_is_neither_raises_one_error_type_with_the_parsers_position():
    with pytest.raises(StructuredTextError, match="line 2"):
        load_structured_text("a: 1\n b: [\n")


def test_json_text_is_read_without_importing_pyyaml():
    code = ("import sys; from kubeskippy.structured_text import load_structured_text; "
            "print(load_structured_text('[{\"op\": \"add\"}]'), 'yaml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[{'op': 'add'}] False"


def test_the_demo_annotations_yaml_is_read_without_importing_pyyaml():
    """The crash-loop demo policy's custom-actions annotation: parsing it used to import PyYAML
    (~90 M instructions of analyze's and remediate's cold start)."""
    code = ("import sys; from kubeskippy.structured_text import load_structured_text; "
            "print(load_structured_text('capture-diagnostics: {custom: diagnostics}\\n'), 'yaml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "{'capture-diagnostics': {'custom': 'diagnostics'}} False"


def _pyyaml(text):
    """What load_structured_text answered for every YAML text before the shortcut."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loaders


@pytest.mark.parametrize("text", [
    "a: yes", "a: {x: Off}", "a: NULL", "True: b",  # YAML 1.1 booleans and nulls, any case
    "a: 1", "a: {x: 0x1f}", "a: .inf", "a: 2026-11-22",  # numbers and timestamps
    "a: b\na: c", "a: {x: y, x: z}",  # duplicate keys
    "a: b # note", "a: 'b'", "a:\tb", " a: b", "a: b\n\nc: d", "a: {x: y,}", "a: {x: {y: z}}", "a:b",
])
def test_the_yaml_shortcut_leaves_every_other_text_to_pyyaml(text):
    import yaml

    from kubeskippy.structured_text import _simple_yaml

    assert _simple_yaml(text) is None
    try:
        expected = _pyyaml(text)
    except yaml.YAMLError:
        with pytest.raises(StructuredTextError):
            load_structured_text(text)
    else:
        assert load_structured_text(text) == expected


_plain_words = st.text("abyYesnNoO01._-", min_size=1, max_size=6).map(lambda w: "k" + w)
_words = st.one_of(
    *[_plain_words] * 6,
    st.sampled_from(["a", "b", "custom", "diagnostics", "rollback-web", "e.g", "x_1", "y", "n", "yes", "No",
                     "TRUE", "off", "null", "Null", "nULL", "1", "0x1f", ".inf", "-a", "a:b", "a#b", "'a'", "~"]),
)
_spaces = st.sampled_from([" "] * 12 + ["  ", "", "\t"])


@st.composite
def _near_simple_yaml(draw):
    """Texts of the shortcut's shape, with the usual ways of stepping out of it mixed in."""
    def flow():
        pairs = draw(st.lists(st.tuples(_words, _spaces, _spaces, _words), max_size=2))
        body = ",".join(f"{draw(_spaces).strip()}{k}{s1.strip()}:{s2}{v}" for k, s1, s2, v in pairs)
        return "{" + body + draw(st.sampled_from([""] * 6 + [" ", ","])) + "}"

    lines = []
    for _ in range(draw(st.integers(1, 3))):
        key, s2 = draw(_words), draw(_spaces)
        value = flow() if draw(st.booleans()) else draw(_words)
        lines.append(f"{draw(st.sampled_from([''] * 8 + [' ']))}{key}{draw(_spaces).strip()}:{s2}{value}"
                     f"{draw(_spaces).strip(' ')}")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))


@settings(max_examples=300, deadline=None)
@given(_near_simple_yaml())
def test_the_yaml_shortcut_agrees_with_pyyaml_whenever_it_answers(text):
    import yaml

    from kubeskippy.structured_text import _simple_yaml

    simple = _simple_yaml(text)
    event("answered by the shortcut" if simple is not None else "left to PyYAML")
    if simple is not None:
        assert simple == _pyyaml(text) == yaml.safe_load(text)  # libyaml and the pure-Python parser
        assert list(simple) == list(_pyyaml(text))  # same key order
