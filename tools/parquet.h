/* A small Apache Parquet writer: flat schemas of optional columns, PLAIN
 * values, RLE definition levels, ZSTD pages, row groups of bounded size.
 * The format and how this writer uses it are described in parquet.c.
 *
 * Use: llm_pq_open() with the columns; per row, set each column at most once
 * (llm_pq_int64(), ...; a column left unset is null) and llm_pq_row_end();
 * then llm_pq_finish() (the footer) and llm_pq_free(). Bytes go out through
 * the write callback in file order, never sought back, so the output may be
 * a pipe. One thread; no global state. */
#ifndef LLM_PARQUET_H
#define LLM_PARQUET_H

#include <stddef.h>
#include <stdint.h>

enum llm_pq_type {
    LLM_PQ_BOOL,         /* BOOLEAN */
    LLM_PQ_INT64,        /* INT64 */
    LLM_PQ_DOUBLE,       /* DOUBLE */
    LLM_PQ_STRING,       /* BYTE_ARRAY, logical type STRING (UTF-8: the caller's duty) */
    LLM_PQ_TIMESTAMP_US, /* INT64, logical type TIMESTAMP(isAdjustedToUTC, MICROS) */
};

struct llm_pq_column {
    const char *name;
    enum llm_pq_type type;
};

struct llm_pq_limits {
    size_t max_rows;  /* rows per row group; 0: 65536 */
    size_t max_bytes; /* buffered value bytes before a row group is written; 0: 64 MiB */
    int zstd_level;   /* 0: 3 */
};

/* Returns 0 or a negative code; its own failures are LLM_ENOMEM. */
typedef int (*llm_pq_write_fn)(void *arg, const void *p, size_t n);

struct llm_pq;

/* cols (and the names) stay borrowed until llm_pq_free. lim may be NULL.
 * Writes the leading magic. Returns 0, LLM_ENOMEM, LLM_EINVAL (no columns),
 * or what write returned. */
int llm_pq_open(const struct llm_pq_column *cols, size_t ncols, const struct llm_pq_limits *lim,
                llm_pq_write_fn write, void *arg, struct llm_pq **out);

/* The current row's value of column col (of the matching type; a mismatch
 * or a column set twice is LLM_EINVAL). Return 0 or LLM_ENOMEM. */
int llm_pq_bool(struct llm_pq *q, size_t col, int v);
int llm_pq_int64(struct llm_pq *q, size_t col, int64_t v); /* INT64 and TIMESTAMP_US */
int llm_pq_double(struct llm_pq *q, size_t col, double v);
int llm_pq_string(struct llm_pq *q, size_t col, const void *s, size_t n);

/* Ends the row (unset columns null); writes a row group once a limit is
 * reached. Returns 0, LLM_ENOMEM, LLM_EINVAL (a page past 2 GiB), or what
 * write returned. */
int llm_pq_row_end(struct llm_pq *q);

/* Writes the last row group and the footer; created_by names the writer
 * (may be NULL). Key/value metadata: n pairs, kv[2i] the key, kv[2i+1] the
 * value. The same returns as llm_pq_row_end. */
int llm_pq_finish(struct llm_pq *q, const char *created_by, const char *const *kv, size_t nkv);

/* Rows ended so far; bytes handed to write so far. */
uint64_t llm_pq_rows(const struct llm_pq *q);
uint64_t llm_pq_bytes(const struct llm_pq *q);

void llm_pq_free(struct llm_pq *q);

#endif
