// The seed's front end, reduced to its socket: socket.io-client 4.8 with exactly the seed's options
// (plus auth), driven through join -> send -> /help -> unknown command -> leave.
// Usage: node tests/js/seed_client.js <url> <token> <sessionId>; prints one JSON object on stdout.
"use strict";
const path = require("path");
const { io } = require(path.join(__dirname, "..", "..", "js", "node_modules", "socket.io-client"));

const [url, token, sessionId] = process.argv.slice(2);
const events = [];
const out = { events, steps: {} };

function waitFor(name, pred, ms = 15000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    (function poll() {
      const hit = events.find((e) => e.event === name && pred(e.payload));
      if (hit) return resolve(hit.payload);
      if (Date.now() - started > ms) return reject(new Error(`timeout waiting for ${name}`));
      setTimeout(poll, 10);
    })();
  });
}

const socket = io(url, {
  path: "/ws/chatops",
  transports: ["websocket"],
  reconnection: true,
  reconnectionAttempts: 5,
  reconnectionDelay: 1000,
  auth: { token },
});

for (const name of ["message", "commandResult", "backtestProgress", "error"]) {
  socket.on(name, (payload) => events.push({ event: name, payload }));
}

async function main() {
  await new Promise((resolve, reject) => {
    socket.on("connect", resolve);
    socket.on("connect_error", reject);
  });
  out.steps.connected = true;
  // the seed's createSession emits the bare id string
  out.steps.join = await socket.emitWithAck("joinSession", sessionId);
  out.steps.send = await socket.emitWithAck("sendMessage", { sessionId, content: "hello from js" });
  out.steps.echo = await waitFor("message", (m) => m.content === "hello from js");
  out.steps.help = await socket.emitWithAck("executeCommand", { sessionId, command: "/help" });
  out.steps.helpResult = await waitFor("commandResult", (r) => r.command === "/help");
  out.steps.unknown = await socket.emitWithAck("executeCommand", { sessionId, command: "/hlep" });
  out.steps.unknownError = await waitFor("error", (e) => e.code === "unknown_command");
  out.steps.leave = await socket.emitWithAck("leaveSession", sessionId);
  out.steps.messagesBeforeLeave = events.filter((e) => e.event === "message").length;
  // Python posts into the session now; we report whatever arrives within the grace period.
  process.stdout.write(JSON.stringify({ ready: "left" }) + "\n");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  // The test has posted into the left session (its ack means the server already broadcast it).
  // A marker through another session arrives after anything the server sent us before it.
  const other = `${sessionId}_other`;
  await socket.emitWithAck("joinSession", other);
  await socket.emitWithAck("sendMessage", { sessionId: other, content: "marker" });
  await waitFor("message", (m) => m.content === "marker");
  out.steps.leftSessionMessagesAfterLeave = events.filter(
    (e) => e.event === "message" && e.payload.sessionId === sessionId,
  ).length;
  socket.disconnect();
}

main()
  .then(() => {
    process.stdout.write(JSON.stringify(out) + "\n");
    process.exit(0);
  })
  .catch((err) => {
    process.stdout.write(JSON.stringify({ error: String(err && err.message), ...out }) + "\n");
    process.exit(1);
  });
