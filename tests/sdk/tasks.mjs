// The official TypeScript SDK v1 client's task API (client.experimental.tasks,
// protocol 2025-11-25) against kling-mcp over stdio (or, given a URL, over
// Streamable HTTP to `kling-mcp --listen`) and the mock Kling API, with the
// client's request timeout set below get_task's wait: the plain call times out,
// the task form follows the same wait to its result.
//   node tasks.mjs <kling-mcp binary> <base URL> <CA file> <API key> <task succeeding later> <task never finishing> [<http://127.0.0.1:PORT/mcp>]
// tests/suites/test_sdk_tasks.py starts the mock (and the listener) and makes the live tasks.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";

const [bin, base, ca, key, slowId, pendingId, url] = process.argv.slice(2);
const tag = url ? "sdk-tasks-http" : "sdk-tasks";
const TIMEOUT_MS = 3000; // the client's request timeout: well below the wait
let failures = 0;
const check = (name, cond, why = "") => {
  if (cond) console.log(`PASS ${tag}/${name}`);
  else {
    failures++;
    console.log(`FAIL ${tag}/${name}: ${String(why).replace(/\n/g, "\\n").slice(0, 400)}`);
  }
};

async function main() {
  console.log("PLAN 7");
  const transport = url ? new StreamableHTTPClientTransport(new URL(url)) : new StdioClientTransport({
    command: bin,
    args: [],
    env: { KLING_BASE_URL: base, KLING_CA_FILE: ca, KLING_API_KEY: key, PATH: process.env.PATH },
    stderr: "pipe",
  });
  const client = new Client({ name: "kling-mcp-sdk-tasks", version: "1.0.0" });
  await client.connect(transport, { timeout: 5000 });
  const caps = client.getServerCapabilities();
  check("the server declares tasks.requests.tools.call and cancel",
    caps?.tasks?.requests?.tools?.call && caps?.tasks?.cancel && !caps?.tasks?.list, JSON.stringify(caps));
  const tools = await client.listTools();
  const gt = tools.tools.find((t) => t.name === "get_task");
  check("get_task is taskSupport optional", gt?.execution?.taskSupport === "optional", JSON.stringify(gt?.execution));

  // the plain call: the client gives up before the wait ends
  try {
    await client.callTool({ name: "get_task", arguments: { task_id: pendingId, wait_seconds: 30 } }, undefined,
      { timeout: TIMEOUT_MS });
    check("a plain call with a 30 s wait outlasts the client's 3 s timeout", false, "answered");
  } catch (e) {
    check("a plain call with a 30 s wait outlasts the client's 3 s timeout",
      e instanceof McpError && e.code === ErrorCode.RequestTimeout, `${e?.code} ${e?.message}`);
  }

  // the task form: every request is short, the wait goes on in the server
  const start = Date.now();
  const seen = [];
  let final = null, error = null;
  for await (const m of client.experimental.tasks.callToolStream(
    { name: "get_task", arguments: { task_id: slowId, wait_seconds: 60 } }, undefined, { timeout: TIMEOUT_MS })) {
    seen.push(m.type);
    if (m.type === "result") final = m.result;
    if (m.type === "error") error = m.error;
  }
  const took = Date.now() - start;
  check("callToolStream follows the task past the client's timeout to get_task's result",
    !error && final?.structuredContent?.finished === true && final?.structuredContent?.task?.task_id === slowId &&
      took > TIMEOUT_MS && seen[0] === "taskCreated" && seen.includes("taskStatus"),
    `${error?.message} ${took} ms ${seen.join(",")} ${JSON.stringify(final)?.slice(0, 300)}`);

  // cancel
  const stream = client.experimental.tasks.callToolStream(
    { name: "get_task", arguments: { task_id: pendingId, wait_seconds: 60 } }, undefined, { timeout: TIMEOUT_MS });
  const first = (await stream.next()).value;
  const taskId = first?.task?.taskId;
  check("a second task is created", first?.type === "taskCreated" && typeof taskId === "string", JSON.stringify(first));
  const cancelled = await client.experimental.tasks.cancelTask(taskId);
  check("cancelTask: cancelled", cancelled?.status === "cancelled", JSON.stringify(cancelled));
  let ended = null;
  for await (const m of stream) if (m.type === "error" || m.type === "result") ended = m;
  const got = await client.experimental.tasks.getTask(taskId);
  check("the stream ends in an error and getTask says cancelled",
    ended?.type === "error" && got?.status === "cancelled", `${JSON.stringify(ended)} ${JSON.stringify(got)}`);
  await client.close();
}

main().then(
  () => process.exit(failures ? 1 : 0),
  (e) => {
    console.log(`FAIL ${tag}/run: ${e?.stack || e}`.replace(/\n/g, "\\n"));
    process.exit(1);
  },
);
