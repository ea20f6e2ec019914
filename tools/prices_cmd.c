/* `llmops prices [MODEL]`: what the price table says. Without MODEL, every
 * entry; with MODEL, the entries that match it (of every provider, or of
 * --provider), each with the dates it covers, and which one prices a call
 * made at --at (default now) - the same lookup export and stats use, so
 * this is how to check why a call cost what it did. */
#include "cli.h"
#include "cmd.h"
#include "cost.h"
#include "err.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: llmops prices [--prices FILE] [--provider P] [--at TIME] [MODEL]\n"
    "\n"
    "Shows the price table, USD per million tokens. Without MODEL: every entry\n"
    "(a model ending in '*' is a prefix). With MODEL: the entries matching it,\n"
    "the dates each covers, and the one that prices a call made at --at\n"
    "(marked '*'; default now).\n"
    "\n"
    "The table is --prices FILE, else $LLMOPS_PRICES, else the prices.json\n"
    "shipped with llmops (beside the binary in a build tree, else in\n"
    "share/llmops). An entry has provider, model (exact) or model_prefix,\n"
    "effective_from, usd_per_mtok {input, output, cache_read, cache_write,\n"
    "cache_write_1h}, an optional long_context tier {threshold_input_tokens,\n"
    "rates} and its source. A call is priced by the entry of its provider\n"
    "that matches its model most specifically (exact, then the longest\n"
    "prefix) and is in effect at its timestamp (the latest such). Cost:\n"
    "  (input_tokens - cache_read - cache_write) x input + cache_read x\n"
    "  cache_read + cache_write x cache_write + output_tokens x output\n"
    "(output_tokens already includes reasoning); with input_tokens above the\n"
    "long-context threshold the tier's rates price the whole call. A rate left\n"
    "out ('-') is the input rate. No entry: the cost is null.\n"
    "\n"
    "  --prices FILE   use this table\n"
    "  --provider P    only entries of provider P\n"
    "  --at TIME       with MODEL: the time of the call (YYYY-MM-DD or RFC 3339)\n"
    "  -h, --help      show this help\n";

enum { OPT_PROVIDER = LLM_CO_OWN, OPT_AT };

static const struct option opts[] = {
    LLM_CMD_PRICES_OPT,
    LLM_CMD_HELP_OPT,
    {"provider", required_argument, NULL, OPT_PROVIDER},
    {"at", required_argument, NULL, OPT_AT},
    {NULL, 0, NULL, 0},
};

struct prices_opts {
    const char *provider;
    int64_t at_us;
};

static int own_opt(void *arg, int c, const char *val, char *why, size_t n)
{
    struct prices_opts *o = arg;

    if (c == OPT_PROVIDER) {
        o->provider = val;
        return 0;
    }
    if (c == OPT_AT && !llm_parse_time(val, &o->at_us))
        return 0;
    if (c == OPT_AT)
        snprintf(why, n, "--at wants a date YYYY-MM-DD or an RFC 3339 time, not '%s'", val);
    return LLM_EINVAL;
}

static void rate(char *out, size_t n, double r)
{
    if (isnan(r))
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%g", r);
}

/* The effective_from of the entry that replaces p, or NULL. */
static const char *until(const struct llm_price_table *t, const struct llm_price *p)
{
    const struct llm_price *next = NULL;

    for (size_t i = 0; i < t->n; i++) {
        const struct llm_price *q = &t->e[i];
        if (q->prefix == p->prefix && q->from_us > p->from_us &&
            !strcmp(q->provider, p->provider) && !strcmp(q->model, p->model) &&
            (!next || q->from_us < next->from_us))
            next = q;
    }
    return next ? next->from : NULL;
}

static int wprov = 8, wmodel = 5; /* column widths: the longest shown */

static int shown_model(const struct llm_price *p, const struct prices_opts *o, const char *model)
{
    if (o->provider && strcmp(p->provider, o->provider))
        return 0;
    if (!model)
        return 1;
    return p->prefix ? !strncmp(model, p->model, strlen(p->model)) : !strcmp(model, p->model);
}

/* Sizes the columns for the entries shown; returns how many there are. */
static size_t measure(const struct llm_price_table *t, const struct prices_opts *o,
                      const char *model)
{
    size_t n = 0;

    for (size_t i = 0; i < t->n; i++) {
        const struct llm_price *p = &t->e[i];
        if (!shown_model(p, o, model))
            continue;
        n++;
        if ((int)strlen(p->provider) > wprov)
            wprov = (int)strlen(p->provider);
        if ((int)strlen(p->model) + p->prefix > wmodel)
            wmodel = (int)strlen(p->model) + p->prefix;
    }
    return n;
}

static void print_entry(const struct llm_price_table *t, const struct llm_price *p, int with_until,
                        const struct llm_price *applies)
{
    char in[32], out[32], cr[32], cw[32], lc[32], model[256];

    rate(in, sizeof(in), p->base.input);
    rate(out, sizeof(out), p->base.output);
    rate(cr, sizeof(cr), p->base.cache_read);
    rate(cw, sizeof(cw), p->base.cache_write);
    snprintf(lc, sizeof(lc), p->has_long ? ">%lld" : "-", (long long)p->long_threshold);
    snprintf(model, sizeof(model), "%s%s", p->model, p->prefix ? "*" : "");
    printf("%-*s  %-*s  %-10.10s", wprov, p->provider, wmodel, model, p->from);
    if (with_until)
        printf(" %-10.10s %s", until(t, p) ? until(t, p) : "-", p == applies ? "*" : " ");
    printf(" %8s %8s %10s %11s %s\n", in, out, cr, cw, lc);
}

static void print_head(int with_until)
{
    printf("%-*s  %-*s  %-10s", wprov, "PROVIDER", wmodel, "MODEL", "FROM");
    if (with_until)
        printf(" %-10s  ", "UNTIL");
    printf(" %8s %8s %10s %11s %s\n", "INPUT", "OUTPUT", "CACHE_READ", "CACHE_WRITE",
           "LONG_CONTEXT");
}

static void print_applying(const struct llm_price *p, const char *model)
{
    char a[32], b[32], c[32], d[32], e[32];

    printf("\n%s (%s) is priced by %s%s from %s: %s\n", model, p->provider, p->model,
           p->prefix ? "*" : "", p->from, p->source);
    if (!isnan(p->base.cache_write_1h)) {
        rate(a, sizeof(a), p->base.cache_write_1h);
        printf("  one-hour cache writes: %s\n", a);
    }
    if (p->has_long) {
        rate(a, sizeof(a), p->lng.input);
        rate(b, sizeof(b), p->lng.output);
        rate(c, sizeof(c), p->lng.cache_read);
        rate(d, sizeof(d), p->lng.cache_write);
        rate(e, sizeof(e), p->lng.cache_write_1h);
        printf("  input_tokens > %lld: input %s, output %s, cache_read %s, cache_write %s, "
               "cache_write_1h %s\n",
               (long long)p->long_threshold, a, b, c, d, e);
    }
    if (p->note)
        printf("  note: %s\n", p->note);
}

static void print_title(const struct llm_price_table *t)
{
    printf("price table %s (as of %s), USD per million tokens\n", t->path,
           t->as_of ? t->as_of : "-");
}

static int show_model(const struct llm_price_table *t, const struct prices_opts *o,
                      const char *model)
{
    const struct llm_price *shown[64];
    size_t nshown = 0;

    if (!measure(t, o, model)) {
        llm_cli_error(LLM_ENOTFOUND, "prices: no entry for model '%s'%s%s", model,
                      o->provider ? " of provider " : "", o->provider ? o->provider : "");
        return LLM_EXIT_RUNTIME;
    }
    print_title(t);
    print_head(1);
    for (size_t i = 0; i < t->n; i++) {
        const struct llm_price *p = &t->e[i], *applies;
        if (!shown_model(p, o, model))
            continue;
        applies = llm_cost_lookup(t, p->provider, model, o->at_us);
        print_entry(t, p, 1, applies);
        if (applies && nshown < 64) {
            size_t k = 0;
            while (k < nshown && shown[k] != applies)
                k++;
            if (k == nshown)
                shown[nshown++] = applies;
        }
    }
    for (size_t k = 0; k < nshown; k++)
        print_applying(shown[k], model);
    return 0;
}

int llm_prices_main(int argc, char **argv)
{
    struct prices_opts o = {.at_us = llm_now_ns() / 1000};
    struct llm_cmd cmd = {
        .name = "prices", .usage = usage, .opts = opts, .max_args = 1, .opt = own_opt, .ctx = &o};
    struct llm_cmd_args a;
    const struct llm_price_table *t;
    int rc = llm_cmd_parse(&cmd, argc, argv, &a);

    if (rc >= 0)
        return rc;
    if (llm_cost_load(1))
        return LLM_EXIT_RUNTIME;
    t = llm_cost_table();
    rc = 0;
    if (a.nargs) {
        rc = show_model(t, &o, a.args[0]);
        if (rc)
            return rc;
    } else {
        measure(t, &o, NULL);
        print_title(t);
        print_head(0);
        for (size_t i = 0; i < t->n; i++) {
            if (shown_model(&t->e[i], &o, NULL))
                print_entry(t, &t->e[i], 0, NULL);
        }
    }
    if (fflush(stdout) || ferror(stdout)) {
        llm_cli_error(-EIO, "write standard output");
        return LLM_EXIT_RUNTIME;
    }
    return rc;
}
