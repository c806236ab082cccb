"""Wrapping an OpenAI / AsyncOpenAI client in place: recall -> inject -> call -> record (off the caller's path).

The caller's arguments pass through unchanged except `messages` (chat) or `instructions`/`input`
(responses), which get the recalled memory block and any session history the caller did not resend.
The model's own errors propagate untouched: nothing here catches around the model call.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from memori._safe import never_break_host
from memori.attribution import Attribution
from memori.errors import MemoriError
from memori.messages import (
    as_dict,
    inject_chat,
    latest_user_text,
    merge_system_text,
    missing_history,
    record_form,
    responses_input_forms,
    responses_output_form,
    text_of,
)
from memori.recall import CallContext, RecallClient
from memori.recordings import Recordings

if TYPE_CHECKING:
    from memori.client import Memori


@dataclass(frozen=True)
class CallMemory:
    """What a wrapped call needs of its Memori object: whether memory is on, recall, and recording."""

    attribution: Attribution
    recall: RecallClient
    recordings: Recordings


class LlmRegistry:
    def __init__(self, owner: Memori, memory: CallMemory) -> None:
        self._owner = owner  # only returned by register(), for chaining
        self._memory = memory

    def register(self, client: Any) -> Memori:
        """Wrap `client.chat.completions.create` and `client.responses.create` in place; returns the Memori.

        Registering the same client again (with this or another Memori) rebinds it; it never wraps twice.
        """
        completions = getattr(getattr(client, "chat", None), "completions", None)
        if completions is None or not callable(getattr(completions, "create", None)):
            raise MemoriError(
                f"register() expects an openai.OpenAI or openai.AsyncOpenAI client, got {type(client).__name__}."
            )
        _install(completions, self._owner, self._memory, ChatPlan.build)
        responses = getattr(client, "responses", None)
        if responses is not None and callable(getattr(responses, "create", None)):
            _install(responses, self._owner, self._memory, ResponsesPlan.build)
        return self._owner


PlanBuilder = Callable[[CallMemory, dict], "Plan | None"]


def _install(resource: Any, owner: Memori, memory: CallMemory, build_plan: PlanBuilder) -> None:
    current = resource.create
    original = getattr(current, "__memori_original__", current)
    if inspect.iscoroutinefunction(original) or inspect.iscoroutinefunction(inspect.unwrap(original)):

        @functools.wraps(original)
        async def create(*args: Any, **kwargs: Any) -> Any:
            plan = await asyncio.to_thread(_safe_build, build_plan, memory, kwargs)
            if plan is None:
                return await original(*args, **kwargs)
            started = time.monotonic()
            response = await original(*args, **plan.kwargs)
            return plan.finish(response, started, is_async=True)

    else:

        @functools.wraps(original)
        def create(*args: Any, **kwargs: Any) -> Any:
            plan = _safe_build(build_plan, memory, kwargs)
            if plan is None:
                return original(*args, **kwargs)
            started = time.monotonic()
            response = original(*args, **plan.kwargs)
            return plan.finish(response, started, is_async=False)

    create.__memori_original__ = original  # type: ignore[attr-defined]
    create.__memori__ = owner  # type: ignore[attr-defined]
    resource.create = create


def _safe_build(build_plan: PlanBuilder, memory: CallMemory, kwargs: dict) -> Plan | None:
    if not memory.attribution.memory_on():
        return None
    plan = None
    with never_break_host("could not prepare memory for this call ({err}); calling the model without it"):
        plan = build_plan(memory, kwargs)
    return plan


@dataclass
class Plan:
    """One wrapped call: the arguments to send and what to record once the reply is known."""

    memory: CallMemory
    kwargs: dict
    new_forms: list[dict]
    context: CallContext
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def finish(self, response: Any, started: float, *, is_async: bool) -> Any:
        with never_break_host("could not record this call ({err})"):
            if self.kwargs.get("stream") is True and hasattr(response, "_iterator"):
                self._relay_stream(response, started, is_async)
            else:
                self._record(self.reply_of(response), response, started)
        return response

    def _relay_stream(self, stream: Any, started: float, is_async: bool) -> None:
        """Pass the stream through chunk by chunk; record what the caller received once it ends."""
        inner = stream._iterator
        accumulator = self.accumulator()

        def done() -> None:
            with never_break_host("could not record this stream ({err})"):
                self._record(accumulator.reply(), accumulator, started)

        if is_async:

            async def relay_async():
                try:
                    async for item in inner:
                        accumulator.add(item)
                        yield item
                except GeneratorExit:
                    done()
                    raise
                else:
                    done()

            stream._iterator = relay_async()
        else:

            def relay():
                try:
                    for item in inner:
                        accumulator.add(item)
                        yield item
                except GeneratorExit:
                    done()
                    raise
                else:
                    done()

            stream._iterator = relay()

    def _record(self, reply: dict | None, source: Any, started: float) -> None:
        if reply is None:
            return
        forms = [*self.new_forms, reply]
        self.memory.recordings.record_call(
            forms,
            model=str(getattr(source, "model", None) or self.kwargs.get("model") or ""),
            usage=usage_of(getattr(source, "usage", None)),
            latency_ms=round((time.monotonic() - started) * 1000, 1),
            recall_event_id=self.context.event_id,
            occurred_at=self.occurred_at,
        )

    def reply_of(self, response: Any) -> dict | None:
        raise NotImplementedError

    def accumulator(self) -> Any:
        raise NotImplementedError


class ChatPlan(Plan):
    @classmethod
    def build(cls, memory: CallMemory, kwargs: dict) -> ChatPlan | None:
        messages = kwargs.get("messages")
        if not isinstance(messages, list | tuple):
            return None
        forms = [record_form(m) for m in messages]
        context = memory.recall.for_call(latest_user_text(messages))
        missing = missing_history(context.history, forms)
        sent = {**kwargs, "messages": inject_chat(messages, context.block, missing)}
        new_forms = memory.recordings.new_forms(forms, context.history)
        return cls(memory=memory, kwargs=sent, new_forms=new_forms, context=context)

    def reply_of(self, response: Any) -> dict | None:
        choices = getattr(response, "choices", None)
        if not choices:
            return None
        reply = record_form(choices[0].message)
        reply["role"] = "assistant"
        return reply

    def accumulator(self) -> ChatStreamAccumulator:
        return ChatStreamAccumulator()


class ResponsesPlan(Plan):
    @classmethod
    def build(cls, memory: CallMemory, kwargs: dict) -> ResponsesPlan | None:
        input_value = kwargs.get("input")
        if not isinstance(input_value, str | list | tuple):
            return None
        instructions = kwargs.get("instructions")
        forms = responses_input_forms(input_value)
        if isinstance(instructions, str) and instructions:
            forms.insert(0, {"role": "system", "content": instructions})
        query = next((f["content"] for f in reversed(forms) if f["role"] == "user"), "")
        context = memory.recall.for_call(query)
        sent = dict(kwargs)
        if context.block:
            own = instructions if isinstance(instructions, str) else ""
            sent["instructions"] = merge_system_text(own, context.block)
        missing = missing_history(context.history, forms)
        if missing:
            items = [{"role": "user", "content": input_value}] if isinstance(input_value, str) else list(input_value)
            sent["input"] = [*missing, *items]
        new_forms = memory.recordings.new_forms(forms, context.history)
        return cls(memory=memory, kwargs=sent, new_forms=new_forms, context=context)

    def reply_of(self, response: Any) -> dict | None:
        if not hasattr(response, "output"):
            return None
        return responses_output_form(response)

    def accumulator(self) -> ResponsesStreamAccumulator:
        return ResponsesStreamAccumulator()


class ChatStreamAccumulator:
    """Rebuilds the assistant message from chat completion chunks, exactly as the caller received them."""

    def __init__(self) -> None:
        self.model = ""
        self.usage = None
        self._parts: list[str] = []
        self._tools: dict[int, dict] = {}

    def add(self, chunk: Any) -> None:
        with never_break_host("unreadable stream chunk skipped: {err}", level=logging.DEBUG):
            self.model = getattr(chunk, "model", None) or self.model
            self.usage = getattr(chunk, "usage", None) or self.usage
            for choice in getattr(chunk, "choices", None) or []:
                if getattr(choice, "index", 0) != 0 or choice.delta is None:
                    continue
                if choice.delta.content:
                    self._parts.append(choice.delta.content)
                for call in choice.delta.tool_calls or []:
                    slot = self._tools.setdefault(
                        call.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
                    )
                    slot["id"] = call.id or slot["id"]
                    if call.function is not None:
                        slot["function"]["name"] = call.function.name or slot["function"]["name"]
                        slot["function"]["arguments"] += call.function.arguments or ""

    def reply(self) -> dict:
        reply: dict[str, Any] = {"role": "assistant", "content": "".join(self._parts)}
        if self._tools:
            reply["tool_calls"] = [self._tools[i] for i in sorted(self._tools)]
        return reply


class ResponsesStreamAccumulator:
    """Rebuilds the reply from Responses API stream events (the final `response.completed` wins)."""

    def __init__(self) -> None:
        self.model = ""
        self.usage = None
        self._parts: list[str] = []
        self._final: Any = None

    def add(self, event: Any) -> None:
        kind = getattr(event, "type", "")
        if kind == "response.output_text.delta":
            self._parts.append(getattr(event, "delta", "") or "")
        elif kind == "response.completed":
            self._final = getattr(event, "response", None)
            self.model = getattr(self._final, "model", "") or self.model
            self.usage = getattr(self._final, "usage", None)

    def reply(self) -> dict:
        if self._final is not None:
            return responses_output_form(self._final)
        return {"role": "assistant", "content": "".join(self._parts)}


def usage_of(usage: Any) -> dict | None:
    if usage is None:
        return None
    data = as_dict(usage)
    prompt = data.get("prompt_tokens", data.get("input_tokens"))
    completion = data.get("completion_tokens", data.get("output_tokens"))
    if prompt is None and completion is None:
        return None
    return {"prompt_tokens": int(prompt or 0), "completion_tokens": int(completion or 0)}


__all__ = ["LlmRegistry", "text_of"]
