"""The seed's own client: socket.io-client 4.8 (node) with the seed's options against our server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "js" / "seed_client.js"
NODE_CLIENT = ROOT / "js" / "node_modules" / "socket.io-client"


def test_seed_js_client_joins_sends_runs_help_and_leaves(
    demo_server, raw_client_cls, arun, wait_until
):
    node = shutil.which("node")
    assert node, "node is required (installed by .ci/setup)"
    assert NODE_CLIENT.exists(), "run `npm ci` in js/ (done by .ci/setup)"
    session = "session_1697472000000"
    proc = subprocess.Popen(
        [node, str(SCRIPT), demo_server.url, demo_server.token, session],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(proc.stdout.readline() or "{}")
        assert first == {"ready": "left"}, (first, proc.stderr.read() if proc.poll() else "")

        async def post_into_left_session():
            py = await raw_client_cls(demo_server.url, demo_server.token).connect()
            await py.call("joinSession", session)
            ack = await py.call("sendMessage", {"sessionId": session, "content": "after leave"})
            assert ack["ok"]
            await py.close()

        arun(post_into_left_session())
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, (out, err)
    steps = json.loads(out.strip().splitlines()[-1])["steps"]

    assert steps["connected"] is True
    assert steps["join"]["ok"] and steps["join"]["sessionId"] == session
    assert "help" in [c["name"] for c in steps["join"]["commands"]]
    assert steps["send"]["ok"]
    echo = steps["echo"]
    assert set(echo) >= {"id", "sessionId", "role", "content", "timestamp", "metadata", "seq"}
    assert (echo["role"], echo["sessionId"], echo["content"]) == ("user", session, "hello from js")
    assert steps["help"]["ok"] and steps["help"]["message"]["content"] == "/help"
    result = steps["helpResult"]
    assert result["ok"] and result["summary"]["kind"] == "help"
    assert "run_demo" in [c["name"] for c in result["summary"]["commands"]]
    assert steps["unknown"]["ok"] is False
    assert steps["unknown"]["error"]["code"] == "unknown_command"
    assert "Did you mean /help?" in steps["unknownError"]["message"]
    assert steps["leave"] == {"ok": True, "sessionId": session}
    # nothing from the left session arrived after leaving (only the marker session's message)
    assert steps["leftSessionMessagesAfterLeave"] == steps["messagesBeforeLeave"]
