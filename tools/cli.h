/* Shared pieces of the `llmops` tool: the subcommands, and the helpers they
 * use to open a store for reading and to report the one error line.
 * Every run function prints at most one error line itself and returns 0 or a
 * negative llm code; main() turns that into the exit status. */
#ifndef LLM_CLI_H
#define LLM_CLI_H

#include <stddef.h>

struct llm_store;

enum llm_export_format {
    LLM_EXPORT_NDJSON,
    LLM_EXPORT_JSON,
};

struct llm_export_opts {
    const char *db;
    enum llm_export_format format;
    const char *out; /* NULL or "-": standard output */
};

int llm_export_run(const struct llm_export_opts *o);
int llm_stats_run(const char *db);
/* Returns the exit status itself: 0 observable, 1 not, 2 unreadable. */
int llm_doctor_run(const char *program);

/* Prints "llmops: <what>: <llm_strerror(rc)>" on stderr. */
void llm_cli_error(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens db read-only and arms the SIGBUS guard for it; reports its own error. */
int llm_cli_open(const char *db, struct llm_store **out);
/* Names a record for an error message: its ULID, or its key in hex. */
void llm_cli_key_name(const void *key, size_t klen, char *out, size_t n);

#endif
