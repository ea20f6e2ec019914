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
    const char *date = llm_feed_header(json_object_get(root, "response_headers"), "date");
    char when[64];
    struct llm_feeder f;
    struct tm tm = {0};

    snprintf(when, sizeof(when), "%s", default_time);
    if (date && strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
    if (llm_feed_vector(&f, root))
        return;
    for (int i = 0; i < f.sink.n && i < LLM_FEED_MAX_RECS; i++)
        print_record(name, &f.sink.recs[i], when);
    llm_feed_done(&f);
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
