/* `llmops`: reads the store the shim writes. This file is the front door:
 * subcommand dispatch, option parsing, help and exit codes (0 ok, 1 runtime
 * error, 2 usage error). Every error is one line on stderr; getopt's own
 * messages are silenced so that holds for bad options too. */
#include "cli.h"
#include "err.h"
#include "filter.h"
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
    "  export         write records, oldest first, as NDJSON, JSON, CSV, SQLite or SQL\n"
    "  stats          calls, errors, tokens and latency per provider and model\n"
    "  create-tables  create or migrate the llm_operations table in a database\n"
    "  doctor         say whether a program's LLM calls can be observed\n"
    "  version        print the version\n"
    "  help           show this help\n"
    "\n"
    "Run 'llmops <command> --help' for the options of a command.\n"
    "The database is --db DIR, else $LLMOPS_DB, else $XDG_DATA_HOME/llmops,\n"
    "else ~/.local/share/llmops. Reading never blocks processes that record.\n";

static const char usage_export[] =
    "usage: llmops export [--db DIR] [--format ndjson|json|csv|sqlite|sql]\n"
    "                     [--dialect sqlite|postgres] [--out FILE|-] [filters]\n"
    "\n"
    "Writes the records that pass the filters, in time order, with every schema\n"
    "field (null where unknown).\n"
    "\n"
    "  --db DIR          the database directory (default: see 'llmops help')\n"
    "  --format FORMAT   ndjson: one JSON object per line (default); json: one\n"
    "                    array; csv: RFC 4180 with a header row, nested values as\n"
    "                    JSON text; sqlite: rows added to the llm_operations table\n"
    "                    of the SQLite file --out (created if missing; records it\n"
    "                    already has are skipped); sql: a script that creates\n"
    "                    llm_operations and inserts the records, safe to replay\n"
    "  --dialect DIALECT for --format sql: sqlite (default) or postgres\n"
    "  --out FILE        write to FILE, replaced only when the export succeeds;\n"
    "                    '-' (the default) is standard output; required for sqlite\n"
    "  -h, --help        show this help\n"
    "\n" LLM_FILTER_HELP;

static const char usage_stats[] =
    "usage: llmops stats [--db DIR] [filters]\n"
    "\n"
    "Prints one row per provider and model: calls; errors (calls whose status\n"
    "is not \"ok\"); the sums of the known input and output token counts; and\n"
    "p50 and p95 of latency_ms, nearest-rank percentiles over the calls whose\n"
    "latency is known. '-' stands for an unknown provider, model or latency.\n"
    "Only the records that pass the filters count.\n"
    "\n"
    "  --db DIR     the database directory (default: see 'llmops help')\n"
    "  -h, --help   show this help\n"
    "\n" LLM_FILTER_HELP;

static const char usage_create_tables[] =
    "usage: llmops create-tables --to sqlite:PATH\n"
    "\n"
    "Creates the llm_operations table (and llmops_meta, which records the schema\n"
    "version) in the SQLite file PATH, creating the file if needed; in an older\n"
    "table it adds the columns this schema has and the table lacks, keeping its\n"
    "rows. 'llmops export --format sqlite' does the same on its own.\n"
    "postgresql:// targets are not supported yet.\n"
    "\n"
    "  --to TARGET  sqlite:PATH\n"
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

enum { OPT_DB = 1, OPT_FORMAT, OPT_DIALECT, OPT_OUT, OPT_TO };

static const struct option export_opts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"dialect", required_argument, NULL, OPT_DIALECT},
    {"out", required_argument, NULL, OPT_OUT},
    {"help", no_argument, NULL, 'h'},
    LLM_FILTER_LONGOPTS,
    {NULL, 0, NULL, 0},
};

static const struct option stats_opts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"help", no_argument, NULL, 'h'},
    LLM_FILTER_LONGOPTS,
    {NULL, 0, NULL, 0},
};

static const struct option create_tables_opts[] = {
    {"to", required_argument, NULL, OPT_TO},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct {
    const char *name;
    enum llm_export_format format;
} formats[] = {
    {"ndjson", LLM_EXPORT_NDJSON}, {"json", LLM_EXPORT_JSON}, {"csv", LLM_EXPORT_CSV},
    {"sqlite", LLM_EXPORT_SQLITE}, {"sql", LLM_EXPORT_SQL},
};

struct cmd_opts {
    char db[PATH_MAX];
    int db_set, needs_db;
    enum llm_export_format format;
    enum llm_sql_dialect dialect;
    int dialect_set;
    const char *out, *to;
    struct llm_filter filter;
    int help;
};

static int parse_format(const char *name, enum llm_export_format *out)
{
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        if (!strcmp(name, formats[i].name)) {
            *out = formats[i].format;
            return 0;
        }
    }
    return LLM_EINVAL;
}

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
            if (parse_format(optarg, &o->format))
                return usage_error(cmd, "unknown format '%s' (ndjson, json, csv, sqlite or sql)",
                                   optarg);
            break;
        case OPT_DIALECT:
            if (!strcmp(optarg, "sqlite"))
                o->dialect = LLM_SQL_SQLITE;
            else if (!strcmp(optarg, "postgres") || !strcmp(optarg, "postgresql"))
                o->dialect = LLM_SQL_POSTGRES;
            else
                return usage_error(cmd, "unknown dialect '%s' (sqlite or postgres)", optarg);
            o->dialect_set = 1;
            break;
        case OPT_OUT:
            o->out = optarg;
            break;
        case OPT_TO:
            o->to = optarg;
            break;
        case 'h':
            o->help = 1;
            break;
        case ':':
            return usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        default:
            if (llm_filter_is_option(c)) {
                char why[512];
                if (llm_filter_option(&o->filter, c, optarg, why, sizeof(why)))
                    return usage_error(cmd, "%s", why);
                break;
            }
            return usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (o->needs_db && !o->db_set && !o->help) {
        int rc = llm_db_path(o->db, sizeof(o->db));
        if (rc) {
            llm_cli_error(rc, "no database location (set --db or LLMOPS_DB)");
            return EXIT_RUNTIME;
        }
    }
    return 0;
}

static int run_export(int argc, char **argv, struct cmd_opts *o)
{
    int rc = parse_opts("export", argc, argv, export_opts, o);

    if (rc || o->help) {
        if (o->help)
            fputs(usage_export, stdout);
        return rc;
    }
    if (o->dialect_set && o->format != LLM_EXPORT_SQL)
        return usage_error("export", "%s", "--dialect goes with --format sql");
    if (o->format == LLM_EXPORT_SQLITE && (!o->out || !strcmp(o->out, "-")))
        return usage_error("export", "%s", "--format sqlite needs --out FILE");
    struct llm_export_opts eo = {.db = o->db,
                                 .format = o->format,
                                 .dialect = o->dialect,
                                 .out = o->out,
                                 .filter = &o->filter};
    return llm_export_run(&eo) ? EXIT_RUNTIME : 0;
}

/* Targets: sqlite:PATH now; postgresql:// (and postgres://) once libpq is in. */
static int run_create_tables(int argc, char **argv, struct cmd_opts *o)
{
    static const char cmd[] = "create-tables";
    int rc = parse_opts(cmd, argc, argv, create_tables_opts, o);

    if (rc || o->help) {
        if (o->help)
            fputs(usage_create_tables, stdout);
        return rc;
    }
    if (!o->to)
        return usage_error(cmd, "%s", "--to TARGET is required (sqlite:PATH)");
    if (!strncmp(o->to, "postgresql://", 13) || !strncmp(o->to, "postgres://", 11))
        return usage_error(cmd, "%s", "postgresql:// targets are not supported yet (sqlite:PATH)");
    if (strncmp(o->to, "sqlite:", 7) || !o->to[7])
        return usage_error(cmd, "unknown target '%s' (sqlite:PATH)", o->to);
    return llm_create_tables_sqlite(o->to + 7) ? EXIT_RUNTIME : 0;
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
        o.needs_db = 1;
        return run_export(argc - 1, argv + 1, &o);
    }
    if (!strcmp(cmd, "stats")) {
        o.needs_db = 1;
        rc = parse_opts(cmd, argc - 1, argv + 1, stats_opts, &o);
        if (rc || o.help) {
            if (o.help)
                fputs(usage_stats, stdout);
            return rc;
        }
        return llm_stats_run(o.db, &o.filter) ? EXIT_RUNTIME : 0;
    }
    if (!strcmp(cmd, "create-tables"))
        return run_create_tables(argc - 1, argv + 1, &o);
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
