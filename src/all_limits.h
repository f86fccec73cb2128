/*
 * all_limits — every hard maximum of kling-mcp in one place, each with its reason.
 * All can be overridden at build time (-DLIMIT_X=...); memory use is bounded by
 * these numbers, so changing one changes the worst case accordingly.
 */
#ifndef KLING_LIMITS_H
#define KLING_LIMITS_H

/* One JSON-RPC line from the client. Tool arguments are tiny; 1 MiB leaves
 * room for any sane client while bounding the input buffer. A longer line is
 * refused with -32600 and skipped up to the next newline. */
#ifndef LIMIT_LINE_BYTES
#define LIMIT_LINE_BYTES (1024 * 1024)
#endif

/* JSON nesting depth, in and out. Real MCP messages nest < 10 levels. */
#ifndef LIMIT_JSON_DEPTH
#define LIMIT_JSON_DEPTH 64
#endif

/* jsmn tokens for one client message: a full 1 MiB line of "[0,0,..." needs
 * ~512 Ki tokens; we cap at 64 Ki tokens (1 MiB of token memory at 16 B each)
 * and answer -32600 naming the limit beyond that. */
#ifndef LIMIT_JSON_TOKENS
#define LIMIT_JSON_TOKENS 65536
#endif

/* One response we build. A tool result carries the page twice (text and
 * structuredContent); a 100-task page with signed URLs is ~300 KiB, and the
 * upstream body itself is capped at LIMIT_HTTP_BODY_BYTES, so 8 MiB bounds any
 * honest render. A larger result is replaced by an isError result saying so. */
#ifndef LIMIT_RESPONSE_BYTES
#define LIMIT_RESPONSE_BYTES (8 * 1024 * 1024)
#endif

/* A request id as written on the wire (string ids with quotes and escapes).
 * Ids of running calls are kept until the answer, so they are bounded; real
 * clients send counters or UUIDs. A longer id is refused with -32600. */
#ifndef LIMIT_ID_BYTES
#define LIMIT_ID_BYTES 1024
#endif

/* Requests in one JSON-RPC batch (batches exist only in protocol 2025-03-26).
 * Each answer is held until the whole batch is done, so the count is bounded;
 * a larger batch is refused with -32600. */
#ifndef LIMIT_BATCH_REQUESTS
#define LIMIT_BATCH_REQUESTS 256
#endif

/* list_tasks' cursor argument, a next_cursor value handed back. Kling's
 * cursors are short opaque tokens; the bound keeps call state fixed-size. */
#ifndef LIMIT_CURSOR_BYTES
#define LIMIT_CURSOR_BYTES 1024
#endif

/* Longest host name (or IP literal) kept anywhere: the base URL's host,
 * the proxy's, the resolver's and the connection pool's keys. DNS names are
 * at most 253 bytes; a longer host is refused where it is read. */
#ifndef LIMIT_HOST_BYTES
#define LIMIT_HOST_BYTES 256
#endif

/* HTTP response head: status line + headers. Kling sends < 1 KiB. */
#ifndef LIMIT_HTTP_HEAD_BYTES
#define LIMIT_HTTP_HEAD_BYTES (16 * 1024)
#endif
#ifndef LIMIT_HTTP_HEADERS
#define LIMIT_HTTP_HEADERS 64
#endif

/* HTTP response body: a 500-task page of /tasks is ~1 MiB; 4 MiB is the most
 * we ever hold for one call. */
#ifndef LIMIT_HTTP_BODY_BYTES
#define LIMIT_HTTP_BODY_BYTES (4 * 1024 * 1024)
#endif

/* Chunked framing: one chunk-size line (size, extensions, CRLF). Real
 * servers send "1f40\r\n"; 4 KiB tolerates any extension while bounding
 * a line that never ends. */
#ifndef LIMIT_HTTP_CHUNK_LINE_BYTES
#define LIMIT_HTTP_CHUNK_LINE_BYTES 4096
#endif

/* Chunked framing overhead (size lines, extensions, CRLFs, trailers): once it
 * passes this many bytes it may not exceed the body's own bytes, so a stream
 * of one-byte chunks cannot make us read 6x the body limit. */
#ifndef LIMIT_HTTP_CHUNK_OVERHEAD_BYTES
#define LIMIT_HTTP_CHUNK_OVERHEAD_BYTES (64 * 1024)
#endif

/* Request body we accept from the caller: Kling request bodies are filter
 * objects under 1 KiB; the copy we keep (for the one retry) stays small. */
#ifndef LIMIT_HTTP_REQUEST_BODY_BYTES
#define LIMIT_HTTP_REQUEST_BODY_BYTES (64 * 1024)
#endif

/* Idle keep-alive connections kept open, all hosts together: one per
 * concurrent call (LIMIT_CONCURRENT_CALLS) reuses every connection a burst
 * opened. */
#ifndef LIMIT_HTTP_IDLE_CONNS
#define LIMIT_HTTP_IDLE_CONNS 4
#endif

/* An idle connection is closed after this long. Below the keep-alive
 * timeouts of the usual front ends (AWS ALB 60 s, nginx 75 s), so we close
 * first and rarely write into a connection the server is closing. */
#ifndef HTTP_IDLE_TIMEOUT_MS
#define HTTP_IDLE_TIMEOUT_MS 50000
#endif

/* Addresses tried for one host name (getaddrinfo may return many). Each
 * attempt but the last gets an equal share of the time left, at most
 * HTTP_CONNECT_ATTEMPT_MS, so a silently dropped IPv6 route costs seconds,
 * not the call; the last address gets all the time left. The address that
 * answered is tried first next time. */
#ifndef LIMIT_RESOLVE_ADDRS
#define LIMIT_RESOLVE_ADDRS 8
#endif
#ifndef HTTP_CONNECT_ATTEMPT_MS
#define HTTP_CONNECT_ATTEMPT_MS 3000
#endif

/* Host names whose addresses are remembered, and for how long: the Kling
 * host and perhaps a proxy; getaddrinfo() tells no TTL, so a short fixed one. */
#ifndef LIMIT_RESOLVE_CACHE
#define LIMIT_RESOLVE_CACHE 4
#endif
#ifndef RESOLVE_CACHE_TTL_MS
#define RESOLVE_CACHE_TTL_MS 60000
#endif

/* A CA file (KLING_CA_FILE, SSL_CERT_FILE, a system bundle) is read whole.
 * Distribution bundles are ~220 KiB of PEM; 16 MiB bounds a wrong file. */
#ifndef LIMIT_CA_FILE_BYTES
#define LIMIT_CA_FILE_BYTES (16 * 1024 * 1024)
#endif

/* TLS sessions remembered for resumption, one per host/port/proxy. */
#ifndef LIMIT_TLS_SESSIONS
#define LIMIT_TLS_SESSIONS 4
#endif

/* Upstream requests one list_tasks call may run at once (the legacy backend
 * fetches its product lists side by side). With LIMIT_CONCURRENT_CALLS this
 * bounds the connections: 4 x 3 = 12, within LIMIT_LOOP_FDS. */
#ifndef LIMIT_UPSTREAM_PARALLEL
#define LIMIT_UPSTREAM_PARALLEL 3
#endif

/* Upstream requests one list_tasks call may make in all, retries included:
 * a cursor walk or a legacy merge that would need more is refused with a
 * message saying how to narrow it, so one call cannot hammer the API. */
#ifndef LIMIT_UPSTREAM_REQUESTS
#define LIMIT_UPSTREAM_REQUESTS 32
#endif

/* Tasks a page number may skip. POST /tasks walks its cursor (500 a request)
 * to reach page N; the legacy backend merges its lists up to there. Deeper
 * pages are reached with next_cursor, which costs one request. */
#ifndef LIMIT_TASKS_SKIP
#define LIMIT_TASKS_SKIP 5000
#endif
#ifndef LIMIT_LEGACY_SKIP
#define LIMIT_LEGACY_SKIP 2000
#endif

/* Memory of one call's result and of each upstream page it holds: tasks and
 * their strings. A 500-task reply normalizes to well under 1 MiB. */
#ifndef LIMIT_CALL_BYTES
#define LIMIT_CALL_BYTES (8 * 1024 * 1024)
#endif

/* Tool calls running at once; more wait in arrival order. */
#ifndef LIMIT_CONCURRENT_CALLS
#define LIMIT_CONCURRENT_CALLS 4
#endif

/* Calls waiting for a slot. Beyond this a call is answered at once with an
 * isError result naming the limit, so a flooding client cannot grow memory. */
#ifndef LIMIT_QUEUED_CALLS
#define LIMIT_QUEUED_CALLS 64
#endif

/* Unread output (answers a slow client has not read yet): past half of this
 * the stdio transport stops reading input and its session starts none of its
 * waiting calls, until it is down to a quarter. Nothing is ever dropped for
 * slowness: the output is bounded by admitting less, at most half of this
 * plus what the running calls and one input line can produce (each at most
 * LIMIT_RESPONSE_BYTES). */
#ifndef LIMIT_STDOUT_BACKLOG
#define LIMIT_STDOUT_BACKLOG (16 * 1024 * 1024)
#endif

/* HTTP listener (kling-mcp --listen). A request head is bounded by
 * LIMIT_HTTP_HEAD_BYTES and LIMIT_HTTP_HEADERS (431 beyond). A request body is
 * one JSON-RPC message, bounded like a stdio line (413 beyond). */
#ifndef LIMIT_LISTEN_BODY_BYTES
#define LIMIT_LISTEN_BODY_BYTES LIMIT_LINE_BYTES
#endif

/* Body bytes held at once by all connections together. A body is kept only
 * after its head passed the Host, Origin and token checks, so a client
 * without the token holds at most its head (LIMIT_HTTP_HEAD_BYTES) per
 * connection; over this, a request gets 503 + Retry-After (and the
 * connection is closed) instead of more memory. */
#ifndef LIMIT_LISTEN_BODY_TOTAL
#define LIMIT_LISTEN_BODY_TOTAL (8 * 1024 * 1024)
#endif

/* Open client connections (SSE streams included). A whole team or LAN is a
 * few dozen clients; each idle connection costs a few hundred bytes and a
 * descriptor. When every slot is taken, the oldest connection that has not
 * yet passed the token check is closed to make room; when all have passed
 * it, a new connection gets 503 + Retry-After and is closed. */
#ifndef LIMIT_LISTEN_CONNS
#define LIMIT_LISTEN_CONNS 256
#endif

/* MCP sessions (protocols 2025-xx) held at once, and how long an unused one
 * lives. A client that vanished without DELETE frees its session after the
 * idle time; while the table is full, initialize gets 503 + Retry-After. */
#ifndef LIMIT_LISTEN_SESSIONS
#define LIMIT_LISTEN_SESSIONS 1024
#endif
/* Calls one HTTP session may have running and waiting at once: a share of
 * LIMIT_CALL_SLOTS, so that one busy client leaves room for the others. */
#ifndef LIMIT_LISTEN_SESSION_CALLS
#define LIMIT_LISTEN_SESSION_CALLS 16
#endif
#ifndef LISTEN_SESSION_IDLE_MS
#define LISTEN_SESSION_IDLE_MS (30 * 60 * 1000)
#endif

/* A client has this long to send a whole request head once its first byte
 * came (slow clients are closed with 408, never blocking others), and this
 * long for the body after the head. */
#ifndef LISTEN_HEAD_TIMEOUT_MS
#define LISTEN_HEAD_TIMEOUT_MS 10000
#endif
#ifndef LISTEN_BODY_TIMEOUT_MS
#define LISTEN_BODY_TIMEOUT_MS 30000
#endif
/* A connection that has not yet passed the token check (every connection
 * before its first request) must send its head within this shorter time:
 * unauthenticated clients cannot hold slots long. */
#ifndef LISTEN_AUTH_HEAD_TIMEOUT_MS
#define LISTEN_AUTH_HEAD_TIMEOUT_MS 5000
#endif
/* After a refusal or a last answer on a closing connection, its write side
 * is shut and what the client still sends is read and dropped for at most
 * this long (RFC 9112 9.6), so the client reads the status before a reset. */
#ifndef LISTEN_LINGER_MS
#define LISTEN_LINGER_MS 2000
#endif

/* A kept-alive connection with no request in progress is closed after this
 * long (clients reconnect transparently). */
#ifndef LISTEN_IDLE_TIMEOUT_MS
#define LISTEN_IDLE_TIMEOUT_MS 120000
#endif

/* An SSE reply waiting for a long call sends a ": keepalive" comment this
 * often, so proxies and clients do not time the stream out. */
#ifndef LISTEN_SSE_KEEPALIVE_MS
#define LISTEN_SSE_KEEPALIVE_MS 15000
#endif
/* A call not answered after this long, from a client that accepts
 * text/event-stream, is answered as an SSE stream (the head goes out now,
 * then keep-alive comments, then the answer), so a proxy's read timeout
 * (nginx 60 s, HAProxy 50 s) never cuts a long wait. Quicker answers stay
 * application/json. */
#ifndef LISTEN_SSE_SWITCH_MS
#define LISTEN_SSE_SWITCH_MS 1500
#endif

/* Bytes of replies waiting for one slow reader before its connection is
 * closed: one full response and its progress notifications. */
#ifndef LIMIT_LISTEN_BACKLOG
#define LIMIT_LISTEN_BACKLOG (LIMIT_RESPONSE_BYTES + 1024 * 1024)
#endif

/* kling-mcp --probe: each step (connect, send, the answer's first bytes) must
 * finish in this long; a health check that hangs is a failed one. */
#ifndef PROBE_TIMEOUT_MS
#define PROBE_TIMEOUT_MS 5000
#endif

/* On SIGTERM/SIGINT/SIGHUP the listener stops accepting, asks every call to
 * end its waiting early, and waits this long at most for the calls in
 * progress; a call still running then is answered with an error (503, or an
 * error event on an SSE stream): every request gets its answer. */
#ifndef LISTEN_DRAIN_MS
#define LISTEN_DRAIN_MS 10000
#endif

/* Call slots of the whole process (every session's running and waiting
 * calls); each session may hold at most LIMIT_CONCURRENT_CALLS +
 * LIMIT_QUEUED_CALLS of them. */
#ifndef LIMIT_CALL_SLOTS
#define LIMIT_CALL_SLOTS (LIMIT_CONCURRENT_CALLS + LIMIT_QUEUED_CALLS)
#endif

/* get_task calls waiting (wait_seconds) between two look-ups, in the whole
 * process. A wait holds a running slot (LIMIT_CONCURRENT_CALLS) only while a
 * look-up is in progress; in between it is a timer in this pool, counted
 * apart from LIMIT_CALL_SLOTS, so waits never keep other calls from being
 * admitted or from running. Memory per wait: its call slot (about 4.7 KiB,
 * static: pages of slots never used are never touched) and its task as last
 * seen (a few hundred bytes; at most LIMIT_WAIT_TASK_BYTES). Half of
 * LIMIT_LISTEN_CONNS, so waiting streams never hold every connection. When the
 * pool is full, a new wait is answered after its first look-up
 * (finished:false, the text naming this limit). */
#ifndef LIMIT_WAITS
#define LIMIT_WAITS 128
#endif
#ifndef LIMIT_WAIT_TASK_BYTES
#define LIMIT_WAIT_TASK_BYTES (16 * 1024)
#endif

/* Tool calls made as tasks (protocol 2025-11-25: the task is kept here, in
 * the process). A task lives from its creation until its ttl: the longest
 * wait (KLING_WAIT_MAX_S) plus KLING_TIMEOUT_MS plus LIMIT_TASK_KEEP_MS for
 * reading the result (VS Code abandons a task at its ttl, so the ttl must
 * outlast the wait). Memory per task: its record (about 300 bytes, static)
 * and, once it ended, its result (at most LIMIT_TASK_RESULT_BYTES, heap;
 * get_task's are a few KiB); while working it holds a call slot in the wait
 * pool like a plain wait. Per session (a stdio client, an HTTP session) and
 * in the whole process; beyond either a task call is refused (-32603 naming
 * the limit). LIMIT_TASK_WAITERS tasks/result requests may block at once. */
#ifndef LIMIT_TASKS
#define LIMIT_TASKS 64
#endif
#ifndef LIMIT_SESSION_TASKS
#define LIMIT_SESSION_TASKS 16
#endif
#ifndef LIMIT_TASK_KEEP_MS
#define LIMIT_TASK_KEEP_MS (10 * 60 * 1000)
#endif
#ifndef LIMIT_TASK_RESULT_BYTES
#define LIMIT_TASK_RESULT_BYTES (64 * 1024)
#endif
#ifndef LIMIT_TASK_WAITERS
#define LIMIT_TASK_WAITERS LIMIT_TASKS
#endif

/* subscriptions/listen requests (2026-07-28) held open: each is a request
 * kept unanswered (its id, about 1 KiB) until the client leaves or the
 * server stops; per session and in the whole process, -32603 beyond. */
#ifndef LIMIT_LISTENS
#define LIMIT_LISTENS 32
#endif
#ifndef LIMIT_SESSION_LISTENS
#define LIMIT_SESSION_LISTENS 4
#endif

/* The MCP core's own deadline fires this long after the one given to the
 * tool, so the tool's timeout (which names where the call stuck) is what the
 * client reads; the core's answers only if the tool gives none. */
#define MCP_BACKSTOP_MS 250

/* File descriptors the loop watches: stdin, stdout, one connection per
 * running call, idle keep-alive connections, the HTTP listener and its
 * client connections, and some slack. */
#ifndef LIMIT_LOOP_FDS
#define LIMIT_LOOP_FDS (LIMIT_LISTEN_CONNS + 64)
#endif

/* A tool call's deadline, everything included, when KLING_TIMEOUT_MS is unset,
 * and the range KLING_TIMEOUT_MS may take. */
#define DEFAULT_TIMEOUT_MS 30000
#define MIN_TIMEOUT_MS 100
#define MAX_TIMEOUT_MS 600000

/* list_tasks' arguments: page_size's default and maximum (the seed's), and the
 * largest page number (an int). */
#define KLING_PAGE_SIZE_DEFAULT 10
#define KLING_PAGE_SIZE_MAX 100
#define KLING_PAGE_MAX 2147483647

/* get_task's arguments: the longest task_id or external_task_id (Kling's
 * ids are 18-19 digits; an external id is the caller's own: bounded so a
 * look-up's path always fits KLING_PATH_MAX), and the longest wait one call
 * may ask for, in seconds (the call may take it plus KLING_TIMEOUT_MS). */
#define KLING_TASK_ID_MAX 128
#define KLING_WAIT_MAX_S 300

/* The Kling API's own bounds: POST /tasks' largest `limit`, and the legacy
 * lists' largest pageNum. */
#define KLING_TASKS_LIMIT_MAX 500
#define KLING_LEGACY_PAGE_MAX 1000

/* One upstream request: its path (KLING_BASE_URL's path + query), its body
 * (a cursor of control characters, escaped, and the filters), an error
 * text; and the retries of one request (on 1302/1303/5000-5002 and HTTP
 * 429/500/502/503/504). */
#define KLING_PATH_MAX 1024
#define KLING_BODY_MAX (LIMIT_CURSOR_BYTES * 6 + 512)
#define KLING_ERR_MAX 1024
#define KLING_MAX_RETRIES 2

/* The longest text of an upstream message and request_id kept from a reply
 * (cut after masking secrets, never inside a UTF-8 character). */
#define KLING_MESSAGE_MAX 512
#define KLING_REQUEST_ID_MAX 128

/* Masking secrets (log.h): every piece of LIMIT_SECRET_PIECE bytes or more of
 * a secret is masked wherever it starts (shorter pieces are too common in
 * ordinary text to mask), in the secret's raw, URL-encoded and JSON-escaped
 * forms. The pieces of all forms of all secrets are kept in a sorted table of
 * LIMIT_SECRET_PIECES entries (8 bytes each, in .bss): room for 8 secrets of
 * about 500 bytes in five forms; pieces beyond it, of the longest forms
 * (added last), go unmasked. */
#define LIMIT_SECRET_PIECE 8
#define LIMIT_SECRET_PIECES 16384

/* The longest output URL shown as a link or a result line (a signed CDN URL
 * is 300-900 bytes); a longer one is left out with a note, as is any URL that
 * is not https:// or http:// or holds a space or a control character. */
#define LIMIT_URL_BYTES 4096

#endif /* KLING_LIMITS_H */
