/* The groups `llmops stats` gathers (stats.c) and their output as a table,
 * CSV or JSON (stats_out.c). The dashboard (dash_agg.c) gathers its groups
 * with the same accumulator, so its numbers are the numbers stats prints. */
#ifndef LLM_STATS_OUT_H
#define LLM_STATS_OUT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define LLM_STATS_MAX_BY 7
#define LLM_STATS_NTOK 5 /* input, output, cache_read, cache_write, reasoning */

enum llm_stats_format { LLM_STATS_TABLE, LLM_STATS_CSV, LLM_STATS_JSON };

struct llm_stats_vec {
    double *v;
    size_t n, alloc;
};

struct llm_stats_group {
    char *key;                   /* the joined key values (stats.c) */
    char *val[LLM_STATS_MAX_BY]; /* NULL: unknown */
    uint64_t calls, errors, priced, unpriced;
    int64_t tokens[LLM_STATS_NTOK];
    double cost;                  /* over the priced calls */
    double cost_max;              /* the dearest priced call */
    double speed_tokens, speed_s; /* output tokens and generation seconds */
    struct llm_stats_vec lat, ttft;
    uint64_t lat_n; /* calls with a known latency_ms, and its sum, min, max */
    double lat_sum, lat_min, lat_max;
};

struct llm_stats_unpriced {
    char *name; /* provider/model */
    uint64_t calls;
};

struct llm_stats {
    enum llm_stats_format format;
    int nby;
    const char *by[LLM_STATS_MAX_BY], *field[LLM_STATS_MAX_BY];
    struct llm_stats_group *g;
    size_t n, alloc;
    struct llm_stats_unpriced *unpriced;
    size_t nunpriced, aunpriced;
};

/* Groups calls by up to LLM_STATS_MAX_BY keys (stats.c). */
struct llm_stats_acc {
    struct llm_stats s;
    size_t *slot; /* hash table of group indexes + 1; 0 is empty */
    size_t nslot;
    size_t last;       /* the group found last, index + 1; 0: none */
    size_t max_groups; /* 0: no limit; past it, new keys count in one "(other)" group */
    int no_samples;    /* keep no latency or ttft samples (no percentiles) */
    int no_names;      /* do not list the unpriced provider/models (s.unpriced) */
};

/* What one call adds to a group, read from its record once for any number
 * of accumulators. */
struct llm_stats_call {
    int ok, cost; /* status is "ok"; an enum llm_cost_result */
    int64_t tok[LLM_STATS_NTOK];
    double usd, lat, ttft, speed_tokens, speed_s;
    int has_lat, has_ttft, has_speed;
};

/* Adds a key: name as --by spells it ("day" and "hour" cut a timestamp),
 * field the record field it reads (strings, or integers as text). */
int llm_stats_acc_by(struct llm_stats_acc *c, const char *name, const char *field);
/* Counts one decoded record (its fields as llm_cost_fields and these read). */
int llm_stats_add(struct llm_stats_acc *c, json_t *rec);
/* The same in two steps: what the call adds, then adding it to c. */
void llm_stats_call_of(json_t *rec, struct llm_stats_call *k);
int llm_stats_add_call(struct llm_stats_acc *c, json_t *rec, const struct llm_stats_call *k);
void llm_stats_acc_free(struct llm_stats_acc *c);

/* Sorts the groups by key and each group's samples (llm_stats_print does it). */
void llm_stats_sort(struct llm_stats *s);
/* Nearest-rank percentile of sorted samples: 1 and *out set, 0 when none. */
int llm_stats_percentile(const struct llm_stats_vec *v, unsigned pct, double *out);
/* A sorted group as the JSON format writes it (one element of its array). */
json_t *llm_stats_group_json(const struct llm_stats *s, const struct llm_stats_group *g);

/* Sorts the groups (and their samples) and writes them; 0 or -errno. */
int llm_stats_print(struct llm_stats *s, FILE *fp);
void llm_stats_group_free(struct llm_stats_group *g);
void llm_stats_free(struct llm_stats *s);

#endif
