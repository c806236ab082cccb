"""Message shapes: what the SDK records, how it tells old turns from new ones, how it injects recalled memory.

Pure functions over the caller's messages (dicts or openai pydantic objects). The caller's own list
and objects are never mutated: injection builds a new list.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

SYSTEM_ROLES = ("system", "developer")
MAX_QUERY_CHARS = 4000


def as_dict(message: Any) -> dict:
    """A plain dict view of a message, whether the caller passed a dict or an openai model object."""
    if isinstance(message, dict):
        return message
    dump = getattr(message, "model_dump", None)
    if callable(dump):
        return dump(exclude_none=True)
    return dict(getattr(message, "__dict__", {}))


def text_of(content: Any) -> str:
    """The text of a message content: a string, or a list of parts whose text parts are joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        texts = []
        for part in content:
            part = as_dict(part)
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
        return "\n".join(texts)
    return str(content)


def _tool_calls(value: Any) -> list[dict] | None:
    if not value:
        return None
    calls = []
    for call in value:
        call = as_dict(call)
        function = as_dict(call.get("function") or {})
        calls.append(
            {
                "id": call.get("id") or "",
                "type": call.get("type") or "function",
                "function": {"name": function.get("name") or "", "arguments": function.get("arguments") or ""},
            }
        )
    return calls


def record_form(message: Any) -> dict:
    """The message as the REST API records it: role, content text, and the tool fields when present."""
    data = as_dict(message)
    form: dict[str, Any] = {"role": str(data.get("role") or "user"), "content": text_of(data.get("content"))}
    if data.get("name"):
        form["name"] = str(data["name"])
    tool_calls = _tool_calls(data.get("tool_calls"))
    if tool_calls:
        form["tool_calls"] = tool_calls
    if data.get("tool_call_id"):
        form["tool_call_id"] = str(data["tool_call_id"])
    return form


def fingerprint(form: dict) -> str:
    return json.dumps(
        [form.get("role"), form.get("content"), form.get("name"), form.get("tool_calls"), form.get("tool_call_id")],
        sort_keys=True,
    )


def unseen(forms: Sequence[dict], seen: Counter) -> list[dict]:
    """The messages not already in `seen` (a multiset), keeping the later copy of a repeated message as new."""
    remaining = Counter(seen)
    present = Counter(fingerprint(f) for f in forms)
    fresh_budget = {fp: max(0, n - remaining[fp]) for fp, n in present.items()}
    fresh: list[dict] = []
    # Walk backwards so that, of two identical messages, the later one is the new one.
    for form in reversed(forms):
        fp = fingerprint(form)
        if fresh_budget.get(fp, 0) > 0:
            fresh.append(form)
            fresh_budget[fp] -= 1
    fresh.reverse()
    return fresh


def latest_user_text(messages: Sequence[Any]) -> str:
    for message in reversed(messages):
        data = as_dict(message)
        if data.get("role") == "user":
            return text_of(data.get("content"))[:MAX_QUERY_CHARS]
    return ""


def merge_system_text(existing: str, block: str) -> str:
    if not block:
        return existing
    return f"{existing}\n\n{block}" if existing else block


def missing_history(history: Sequence[dict], forms: Sequence[dict]) -> list[dict]:
    """Prior turns of this session (from the server) that the caller did not resend, oldest first."""
    sent = Counter((f["role"], f["content"]) for f in forms)
    missing = []
    for turn in history:
        role, content = turn.get("role"), turn.get("content") or ""
        if role in SYSTEM_ROLES or not content:
            continue
        if sent[(role, content)] > 0:
            sent[(role, content)] -= 1
            continue
        missing.append({"role": role, "content": content})
    return missing


def inject_chat(messages: Sequence[Any], block: str, history: Sequence[dict]) -> list:
    """A new message list: the memory block merged into the first system message (or a new one in front),
    and the missing history turns placed after the leading system messages."""
    result = list(messages)
    lead = 0
    while lead < len(result) and as_dict(result[lead]).get("role") in SYSTEM_ROLES:
        lead += 1
    if history:
        result[lead:lead] = [dict(turn) for turn in history]
    if block:
        if lead:
            first = as_dict(result[0])
            merged = dict(first)
            content = first.get("content")
            if isinstance(content, str) or content is None:
                merged["content"] = merge_system_text(content or "", block)
            else:
                merged["content"] = [*list(content), {"type": "text", "text": "\n\n" + block}]
            result[0] = merged
        else:
            result.insert(0, {"role": "system", "content": block})
    return result


def responses_input_forms(input_value: Any) -> list[dict]:
    """The messages inside a Responses API `input` (a string or a list of items)."""
    if input_value is None:
        return []
    if isinstance(input_value, str):
        return [{"role": "user", "content": input_value}]
    forms = []
    for item in input_value:
        data = as_dict(item)
        kind = data.get("type")
        if kind == "function_call_output":
            output = text_of(data.get("output"))
            forms.append({"role": "tool", "content": output, "tool_call_id": data.get("call_id", "")})
        elif kind == "function_call":
            forms.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": data.get("call_id", ""),
                            "type": "function",
                            "function": {"name": data.get("name", ""), "arguments": data.get("arguments", "")},
                        }
                    ],
                }
            )
        elif data.get("role"):
            forms.append({"role": str(data["role"]), "content": text_of(data.get("content"))})
    return forms


def responses_output_form(response: Any) -> dict:
    """The assistant message of a Responses API result: its text and its function calls."""
    text = getattr(response, "output_text", None)
    tool_calls = []
    texts = []
    for item in getattr(response, "output", None) or []:
        data = as_dict(item)
        if data.get("type") == "function_call":
            tool_calls.append(
                {
                    "id": data.get("call_id", ""),
                    "type": "function",
                    "function": {"name": data.get("name", ""), "arguments": data.get("arguments", "")},
                }
            )
        elif data.get("type") == "message":
            texts.append(text_of(data.get("content")))
    form: dict[str, Any] = {"role": "assistant", "content": text if isinstance(text, str) else "\n".join(texts)}
    if tool_calls:
        form["tool_calls"] = tool_calls
    return form
