/* `llmops report`: the dashboard as one self-contained HTML file. The page
 * (dash_page.html, embedded at build time) is written with the summary, the
 * newest calls and their whole records in place of its data slot, as JSON
 * whose '<', '>' and '&' are \u escapes (dash_agg.c), so no record content
 * can end the <script> element. The file needs nothing at view time: no
 * network, no server. Written beside --out and renamed over it on success. */
#include "cli.h"
#include "cmd.h"
#include "cost.h"
#include "dash_agg.h"
#include "dash_page.h"
#include "err.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CALLS_MAX 10000

static const char usage[] =
    "usage: llmops report --out FILE [--db DIR] [--calls N] [--prices FILE] [filters]\n"
    "\n"
    "Writes the dashboard of the calls that pass the filters as one HTML file\n"
    "that opens offline in any browser (no network, no server): the same\n"
    "tabs and charts as 'llmops serve', with the newest N calls and their\n"
    "whole records in its Operations table.\n"
    "\n"
    "  --out FILE        the HTML file to write (replaced only on success)\n"
    "  --db DIR          the database directory (default: see 'llmops help')\n"
    "  --calls N         newest calls to include with their records (default\n"
    "                    200, at most 10000)\n" LLM_PRICES_HELP
    "  -h, --help        show this help\n"
    "\n" LLM_FILTER_HELP;

enum { OPT_OUT = LLM_CO_OWN, OPT_CALLS };

static const struct option opts[] = {
    LLM_CMD_DB_OPT,
    LLM_CMD_PRICES_OPT,
    LLM_CMD_HELP_OPT,
    {"out", required_argument, NULL, OPT_OUT},
    {"calls", required_argument, NULL, OPT_CALLS},
    LLM_FILTER_LONGOPTS,
    {NULL, 0, NULL, 0},
};

struct report {
    const char *out;
    long calls;
};

static int own_opt(void *arg, int c, const char *val, char *why, size_t n)
{
    struct report *r = arg;
    char *end;

    if (c == OPT_OUT) {
        r->out = val;
        return 0;
    }
    if (c != OPT_CALLS)
        return LLM_EINVAL;
    errno = 0;
    r->calls = strtol(val, &end, 10);
    if (errno || end == val || *end || r->calls < 0 || r->calls > CALLS_MAX) {
        snprintf(why, n, "--calls wants 0 to %d, not '%s'", CALLS_MAX, val);
        return LLM_EINVAL;
    }
    return 0;
}

/* The page with text in place of its data slot, to path. */
static int write_page(const char *path, const char *text, size_t len)
{
    const char *slot = strstr(llm_dash_page, LLM_DASH_PAGE_SLOT);
    char tmp[4200];
    size_t head;
    FILE *fp;
    int rc = 0;

    if (!slot)
        return LLM_EINVAL; /* a build without the slot: cannot happen */
    head = (size_t)(slot - llm_dash_page);
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    if (!(fp = fopen(tmp, "w")))
        return -errno;
    if (fwrite(llm_dash_page, 1, head, fp) != head || fwrite(text, 1, len, fp) != len ||
        fputs(slot + strlen(LLM_DASH_PAGE_SLOT), fp) == EOF)
        rc = -errno ? -errno : -EIO;
    if (fclose(fp) && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path))
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

int llm_report_main(int argc, char **argv)
{
    struct report r = {.calls = 200};
    struct llm_cmd cmd = {.name = "report",
                          .usage = usage,
                          .opts = opts,
                          .needs_db = 1,
                          .filters = 1,
                          .opt = own_opt,
                          .ctx = &r};
    struct llm_cmd_args a;
    struct llm_store *st;
    json_t *sum = NULL, *doc = NULL;
    char what[4200], *text = NULL;
    size_t len;
    int rc = llm_cmd_parse(&cmd, argc, argv, &a);

    if (rc >= 0)
        return rc;
    if (!r.out || !*r.out)
        return llm_cmd_usage_error("report", "--out FILE is required");
    if (llm_cost_load(0))
        return LLM_EXIT_RUNTIME;
    if (llm_cli_open(a.db, &st))
        return LLM_EXIT_RUNTIME;
    snprintf(what, sizeof(what), "read database %s", a.db);
    rc = llm_dash_summary(st, &a.filter, 0, (size_t)r.calls, 1, &sum, what, sizeof(what));
    if (rc) {
        llm_cli_error(rc, "%s", what);
        goto out;
    }
    doc = json_pack("{sssssoso}", "mode", "report", "db", a.db, "filters",
                    llm_dash_filter_json(&a.filter), "summary", sum);
    sum = NULL;
    if (!doc || (rc = llm_dash_json_text(doc, &text, &len))) {
        rc = LLM_ENOMEM;
        llm_cli_error(rc, "report");
        goto out;
    }
    if ((rc = write_page(r.out, text, len)))
        llm_cli_error(rc, "write %s", r.out);
out:
    free(text);
    json_decref(doc);
    json_decref(sum);
    llm_store_close(st);
    return rc ? LLM_EXIT_RUNTIME : 0;
}
