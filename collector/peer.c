/* The calling process of a proxied connection (peer.h): its wire form (the
 * fields as decimal or text, each ended by a NUL; absent strings empty),
 * and the argv redaction the writer also uses for its own process. */
#include "peer.h"
#include "err.h"
#include "redact.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSTR 6

char *llm_peer_argv_json(const char *cmdline, size_t n, int capture_content)
{
    json_t *arr = json_array();
    const char *prev = NULL;
    char *out;

    if (!arr)
        return NULL;
    for (const char *p = cmdline; p < cmdline + n; p += strlen(p) + 1) {
        char *clean =
            capture_content || p == cmdline ? llm_redact_arg(p, prev) : llm_redact_flag(p);
        if (clean) {
            json_t *v = json_string(clean);
            json_array_append_new(arr, v ? v : json_null());
            free(clean);
        }
        prev = p;
    }
    out = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return out;
}

int llm_peer_encode(const struct llm_peer *p, char **out, size_t *n)
{
    const char *s[NSTR] = {p->exe, p->argv_json, p->session, p->workspace, p->agent, p->action};
    char num[48];
    size_t len =
        (size_t)snprintf(num, sizeof(num), "%lld %lld", (long long)p->pid, (long long)p->ppid) + 1;
    char *b;

    for (int i = 0; i < NSTR; i++)
        len += (s[i] ? strlen(s[i]) : 0) + 1;
    b = malloc(len);
    if (!b)
        return LLM_ENOMEM;
    *out = b;
    *n = len;
    b += snprintf(b, len, "%lld", (long long)p->pid) + 1;
    b += snprintf(b, len, "%lld", (long long)p->ppid) + 1;
    for (int i = 0; i < NSTR; i++) {
        size_t l = s[i] ? strlen(s[i]) : 0;
        memcpy(b, s[i] ? s[i] : "", l + 1);
        b += l + 1;
    }
    return 0;
}

int llm_peer_decode(const char *buf, size_t n, struct llm_peer *out)
{
    char **s[NSTR] = {&out->exe,       &out->argv_json, &out->session,
                      &out->workspace, &out->agent,     &out->action};
    const char *p = buf, *end = buf + n;
    const char *field[NSTR + 2];

    memset(out, 0, sizeof(*out));
    for (int i = 0; i < NSTR + 2; i++) {
        const char *z = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
        if (!z)
            return LLM_EPARSE;
        field[i] = p;
        p = z + 1;
    }
    out->pid = strtoll(field[0], NULL, 10);
    out->ppid = strtoll(field[1], NULL, 10);
    if (out->pid <= 0)
        return LLM_EPARSE;
    for (int i = 0; i < NSTR; i++)
        if (*field[i + 2] && !(*s[i] = strdup(field[i + 2]))) {
            llm_peer_free(out);
            return LLM_ENOMEM;
        }
    return 0;
}

void llm_peer_free(struct llm_peer *p)
{
    free(p->exe);
    free(p->argv_json);
    free(p->session);
    free(p->workspace);
    free(p->agent);
    free(p->action);
    memset(p, 0, sizeof(*p));
}

void llm_peer_stamp(const struct llm_peer *p, struct llm_record *r)
{
    const struct {
        enum llm_field f;
        const char *v;
    } attrib[] = {{LLM_F_SESSION_ID, p->session},
                  {LLM_F_WORKSPACE, p->workspace},
                  {LLM_F_AGENT_ID, p->agent},
                  {LLM_F_ACTION_ID, p->action}};

    llm_record_set_int(r, LLM_F_PID, p->pid);
    llm_record_set_int(r, LLM_F_PPID, p->ppid);
    if (p->exe)
        llm_record_set_cstr(r, LLM_F_EXE, p->exe);
    if (p->argv_json)
        llm_record_set_cstr(r, LLM_F_ARGV, p->argv_json);
    for (size_t i = 0; i < sizeof(attrib) / sizeof(attrib[0]); i++)
        if (attrib[i].v && !r->f[attrib[i].f].set)
            llm_record_set_cstr(r, attrib[i].f, attrib[i].v);
}
