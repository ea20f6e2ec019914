/* The everyday commands (stats, prices, tail, prune): their dispatch and the
 * option parsing they share, so each command file holds only its own
 * options. Exit codes as everywhere in llmops: 0, 1 runtime, 2 usage. */
#ifndef LLM_CMD_H
#define LLM_CMD_H

#include "filter.h"

#include <getopt.h>
#include <limits.h>
#include <stddef.h>

#define LLM_EXIT_RUNTIME 1
#define LLM_EXIT_USAGE 2
#define LLM_EXIT_PARTIAL 3 /* export finished, but corrupt records were skipped */

/* getopt_long values: past filter.h's, below nothing else. */
enum llm_cmd_opt {
    LLM_CO_DB = 1100,
    LLM_CO_PRICES,
    LLM_CO_OWN, /* first value free for a command's own options */
};

/* clang-format off */
#define LLM_CMD_DB_OPT {"db", required_argument, NULL, LLM_CO_DB}
#define LLM_CMD_PRICES_OPT {"prices", required_argument, NULL, LLM_CO_PRICES}
#define LLM_CMD_HELP_OPT {"help", no_argument, NULL, 'h'}
/* clang-format on */

#define LLM_PRICES_HELP                                                                            \
    "  --prices FILE     the user's price table, over the shipped ones (else\n"                    \
    "                    $LLMOPS_PRICES; see 'llmops prices --help')\n"

struct llm_cmd {
    const char *name, *usage;
    const struct option *opts;
    const char *shortopts; /* the command's short options, without 'h' */
    int needs_db, max_args, filters;
    /* the command's own options: 0, or LLM_EINVAL with why filled */
    int (*opt)(void *ctx, int c, const char *arg, char *why, size_t n);
    void *ctx;
};

struct llm_cmd_args {
    char db[PATH_MAX];
    struct llm_filter filter;
    char **args; /* positional arguments */
    int nargs;
};

/* Parses argv (argv[0] is the command). Returns -1 when the command is to
 * run, else the exit status to return: 0 after --help, 2 for a usage error,
 * 1 when no database location can be formed. */
int llm_cmd_parse(const struct llm_cmd *c, int argc, char **argv, struct llm_cmd_args *a);
/* Prints "llmops: CMD: <what>: invalid argument"; returns LLM_EXIT_USAGE. */
int llm_cmd_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Runs cmd if it is one of these commands; returns its exit status, or -1. */
int llm_cmd_dispatch(const char *cmd, int argc, char **argv);

int llm_stats_main(int argc, char **argv);
int llm_prices_main(int argc, char **argv);
int llm_tail_main(int argc, char **argv);
int llm_prune_main(int argc, char **argv);
int llm_serve_main(int argc, char **argv);
int llm_report_main(int argc, char **argv);

#endif
