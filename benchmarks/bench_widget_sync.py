"""Bytes the chat panel's kernel side sends to the front end per appended message.

Runs the real embedded server, a real client and a ChatOpsWidget whose comm is recorded; sends
1,000 chat messages and reports the size of the comm message that carried the 1st and the
1,000th (target: the 1,000th <= 1.1x the 1st). For contrast it computes what a naive
"messages as one synced list traitlet" design would send for the same append (the whole list).

Run: python benchmarks/bench_widget_sync.py [--n 1000]
"""

from __future__ import annotations

import argparse
import json
import threading
import time


def main() -> None:
    from chatops_widget.client import ChatOpsClient
    from chatops_widget.widget import ChatOpsWidget

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="messages to append (default 1000)")
    n = ap.parse_args().n

    client = ChatOpsClient()
    w = ChatOpsWidget(client=client)
    w.create_session()
    sizes: dict[str, int] = {}
    lock = threading.Lock()

    def publish(msg_type, data=None, metadata=None, buffers=None, **keys):
        # what ipykernel serializes onto IOPub as the comm message's data
        if isinstance(data, dict) and data.get("method") == "custom":
            content = data["content"]
            if content.get("type") == "message" and content["message"]["role"] == "user":
                with lock:
                    sizes[content["message"]["content"]] = len(
                        json.dumps(data, separators=(",", ":")).encode()
                    )

    w.comm.publish_msg = publish
    texts = [f"message {i:05d} from the benchmark" for i in range(1, n + 1)]
    t0 = time.perf_counter()
    pending = [client.send_message(text, block=False) for text in texts]
    for fut in pending:
        fut.result(timeout=60)
    deadline = time.monotonic() + 30
    while len(sizes) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    history = [m for m in client.messages]
    first, last = sizes[texts[0]], sizes[texts[-1]]
    naive_last = len(json.dumps({"state": {"messages": history}}, separators=(",", ":")).encode())
    print(f"appended {n} messages in {elapsed:.2f} s ({n / elapsed:.0f}/s incl. server round trip)")
    print(f"bytes to the front end, 1st append:      {first}")
    print(f"bytes to the front end, {n}th append:  {last}")
    print(f"ratio {n}th / 1st:                      {last / first:.3f}  (target <= 1.1)")
    print(f"naive list traitlet, {n}th append:     {naive_last}  ({naive_last / last:.0f}x more)")
    w.close()
    client.close()


if __name__ == "__main__":
    main()
