/*
 * mcp_http — `kling-mcp --listen [ADDR:]PORT`: MCP over Streamable HTTP on
 * ADDR:PORT/mcp, on top of http_server (connections, framing, limits,
 * timeouts: see httpd.h). This module holds what is MCP: routes, the
 * Host/Origin/token checks, sessions, SSE, the status of each answer.
 *
 * Checks, as soon as a head is complete and before one body byte is kept: a
 * present Origin must be allowed (403; on a loopback listener it must name
 * the listener with its port, else any local web service on port 80/443
 * would pass); on a loopback listener, Host must be too (403, DNS
 * rebinding); with KLING_MCP_TOKEN every request but a preflight and
 * /health needs "Authorization: Bearer <token>" (401 + WWW-Authenticate:
 * Bearer), compared in constant time and never logged. A refusal closes
 * the connection.
 *
 * The pure checks and parsers are in mcp_http_check.
 *
 * Protocols (see MCP_HTTP notes in the README):
 *  - 2025-03-26 ... 2025-11-25: POST initialize creates an mcp session and
 *    answers with Mcp-Session-Id (128 random bits from getrandom, hex); later
 *    POSTs carry it (missing: 400; unknown or ended: 404); MCP-Protocol-Version
 *    when sent must name a known version (400); DELETE ends the session.
 *    LIMIT_LISTEN_SESSIONS sessions (503), idle ones expire after
 *    LISTEN_SESSION_IDLE_MS.
 *  - 2026-07-28: a POST without a session id gets a fresh mcp session for that
 *    one request (stateless); the mirrored headers MCP-Protocol-Version,
 *    Mcp-Method and Mcp-Name are checked against the body (-32020, 400), and
 *    errors map to statuses (-32601: 404; -32602, -32020, -32021, -32022,
 *    -32600, -32700: 400).
 *  - GET /mcp, HEAD /mcp: 405 (this server sends nothing unasked). OPTIONS:
 *    CORS preflight. GET or HEAD /health: 200 {"status":"ok"}, no token, no
 *    upstream call, logged only at debug level (for probes).
 *  - Replies are application/json, or text/event-stream when the request
 *    carries params._meta.progressToken (progress, then the response, then
 *    the stream ends; ": keepalive" comments every LISTEN_SSE_KEEPALIVE_MS
 *    while waiting), or when the call has not ended after
 *    LISTEN_SSE_SWITCH_MS and the client accepts text/event-stream (to
 *    HTTP/1.0 the stream is ended by the close). The status of a JSON
 *    reply comes from the JSON-RPC error code the session passes with the
 *    answer. A request whose
 *    connection fails (a write, a reset) is released: its call cancelled,
 *    its transient session freed, its in-flight count dropped.
 *  - Stop (SIGTERM, SIGINT, SIGHUP): calls are asked to end their waiting
 *    early; a call still running near the end of LISTEN_DRAIN_MS is answered
 *    with an error (503, or an error event on a stream): every request gets
 *    an answer before exit 0.
 */
#ifndef KLING_MCP_HTTP_H
#define KLING_MCP_HTTP_H

struct kling_config;

/* Serve MCP over HTTP on cfg->listen until stop_fd (when >= 0) becomes
 * readable: then stop accepting, let the calls in progress finish (at most
 * LISTEN_DRAIN_MS), and return 0. Returns 2 when the listener cannot start
 * (bad address, a non-loopback address without KLING_MCP_TOKEN, bind
 * failed: said on stderr), 1 when the loop broke. */
int mcp_http_run(const struct kling_config *cfg, int stop_fd);

/* For the fuzz harness: the same server without a listening socket (cfg->listen
 * still names the address the checks use); connections are handed over with
 * httpd_adopt and served from the loop; mcp_http_finish closes them and frees
 * every session. mcp_http_start returns 0 or -1. */
int mcp_http_start(const struct kling_config *cfg);
void mcp_http_finish(void);

#endif
