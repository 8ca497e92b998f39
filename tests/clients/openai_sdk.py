"""council serve through the official openai package, as an application
would use it. Prints one JSON object of findings for the Rust test to
assert; raises only on what the test cannot go on without."""

import json
import os
import sys

import openai

base = os.environ["COUNCIL_URL"]
client = openai.OpenAI(base_url=base, api_key="unused")  # max_retries=2, the default
found = {}

# models.retrieve, for the command line's council and a preset's.
found["retrieve"] = [client.models.retrieve(m).id for m in ["council", "council/quality"]]

# A stream with progress: no reasoning after the first content.
kinds = []
for chunk in client.chat.completions.create(
    model="council",
    messages=[{"role": "user", "content": "Why is the sky blue?"}],
    stream=True,
):
    if not chunk.choices:
        continue
    delta = chunk.choices[0].delta
    if getattr(delta, "reasoning_content", None) or (delta.model_extra or {}).get("reasoning_content"):
        kinds.append("reasoning")
    if delta.content:
        kinds.append("content")
found["stream_kinds"] = kinds

# No progress when the request says none.
kinds = []
for chunk in client.chat.completions.create(
    model="council",
    messages=[{"role": "user", "content": "Why is the sky blue?"}],
    stream=True,
    extra_headers={"x-council-progress": "none"},
):
    if chunk.choices:
        extra = chunk.choices[0].delta.model_extra or {}
        if extra.get("reasoning_content"):
            kinds.append("reasoning")
        if chunk.choices[0].delta.content:
            kinds.append("content")
found["quiet_kinds"] = kinds

# Structured output: a JSON schema the answer follows.
schema = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["city", "population"],
    "additionalProperties": False,
}
completion = client.chat.completions.create(
    model="council",
    messages=[{"role": "user", "content": "The largest city of Norway?"}],
    response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema, "strict": True}},
)
answer = json.loads(completion.choices[0].message.content)
found["structured"] = answer

# Tools are refused by name.
try:
    client.chat.completions.create(
        model="council",
        messages=[{"role": "user", "content": "What is the weather?"}],
        tools=[{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
    )
    found["tools"] = "accepted"
except openai.BadRequestError as e:
    found["tools"] = e.body.get("code") if isinstance(e.body, dict) else str(e.body)

# A council that fails raises once, however many retries the client allows.
failing = openai.OpenAI(base_url=os.environ["COUNCIL_FAILING_URL"], api_key="unused")
try:
    failing.chat.completions.create(
        model="council",
        messages=[{"role": "user", "content": "Anyone there?"}],
    )
    found["failing"] = "answered"
except openai.APIStatusError as e:
    found["failing"] = e.status_code

json.dump(found, sys.stdout)
