/* `llmops prices [MODEL]` and `llmops prices update FILE`: what prices a
 * call. Without MODEL, the tables' entries (the user's file, the curated
 * prices.json) and a summary of the genai-prices database; with MODEL, the
 * matching table entries with the dates each covers, then which layer and
 * which entry or database rule prices a call made at --at with --input-tokens
 * of prompt - the same llm_cost_resolve export and stats use. `update`
 * validates a newer database and installs it in the user's data directory
 * (the installed copy may be read-only), keeping the one it replaces. Main
 * thread only. */
#include "cli.h"
#include "cmd.h"
#include "cost.h"
#include "err.h"
#include "pricedb.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: llmops prices [--prices FILE] [--provider P] [--at TIME] [--input-tokens N] [MODEL]\n"
    "       llmops prices update FILE\n"
    "\n"
    "Shows what prices calls, USD per million tokens. Three layers, most\n"
    "specific first: the user's table (--prices FILE, else $LLMOPS_PRICES), the\n"
    "curated table (prices.json shipped with llmops: dated prices more precise\n"
    "than the database), then the genai-prices database (prices/ shipped with\n"
    "llmops, or the newer copy `prices update` installed in\n"
    "$XDG_DATA_HOME/llmops/prices, default ~/.local/share/llmops/prices).\n"
    "\n"
    "Without MODEL: the tables' entries (a model ending in '*' is a prefix) and\n"
    "the database. With MODEL: the table entries matching it, the dates each\n"
    "covers, the one in effect at --at (marked '*'; default now), then the\n"
    "layer, entry or database rule and rates that price such a call.\n"
    "\n"
    "A table entry has provider, model (exact) or model_prefix,\n"
    "effective_from, usd_per_mtok {input, output, cache_read, cache_write,\n"
    "cache_write_1h}, an optional long_context tier {threshold_input_tokens,\n"
    "rates} and its source; \"defer\": true hands calls from its date to the\n"
    "next layer. A table prices a call by the entry of its provider that\n"
    "matches its model most specifically (exact, then the longest prefix) and\n"
    "is in effect at its timestamp (the latest such). The database finds the\n"
    "provider by name, else by API URL, and the model by its match rules; its\n"
    "prices may start on a date, hold at times of day, or be tiered by prompt\n"
    "size. Cost:\n"
    "  (input_tokens - cache_read - cache_write) x input + cache_read x\n"
    "  cache_read + cache_write x cache_write + output_tokens x output\n"
    "(output_tokens already includes reasoning); with input_tokens above the\n"
    "long-context threshold (a tier's start) the tier's rates price the whole\n"
    "call. A cache rate left out ('-') is the input rate. No price: the cost is\n"
    "null. A cost the provider reported (OpenRouter's usage.cost) wins.\n"
    "\n"
    "  --prices FILE       the user's table\n"
    "  --provider P        only entries of provider P (our name, e.g. aws.bedrock)\n"
    "  --at TIME           with MODEL: the time of the call (YYYY-MM-DD or RFC 3339)\n"
    "  --input-tokens N    with MODEL: the prompt size (tiers), default 1000\n"
    "  -h, --help          show this help\n"
    "\n"
    "prices update FILE: checks FILE against the database's schema (every\n"
    "provider, model, rule, price and constraint; every regex compiled) and\n"
    "installs it as the database, keeping the copy it replaces beside it\n"
    "(.previous); a file that fails is refused and nothing changes.\n";

enum { OPT_PROVIDER = LLM_CO_OWN, OPT_AT, OPT_INPUT };

static const struct option opts[] = {
    LLM_CMD_PRICES_OPT,
    LLM_CMD_HELP_OPT,
    {"provider", required_argument, NULL, OPT_PROVIDER},
    {"at", required_argument, NULL, OPT_AT},
    {"input-tokens", required_argument, NULL, OPT_INPUT},
    {NULL, 0, NULL, 0},
};

struct prices_opts {
    const char *provider;
    int64_t at_us, input;
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
    if (c == OPT_INPUT) {
        char *end;
        errno = 0;
        o->input = strtoll(val, &end, 10);
        if (!errno && end != val && !*end && o->input >= 0)
            return 0;
        snprintf(why, n, "--input-tokens wants a whole number >= 0, not '%s'", val);
        return LLM_EINVAL;
    }
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
    if (p->defer) { /* no rates of its own */
        snprintf(in, sizeof(in), "(next");
        snprintf(out, sizeof(out), "layer)");
        snprintf(cr, sizeof(cr), "-");
        snprintf(cw, sizeof(cw), "-");
    }
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

static const char *const layer_names[] = {"user table", "curated table", "database"};

static void print_title(const struct llm_price_table *t, enum llm_cost_layer l)
{
    printf("%s %s (as of %s), USD per million tokens\n", layer_names[l], t->path,
           t->as_of ? t->as_of : "-");
}

static void print_rates(const char *what, const struct llm_rates *r, double per_request)
{
    char a[32], b[32], c[32], d[32], e[32];

    rate(a, sizeof(a), r->input);
    rate(b, sizeof(b), r->output);
    rate(c, sizeof(c), r->cache_read);
    rate(d, sizeof(d), r->cache_write);
    rate(e, sizeof(e), r->cache_write_1h);
    printf("  %s: input %s, output %s, cache_read %s, cache_write %s, cache_write_1h %s", what, a,
           b, c, d, e);
    if (per_request > 0)
        printf(", per call %g USD", per_request);
    printf("\n");
}

/* Which layer prices the call, and how. */
static int print_priced_by(const struct prices_opts *o, const char *provider, const char *model)
{
    struct llm_cost_hit h;
    const struct llm_price *p;
    const char *dbpath;

    if (llm_cost_resolve(provider, NULL, NULL, model, o->at_us, o->input, &h))
        return LLM_ENOTFOUND;
    p = h.entry;
    printf("\n%s (%s), %lld input tokens: priced by the %s", model, provider ? provider : "any",
           (long long)o->input, layer_names[h.layer]);
    if (h.layer != LLM_LAYER_DB) {
        printf(", entry %s%s from %s: %s\n", p->model, p->prefix ? "*" : "", p->from, p->source);
        print_rates("rates", &p->base, 0);
        if (p->has_long) {
            char what[64];
            snprintf(what, sizeof(what), "input_tokens > %lld", (long long)p->long_threshold);
            print_rates(what, &p->lng, 0);
        }
        if (p->note)
            printf("  note: %s\n", p->note);
        return 0;
    }
    llm_cost_db(&dbpath);
    printf(" %s\n  provider %s (found by %s), model %s%s%s, rule %s\n", dbpath, h.db.provider,
           h.db.how, h.db.model, h.db.via ? " of fallback provider " : "", h.db.via ? h.db.via : "",
           h.db.rule);
    if (h.db.nprices)
        printf("  conditional price %d of %d%s%s\n", h.db.index + 1, h.db.nprices,
               h.db.when[0] ? ": " : " (no constraint)", h.db.when);
    print_rates(h.db.tiered ? "rates at this prompt size (tiered)" : "rates", &h.rates,
                h.per_request);
    return 0;
}

static int show_table(const struct llm_price_table *t, enum llm_cost_layer l,
                      const struct prices_opts *o, const char *model,
                      const struct llm_price **shown, size_t *nshown)
{
    if (!t || !measure(t, o, model))
        return 0;
    print_title(t, l);
    print_head(!!model);
    for (size_t i = 0; i < t->n; i++) {
        const struct llm_price *p = &t->e[i], *applies = NULL;
        if (!shown_model(p, o, model))
            continue;
        if (model)
            applies = llm_cost_lookup(t, p->provider, model, o->at_us);
        print_entry(t, p, !!model, applies);
        if (model && *nshown < 64) {
            size_t k = 0;
            while (k < *nshown && strcmp(shown[k]->provider, p->provider))
                k++;
            if (k == *nshown)
                shown[(*nshown)++] = p;
        }
    }
    return 1;
}

static int show(const struct prices_opts *o, const char *model)
{
    const struct llm_price *shown[64];
    size_t nshown = 0, nprov, nmodels;
    const char *dbpath;
    struct llm_pricedb *db = llm_cost_db(&dbpath);
    int any = 0;

    any |= show_table(llm_cost_user_table(), LLM_LAYER_USER, o, model, shown, &nshown);
    any |= show_table(llm_cost_table(), LLM_LAYER_CURATED, o, model, shown, &nshown);
    if (!model) {
        nprov = llm_pricedb_count(db, &nmodels);
        if (db)
            printf("database %s: %zu providers, %zu models (genai-prices)\n", dbpath, nprov,
                   nmodels);
        return 0;
    }
    /* each provider a table entry names, else --provider, else the model's own */
    any = 0;
    for (size_t k = 0; k < nshown; k++)
        any |= !print_priced_by(o, shown[k]->provider, model);
    if (!nshown)
        any = !print_priced_by(o, o->provider, model);
    if (!any) {
        llm_cli_error(LLM_ENOTFOUND, "prices: no price for model '%s'%s%s", model,
                      o->provider ? " of provider " : "", o->provider ? o->provider : "");
        return LLM_EXIT_RUNTIME;
    }
    return 0;
}

/* Copies src to dst through a temporary file beside dst, renamed into place. */
static int install_copy(const char *src, const char *dst)
{
    char tmp[PATH_MAX + 16], buf[65536];
    FILE *in = fopen(src, "rb"), *out = NULL;
    size_t k;
    int rc = 0;

    snprintf(tmp, sizeof(tmp), "%s.new", dst);
    if (!in)
        return -errno;
    out = fopen(tmp, "wb");
    if (!out) {
        rc = -errno;
        goto close_in;
    }
    while (!rc && (k = fread(buf, 1, sizeof(buf), in)) > 0)
        if (fwrite(buf, 1, k, out) != k)
            rc = -EIO;
    if (!rc && ferror(in))
        rc = -EIO;
    if (fflush(out) || fsync(fileno(out)))
        rc = rc ? rc : -errno;
    if (fclose(out) && !rc)
        rc = -errno;
    if (!rc && rename(tmp, dst))
        rc = -errno;
    if (rc)
        unlink(tmp);
close_in:
    fclose(in);
    return rc;
}

static int mkdirs(char *path) /* the directories leading to path's last '/' */
{
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(path, 0755) && errno != EEXIST) {
            int rc = -errno;
            *p = '/';
            return rc;
        }
        *p = '/';
    }
    return 0;
}

static int update(const char *file)
{
    char dst[PATH_MAX], prev[PATH_MAX + 16], why[700] = "";
    struct llm_pricedb *db;
    size_t np, nm;
    int rc = llm_pricedb_load(file, &db, why, sizeof(why));

    if (rc) {
        llm_cli_error(rc, "prices update: %s refused (the database is unchanged): %s", file, why);
        return LLM_EXIT_RUNTIME;
    }
    np = llm_pricedb_count(db, &nm);
    llm_pricedb_free(db);
    if (llm_cost_db_user_path(dst, sizeof(dst))) {
        llm_cli_error(LLM_ENOTFOUND, "prices update: no data directory (XDG_DATA_HOME, HOME)");
        return LLM_EXIT_RUNTIME;
    }
    snprintf(prev, sizeof(prev), "%s.previous", dst);
    rc = mkdirs(dst);
    if (!rc && !access(dst, F_OK))
        rc = install_copy(dst, prev);
    if (!rc)
        rc = install_copy(file, dst);
    if (rc) {
        llm_cli_error(rc, "prices update: install %s", dst);
        return LLM_EXIT_RUNTIME;
    }
    printf("installed %s (%zu providers, %zu models)%s%s\n", dst, np, nm,
           access(prev, F_OK) ? "" : "; the previous copy is ", access(prev, F_OK) ? "" : prev);
    return 0;
}

int llm_prices_main(int argc, char **argv)
{
    struct prices_opts o = {.at_us = llm_now_ns() / 1000, .input = 1000};
    struct llm_cmd cmd = {
        .name = "prices", .usage = usage, .opts = opts, .max_args = 2, .opt = own_opt, .ctx = &o};
    struct llm_cmd_args a;
    int rc = llm_cmd_parse(&cmd, argc, argv, &a);

    if (rc >= 0)
        return rc;
    if (a.nargs == 2 && !strcmp(a.args[0], "update"))
        return update(a.args[1]);
    if (a.nargs == 2)
        return llm_cmd_usage_error("prices", "one MODEL, or update FILE");
    if (llm_cost_load(1))
        return LLM_EXIT_RUNTIME;
    rc = show(&o, a.nargs ? a.args[0] : NULL);
    if (rc)
        return rc;
    if (fflush(stdout) || ferror(stdout)) {
        llm_cli_error(-EIO, "write standard output");
        return LLM_EXIT_RUNTIME;
    }
    return 0;
}
