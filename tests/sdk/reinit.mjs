// Two official SDK clients, one after the other, through ONE kling-mcp
// process's stdio — as a bridge (supergateway's SSE/WebSocket modes) serves
// many clients through one stdio server. The second client's initialize must
// be answered and its session must work. Prints PASS/FAIL lines (3 checks).
//   node reinit.mjs <server binary> [args...]
import { spawn } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";

const [cmd, ...args] = process.argv.slice(2);
const check = (name, cond, why = "") =>
  console.log(cond ? `PASS sdk-bridge/${name}` : `FAIL sdk-bridge/${name}: ${String(why).replace(/\n/g, "\\n").slice(0, 300)}`);

// The bridge: one child, one line stream, handed to whichever client is attached.
const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"], env: { ...process.env } });
let buf = "";
let attached = null;
child.stdout.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line.trim() && attached?.onmessage) attached.onmessage(JSON.parse(line));
  }
});

class SharedTransport {
  async start() { attached = this; }
  async send(msg) { child.stdin.write(JSON.stringify(msg) + "\n"); }
  async close() { if (attached === this) attached = null; this.onclose?.(); }
}

async function session(name) {
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(new SharedTransport(), { timeout: 5000 });
  const tools = await client.listTools({}, { timeout: 5000 });
  const r = await client.callTool({ name: "list_tasks", arguments: { page_size: 2 } }, undefined, { timeout: 5000 });
  await client.close();
  return { version: client.getServerVersion(), tools: tools.tools.map((t) => t.name), r };
}

try {
  const a = await session("first-client");
  check("first client initializes, lists and calls", a.tools.includes("list_tasks") && a.r.structuredContent,
    JSON.stringify(a.r).slice(0, 200));
  try {
    const b = await session("second-client");
    check("second client through the same process is initialized", b.version?.name === "kling-mcp",
      JSON.stringify(b.version));
    check("the second client's calls work", b.tools.includes("list_tasks") && b.r.structuredContent?.tasks?.length === 2,
      JSON.stringify(b.r).slice(0, 200));
  } catch (e) {
    check("second client through the same process is initialized", false, e?.message);
    check("the second client's calls work", false, "no session");
  }
} catch (e) {
  check("first client initializes, lists and calls", false, e?.message);
  check("second client through the same process is initialized", false, "not reached");
  check("the second client's calls work", false, "not reached");
}
child.stdin.end();
child.on("exit", () => process.exit(0));
setTimeout(() => { child.kill(); process.exit(0); }, 5000).unref();
