/* API dialects: one file per provider API shape (dialect_<name>.c) holding
 * the callbacks, one line per API in apis.def (paths, record api name,
 * operation). A dialect reads parsed JSON and fills the call being
 * recorded; it never sees bytes, framing or encodings. Helpers here cover
 * what every dialect needs: output text with first-token timing, usage, the
 * common error shapes. Collector thread only. */
#ifndef LLM_DIALECT_H
#define LLM_DIALECT_H

#include "apis.h"
#include "buf.h"
#include "http1.h"
#include "record.h"

#include <jansson.h>
#include <stdint.h>

struct llm_call;

/* The callbacks of llm_dialect_<id>, for the apis.def line(s) naming <id>. */
struct llm_dialect {
    /* the request body; also called with body NULL when there is none or it
     * is not JSON, so URL-only facts (Gemini/Bedrock model) still get set */
    void (*request)(struct llm_call *c, json_t *body);
    /* optional: the response head (Bedrock reports tokens in headers) */
    void (*response_head)(struct llm_call *c, const struct llm_h1_head *h);
    /* the whole response body (non-streaming, or an error sent as JSON) */
    void (*response)(struct llm_call *c, json_t *body);
    /* one stream event; data is NULL when the payload is not JSON (raw is
     * always given, e.g. "[DONE]") */
    void (*event)(struct llm_call *c, const char *event, json_t *data, const char *raw,
                  size_t n);
    /* after the response ended: move assembled state into the record */
    void (*finish)(struct llm_call *c);
};

/* The call being recorded: the record plus what a dialect assembles. */
struct llm_call {
    struct llm_record rec;
    const struct llm_dialect *dialect;
    int capture_content;
    struct llm_cap text; /* output text, deltas concatenated */
    json_t *tool_calls;  /* assembled tool calls (array), or NULL */
    int usage_seen;      /* the provider reported usage */
    int error_seen;      /* an error object arrived (HTTP error or in-stream) */
    int truncated;       /* some content was cut or lost */
    int malformed;       /* a body or event that should be JSON was not */
    const char *path;    /* request path, query removed, secrets removed */
    int64_t now_mono;    /* monotonic time of the bytes being processed */
    int64_t first_token_mono;
    void *priv; /* dialect state, freed by finish */
};

/* Finds the dialect for a request and its line of apis.def (*api), or NULL
 * when the request is no LLM API call we parse. provider: from the host, or
 * "openai_compatible" when the host is not a known one. */
const struct llm_dialect *llm_dialect_find(const char *method, const char *path, size_t len,
                                           const char *provider, const struct llm_api **api);

/* --- helpers for dialects --- */
void llm_call_output(struct llm_call *c, const char *text, size_t n);
void llm_call_first_token(struct llm_call *c); /* output that is not text (tool calls) */
/* Tool calls are kept in one shape for every dialect (OpenAI's):
 * [{"id", "type": "function", "function": {"name", "arguments": "<json>"}}].
 * slot identifies one call across stream fragments (OpenAI's tool index,
 * Anthropic's content block index); id and name may be NULL, args is
 * appended. */
void llm_call_tool(struct llm_call *c, int64_t slot, const char *id, const char *name,
                   const char *args, size_t args_len);
/* The assembled tool calls as JSON text (caller frees), or NULL. */
char *llm_call_tools_json(struct llm_call *c);
/* Stores the usage object verbatim and marks usage as provider-reported. */
void llm_call_usage_raw(struct llm_call *c, json_t *usage);
/* Reads the common error shapes: {"error":{"type"|"code","message"}},
 * {"error":"text"}, {"type":"error","error":{...}}, {"message":...}.
 * Returns 1 when an error was found and recorded. */
int llm_call_error(struct llm_call *c, json_t *body);

/* JSON path lookups ("a.b.c"); NULL/absent when missing or of another type. */
json_t *llm_json_path(json_t *root, const char *path);
int llm_json_int(json_t *root, const char *path, int64_t *out);
void llm_json_set_int(struct llm_call *c, enum llm_field f, json_t *root, const char *path);
void llm_json_set_real(struct llm_call *c, enum llm_field f, json_t *root, const char *path);
void llm_json_set_str(struct llm_call *c, enum llm_field f, json_t *root, const char *path);

#endif
