/* Fuzz harness for the dialects (dialect_*.c) behind exchange.c, body.c and
 * h1conn.c: an HTTP/1.1 request and response built around fuzzed bodies on
 * a path and host that route to one dialect, fed through conn.c.
 * Input: [dialect][flags][split][status][request body] SEP [response body]
 * with SEP = "\n@@@@\n" (no SEP: everything is the response body).
 *   dialect: index into the table below (modulo its size)
 *   flags bits 0-2: response Content-Type (0: the dialect's own, then json,
 *     sse, ndjson, event stream, none, text/plain, json array of Gemini);
 *     bits 3-4: response framing (Content-Length, chunked, close-delimited);
 *     bit 5: the exchange is sent twice on the keep-alive connection;
 *     bit 6: an event-stream response body is built from
 *     [u16 hlen][u16 plen][headers][payload] records with valid CRCs;
 *     bit 7: attribution headers on the request, small content caps.
 * Run whole and split; the records, times aside, must be the same. */
#include "fuzz_conn.h"

#define SEP "\n@@@@\n"

struct route {
    const char *host, *path, *ct; /* ct: what the API answers with */
};

/* Keep in step with DIALECTS in make_seeds.py. */
static const struct route routes[] = {
    {"api.openai.com", "/v1/chat/completions", "application/json"},
    {"api.openai.com", "/v1/chat/completions", "text/event-stream"},
    {"api.openai.com", "/v1/responses", "application/json"},
    {"api.openai.com", "/v1/responses", "text/event-stream"},
    {"api.openai.com", "/v1/completions", "application/json"},
    {"api.openai.com", "/v1/embeddings", "application/json"},
    {"api.openai.com", "/v1/images/generations", "application/json"},
    {"res.openai.azure.com", "/openai/deployments/dep-1/chat/completions?api-version=2024-02-01",
     "application/json"},
    {"api.anthropic.com", "/v1/messages", "application/json"},
    {"api.anthropic.com", "/v1/messages?beta=true", "text/event-stream"},
    {"api.anthropic.com", "/v1/complete", "application/json"},
    {"generativelanguage.googleapis.com", "/v1beta/models/gemini-2.5-flash:generateContent",
     "application/json"},
    {"generativelanguage.googleapis.com",
     "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "text/event-stream"},
    {"aiplatform.googleapis.com",
     "/v1beta1/projects/p/locations/global/publishers/google/models/gemini-3.5-flash%3A"
     "streamGenerateContent",
     "application/json"},
    {"127.0.0.1:11434", "/api/chat", "application/x-ndjson"},
    {"127.0.0.1:11434", "/api/generate", "application/x-ndjson"},
    {"127.0.0.1:11434", "/api/embed", "application/json"},
    {"api.cohere.com", "/v1/chat", "application/json"},
    {"api.cohere.com", "/v2/chat", "text/event-stream"},
    {"bedrock-runtime.us-east-1.amazonaws.com", "/model/meta.llama3-2-1b-instruct-v1%3A0/converse",
     "application/json"},
    {"bedrock-runtime.us-east-1.amazonaws.com",
     "/model/meta.llama3-2-1b-instruct-v1%3A0/converse-stream",
     "application/vnd.amazon.eventstream"},
    {"bedrock-runtime.us-east-1.amazonaws.com",
     "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke", "application/json"},
    {"bedrock-runtime.us-east-1.amazonaws.com",
     "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke-with-response-stream",
     "application/vnd.amazon.eventstream"},
    {"bedrock-runtime.us-east-1.amazonaws.com", "/model/amazon.titan-text-express-v1/invoke",
     "application/json"},
    {"api.groq.com", "/openai/v1/chat/completions", "text/event-stream"},
    {"api.deepseek.com", "/chat/completions", "application/json"},
    {"llm.internal:8000", "/v1/chat/completions", "text/event-stream"},
    {"api.x.ai", "/v1/chat/completions", "text/event-stream"},
    {"openrouter.ai", "/api/v1/chat/completions", "application/json"},
    {"api.mistral.ai", "/v1/chat/completions", "text/event-stream"},
    {"api.together.xyz", "/v1/completions", "application/json"},
    {"res.openai.azure.com", "/openai/deployments/emb/embeddings?api-version=2023-07-01",
     "application/json"},
    {"api.mistral.ai", "/v1/embeddings", "application/json"},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const char *const cts[] = {NULL,
                                  "application/json; charset=utf-8",
                                  "text/event-stream; charset=utf-8",
                                  "application/x-ndjson",
                                  "application/vnd.amazon.eventstream",
                                  "",
                                  "text/plain",
                                  "application/json"};
static const int statuses[] = {200, 200, 200, 400, 401, 404, 429, 500, 503, 529, 201, 204};

struct input {
    const struct route *rt;
    uint8_t flags;
    int status;
    const char *req, *resp;
    size_t req_len, resp_len;
};

static void build_request(const struct input *in, struct llm_buf *b)
{
    char head[1024];
    int n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%s"
                     "Content-Length: %zu\r\n\r\n",
                     in->rt->path, in->rt->host,
                     (in->flags & 0x80) ? "X-LLMOps-Session: s-1\r\nX-LLMOps-Extra-Ticket: T-9\r\n"
                                          "X-LLMOps-Agent: \r\n"
                                        : "",
                     in->req_len);
    llm_buf_append(b, head, (size_t)n);
    llm_buf_append(b, in->req, in->req_len);
}

static void build_response(const struct input *in, const char *body, size_t len,
                           struct llm_buf *b)
{
    char head[512];
    const char *ct = cts[in->flags & 7] ? cts[in->flags & 7] : in->rt->ct;
    int framing = (in->flags >> 3) & 3, n;

    n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n", in->status);
    llm_buf_append(b, head, (size_t)n);
    if (*ct) {
        n = snprintf(head, sizeof(head), "Content-Type: %s\r\n", ct);
        llm_buf_append(b, head, (size_t)n);
    }
    if (strstr(in->rt->host, "bedrock")) {
        static const char counts[] = "X-Amzn-Bedrock-Input-Token-Count: 12\r\n"
                                     "X-Amzn-Bedrock-Output-Token-Count: 34\r\n";
        llm_buf_append(b, counts, sizeof(counts) - 1);
    }
    if (framing == 1) {
        llm_buf_append(b, "Transfer-Encoding: chunked\r\n\r\n", 30);
        for (size_t off = 0, i = 0; off < len; i++) {
            size_t c = (i * 37) % 300 + 1;
            c = c < len - off ? c : len - off;
            n = snprintf(head, sizeof(head), "%zx\r\n", c);
            llm_buf_append(b, head, (size_t)n);
            llm_buf_append(b, body + off, c);
            llm_buf_append(b, "\r\n", 2);
            off += c;
        }
        llm_buf_append(b, "0\r\n\r\n", 5);
    } else if (framing == 2) {
        llm_buf_append(b, "Connection: close\r\n\r\n", 21);
        llm_buf_append(b, body, len);
    } else {
        n = snprintf(head, sizeof(head), "Content-Length: %zu\r\n\r\n", len);
        llm_buf_append(b, head, (size_t)n);
        llm_buf_append(b, body, len);
    }
}

static struct fz_digest run(const struct input *in, const struct llm_buf *req,
                            const struct llm_buf *resp, uint8_t split, struct llm_feeder *f)
{
    const struct llm_core_opts *opts = (in->flags & 0x80) ? &fz_small_opts : &llm_feed_opts;
    int close_delimited = ((in->flags >> 3) & 3) == 2;
    int times = (in->flags & 0x20) && !close_delimited ? 2 : 1;
    struct fz_split sp;
    struct fz_digest d;

    fz_digest_init(&d);
    fz_split_init(&sp, split);
    llm_feed_init_opts(f, opts);
    llm_feed_open(f, 7, in->rt->host);
    for (int i = 0; i < times; i++) {
        fz_send(f, 7, LLM_MSG_OUT, req->p, req->len, 0, &sp);
        fz_send(f, 7, LLM_MSG_IN, resp->p, resp->len, 0, &sp);
    }
    llm_feed_msg(f, 7, LLM_MSG_CLOSE, NULL, 0, 0);
    fz_digest_records(&d, &f->sink);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    struct input in;
    uint8_t split;
    const uint8_t *sep;
    struct llm_buf body, req, resp;
    struct llm_feeder *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    struct fz_digest da, db;

    if (!a || !b)
        abort();
    memset(&in, 0, sizeof(in));
    in.rt = &routes[fz_u8(&f) % NROUTES];
    in.flags = fz_u8(&f);
    split = fz_u8(&f);
    in.status = statuses[fz_u8(&f) % (sizeof(statuses) / sizeof(statuses[0]))];
    sep = f.n >= 6 ? memmem(f.p, f.n, SEP, 6) : NULL;
    in.req = sep ? (const char *)f.p : "";
    in.req_len = sep ? (size_t)(sep - f.p) : 0;
    if (sep) {
        f.n -= (size_t)(sep - f.p) + 6;
        f.p = sep + 6;
    }
    llm_buf_init(&body, 1 << 24);
    if ((in.flags & 0x40) && strstr(cts[in.flags & 7] ? cts[in.flags & 7] : in.rt->ct,
                                     "eventstream"))
        fz_es_build(&f, &body);
    else
        llm_buf_append(&body, f.p, f.n);
    llm_buf_init(&req, 1 << 24);
    llm_buf_init(&resp, 1 << 24);
    build_request(&in, &req);
    build_response(&in, body.p ? body.p : "", body.len, &resp);

    da = run(&in, &req, &resp, 0, a);
    db = run(&in, &req, &resp, split, b);
    FZ_CHECK(da.items == db.items && da.h == db.h,
             "split 0x%02x changed the records (%llu/%llu): %s", split,
             (unsigned long long)da.items, (unsigned long long)db.items,
             fz_first_diff(&a->sink, &b->sink));
    fz_print_records(&a->sink);
    llm_feed_done(a);
    llm_feed_done(b);
    free(a);
    free(b);
    llm_buf_free(&body);
    llm_buf_free(&req);
    llm_buf_free(&resp);
    return 0;
}
