// The official MCP TypeScript SDK v2 client (@modelcontextprotocol/client,
// pinned in tests/http) with version negotiation "auto" against
// `kling-mcp --listen`: it probes with server/discover and speaks 2026-07-28,
// stateless. One PASS/FAIL line per check (PLAN first).
//   node client_v2.mjs <http://127.0.0.1:PORT/mcp> <bearer token>
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const [url, token] = process.argv.slice(2);
console.log("PLAN 5");
const check = (name, cond, why = "") => {
  if (cond) console.log(`PASS sdk_v2_http/${name}`);
  else console.log(`FAIL sdk_v2_http/${name}: ${String(why).replace(/\n/g, "\\n").slice(0, 400)}`);
};

async function main() {
  const t = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: "kling-mcp-sdk-v2-test", version: "1.0.0" },
    { versionNegotiation: { mode: "auto" } });
  await client.connect(t);
  const v = client.getNegotiatedProtocolVersion();
  check("auto negotiation picks 2026-07-28", v === "2026-07-28", v);
  check("no session id (stateless)", !t.sessionId, t.sessionId);
  const tools = await client.listTools();
  const lt = tools.tools.find((x) => x.name === "list_tasks");
  check("tools/list has list_tasks with an outputSchema", !!lt?.outputSchema, JSON.stringify(tools).slice(0, 300));
  const r = await client.callTool({ name: "list_tasks", arguments: { page_size: 4 } });
  const sc = r.structuredContent;
  check("list_tasks against the mock: 4 tasks, validated structuredContent",
    !r.isError && Array.isArray(sc?.tasks) && sc.tasks.length === 4, JSON.stringify(r).slice(0, 300));
  const r2 = await client.callTool({ name: "list_tasks", arguments: { page_size: 0 } });
  check("a bad argument is an isError result naming it", r2.isError === true &&
    JSON.stringify(r2.content).includes("page_size"), JSON.stringify(r2).slice(0, 300));
  await client.close();
}

main().catch((e) => {
  console.log(`FAIL sdk_v2_http/run: ${String(e?.stack || e).replace(/\n/g, "\\n").slice(0, 600)}`);
});
