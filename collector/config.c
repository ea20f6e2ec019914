/* The environment as a struct llm_config (config.h). Runs once per product,
 * from whichever thread starts it; no state of its own. */
#include "config.h"
#include "err.h"
#include "log.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int llm_config_size(const char *v, size_t min, size_t max, size_t *out)
{
    static const char suffixes[] = "kmg";
    unsigned long long n;
    const char *s;
    char *end;
    int shift = 0;

    if (!v || *v < '0' || *v > '9')
        return LLM_EINVAL;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno)
        return LLM_EINVAL;
    if (*end && (s = strchr(suffixes, *end | 0x20)) != NULL) {
        shift = 10 * (int)(s - suffixes + 1);
        end++;
    }
    if (*end || n > (~0ULL >> shift))
        return LLM_EINVAL;
    n <<= shift;
    if (n < min || n > max)
        return LLM_EINVAL;
    *out = (size_t)n;
    return 0;
}

int llm_config_bool(const char *v, int *out)
{
    static const char *const no[] = {"0", "false", "no", "off"};

    if (!v || !*v)
        return LLM_EINVAL;
    *out = 1;
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (!strcasecmp(v, no[i]))
            *out = 0;
    return 0;
}

/* The environment's value of name, else dflt; a bad value is logged. */
/* The LLMOPS_* variables, found in one pass over the environment: every
 * process under the shim pays for this at start, so not one getenv each. */
struct env_vals {
    const char *disable, *log, *hosts, *flush_timeout_ms, *queue_max, *max_body, *max_parse,
        *max_event, *max_head, *capture_content, *proxy;
};

static void env_scan(struct env_vals *e)
{
    extern char **environ;
    static const struct {
        const char *name; /* after "LLMOPS_", with the '=' */
        size_t off;
    } vars[] = {
        {"DISABLE=", offsetof(struct env_vals, disable)},
        {"LOG=", offsetof(struct env_vals, log)},
        {"HOSTS=", offsetof(struct env_vals, hosts)},
        {"FLUSH_TIMEOUT_MS=", offsetof(struct env_vals, flush_timeout_ms)},
        {"QUEUE_MAX=", offsetof(struct env_vals, queue_max)},
        {"MAX_BODY=", offsetof(struct env_vals, max_body)},
        {"MAX_PARSE=", offsetof(struct env_vals, max_parse)},
        {"MAX_EVENT=", offsetof(struct env_vals, max_event)},
        {"MAX_HEAD=", offsetof(struct env_vals, max_head)},
        {"CAPTURE_CONTENT=", offsetof(struct env_vals, capture_content)},
        {"PROXY=", offsetof(struct env_vals, proxy)},
    };

    memset(e, 0, sizeof(*e));
    for (char **p = environ; p && *p; p++) {
        const char *s = *p;
        if (s[0] != 'L' || strncmp(s, "LLMOPS_", 7))
            continue;
        s += 7;
        for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
            const char **slot = (const char **)((char *)e + vars[i].off);
            size_t n = strlen(vars[i].name);
            /* the first occurrence wins, as with getenv */
            if (!strncmp(s, vars[i].name, n)) {
                if (!*slot)
                    *slot = s + n;
                break;
            }
        }
    }
}

static size_t env_size(const char *name, const char *v, size_t dflt, size_t min, size_t max)
{
    size_t n = dflt;

    if (v && *v && llm_config_size(v, min, max, &n)) {
        llm_log("ignoring %s=%s", name, v);
        n = dflt;
    }
    return n;
}

static int env_bool(const char *v, int dflt)
{
    int b = dflt;

    llm_config_bool(v, &b);
    return b;
}

void llm_config_load(struct llm_config *c)
{
    struct env_vals e;
    const char *v;

    env_scan(&e);
    memset(c, 0, sizeof(*c));
    c->disable = env_bool(e.disable, 0);
    c->log = e.log;
    if (!c->disable) /* pure pass-through writes nothing, not even a log line */
        llm_log_init(c->log);
    c->hosts = e.hosts && *e.hosts ? e.hosts : NULL;
    c->proxy = e.proxy && *e.proxy ? e.proxy : NULL;
    /* a count of milliseconds, not a size: no suffix */
    v = e.flush_timeout_ms;
    c->flush_timeout_ms = 3000;
    if (v && *v) {
        char *end;
        long ms = strtol(v, &end, 10);
        if (*end || end == v || ms < 0 || ms > 600000)
            llm_log("ignoring LLMOPS_FLUSH_TIMEOUT_MS=%s", v);
        else
            c->flush_timeout_ms = (int)ms;
    }
    c->queue_max = env_size("LLMOPS_QUEUE_MAX", e.queue_max, 64 << 20, 64 << 10, (size_t)16 << 30);
    c->max_body = env_size("LLMOPS_MAX_BODY", e.max_body, 1 << 20, 1024, SIZE_MAX);
    c->max_parse = env_size("LLMOPS_MAX_PARSE", e.max_parse, 64 << 20, 1024, SIZE_MAX);
    c->max_event = env_size("LLMOPS_MAX_EVENT", e.max_event, 4 << 20, 1024, SIZE_MAX);
    c->max_head = env_size("LLMOPS_MAX_HEAD", e.max_head, 1 << 20, 1024, SIZE_MAX);
    c->capture_content = env_bool(e.capture_content, 1);
}
