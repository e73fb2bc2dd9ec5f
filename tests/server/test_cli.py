"""``python -m chatops_widget serve``: generated token and connect URL, env token, --help."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from chatops_widget import ChatOpsClient
from chatops_widget.server.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "chatops_widget", "serve", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def _stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(30)


def _connect_url(proc) -> str:
    for _ in range(20):
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
        if match:
            return match.group(1)
        assert line, "server exited before printing its URL"
    raise AssertionError("no connect URL printed")


def test_serve_without_token_prints_a_jupyter_style_url_that_connects(tmp_path):
    port = _free_port()
    proc = _serve(["--port", str(port), "--data-dir", str(tmp_path)], env={"CHATOPS_TOKEN": ""})
    try:
        url = _connect_url(proc)
        assert url.startswith(f"http://127.0.0.1:{port}/?token=")
        assert len(url.split("token=")[1]) >= 20
        with ChatOpsClient(url, timeout=30) as client:  # ChatOpsClient takes the URL as printed
            client.create_session()
            assert client.send_message("hi")["seq"] == 1
        assert (tmp_path / "chatops.sqlite3").exists()
    finally:
        _stop(proc)


def test_serve_takes_the_token_from_the_environment(tmp_path):
    port = _free_port()
    proc = _serve(
        ["--port", str(port), "--data-dir", str(tmp_path)], env={"CHATOPS_TOKEN": "env-token"}
    )
    try:
        printed = _connect_url_or_line(proc)
        assert "env-token" not in printed  # a given token is not echoed
        with ChatOpsClient(f"http://127.0.0.1:{port}", "env-token", timeout=30) as client:
            assert client.is_connected
    finally:
        _stop(proc)


def test_ctrl_c_stops_the_server_cleanly_without_a_traceback(tmp_path):
    port = _free_port()
    proc = _serve(["--port", str(port), "--data-dir", str(tmp_path)], env={"CHATOPS_TOKEN": "t"})
    try:
        _connect_url_or_line(proc)
        with ChatOpsClient(f"http://127.0.0.1:{port}", "t", timeout=30) as client:
            client.create_session()
            client.send_message("before Ctrl+C")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    finally:
        _stop(proc)


def _connect_url_or_line(proc) -> str:
    lines = []
    for _ in range(20):
        line = proc.stdout.readline()
        lines.append(line)
        if "To connect" in line:
            lines.append(proc.stdout.readline())
            return "".join(lines)
        assert line, "server exited early"
    raise AssertionError("".join(lines))


def test_cli_defaults():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.token, args.data_dir) == ("127.0.0.1", 8500, None, None)
