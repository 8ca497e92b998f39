"""Asks a running `council serve` through the official `openai` package.

Usage: python openai_client_check.py BASE_URL
Checks what an OpenAI client sees: the model list, a completion, and a
stream whose content adds up to the synthesis; exits non-zero otherwise.
"""

import sys

from openai import OpenAI


def main() -> None:
    client = OpenAI(base_url=sys.argv[1], api_key="not-needed")
    ids = [m.id for m in client.models.list()]
    assert ids[0] == "council" and "council/quality" in ids, ids
    print("models:", ", ".join(ids))

    question = [{"role": "user", "content": "Name one use of a paperclip."}]
    completion = client.chat.completions.create(model="council", messages=question)
    answer = completion.choices[0].message.content
    council = completion.model_extra["council"]
    assert answer and answer == council["synthesis"]["text"], (answer, council["synthesis"])
    assert council["outcome"] == "synthesized", council["outcome"]
    print(f"completion: {len(answer)} chars, {completion.usage.total_tokens} tokens")

    stream = client.chat.completions.create(model="council", messages=question, stream=True)
    content, reasoning, last = [], [], None
    for chunk in stream:
        delta = chunk.choices[0].delta if chunk.choices else None
        if delta is not None:
            content.append(delta.content or "")
            reasoning.append((delta.model_extra or {}).get("reasoning_content") or "")
        last = chunk
    streamed = "".join(content)
    assert streamed == last.model_extra["council"]["synthesis"]["text"], streamed
    assert "judge:" in "".join(reasoning), reasoning
    print(f"stream: {len(streamed)} chars, progress lines: {''.join(reasoning).count(chr(10))}")
    print("ok")


if __name__ == "__main__":
    main()
