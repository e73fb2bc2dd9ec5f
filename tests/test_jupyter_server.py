"""The Jupyter Server extension (chatops_widget/_jupyter_server.py): a real ``jupyter server``
with the package installed sends on kernel websockets with TCP_NODELAY; disabled, it does not
(tornado's default), so the flag is the extension's doing.

The server's side of the socket is read by a probe extension (tests/_jupyter/nodelay_probe.py)
while a real websocket client (aiohttp) holds a kernel's channels open.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from _support import free_port, stop_process

HERE = Path(__file__).parent


def _serve(tmp_path: Path, extensions: dict[str, bool]):
    port, token = free_port(), secrets.token_hex(16)
    (tmp_path / "cfg").mkdir()  # the user's config: over the environment's (the install's)
    conf = {"ServerApp": {"jpserver_extensions": extensions}}
    (tmp_path / "cfg" / "jupyter_server_config.json").write_text(json.dumps(conf))
    path = os.pathsep.join([str(HERE / "_jupyter"), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "PYTHONPATH": path}
    cmd = [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={tmp_path}"]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            return proc, log, base, token
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.close()
                proc.kill()
                raise RuntimeError((tmp_path / "server.log").read_text()[-3000:]) from None
            time.sleep(0.2)


async def _nodelay_of_a_kernel_websocket(base: str, token: str) -> list[int]:
    auth = {"Authorization": f"token {token}"}
    async with aiohttp.ClientSession(headers=auth) as http:
        async with http.post(f"{base}/api/kernels", json={"name": "python3"}) as r:
            kernel = (await r.json())["id"]
        try:
            url = f"{base.replace('http', 'ws')}/api/kernels/{kernel}/channels?session_id=probe"
            async with http.ws_connect(url) as ws:
                assert not ws.closed
                for _ in range(100):  # the server opens its connection once the kernel is up
                    async with http.get(f"{base}/chatops-probe/nodelay") as r:
                        flags = (await r.json())["nodelay"]
                    if flags:
                        return flags
                    await asyncio.sleep(0.1)
                return []
        finally:
            await http.delete(f"{base}/api/kernels/{kernel}")


@pytest.mark.parametrize("enabled", [True, False], ids=["installed", "disabled"])
def test_kernel_websockets_send_frames_at_once(tmp_path, enabled):
    exts = {"nodelay_probe": True, **({} if enabled else {"chatops_widget": False})}
    proc, log, base, token = _serve(tmp_path, exts)
    try:
        flags = asyncio.run(_nodelay_of_a_kernel_websocket(base, token))
    finally:
        stop_process(proc, log)
    text = (tmp_path / "server.log").read_text()
    assert flags == ([1] if enabled else [0]), text[-2000:]
    said = "chatops_widget: kernel websockets send frames at once (TCP_NODELAY)" in text
    assert said == enabled
