// The official MCP TypeScript SDK client against kling-mcp, printing one
// PASS/FAIL line per check (the convention tests/run.sh counts).
//   node client.mjs <kling-mcp binary> <fake_server binary>
//   node client.mjs --mock <kling-mcp binary> <base URL> <CA file> <API key> <AK> <SK>
// The second form runs the product binary against the mock Kling API
// (tests/suites/test_sdk_mock.py starts it), for each backend.
// The product binary is driven without credentials; fake_server --serve is
// the same server core with a fake list_tasks backend (tests/lib/fake_server.c),
// which lets the SDK validate real structuredContent against the declared
// outputSchema with its own AJV validator.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CallToolResultSchema,
  EmptyResultSchema,
  ErrorCode,
  LATEST_PROTOCOL_VERSION,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";

// It prints "PLAN n" first: the number of checks each mode runs (tests/run.sh
// fails a run that stops short). Checks that test the test apparatus (here,
// that the AJV validator has teeth) are named mock-self/...
const [bin, fake] = process.argv.slice(2);
const PLAN_PRODUCT = 31, PLAN_MOCK = 30;
let failures = 0;
const check = (name, cond, why = "") => {
  if (name.startsWith("mock-self/")) name = `mock-self/sdk/${name.slice(10)}`;
  else name = `sdk/${name}`;
  if (cond) console.log(`PASS ${name}`);
  else {
    failures++;
    console.log(`FAIL ${name}: ${String(why).replace(/\n/g, "\\n").slice(0, 400)}`);
  }
};
const text = (r) => (r?.content?.[0]?.type === "text" ? r.content[0].text : "");

async function open(command, args, env) {
  const transport = new StdioClientTransport({ command, args, env, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (d) => (stderr += d));
  const client = new Client({ name: "kling-mcp-sdk-test", version: "1.0.0" });
  await client.connect(transport, { timeout: 5000 });
  return { client, transport, stderr: () => stderr };
}

async function expectMcpError(name, promise, code, needle) {
  try {
    await promise;
    check(name, false, "no error thrown");
  } catch (e) {
    check(name, e instanceof McpError && e.code === code && (!needle || e.message.includes(needle)),
      `${e?.constructor?.name} ${e?.code} ${e?.message}`);
  }
}

async function product() {
  const { client } = await open(bin, [], {});
  const info = client.getServerVersion();
  check("serverInfo name kling-mcp with a version", info?.name === "kling-mcp" && !!info?.version, JSON.stringify(info));
  check("capabilities: tools", client.getServerCapabilities()?.tools?.listChanged === false,
    JSON.stringify(client.getServerCapabilities()));
  check("instructions present", (client.getInstructions() || "").includes("list_tasks"));
  let pinged = false;
  try {
    await client.ping();
    pinged = true;
  } catch (e) {
    pinged = e;
  }
  check("ping", pinged === true, pinged);

  const { tools } = await client.listTools();
  const t = tools.find((x) => x.name === "list_tasks");
  check("tools/list parsed by the SDK: list_tasks and get_task",
    tools.length === 2 && !!t && tools.some((x) => x.name === "get_task"), JSON.stringify(tools).slice(0, 200));
  const p = t?.inputSchema?.properties || {};
  check("inputSchema: the seed's five arguments plus cursor and product_type",
    ["page", "page_size", "status", "start_time", "end_time", "cursor", "product_type"].every((k) => k in p) &&
      Object.keys(p).length === 7, JSON.stringify(t?.inputSchema));
  check("inputSchema: page integer >= 1, page_size 1..100",
    p.page?.type === "integer" && p.page?.minimum === 1 && p.page_size?.minimum === 1 && p.page_size?.maximum === 100);
  check("inputSchema: status enum", JSON.stringify(p.status?.enum) === '["submitted","processing","succeed","failed"]');
  const a = t?.annotations || {};
  check("annotations: read-only, not destructive, idempotent, open world",
    a.readOnlyHint === true && a.destructiveHint === false && a.idempotentHint === true && a.openWorldHint === true,
    JSON.stringify(a));
  check("title", typeof t?.title === "string" && t.title.length > 0);
  check("outputSchema: object with required fields",
    t?.outputSchema?.type === "object" && t.outputSchema.required?.includes("tasks"), JSON.stringify(t?.outputSchema).slice(0, 200));
  let compiled = false;
  try {
    new AjvJsonSchemaValidator().getValidator(t.outputSchema);
    compiled = true;
  } catch (e) {
    compiled = e;
  }
  check("outputSchema compiles with the SDK's AJV validator", compiled === true, compiled);

  const bad = await client.callTool({ name: "list_tasks", arguments: { page: 0, status: "done" } });
  check("bad arguments: an isError result naming them",
    bad.isError === true && text(bad).includes("page must") && text(bad).includes("status must be one of"), text(bad));
  const nocred = await client.callTool({ name: "list_tasks", arguments: {} });
  check("no credentials: isError naming KLING_API_KEY",
    nocred.isError === true && text(nocred).includes("KLING_API_KEY") && text(nocred).includes("KLING_SECRET_KEY"),
    text(nocred));
  await expectMcpError("unknown tool: McpError -32602",
    client.callTool({ name: "no_such_tool", arguments: {} }), ErrorCode.InvalidParams, "no_such_tool");
  await expectMcpError("unknown method: McpError -32601",
    client.request({ method: "resources/list", params: {} }, EmptyResultSchema), ErrorCode.MethodNotFound);
  await expectMcpError("tools/list with a cursor: McpError -32602",
    client.listTools({ cursor: "next" }), ErrorCode.InvalidParams);
  let still = false;
  try {
    await client.ping();
    still = true;
  } catch (e) {
    still = e;
  }
  check("the session goes on after errors", still === true, still);
  await client.close();
}

async function withFake() {
  const { client, stderr } = await open(fake, ["--serve"], { KLING_API_KEY: "sdk-test-key" });
  const { tools } = await client.listTools(); // the SDK caches the outputSchema validator here
  const schema = tools[0].outputSchema;
  const r = await client.callTool({ name: "list_tasks", arguments: { page_size: 8 } });
  check("a result passed the SDK's own outputSchema validation in callTool",
    !r.isError && r.structuredContent?.tasks?.length === 8, JSON.stringify(r).slice(0, 300));
  check("CallToolResultSchema accepts the result", CallToolResultSchema.safeParse(r).success);
  check("text block in the seed's layout", text(r).startsWith("Kling AI Task List (Page 1):\n\nTotal Tasks: 137"), text(r));
  const msg = r.structuredContent?.tasks?.[1]?.status_message || "";
  check("escaped message decoded by JSON.parse exactly (a control shown as the text \\u0001)",
    msg === 'Fehler: "quota" \\ überschritten\n\ttab\\u0001 — 字 😀 \u2028 end', JSON.stringify(msg));

  const validate = new AjvJsonSchemaValidator().getValidator(schema);
  const samples = [];
  for (const args of [{ status: "failed", page_size: 3 }, { cursor: "page:14" }, { page_size: 100 }, { cursor: "async" }]) {
    const x = await client.callTool({ name: "list_tasks", arguments: args });
    samples.push(x);
    const v = validate(x.structuredContent);
    check(`AJV: structuredContent for ${JSON.stringify(args)} conforms`, v.valid, v.errorMessage);
  }
  check("the last page carries no next_cursor", samples[1].structuredContent.has_more === false &&
    !("next_cursor" in samples[1].structuredContent));
  const tampered = structuredClone(r.structuredContent);
  tampered.tasks[0].status = "succeeded";
  check("mock-self/AJV: a status outside the enum is caught (the check has teeth)", !validate(tampered).valid);
  const tampered2 = structuredClone(r.structuredContent);
  tampered2.tasks[0].model_name = "";
  check("mock-self/AJV: an empty optional string is caught", !validate(tampered2).valid);

  const err = await client.callTool({ name: "list_tasks", arguments: { cursor: "error" } });
  check("a backend error is an isError result the SDK accepts", err.isError === true && text(err).includes("1102"));

  const ac = new AbortController();
  const pending = client.callTool({ name: "list_tasks", arguments: { cursor: "slow" } }, undefined, { signal: ac.signal });
  await new Promise((res) => setTimeout(res, 100));
  ac.abort("test cancels");
  try {
    await pending;
  } catch (e) {
    // the SDK rejects the call itself on abort, whatever the server does:
    // what the server did is the check below
  }
  await client.ping();
  await new Promise((res) => setTimeout(res, 100));
  check("cancel: the server cancelled the backend operation", stderr().includes("fake-backend: cancelled slow"), stderr());
  await client.close();
}

async function withMock([bin2, base, ca, key, ak, sk]) {
  const runs = [
    ["tasks", { KLING_API_KEY: key }],
    ["legacy", { KLING_ACCESS_KEY: ak, KLING_SECRET_KEY: sk }],
    ["seed", { KLING_API_KEY: key, KLING_BACKEND: "seed" }],
  ];
  for (const [backend, creds] of runs) {
    const { client } = await open(bin2, [], { KLING_BASE_URL: base, KLING_CA_FILE: ca, ...creds });
    const { tools } = await client.listTools();
    const validate = new AjvJsonSchemaValidator().getValidator(tools.find((x) => x.name === "list_tasks").outputSchema);
    for (const args of [{}, { status: "failed", page_size: 5 }, { page: 2, page_size: 100 }, { product_type: "image" },
      { start_time: "2020-01-01", end_time: "2099-12-31T23:59:59Z" }]) {
      const name = `${backend} ${JSON.stringify(args)}`;
      try {
        const r = await client.callTool({ name: "list_tasks", arguments: args });
        const v = validate(r.structuredContent);
        check(`mock/${name}: callTool validated structuredContent`,
          !r.isError && r.structuredContent?.backend === backend && v.valid, v.errorMessage || text(r));
        if (r.structuredContent?.next_cursor) {
          const n = await client.callTool({ name: "list_tasks", arguments: { cursor: r.structuredContent.next_cursor } });
          check(`mock/${name}: next page by cursor validated`, !n.isError && validate(n.structuredContent).valid, text(n));
        } else {
          console.log(`SKIP sdk/mock/${name}: next page by cursor validated: this page has no next_cursor`);
        }
      } catch (e) {
        check(`mock/${name}: callTool validated structuredContent`, false, e?.message || e);
      }
    }
    await client.close();
  }
}

// get_task through the SDK (tests/suites/test_get_task.py starts the mock and
// makes the live tasks): onprogress, the SDK's own outputSchema validation in
// callTool, resource_link blocks parsed by its schema. Six checks, always.
async function getTask([bin2, base, ca, key, ak, sk, doneId, liveTasks, liveLegacy]) {
  const env = { KLING_BASE_URL: base, KLING_CA_FILE: ca };
  const waitWithProgress = async (client, name, id, mime) => {
    const seen = [];
    const r = await client.callTool({ name: "get_task", arguments: { task_id: id, wait_seconds: 30 } },
      CallToolResultSchema, { onprogress: (p) => seen.push(p), timeout: 40000 });
    const inc = seen.every((p, i) => i === 0 || p.progress > seen[i - 1].progress);
    const links = r.content.filter((c) => c.type === "resource_link");
    check(`get_task/${name}: a wait with onprogress, validated by callTool`,
      !r.isError && r.structuredContent?.finished === true && r.structuredContent?.task?.status === "succeed" &&
        seen.length >= 2 && inc && seen.every((p) => typeof p.message === "string" && p.message.length > 0) &&
        links.length === 1 && links[0].mimeType === mime && links[0].name.startsWith(id),
      JSON.stringify({ seen, r }).slice(0, 400));
  };

  let { client } = await open(bin2, [], { ...env, KLING_API_KEY: key });
  const { tools } = await client.listTools(); // the SDK caches the outputSchema validators here
  const t = tools.find((x) => x.name === "get_task");
  let validate = null;
  try {
    validate = new AjvJsonSchemaValidator().getValidator(t.outputSchema);
  } catch (e) {
    validate = null;
  }
  check("get_task/listed, its outputSchema compiles with the SDK's AJV", !!t && !!validate, JSON.stringify(t).slice(0, 300));
  validate = validate || (() => ({ valid: false, errorMessage: "no validator" }));
  const r = await client.callTool({ name: "get_task", arguments: { task_id: doneId } });
  const v = validate(r.structuredContent);
  check("get_task/tasks by id: structuredContent conforms, links parsed by CallToolResultSchema",
    !r.isError && v.valid && CallToolResultSchema.safeParse(r).success &&
      r.content.some((c) => c.type === "resource_link" && c.uri.startsWith("https://")),
    v.errorMessage || JSON.stringify(r).slice(0, 300));
  const tampered = structuredClone(r.structuredContent || {});
  tampered.finished = "yes";
  check("get_task/AJV catches a structuredContent that breaks the schema", !validate(tampered).valid);
  await waitWithProgress(client, "tasks", liveTasks, "video/mp4");
  await client.close();

  ({ client } = await open(bin2, [], { ...env, KLING_ACCESS_KEY: ak, KLING_SECRET_KEY: sk }));
  await client.listTools();
  await waitWithProgress(client, "legacy", liveLegacy, "image/png");
  await client.close();

  ({ client } = await open(bin2, [], { ...env, KLING_API_KEY: key, KLING_BACKEND: "seed" }));
  await client.listTools();
  const s = await client.callTool({ name: "get_task", arguments: { task_id: doneId } });
  check("get_task/seed: an isError result the SDK accepts", s.isError === true && text(s).includes("seed"), text(s));
  await client.close();
}

if (process.argv[2] !== "--get-task") { // test_get_task.py counts the --get-task checks in its own plan
  console.log(`PLAN ${process.argv[2] === "--mock" ? PLAN_MOCK : PLAN_PRODUCT}`);
  console.log(`# SDK speaks ${LATEST_PROTOCOL_VERSION}`);
}
try {
  if (process.argv[2] === "--get-task") {
    await getTask(process.argv.slice(3));
  } else if (process.argv[2] === "--mock") {
    await withMock(process.argv.slice(3));
  } else {
    await product();
    await withFake();
  }
} catch (e) {
  check("no unexpected exception", false, e?.stack || e);
}
process.exit(0);
