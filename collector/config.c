/* The environment as a struct llm_config (config.h). Runs once per product,
 * from whichever thread starts it; no state of its own. */
#include "config.h"
#include "err.h"
#include "log.h"

#include <errno.h>
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
static size_t env_size(const char *name, size_t dflt, size_t min, size_t max)
{
    const char *v = getenv(name);
    size_t n = dflt;

    if (v && *v && llm_config_size(v, min, max, &n)) {
        llm_log("ignoring %s=%s", name, v);
        n = dflt;
    }
    return n;
}

static int env_bool(const char *name, int dflt)
{
    int b = dflt;

    llm_config_bool(getenv(name), &b);
    return b;
}

void llm_config_load(struct llm_config *c)
{
    const char *v;

    memset(c, 0, sizeof(*c));
    c->disable = env_bool("LLMOPS_DISABLE", 0);
    c->log = getenv("LLMOPS_LOG");
    if (!c->disable) /* pure pass-through writes nothing, not even a log line */
        llm_log_init(c->log);
    v = getenv("LLMOPS_HOSTS");
    c->hosts = v && *v ? v : NULL;
    /* a count of milliseconds, not a size: no suffix */
    v = getenv("LLMOPS_FLUSH_TIMEOUT_MS");
    c->flush_timeout_ms = 3000;
    if (v && *v) {
        char *end;
        long ms = strtol(v, &end, 10);
        if (*end || end == v || ms < 0 || ms > 600000)
            llm_log("ignoring LLMOPS_FLUSH_TIMEOUT_MS=%s", v);
        else
            c->flush_timeout_ms = (int)ms;
    }
    c->queue_max = env_size("LLMOPS_QUEUE_MAX", 64 << 20, 64 << 10, (size_t)16 << 30);
    c->max_body = env_size("LLMOPS_MAX_BODY", 1 << 20, 1024, SIZE_MAX);
    c->max_parse = env_size("LLMOPS_MAX_PARSE", 64 << 20, 1024, SIZE_MAX);
    c->max_event = env_size("LLMOPS_MAX_EVENT", 4 << 20, 1024, SIZE_MAX);
    c->capture_content = env_bool("LLMOPS_CAPTURE_CONTENT", 1);
}
