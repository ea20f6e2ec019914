/* llmops: record LLM calls that no hook can see (a statically linked TLS
 * stack, a call made on another machine, a cached answer) into the same
 * store the LD_PRELOAD shim writes. Link with -lllmops-api.
 *
 * A record is one JSON object whose members are fields of the llmops record
 * (schema version 1, see the README), e.g.
 *   {"provider": "openai", "model": "gpt-4o-mini", "input_tokens": 12,
 *    "output_tokens": 40, "latency_ms": 812.5, "session_id": "s-1"}
 * Unknown fields and values of the wrong type are refused. Left out:
 * operation_id is made (a ULID of the timestamp), timestamp is now (or the
 * time of the given operation_id), schema_version is 1; cost_usd is ignored
 * (it is computed at export). session_id, workspace, agent_id, action_id the
 * record lacks come from LLMOPS_SESSION_ID, ... and extras are merged onto
 * LLMOPS_EXTRAS, as for recorded calls. The store is LLMOPS_DB, else
 * $XDG_DATA_HOME/llmops, else ~/.local/share/llmops, read at the first call.
 *
 * Every function is thread-safe. Each returns 0 or a negative code that
 * llmops_strerror() names: one of the LLMOPS_E* below, or a database error
 * (-errno or an internal code).
 *
 * Not in a process running under the shim (LD_PRELOAD=libllmops.so): its
 * collector has the store open, and LMDB allows one open per process, so
 * the calls return LLMOPS_ESHIM there (use `llmops record` instead).
 *
 * With LLMOPS_DISABLE set true (1, true, yes, on) llmops is off: the calls
 * return 0 and record nothing. */
#ifndef LLMOPS_H
#define LLMOPS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LLMOPS_EXPORT __attribute__((visibility("default")))
#else
#define LLMOPS_EXPORT
#endif

#define LLMOPS_OK 0
#define LLMOPS_EJSON (-30601)     /* not one JSON object */
#define LLMOPS_EFIELD (-30602)    /* a member that is no record field */
#define LLMOPS_ETYPE (-30603)     /* a field of the wrong type, or a bad value */
#define LLMOPS_EFULL (-30604)     /* the async queue is full; the record is dropped */
#define LLMOPS_EINVAL (-30605)    /* NULL argument */
#define LLMOPS_ENOMEM (-30606)    /* out of memory */
#define LLMOPS_ETIMEDOUT (-30607) /* llmops_flush gave up waiting */
#define LLMOPS_ESHIM (-30608)     /* the process runs under the shim (see below) */

/* Stores the record and returns once it is committed (one transaction). */
LLMOPS_EXPORT int llmops_record_completion(const char *json_record);

/* Checks the record now, then queues it for a background thread that commits
 * what has queued in one transaction. The queue is flushed when the process
 * exits (within LLMOPS_FLUSH_TIMEOUT_MS, default 3000). A forked child drops
 * the queue it inherited (the parent commits those) and starts its own. */
LLMOPS_EXPORT int llmops_record_completion_async(const char *json_record);

/* Waits at most timeout_ms for what was queued before the call to be
 * committed. Returns 0, LLMOPS_ETIMEDOUT, or the first commit error since the
 * previous llmops_flush (those records are lost). */
LLMOPS_EXPORT int llmops_flush(int timeout_ms);

/* A description of a return code (static, or per thread for -errno). */
LLMOPS_EXPORT const char *llmops_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
