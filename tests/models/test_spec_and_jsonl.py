import json

import pytest

from conscience.errors import ConscienceError
from conscience.jsonl import JsonlStore, read_jsonl
from conscience.models import parse_spec


def test_spec_forms():
    s = parse_spec("hf:smollm2-135m+runs/x/adapter")
    assert (s.provider, s.model, s.adapter, s.base_url) == ("hf", "smollm2-135m", "runs/x/adapter", None)
    s = parse_spec("openai:smollm2@http://127.0.0.1:8000/v1")
    assert (s.provider, s.model, s.base_url) == ("openai", "smollm2", "http://127.0.0.1:8000/v1")
    assert str(parse_spec("anthropic:claude-x")) == "anthropic:claude-x"


@pytest.mark.parametrize("bad, fragment", [
    ("smollm2", "no provider"),
    ("ollama:x", "unknown provider"),
    ("openai:m@127.0.0.1", "must start with http"),
    ("openai:m+adapter", "only supported for hf"),
    ("hf:", "names no model"),
])
def test_spec_errors(bad, fragment):
    with pytest.raises(ConscienceError, match=fragment):
        parse_spec(bad)


def test_read_jsonl_names_bad_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2\n')
    with pytest.raises(ConscienceError) as info:
        list(read_jsonl(path))
    assert f"{path}:3" in str(info.value)


def test_store_resumes_skips_duplicates_and_drops_torn_tail(tmp_path):
    path = tmp_path / "store.jsonl"
    store = JsonlStore(path)
    store.add({"id": "a", "v": 1})
    store.add({"id": "b", "v": 2})
    store.add({"id": "a", "v": 99})  # duplicate key: ignored, never written twice
    with path.open("a") as handle:
        handle.write('{"id": "c", "v"')  # a crash mid-write
    reopened = JsonlStore(path)
    assert sorted(reopened.rows) == ["a", "b"] and reopened.rows["a"]["v"] == 1
    reopened.add({"id": "c", "v": 3})
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [row["id"] for row in lines] == ["a", "b", "c"]
