/* `llmops`: reads the store the shim writes. This file is the front door:
 * subcommand dispatch, option parsing, help and exit codes (0 ok, 1 runtime
 * error, 2 usage error). Every error is one line on stderr; getopt's own
 * messages are silenced so that holds for bad options too. */
#include "cli.h"
#include "cmd.h"
#include "cost.h"
#include "err.h"
#include "filter.h"
#include "pg.h"
#include "progress.h"
#include "record.h"
#include "record_cmd.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
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
    "  export         write records, oldest first, as NDJSON, JSON, CSV, SQLite, SQL\n"
    "                 or straight into PostgreSQL\n"
    "  stats          calls, errors, tokens, cost and latency per provider and model\n"
    "                 (or agent, session, exe, day)\n"
    "  tail           the latest calls, one line each; -f follows them as they land\n"
    "  prices         the prices that give calls their cost_usd (and update them)\n"
    "  prune          delete the records of calls made before a date\n"
    "  serve          a live dashboard of the calls on http://127.0.0.1:8750/\n"
    "  report         the dashboard as one self-contained HTML file\n"
    "  create-tables  create or migrate the llm_operations table in a database\n"
    "  sync           ship to PostgreSQL what it does not have yet (for fleets)\n"
    "  doctor         say whether a program's LLM calls can be observed\n"
    "  run            run a command under the shim and a recording proxy\n"
    "  record         store calls no hook saw, given as JSON on stdin\n"
    "  version        print the version\n"
    "  help           show this help\n"
    "\n"
    "Run 'llmops <command> --help' for the options of a command.\n"
    "The database is --db DIR, else $LLMOPS_DB, else $XDG_DATA_HOME/llmops,\n"
    "else ~/.local/share/llmops. Reading never blocks processes that record.\n";

static const char usage_export[] =
    "usage: llmops export [--db DIR]\n"
    "                     [--format ndjson|json|csv|sqlite|sql|postgres|parquet|otlp-json]\n"
    "                     [--dialect sqlite|postgres] [--out FILE|-]\n"
    "                     [--to postgresql://...] [filters]\n"
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
    "                    llm_operations and inserts the records, safe to replay;\n"
    "                    postgres: rows loaded into llm_operations of the database\n"
    "                    --to (created or migrated as needed; COPY, one\n"
    "                    transaction; records it already has are skipped);\n"
    "                    parquet: typed columns (UTC timestamps, INT64, DOUBLE,\n"
    "                    BOOLEAN, UTF-8 strings, nested values as JSON text),\n"
    "                    zstd-compressed, to --out (required; '-' for stdout);\n"
    "                    otlp-json: one OTLP/JSON ExportTraceServiceRequest per\n"
    "                    line, a GenAI span per record\n"
    "  --dialect DIALECT for --format sql: sqlite (default) or postgres\n"
    "  --out FILE        write to FILE, replaced only when the export succeeds;\n"
    "                    '-' (the default) is standard output; required for sqlite,\n"
    "                    parquet\n"
    "  --to URL          for --format postgres: postgresql://[USER[:PASSWORD]@]HOST\n"
    "                    [:PORT]/DB[?PARAM=VALUE...] (libpq; PG* variables apply)\n"
    "  --prices FILE     the user's price table for cost_usd, over the shipped\n"
    "                    curated table and price database, from which every export\n"
    "                    computes it (token counts, the call's date; see 'llmops\n"
    "                    prices --help'); default $LLMOPS_PRICES\n"
    "  -h, --help        show this help\n"
    "\n" LLM_FILTER_HELP;

static const char usage_create_tables[] =
    "usage: llmops create-tables --to sqlite:PATH|postgresql://...\n"
    "\n"
    "Creates the llm_operations table (and llmops_meta, which records the schema\n"
    "version) in the SQLite file PATH, creating the file if needed, or in a\n"
    "PostgreSQL database; in an older table it adds the columns this schema has\n"
    "and the table lacks, keeping its rows. 'llmops export --format sqlite|postgres'\n"
    "and 'llmops sync' do the same on their own.\n"
    "\n"
    "  --to TARGET  sqlite:PATH, or postgresql://[USER[:PASSWORD]@]HOST[:PORT]/DB\n"
    "  -h, --help   show this help\n";

static const char usage_sync[] =
    "usage: llmops sync --to postgresql://...|otlp+http(s)://HOST:PORT [--db DIR]\n"
    "                   [--batch N] [--settle S] [--header 'NAME: VALUE'] [filters]\n"
    "\n"
    "Ships the records the database does not have yet into its llm_operations\n"
    "table (created or migrated as needed), oldest first, N per transaction.\n"
    "The store keeps a cursor per destination (the URL without its password):\n"
    "the last record shipped, moved only after the database committed, so an\n"
    "interrupted sync loses nothing and the next one resumes; running it again\n"
    "ships nothing new. Prints \"shipped N records, cursor ULID\", N counting\n"
    "the rows that were new to the database. Filters narrow what is shipped.\n"
    "\n"
    "  --to URL     postgresql://[USER[:PASSWORD]@]HOST[:PORT]/DB[?PARAM=VALUE...],\n"
    "               or otlp+http(s)://HOST:PORT[/PATH]: an OpenTelemetry receiver,\n"
    "               sent OTLP/JSON GenAI spans (PATH/v1/traces) and metrics\n"
    "               (PATH/v1/metrics), at most 1000 per request, 429/503 retried\n"
    "  --header H   for OTLP: a request header 'NAME: VALUE' (repeatable; added\n"
    "               to OTEL_EXPORTER_OTLP_HEADERS)\n"
    "  --db DIR     the database directory (default: see 'llmops help')\n"
    "  --batch N    records per transaction (default 5000)\n"
    "  --settle S   the cursor stays S seconds behind now (default 600): calls\n"
    "               still running when the sync ran are keyed by their start, so\n"
    "               records that recent are shipped but checked again next time\n"
    "  --prices F   the user's price table for cost_usd, as for export\n"
    "  -h, --help   show this help\n"
    "\n" LLM_FILTER_HELP;

static const char usage_doctor[] =
    "usage: llmops doctor PROGRAM\n"
    "\n"
    "Reads PROGRAM (a path or a name on PATH; a script is judged by its\n"
    "interpreter) and the libraries that decide it, without running it, and\n"
    "says whether LD_PRELOAD=libllmops.so can observe its LLM calls: through\n"
    "OpenSSL, libcurl or the socket hooks, or not at all (static binaries, Go,\n"
    "bundled OpenSSL/BoringSSL, rustls, setuid). Exit status 0: HTTPS is\n"
    "observable; 1: it is not; 2: PROGRAM cannot be read.\n";

enum { OPT_DB = 1, OPT_FORMAT, OPT_DIALECT, OPT_OUT, OPT_TO, OPT_BATCH, OPT_SETTLE, OPT_HEADER };
#define MAX_HEADERS 32

static const struct option export_opts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"dialect", required_argument, NULL, OPT_DIALECT},
    {"out", required_argument, NULL, OPT_OUT},
    {"to", required_argument, NULL, OPT_TO},
    {"help", no_argument, NULL, 'h'},
    LLM_CMD_PRICES_OPT,
    LLM_FILTER_LONGOPTS,
    {NULL, 0, NULL, 0},
};

static const struct option sync_opts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"to", required_argument, NULL, OPT_TO},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"settle", required_argument, NULL, OPT_SETTLE},
    {"header", required_argument, NULL, OPT_HEADER},
    {"help", no_argument, NULL, 'h'},
    LLM_CMD_PRICES_OPT,
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
    {"ndjson", LLM_EXPORT_NDJSON},
    {"json", LLM_EXPORT_JSON},
    {"csv", LLM_EXPORT_CSV},
    {"sqlite", LLM_EXPORT_SQLITE},
    {"sql", LLM_EXPORT_SQL},
    {"postgres", LLM_EXPORT_POSTGRES},
    {"postgresql", LLM_EXPORT_POSTGRES},
    {"parquet", LLM_EXPORT_PARQUET},
    {"otlp-json", LLM_EXPORT_OTLP_JSON},
};

struct cmd_opts {
    char db[PATH_MAX];
    int db_set, needs_db;
    enum llm_export_format format;
    enum llm_sql_dialect dialect;
    int dialect_set;
    const char *out, *to;
    long batch, settle; /* sync */
    const char *headers[MAX_HEADERS];
    size_t nheaders;
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
                return usage_error(cmd,
                                   "unknown format '%s' (ndjson, json, csv, sqlite, sql, postgres, "
                                   "parquet or otlp-json)",
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
        case OPT_HEADER:
            if (o->nheaders == MAX_HEADERS || !strchr(optarg, ':'))
                return usage_error(cmd, "--header wants 'Name: value' (at most 32): %s", optarg);
            o->headers[o->nheaders++] = optarg;
            break;
        case LLM_CO_PRICES:
            llm_cost_set_path(optarg);
            break;
        case OPT_BATCH:
        case OPT_SETTLE: {
            char *end;
            long v;
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < (c == OPT_BATCH) || v > 100000000)
                return usage_error(cmd, "bad number '%s'", optarg);
            *(c == OPT_BATCH ? &o->batch : &o->settle) = v;
            break;
        }
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
    if (o->format == LLM_EXPORT_PARQUET && !o->out)
        return usage_error("export", "%s", "--format parquet needs --out FILE (or -)");
    if (o->format == LLM_EXPORT_POSTGRES && (!o->to || !llm_pg_is_url(o->to)))
        return usage_error("export", "%s", "--format postgres needs --to postgresql://...");
    if (o->format == LLM_EXPORT_POSTGRES && o->out)
        return usage_error("export", "%s", "--format postgres writes to --to, not --out");
    if (o->to && o->format != LLM_EXPORT_POSTGRES)
        return usage_error("export", "%s", "--to goes with --format postgres");
    struct llm_export_opts eo = {.db = o->db,
                                 .format = o->format,
                                 .dialect = o->dialect,
                                 .out = o->out,
                                 .to = o->to,
                                 .filter = &o->filter};
    if (llm_cost_load(0))
        return EXIT_RUNTIME;
    llm_progress_arm("export",
                     o->format != LLM_EXPORT_POSTGRES && (!o->out || !strcmp(o->out, "-")));
    if (llm_export_run(&eo))
        return EXIT_RUNTIME;
    if (llm_filter_corrupt_skipped()) {
        fprintf(stderr, "llmops: export: %zu corrupt record%s skipped\n",
                llm_filter_corrupt_skipped(), llm_filter_corrupt_skipped() == 1 ? "" : "s");
        return LLM_EXIT_PARTIAL;
    }
    return 0;
}

/* Targets: sqlite:PATH, postgresql:// (and postgres://). */
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
        return usage_error(cmd, "%s", "--to TARGET is required (sqlite:PATH or postgresql://...)");
    if (llm_pg_is_url(o->to))
        return llm_create_tables_postgres(o->to) ? EXIT_RUNTIME : 0;
    if (strncmp(o->to, "sqlite:", 7) || !o->to[7])
        return usage_error(cmd, "%s", "unknown target (sqlite:PATH or postgresql://...)");
    return llm_create_tables_sqlite(o->to + 7) ? EXIT_RUNTIME : 0;
}

static int run_sync(int argc, char **argv, struct cmd_opts *o)
{
    static const char cmd[] = "sync";
    int rc;

    o->needs_db = 1;
    o->batch = 5000;
    o->settle = 600;
    rc = parse_opts(cmd, argc, argv, sync_opts, o);
    if (rc || o->help) {
        if (o->help)
            fputs(usage_sync, stdout);
        return rc;
    }
    int otlp =
        o->to && (!strncmp(o->to, "otlp+http://", 12) || !strncmp(o->to, "otlp+https://", 13));
    if (!o->to || (!llm_pg_is_url(o->to) && !otlp))
        return usage_error(cmd, "%s",
                           "--to postgresql://... or otlp+http(s)://HOST:PORT is required");
    if (o->nheaders && !otlp)
        return usage_error(cmd, "%s", "--header goes with --to otlp+http(s)://");
    struct llm_sync_opts so = {.db = o->db,
                               .to = o->to,
                               .filter = &o->filter,
                               .batch = o->batch,
                               .settle_s = o->settle,
                               .headers = o->headers,
                               .nheaders = o->nheaders};
    if (llm_cost_load(0))
        return EXIT_RUNTIME;
    if (otlp)
        return llm_otlp_sync_run(&so) ? EXIT_RUNTIME : 0;
    return llm_sync_run(&so) ? EXIT_RUNTIME : 0;
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
    rc = llm_cmd_dispatch(cmd, argc - 1, argv + 1); /* stats, prices, tail, prune */
    if (rc >= 0)
        return rc;
    if (!strcmp(cmd, "create-tables"))
        return run_create_tables(argc - 1, argv + 1, &o);
    if (!strcmp(cmd, "sync"))
        return run_sync(argc - 1, argv + 1, &o);
    if (!strcmp(cmd, "record"))
        return llm_record_cmd(argc - 1, argv + 1);
    if (!strcmp(cmd, "run")) /* run.c: CMD under the shim and the recording proxy */
        return llm_run_cmd(argc - 1, argv + 1);
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
