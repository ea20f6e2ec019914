/* Provider registry data: host names to provider names. Read-only after
 * llm_providers_configure(), so any thread may look up without locks.
 * Matching is case-insensitive. (API paths are apis.def's.) */
#include "providers.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct host_rule {
    const char *host; /* "*.example.com" matches subdomains */
    const char *provider;
};

static const struct host_rule builtin[] = {
    {"api.openai.com", "openai"},
    {"*.openai.azure.com", "azure.ai.openai"},
    {"*.cognitiveservices.azure.com", "azure.ai.openai"},
    {"*.services.ai.azure.com", "azure.ai.inference"},
    {"api.anthropic.com", "anthropic"},
    {"generativelanguage.googleapis.com", "gcp.gemini"},
    {"aiplatform.googleapis.com", "gcp.vertex_ai"},
    {"*-aiplatform.googleapis.com", "gcp.vertex_ai"},
    {"api.mistral.ai", "mistral_ai"},
    {"api.groq.com", "groq"},
    {"api.deepseek.com", "deepseek"},
    {"api.x.ai", "x_ai"},
    {"api.cohere.com", "cohere"},
    {"api.cohere.ai", "cohere"},
    {"openrouter.ai", "openrouter"},
    {"api.together.xyz", "together_ai"},
    {"api.together.ai", "together_ai"},
    {"api.perplexity.ai", "perplexity"},
    {"api.fireworks.ai", "fireworks"},
    {"bedrock-runtime.*.amazonaws.com", "aws.bedrock"},
};

#define USER_MAX 32
static struct host_rule user[USER_MAX];
static int nuser;
static char *user_spec;

/* Suffix match for "*.x" / "*-x" patterns, a single inner "*" for
 * "a.*.b" patterns (one label), exact otherwise. */
static int host_match(const char *pat, const char *h, size_t n)
{
    const char *star = strchr(pat, '*');
    size_t plen = strlen(pat);

    if (!star)
        return plen == n && !strncasecmp(pat, h, n);
    size_t pre = (size_t)(star - pat), suf = plen - pre - 1;
    if (n < pre + suf + 1)
        return 0;
    if (strncasecmp(pat, h, pre) || strncasecmp(star + 1, h + n - suf, suf))
        return 0;
    if (pre == 0)
        return 1; /* leading wildcard: any prefix */
    /* inner wildcard spans exactly one label */
    return memchr(h + pre, '.', n - pre - suf) == NULL;
}

int llm_providers_configure(const char *spec)
{
    char *save = NULL, *tok;
    int rc = 0;

    nuser = 0;
    free(user_spec);
    user_spec = NULL;
    if (!spec || !*spec)
        return 0;
    user_spec = strdup(spec);
    if (!user_spec)
        return LLM_ENOMEM;
    for (tok = strtok_r(user_spec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        while (*tok == ' ')
            tok++;
        if (!eq || eq == tok || !eq[1] || nuser == USER_MAX) {
            rc = LLM_EINVAL;
            continue;
        }
        *eq = '\0';
        user[nuser].host = tok;
        user[nuser].provider = eq + 1;
        nuser++;
    }
    return rc;
}

const char *llm_provider_for_host(const char *host, size_t n)
{
    if (!host || !n)
        return NULL;
    if (host[n - 1] == '.') /* fully qualified form */
        n--;
    for (int i = 0; i < nuser; i++)
        if (host_match(user[i].host, host, n))
            return user[i].provider;
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        if (host_match(builtin[i].host, host, n))
            return builtin[i].provider;
    return NULL;
}

const char *llm_providers_host_at(size_t i)
{
    if (i < (size_t)nuser)
        return user[i].host;
    i -= (size_t)nuser;
    return i < sizeof(builtin) / sizeof(builtin[0]) ? builtin[i].host : NULL;
}
