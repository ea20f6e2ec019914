/* Dispatch and shared option parsing of stats, prices, tail and prune.
 * getopt's own messages are silenced so that every usage error is the one
 * line llm_cli_error() prints, and exits 2, as llmops.c does for its own
 * commands. Options are parsed before anything is opened: --help never
 * touches a database. */
#include "cmd.h"
#include "cli.h"
#include "cost.h"
#include "err.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int llm_cmd_usage_error(const char *cmd, const char *fmt, ...)
{
    char what[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    llm_cli_error(LLM_EINVAL, "%s: %s", cmd, what);
    return LLM_EXIT_USAGE;
}

int llm_cmd_parse(const struct llm_cmd *c, int argc, char **argv, struct llm_cmd_args *a)
{
    char shortopts[64], why[512];
    int ch;

    snprintf(shortopts, sizeof(shortopts), ":h%s", c->shortopts ? c->shortopts : "");
    memset(a, 0, sizeof(*a));
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, shortopts, c->opts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            fputs(c->usage, stdout);
            return 0;
        case ':':
            return llm_cmd_usage_error(c->name, "option '%s' needs a value", argv[optind - 1]);
        case '?':
            return llm_cmd_usage_error(c->name, "unknown option '%s'", argv[optind - 1]);
        case LLM_CO_DB:
            if (snprintf(a->db, sizeof(a->db), "%s", optarg) >= (int)sizeof(a->db))
                return llm_cmd_usage_error(c->name, "--db path too long: %s", optarg);
            break;
        case LLM_CO_PRICES:
            llm_cost_set_path(optarg);
            break;
        default:
            why[0] = '\0';
            if (c->filters && llm_filter_is_option(ch)) {
                if (llm_filter_option(&a->filter, ch, optarg, why, sizeof(why)))
                    return llm_cmd_usage_error(c->name, "%s", why);
            } else if (!c->opt || c->opt(c->ctx, ch, optarg, why, sizeof(why))) {
                if (!why[0])
                    snprintf(why, sizeof(why), "unknown option '%s'", argv[optind - 1]);
                return llm_cmd_usage_error(c->name, "%s", why);
            }
        }
    }
    a->args = argv + optind;
    a->nargs = argc - optind;
    if (a->nargs > c->max_args)
        return llm_cmd_usage_error(c->name, "unexpected argument '%s'", a->args[c->max_args]);
    if (c->needs_db && !a->db[0]) {
        int rc = llm_db_path(a->db, sizeof(a->db));
        if (rc) {
            llm_cli_error(rc, "no database location (set --db or LLMOPS_DB)");
            return LLM_EXIT_RUNTIME;
        }
    }
    return -1;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} cmds[] = {
    {"stats", llm_stats_main}, {"prices", llm_prices_main}, {"tail", llm_tail_main},
    {"prune", llm_prune_main}, {"serve", llm_serve_main},   {"report", llm_report_main},
};

int llm_cmd_dispatch(const char *cmd, int argc, char **argv)
{
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (!strcmp(cmd, cmds[i].name))
            return cmds[i].run(argc, argv);
    }
    return -1;
}
