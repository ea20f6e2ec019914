/* corpus_records: the records the collector makes of every corpus vector,
 * as NDJSON (one line per record), for the cost test: each vector replayed
 * through the connection layer (as test_conn and json_text_test replay it:
 * whole messages, Content-Length framing), then given the time the provider
 * answered (the response's Date header, else --default-time) and
 * extras {"vector": NAME}. mkstore --json turns the lines into a store.
 * Usage: corpus_records CORPUS_DIR [--default-time RFC3339] */
#include "feeder.h"
#include "record.h"
#include "util.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *header_of(json_t *headers, const char *name)
{
    const char *k;
    json_t *v;

    json_object_foreach(headers, k, v)
    {
        if (!strcasecmp(k, name))
            return json_is_string(v) ? json_string_value(v)
                                     : json_string_value(json_array_get(v, 0));
    }
    return NULL;
}

static void append(char **p, size_t *n, const void *s, size_t k)
{
    *p = realloc(*p, *n + k + 1);
    if (!*p) {
        fprintf(stderr, "corpus_records: out of memory\n");
        exit(1);
    }
    memcpy(*p + *n, s, k);
    *n += k;
}

/* The record as JSON, with the vector's time and name. */
static void print_record(const char *name, const struct llm_record *r, const char *when)
{
    char *buf, *text;
    size_t len;
    void *j = NULL;
    json_t *rec;

    if (llm_record_encode(r, &buf, &len) || llm_record_to_json(buf, len, &j)) {
        fprintf(stderr, "corpus_records: %s: cannot encode the record\n", name);
        exit(1);
    }
    free(buf);
    rec = j;
    json_object_set_new(rec, "timestamp", json_string(when));
    json_object_set_new(rec, "end_timestamp", json_null());
    json_object_set_new(rec, "extras", json_pack("{ss}", "vector", name));
    text = json_dumps(rec, JSON_COMPACT);
    puts(text);
    free(text);
    json_decref(rec);
}

static void replay_vector(const char *name, json_t *root, const char *default_time)
{
    const char *url = json_string_value(json_object_get(root, "url"));
    const char *method = json_string_value(json_object_get(root, "method"));
    json_t *jreq = json_object_get(root, "request_body"), *jresp, *jst;
    json_t *hdrs = json_object_get(root, "response_headers");
    const char *req_ct = header_of(json_object_get(root, "request_headers"), "content-type");
    const char *resp_ct = header_of(hdrs, "content-type"), *date = header_of(hdrs, "date");
    const char *p, *slash, *resp_body;
    char host[256], path[2048], head[4096], when[64];
    unsigned char *bin = NULL;
    char *req = NULL, *resp = NULL;
    size_t req_n = 0, resp_n = 0, body_n;
    struct llm_feeder f;
    struct tm tm = {0};
    int status;

    if (!url || !method)
        return;
    snprintf(when, sizeof(when), "%s", default_time);
    if (date && strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
    p = strstr(url, "://");
    p = p ? p + 3 : url;
    slash = strchr(p, '/');
    snprintf(host, sizeof(host), "%.*s", (int)(slash ? slash - p : (long)strlen(p)), p);
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(slash ? slash : "/", "#"),
             slash ? slash : "/");
    jst = json_object_get(root, "status");
    if (!json_is_integer(jst))
        jst = json_object_get(root, "status_inferred");
    status = json_is_integer(jst) ? (int)json_integer_value(jst) : 200;
    jresp = json_object_get(root, "response_body_sse_reconstructed");
    if (json_is_string(jresp))
        resp_ct = "text/event-stream";
    else
        jresp = json_object_get(root, "response_body");
    if (!json_is_string(jresp))
        return;
    resp_body = json_string_value(jresp);
    body_n = json_string_length(jresp);
    if (!strcmp(json_string_value(json_object_get(root, "decoded")) ?: "",
                "binary-kept-as-base64")) {
        bin = malloc(body_n + 1);
        body_n = llm_feed_b64_decode(resp_body, body_n, bin);
        resp_body = (const char *)bin;
    }
    snprintf(head, sizeof(head),
             "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
             method, path, host, req_ct ? req_ct : "application/json",
             json_is_string(jreq) ? json_string_length(jreq) : 0);
    append(&req, &req_n, head, strlen(head));
    if (json_is_string(jreq))
        append(&req, &req_n, json_string_value(jreq), json_string_length(jreq));
    snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n%s%s%sContent-Length: %zu\r\n\r\n", status,
             resp_ct ? "Content-Type: " : "", resp_ct ? resp_ct : "", resp_ct ? "\r\n" : "",
             body_n);
    append(&resp, &resp_n, head, strlen(head));
    append(&resp, &resp_n, resp_body, body_n);
    llm_feed_init(&f);
    llm_feed_open(&f, 7, host);
    llm_feed_msg(&f, 7, LLM_MSG_OUT, req, req_n, 0);
    llm_feed_msg(&f, 7, LLM_MSG_IN, resp, resp_n, 0);
    llm_feed_msg(&f, 7, LLM_MSG_CLOSE, NULL, 0, 0);
    for (int i = 0; i < f.sink.n && i < LLM_FEED_MAX_RECS; i++)
        print_record(name, &f.sink.recs[i], when);
    llm_feed_done(&f);
    free(req);
    free(resp);
    free(bin);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL, *deftime = "2025-10-01T12:00:00.000000Z";
    char **names = NULL, file[4096];
    size_t n = 0;
    struct dirent *e;
    DIR *d;

    if (argc == 4 && !strcmp(argv[2], "--default-time"))
        deftime = argv[3];
    else if (argc != 2) {
        fprintf(stderr, "usage: corpus_records CORPUS_DIR [--default-time RFC3339]\n");
        return 2;
    }
    if (!(d = opendir(dir))) {
        perror(dir);
        return 1;
    }
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) {
            names = realloc(names, (n + 1) * sizeof(*names));
            names[n++] = strndup(e->d_name, l - 5);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        json_error_t err;
        json_t *root;
        snprintf(file, sizeof(file), "%s/%s.json", dir, names[i]);
        root = json_load_file(file, 0, &err);
        if (!root) {
            fprintf(stderr, "corpus_records: %s: %s\n", file, err.text);
            return 1;
        }
        replay_vector(names[i], root, deftime);
        json_decref(root);
        free(names[i]);
    }
    free(names);
    return n ? 0 : 1;
}
