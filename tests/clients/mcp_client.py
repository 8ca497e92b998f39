"""Drives `council mcp` with the official `mcp` package, as an agent would.

Usage: mcp_client.py COUNCIL_BINARY SCENARIO [ARGUMENTS|@FILE [SERVER ARGS...]]. Prints one JSON document of what the
client saw; the Rust test asserts on it.
"""

import asyncio
import json
import os
import sys

import mcp.types as types
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def params(binary, server_args):
    return StdioServerParameters(command=binary, args=["mcp", *server_args], env=dict(os.environ))


def result_json(result):
    return {
        "is_error": bool(result.isError),
        "text": "".join(c.text for c in result.content if c.type == "text"),
        "structured": result.structuredContent,
    }


async def tools(session):
    listed = await session.list_tools()
    return {
        t.name: {"input": t.inputSchema, "output": t.outputSchema, "description": t.description}
        for t in listed.tools
    }


async def ask(session, arguments):
    progress = []

    async def on_progress(value, total, message):
        progress.append({"progress": value, "total": total, "message": message})

    result = await session.call_tool("ask_council", arguments, progress_callback=on_progress)
    return {**result_json(result), "progress": progress}


async def cancel(session, arguments):
    """Starts a council, cancels it at the first progress notification
    that says `cancel_when` (any, without it)."""
    started = asyncio.Event()
    when = arguments.pop("cancel_when", "")

    async def on_progress(value, total, message):
        if when in (message or ""):
            started.set()

    request_id = session._request_id
    call = asyncio.create_task(
        session.call_tool("ask_council", arguments, progress_callback=on_progress)
    )
    await asyncio.wait_for(started.wait(), 30)
    await session.send_notification(
        types.ClientNotification(
            types.CancelledNotification(
                params=types.CancelledNotificationParams(requestId=request_id, reason="enough")
            )
        )
    )
    # A cancelled request gets no answer: stop waiting after a while.
    try:
        await asyncio.wait_for(call, 5)
        answered = True
    except (asyncio.TimeoutError, Exception):
        answered = False
    # The server still answers what comes next.
    listed = await session.list_tools()
    return {"cancelled": True, "answered": answered, "tools_after": len(listed.tools)}


async def main():
    binary, scenario, *rest = sys.argv[1:]
    # Arguments inline, or `@FILE` (a long question is over the size of
    # one command-line argument).
    text = rest[0] if rest else "{}"
    arguments = json.loads(open(text[1:]).read() if text.startswith("@") else text)
    server_args = rest[1:]
    async with stdio_client(params(binary, server_args)) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out = {"server": init.serverInfo.name, "protocol": init.protocolVersion}
            if scenario == "tools":
                out["tools"] = await tools(session)
            elif scenario == "ask":
                out["tools"] = await tools(session)
                out["ask"] = await ask(session, arguments)
            elif scenario == "cancel":
                out["cancel"] = await cancel(session, arguments)
            elif scenario == "call":
                name = arguments.pop("tool")
                out["call"] = result_json(await session.call_tool(name, arguments))
            print(json.dumps(out))


asyncio.run(main())
