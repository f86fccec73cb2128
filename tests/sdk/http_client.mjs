// The official MCP TypeScript SDK client (StreamableHTTPClientTransport,
// protocol 2025-11-25 with a session) against `kling-mcp --listen`, printing one
// PASS/FAIL line per check. tests/suites/test_sdk_http.py starts the server and
// the mock Kling API.
//   node http_client.mjs <http://127.0.0.1:PORT/mcp> <bearer token>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";

const [url, token] = process.argv.slice(2);
export const PLAN = 9;
console.log(`PLAN ${PLAN}`);
const check = (name, cond, why = "") => {
  if (cond) console.log(`PASS sdk_http/${name}`);
  else console.log(`FAIL sdk_http/${name}: ${String(why).replace(/\n/g, "\\n").slice(0, 400)}`);
};

function transport(tok) {
  return new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${tok}` } },
  });
}

async function main() {
  const t = transport(token);
  const client = new Client({ name: "kling-mcp-sdk-http-test", version: "1.0.0" });
  await client.connect(t, { timeout: 5000 });
  check("initialize over HTTP gives a session id", typeof t.sessionId === "string" && t.sessionId.length >= 32,
    t.sessionId);
  check("negotiated the SDK's latest version", t.protocolVersion === LATEST_PROTOCOL_VERSION,
    `${t.protocolVersion} vs ${LATEST_PROTOCOL_VERSION}`);

  const tools = await client.listTools();
  const lt = tools.tools.find((x) => x.name === "list_tasks");
  check("tools/list has list_tasks with an outputSchema", !!lt?.outputSchema, JSON.stringify(tools).slice(0, 300));

  // The SDK validates structuredContent against the outputSchema it listed.
  const r = await client.callTool({ name: "list_tasks", arguments: { page_size: 3 } });
  const sc = r.structuredContent;
  check("list_tasks against the mock: 3 tasks, validated structuredContent",
    !r.isError && Array.isArray(sc?.tasks) && sc.tasks.length === 3 && typeof sc.has_more === "boolean",
    JSON.stringify(r).slice(0, 300));

  // With onprogress the SDK sends a progressToken: the reply comes as SSE.
  let progress = 0;
  const r2 = await client.callTool({ name: "list_tasks", arguments: { page_size: 1, status: "failed" } }, undefined,
    { onprogress: () => progress++ });
  check("a call with a progressToken (SSE reply) is answered",
    !r2.isError && r2.structuredContent?.tasks?.every((x) => x.status === "failed"), JSON.stringify(r2).slice(0, 300));

  await client.ping();
  check("ping", true);

  const sid = t.sessionId;
  await t.terminateSession();
  check("terminateSession (DELETE) clears the session", t.sessionId === undefined, t.sessionId);
  // The ended session id is refused with 404.
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json", Accept: "application/json, text/event-stream",
      Authorization: `Bearer ${token}`, "Mcp-Session-Id": sid, "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping" }),
  });
  check("the ended session answers 404", res.status === 404, res.status);
  await client.close();

  const bad = new Client({ name: "kling-mcp-sdk-http-test", version: "1.0.0" });
  try {
    await bad.connect(transport(token + "x"), { timeout: 5000 });
    check("a wrong token is refused", false, "connected");
  } catch (e) {
    check("a wrong token is refused (401)", /401/.test(String(e?.code ?? "") + String(e?.message)), e?.message);
  }
}

main().catch((e) => {
  console.log(`FAIL sdk_http/run: ${String(e?.stack || e).replace(/\n/g, "\\n").slice(0, 600)}`);
  process.exitCode = 0;
});
