/* `llmops`: reads the store the shim writes. This file is the front door:
 * subcommand dispatch, option parsing, help and exit codes (0 ok, 1 runtime
 * error, 2 usage error). Every error is one line on stderr; getopt's own
 * messages are silenced so that holds for bad options too. */
#include "cli.h"
#include "err.h"
#include "record.h"
#include "util.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#ifndef LLMOPS_VERSION
#define LLMOPS_VERSION "0.1.0"
#endif

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

static const char usage_main[] =
    "usage: llmops <command> [options]\n"
    "\n"
    "Commands:\n"
    "  export    write every record, oldest first, as NDJSON or JSON\n"
    "  stats     calls, errors, tokens and latency per provider and model\n"
    "  version   print the version\n"
    "  help      show this help\n"
    "\n"
    "Run 'llmops <command> --help' for the options of a command.\n"
    "The database is --db DIR, else $LLMOPS_DB, else $XDG_DATA_HOME/llmops,\n"
    "else ~/.local/share/llmops. Reading never blocks processes that record.\n";

static const char usage_export[] =
    "usage: llmops export [--db DIR] [--format ndjson|json] [--out FILE|-]\n"
    "\n"
    "Writes every record in time order, each a JSON object with every schema\n"
    "field in schema order (null where unknown).\n"
    "\n"
    "  --db DIR         the database directory (default: see 'llmops help')\n"
    "  --format FORMAT  ndjson: one object per line (default); json: one array\n"
    "  --out FILE       write to FILE, replaced only when the export succeeds;\n"
    "                   '-' (the default) is standard output\n"
    "  -h, --help       show this help\n";

static const char usage_stats[] =
    "usage: llmops stats [--db DIR]\n"
    "\n"
    "Prints one row per provider and model: calls; errors (calls whose status\n"
    "is not \"ok\"); the sums of the known input and output token counts; and\n"
    "p50 and p95 of latency_ms, nearest-rank percentiles over the calls whose\n"
    "latency is known. '-' stands for an unknown provider, model or latency.\n"
    "\n"
    "  --db DIR     the database directory (default: see 'llmops help')\n"
    "  -h, --help   show this help\n";

static const char usage_doctor[] =
    "usage: llmops doctor PROGRAM\n"
    "\n"
    "Reads PROGRAM (a path or a name on PATH; a script is judged by its\n"
    "interpreter) and the libraries that decide it, without running it, and\n"
    "says whether LD_PRELOAD=libllmops.so can observe its LLM calls: through\n"
    "OpenSSL, libcurl or the socket hooks, or not at all (static binaries, Go,\n"
    "bundled OpenSSL/BoringSSL, rustls, setuid). Exit status 0: HTTPS is\n"
    "observable; 1: it is not; 2: PROGRAM cannot be read.\n";

enum { OPT_DB = 1, OPT_FORMAT, OPT_OUT };

static const struct option export_opts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"out", required_argument, NULL, OPT_OUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option stats_opts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct cmd_opts {
    char db[PATH_MAX];
    int db_set;
    enum llm_export_format format;
    const char *out;
    int help;
};

static int usage_error(const char *cmd, const char *fmt, const char *arg)
{
    char what[512];

    snprintf(what, sizeof(what), fmt, arg);
    llm_cli_error(LLM_EINVAL, "%s: %s", cmd, what);
    return EXIT_USAGE;
}

/* Parses argv (argv[0] is the command name) against the options of cmd.
 * Returns 0, or an exit status after reporting the error. */
static int parse_opts(const char *cmd, int argc, char **argv, const struct option *opts,
                      struct cmd_opts *o)
{
    int c;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DB:
            if (snprintf(o->db, sizeof(o->db), "%s", optarg) >= (int)sizeof(o->db))
                return usage_error(cmd, "--db path too long: %s", optarg);
            o->db_set = 1;
            break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "ndjson"))
                o->format = LLM_EXPORT_NDJSON;
            else if (!strcmp(optarg, "json"))
                o->format = LLM_EXPORT_JSON;
            else
                return usage_error(cmd, "unknown format '%s' (ndjson or json)", optarg);
            break;
        case OPT_OUT:
            o->out = optarg;
            break;
        case 'h':
            o->help = 1;
            break;
        case ':':
            return usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!o->db_set && !o->help) {
        int rc = llm_db_path(o->db, sizeof(o->db));
        if (rc) {
            llm_cli_error(rc, "no database location (set --db or LLMOPS_DB)");
            return EXIT_RUNTIME;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cmd_opts o = {.format = LLM_EXPORT_NDJSON};
    const char *cmd = argc > 1 ? argv[1] : NULL;
    int rc;

    if (!cmd) {
        llm_cli_error(LLM_EINVAL, "no command (try 'llmops help')");
        return EXIT_USAGE;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("llmops %s (record schema %d)\n", LLMOPS_VERSION, LLM_SCHEMA_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "export")) {
        rc = parse_opts(cmd, argc - 1, argv + 1, export_opts, &o);
        if (rc || o.help) {
            if (o.help)
                fputs(usage_export, stdout);
            return rc;
        }
        struct llm_export_opts eo = {.db = o.db, .format = o.format, .out = o.out};
        return llm_export_run(&eo) ? EXIT_RUNTIME : 0;
    }
    if (!strcmp(cmd, "stats")) {
        rc = parse_opts(cmd, argc - 1, argv + 1, stats_opts, &o);
        if (rc || o.help) {
            if (o.help)
                fputs(usage_stats, stdout);
            return rc;
        }
        return llm_stats_run(o.db) ? EXIT_RUNTIME : 0;
    }
    if (!strcmp(cmd, "doctor")) {
        if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            fputs(usage_doctor, stdout);
            return 0;
        }
        if (argc != 3 || argv[2][0] == '-') {
            llm_cli_error(LLM_EINVAL, "doctor: expected one PROGRAM (try 'llmops doctor --help')");
            return EXIT_USAGE;
        }
        return llm_doctor_run(argv[2]);
    }
    llm_cli_error(LLM_EINVAL, "unknown command '%s' (try 'llmops help')", cmd);
    return EXIT_USAGE;
}
