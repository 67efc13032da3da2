"""load_structured_text: JSON without PyYAML, YAML through it, errors as one exception type."""

import subprocess
import sys

import pytest

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
