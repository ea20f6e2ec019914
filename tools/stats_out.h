/* The groups `llmops stats` gathers (stats.c) and their output as a table,
 * CSV or JSON (stats_out.c). */
#ifndef LLM_STATS_OUT_H
#define LLM_STATS_OUT_H

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
    double speed_tokens, speed_s; /* output tokens and generation seconds */
    struct llm_stats_vec lat, ttft;
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

/* Sorts the groups (and their samples) and writes them; 0 or -errno. */
int llm_stats_print(struct llm_stats *s, FILE *fp);
void llm_stats_group_free(struct llm_stats_group *g);
void llm_stats_free(struct llm_stats *s);

#endif
