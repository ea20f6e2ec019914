/* The record: one LLM request/response pair, schema version LLM_SCHEMA_VERSION.
 *
 * In memory it is an array of optional values indexed by field; in the store
 * it is a msgpack map whose keys are the field names below, in this order,
 * every field present (nil where unknown). The schema table is shared with
 * the `llmops` tool, which converts stored maps back with llm_record_to_json().
 * A record is owned by one thread at a time. */
#ifndef LLM_RECORD_H
#define LLM_RECORD_H

#include <stddef.h>
#include <stdint.h>

/* 2: cost_source (issue 17); trace_id, parent_span_id, trace_state (issue 15) */
#define LLM_SCHEMA_VERSION 2

enum llm_type {
    LLM_T_STR,   /* text */
    LLM_T_INT,   /* integer */
    LLM_T_REAL,  /* float */
    LLM_T_BOOL,  /* boolean */
    LLM_T_TIME,  /* RFC 3339 UTC text with microseconds */
    LLM_T_JSON,  /* JSON document kept as text */
    LLM_T_MAP,   /* object: msgpack map, JSON object on export */
    LLM_T_ARRAY, /* array of text: msgpack array, JSON array on export */
};

#define LLM_FIELDS(X)                                                                              \
    X(OPERATION_ID, "operation_id", LLM_T_STR)                                                     \
    X(SCHEMA_VERSION, "schema_version", LLM_T_INT)                                                 \
    X(TIMESTAMP, "timestamp", LLM_T_TIME)                                                          \
    X(END_TIMESTAMP, "end_timestamp", LLM_T_TIME)                                                  \
    X(LATENCY_MS, "latency_ms", LLM_T_REAL)                                                        \
    X(TTFB_MS, "ttfb_ms", LLM_T_REAL)                                                              \
    X(TTFT_MS, "ttft_ms", LLM_T_REAL)                                                              \
    X(OPERATION_TYPE, "operation_type", LLM_T_STR)                                                 \
    X(API, "api", LLM_T_STR)                                                                       \
    X(PROVIDER, "provider", LLM_T_STR)                                                             \
    X(SERVER_ADDRESS, "server_address", LLM_T_STR)                                                 \
    X(SERVER_PORT, "server_port", LLM_T_INT)                                                       \
    X(URL_PATH, "url_path", LLM_T_STR)                                                             \
    X(HTTP_METHOD, "http_method", LLM_T_STR)                                                       \
    X(HTTP_STATUS, "http_status", LLM_T_INT)                                                       \
    X(HTTP_VERSION, "http_version", LLM_T_STR)                                                     \
    X(CAPTURE, "capture", LLM_T_STR)                                                               \
    X(REQUEST_MODEL, "request_model", LLM_T_STR)                                                   \
    X(RESPONSE_MODEL, "response_model", LLM_T_STR)                                                 \
    X(MODEL, "model", LLM_T_STR)                                                                   \
    X(STREAM, "stream", LLM_T_BOOL)                                                                \
    X(TEMPERATURE, "temperature", LLM_T_REAL)                                                      \
    X(MAX_TOKENS, "max_tokens", LLM_T_INT)                                                         \
    X(TOP_P, "top_p", LLM_T_REAL)                                                                  \
    X(INPUT_TOKENS, "input_tokens", LLM_T_INT)                                                     \
    X(OUTPUT_TOKENS, "output_tokens", LLM_T_INT)                                                   \
    X(CACHE_READ_TOKENS, "cache_read_tokens", LLM_T_INT)                                           \
    X(CACHE_WRITE_TOKENS, "cache_write_tokens", LLM_T_INT)                                         \
    X(REASONING_TOKENS, "reasoning_tokens", LLM_T_INT)                                             \
    X(TOTAL_TOKENS, "total_tokens", LLM_T_INT)                                                     \
    X(USAGE_SOURCE, "usage_source", LLM_T_STR)                                                     \
    X(USAGE_RAW, "usage_raw", LLM_T_JSON)                                                          \
    X(FINISH_REASON, "finish_reason", LLM_T_STR)                                                   \
    X(STATUS, "status", LLM_T_STR)                                                                 \
    X(ERROR_TYPE, "error_type", LLM_T_STR)                                                         \
    X(ERROR_MESSAGE, "error_message", LLM_T_STR)                                                   \
    X(COST_USD, "cost_usd", LLM_T_REAL)                                                            \
    X(COST_SOURCE, "cost_source", LLM_T_STR) /* schema 2 */                                        \
    X(COMPLETION_ARGS, "completion_args", LLM_T_JSON)                                              \
    X(RESPONSE, "response", LLM_T_STR)                                                             \
    X(TOOL_CALLS, "tool_calls", LLM_T_JSON)                                                        \
    X(REQUEST_BYTES, "request_bytes", LLM_T_INT)                                                   \
    X(RESPONSE_BYTES, "response_bytes", LLM_T_INT)                                                 \
    X(TRUNCATED, "truncated", LLM_T_BOOL)                                                          \
    X(SESSION_ID, "session_id", LLM_T_STR)                                                         \
    X(WORKSPACE, "workspace", LLM_T_STR)                                                           \
    X(AGENT_ID, "agent_id", LLM_T_STR)                                                             \
    X(ACTION_ID, "action_id", LLM_T_STR)                                                           \
    X(EXTRAS, "extras", LLM_T_MAP)                                                                 \
    X(PID, "pid", LLM_T_INT)                                                                       \
    X(PPID, "ppid", LLM_T_INT)                                                                     \
    X(EXE, "exe", LLM_T_STR)                                                                       \
    X(ARGV, "argv", LLM_T_ARRAY)                                                                   \
    X(HOSTNAME, "hostname", LLM_T_STR)                                                             \
    /* schema 2: the request's W3C trace context (traceparent, tracestate; attrib.c) */            \
    X(TRACE_ID, "trace_id", LLM_T_STR)                                                             \
    X(PARENT_SPAN_ID, "parent_span_id", LLM_T_STR)                                                 \
    X(TRACE_STATE, "trace_state", LLM_T_STR)

enum llm_field {
#define LLM_X_ENUM(id, name, type) LLM_F_##id,
    LLM_FIELDS(LLM_X_ENUM)
#undef LLM_X_ENUM
        LLM_F__COUNT
};

struct llm_field_info {
    const char *name;
    enum llm_type type;
};

extern const struct llm_field_info llm_schema[LLM_F__COUNT];

/* Index of a field by name, or -1. */
int llm_field_lookup(const char *name, size_t len);

struct llm_value {
    int set;
    union {
        int64_t i;
        double d;
        int b;
        struct {
            char *p; /* owned, NUL-terminated; MAP and ARRAY hold JSON text */
            size_t n;
        } s;
    } u;
};

struct llm_record {
    struct llm_value f[LLM_F__COUNT];
};

void llm_record_init(struct llm_record *r);
void llm_record_clear(struct llm_record *r); /* frees owned strings */
void llm_record_unset(struct llm_record *r, enum llm_field f);
int llm_record_set_str(struct llm_record *r, enum llm_field f, const char *s, size_t n);
int llm_record_set_cstr(struct llm_record *r, enum llm_field f, const char *s);
void llm_record_take_str(struct llm_record *r, enum llm_field f, char *s, size_t n); /* owns s */
void llm_record_set_int(struct llm_record *r, enum llm_field f, int64_t v);
void llm_record_set_real(struct llm_record *r, enum llm_field f, double v);
void llm_record_set_bool(struct llm_record *r, enum llm_field f, int v);
const char *llm_record_str(const struct llm_record *r, enum llm_field f); /* NULL if unset */

/* Encodes the record as a msgpack map into a malloc'd buffer.
 * Returns 0, LLM_ENOMEM, or LLM_EINVAL (a MAP/ARRAY field holding bad JSON
 * is stored as nil, not rejected; the return is still 0). */
int llm_record_encode(const struct llm_record *r, char **out, size_t *len);

/* Decodes a stored msgpack map into a JSON object whose keys follow the
 * schema order (fields a record lacks come out as null; keys the schema does
 * not know are appended). The result is a jansson json_t*, returned as void*
 * so this header does not drag jansson into every includer.
 * Returns 0, LLM_ECORRUPT or LLM_ENOMEM. */
int llm_record_to_json(const void *buf, size_t len, void **json_out);

/* Checks that buf starts with one whole msgpack object that msgpack-c can
 * unpack without allocating more than the bytes justify: every container's
 * elements, str/bin/ext bodies and number payloads lie within len, and no
 * more than 32 containers are open at once. Returns 0 with the object's
 * size in *end (if end is not NULL), or LLM_ECORRUPT. Pure; any thread. */
int llm_msgpack_check(const void *buf, size_t len, size_t *end);

/* A JSON value as msgpack, the way records encode their JSON fields (also
 * for test stores that must look like ours). */
struct msgpack_packer;
struct json_t;
void llm_msgpack_pack_json(struct msgpack_packer *pk, const struct json_t *j);

#endif
