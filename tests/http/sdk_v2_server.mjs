// make bench's anchor: the official TypeScript SDK v2 server
// (@modelcontextprotocol/server, pinned here) over Streamable HTTP on plain
// node:http, with one tool of list_tasks's shape answering a fixed empty page.
//   node sdk_v2_server.mjs [PORT]   (prints "listening on http://127.0.0.1:PORT/mcp")
import http from "node:http";
import { McpServer, createMcpHandler } from "@modelcontextprotocol/server";
import * as z from "zod";

const task = z.object({ task_id: z.string(), status: z.enum(["submitted", "processing", "succeed", "failed"]),
  created_at: z.string() }).passthrough();
function factory() {
  const s = new McpServer({ name: "sdk-v2-anchor", version: "1.0.0" });
  s.registerTool("list_tasks", {
    title: "List Kling AI tasks",
    description: "List the generation tasks of the account, newest first.",
    inputSchema: z.object({
      page: z.number().int().min(1).optional(), page_size: z.number().int().min(1).max(100).optional(),
      status: z.enum(["submitted", "processing", "succeed", "failed"]).optional(),
      start_time: z.string().optional(), end_time: z.string().optional(), cursor: z.string().optional(),
      product_type: z.enum(["video", "image", "try_on"]).optional(),
    }),
    outputSchema: z.object({ backend: z.string(), page: z.number(), page_size: z.number(),
      has_more: z.boolean(), tasks: z.array(task) }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  }, async () => ({
    content: [{ type: "text", text: "Kling AI Task List (Page 1):\nNo tasks found." }],
    structuredContent: { backend: "tasks", page: 1, page_size: 10, has_more: false, tasks: [] },
  }));
  return s;
}
const handler = createMcpHandler(factory);
http.createServer({ noDelay: true }, async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const r = await handler.fetch(new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method, headers: req.headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks),
  }));
  if ((r.headers.get("content-type") || "").startsWith("text/event-stream")) {
    res.writeHead(r.status, Object.fromEntries(r.headers));
    for await (const c of r.body) res.write(c);
    res.end();
    return;
  }
  const out = Buffer.from(await r.arrayBuffer()); // JSON: one write, with its length
  res.writeHead(r.status, { ...Object.fromEntries(r.headers), "content-length": out.length });
  res.end(out);
}).listen(Number(process.argv[2] || 0), "127.0.0.1", function () {
  console.error(`listening on http://127.0.0.1:${this.address().port}/mcp`);
});
