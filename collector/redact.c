/* Secret redaction: one scanner, two nets. The text scanner walks any bytes
 * once (a JSON body of any strictness, a form body, a query string, an
 * argument, prose) and at each position tries, in order: a URL's userinfo,
 * a JSON member "name": value (also inside escaped JSON, \"name\"), a word
 * that starts a known key shape, and a name followed by '=' or ':'. Names
 * are judged by their last word (api_key, apiKey, X-Amz-Signature), so
 * max_tokens and monkey pass. A false positive costs a redacted value in a
 * record, a false negative leaks a credential: the lists are broad.
 * Invariant: the output of a pass is a fixed point of the next pass
 * (LLM_REDACTED is never itself a value worth replacing). Pure; any thread. */
#include "redact.h"
#include "record.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MARK LLM_REDACTED
#define MARK_LEN (sizeof(LLM_REDACTED) - 1)
#define NAME_MAX_LEN 128

struct out {
    char *p;
    size_t n, cap;
    int oom, count;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom || !n)
        return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap < o->n + n + 1)
            cap *= 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static void put_mark(struct out *o)
{
    put(o, MARK, MARK_LEN);
    o->count++;
}

/* ---- names ---- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* %XX and \u00XX decoded, into d (NUL-terminated); 0 if too long. */
static size_t decode_name(const char *s, size_t n, char *d, size_t cap)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (c == '\\' && i + 5 < n && s[i + 1] == 'u' && s[i + 2] == '0' &&
                   s[i + 3] == '0' && hexval(s[i + 4]) >= 0 && hexval(s[i + 5]) >= 0) {
            c = (char)(hexval(s[i + 4]) * 16 + hexval(s[i + 5]));
            i += 5;
        }
        if (k + 1 >= cap)
            return 0;
        d[k++] = c;
    }
    d[k] = '\0';
    return k;
}

static int is_sep(char c)
{
    return c == '-' || c == '_' || c == '.' || c == ' ' || c == '$';
}

static int in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(w, *list))
            return 1;
    return 0;
}

/* Last words that make a name secret, and whole names (separators dropped)
 * that do without a word boundary. */
static const char *const secret_words[] = {
    "key",  "apikey",        "token",      "secret",      "password",  "passwd",
    "pwd",  "passphrase",    "credential", "credentials", "signature", "sig",
    "auth", "authorization", "bearer",     "cookie",      "session",   NULL};
static const char *const secret_whole[] = {
    "apikey",    "xapikey",      "apitoken",     "accesstoken",
    "accesskey", "secretkey",    "privatekey",   "authtoken",
    "idtoken",   "refreshtoken", "sessiontoken", "clientsecret",
    "setcookie", "privatetoken", "pass",         "password",
    NULL};
/* One-word names that are credentials even in "Name: value" prose form. */
static const char *const header_words[] = {"authorization", "cookie", "password",
                                           "passwd",        "apikey", "credentials",
                                           "bearer",        "secret", NULL};
/* Names whose last word is secret-sounding but whose values are not. */
static const char *const not_secret[] = {"promptcachekey", "idempotencykey", "cachekey", "tokenkey",
                                         NULL};

int llm_redact_is_secret_name(const char *s, size_t n, int form)
{
    char d[NAME_MAX_LEN + 1], whole[NAME_MAX_LEN + 1], last[NAME_MAX_LEN + 1];
    size_t k = decode_name(s, n, d, sizeof(d)), w = 0, start = 0;

    if (!k)
        return 0;
    if (k > 2 && d[0] == '-' && d[1] == 'H' && isalpha((unsigned char)d[2]))
        start = 2; /* curl's -HName: value */
    /* the last word: after the last separator or lower->Upper boundary */
    size_t ls = start;
    for (size_t i = start; i < k; i++) {
        unsigned char c = (unsigned char)d[i];
        if (is_sep(d[i])) {
            ls = i + 1;
            continue;
        }
        if (i > ls && isupper(c) &&
            (islower((unsigned char)d[i - 1]) ||
             (i + 1 < k && islower((unsigned char)d[i + 1]) && isupper((unsigned char)d[i - 1]))))
            ls = i;
        whole[w++] = (char)tolower(c);
    }
    whole[w] = '\0';
    size_t m = 0;
    for (size_t i = ls; i < k; i++)
        if (!is_sep(d[i]))
            last[m++] = (char)tolower((unsigned char)d[i]);
    last[m] = '\0';
    if (!w || in_list(whole, not_secret))
        return 0;
    if (form == LLM_NAME_EQ && !strcmp(whole, "code"))
        return 1;
    if (!in_list(last, secret_words) && !in_list(whole, secret_whole))
        return 0;
    /* "Name: value" in prose ("the key: ...") is common; one word must be
     * one that names nothing else */
    return form != LLM_NAME_HEADER || strcmp(whole, last) || in_list(whole, header_words);
}

/* ---- shapes ---- */

static int key_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

static int b64_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Length of a known key shape starting at s (0 if none); the caller has
 * checked that s starts a word. */
static size_t key_shape(const char *s, size_t n)
{
    static const struct {
        const char *prefix;
        size_t min; /* key characters after the prefix */
    } shapes[] = {
        {"sk-", 16},  {"sk_", 16},         {"AIza", 20},   {"gsk_", 16},  {"xai-", 16},
        {"hf_", 16},  {"ghp_", 20},        {"gho_", 20},   {"ghu_", 20},  {"ghs_", 20},
        {"ghr_", 20}, {"github_pat_", 20}, {"glpat-", 16}, {"xoxb-", 16}, {"xoxp-", 16},
        {"r8_", 16},  {"pplx-", 16},       {"nvapi-", 16}, {"csk-", 16},  {"fw_", 16},
    };
    size_t run = 0;

    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        size_t pl = strlen(shapes[i].prefix);
        if (n < pl || memcmp(s, shapes[i].prefix, pl))
            continue;
        run = 0;
        while (pl + run < n && key_char(s[pl + run]))
            run++;
        if (run >= shapes[i].min)
            return pl + run;
    }
    /* AWS access key ids: AKIA/ASIA and 16 upper-case letters or digits */
    if (n >= 20 && (!memcmp(s, "AKIA", 4) || !memcmp(s, "ASIA", 4))) {
        size_t i = 4;
        while (i < 20 && (isupper((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
            i++;
        if (i == 20 && (n == 20 || !isalnum((unsigned char)s[20])))
            return 20;
    }
    /* JWT: three base64url parts, the first two JSON objects ("eyJ") */
    if (n > 10 && !memcmp(s, "eyJ", 3)) {
        size_t i = 3, dots = 0;
        while (i < n && (b64_char(s[i]) || (s[i] == '.' && dots < 2))) {
            if (s[i] == '.') {
                if (dots == 0 && (i + 3 > n || memcmp(s + i + 1, "eyJ", 3)))
                    break;
                dots++;
            }
            i++;
        }
        if (dots == 2 && i > 20)
            return i;
    }
    return 0;
}

/* "Bearer K" / "Basic K" (any case): the length of the scheme and spaces,
 * with the token's length in *tok (0 when there is no token). */
static size_t auth_scheme(const char *s, size_t n, size_t *tok)
{
    static const char *const schemes[] = {"bearer", "basic"};
    size_t i = 0;

    *tok = 0;
    for (size_t k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++) {
        size_t l = strlen(schemes[k]);
        if (n > l + 1 && !strncasecmp(s, schemes[k], l) && s[l] == ' ') {
            i = l;
            break;
        }
    }
    if (!i)
        return 0;
    while (i < n && s[i] == ' ')
        i++;
    while (i + *tok < n && (isalnum((unsigned char)s[i + *tok]) || strchr("-._~+/=:", s[i + *tok])))
        (*tok)++;
    /* "Bearer [REDACTED]" and prose ("bearer authentication") stay: a
     * credential is long and rarely without a digit */
    int digit = 0;
    for (size_t k = 0; k < *tok; k++)
        digit |= isdigit((unsigned char)s[i + k]) != 0;
    if (*tok < 8 || (!digit && *tok < 24))
        *tok = 0;
    return i;
}

/* ---- the scanner ---- */

struct scan {
    const char *s;
    size_t n, i;
    struct out *o;
};

static int is_mark(const char *s, size_t n)
{
    return n >= MARK_LEN && !memcmp(s, MARK, MARK_LEN);
}

static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == '%';
}

/* Quote at i: 1 for ", 2 for \" (escaped JSON inside a string), else 0. */
static size_t quote_at(const char *s, size_t n, size_t i)
{
    if (i < n && s[i] == '"')
        return 1;
    if (i + 1 < n && s[i] == '\\' && s[i + 1] == '"')
        return 2;
    return 0;
}

/* End of a string whose content starts at i, quoted with ql (the index of
 * its closing quote, or n when it never closes). */
static size_t string_end(const char *s, size_t n, size_t i, size_t ql)
{
    while (i < n) {
        if (ql == 1) {
            if (s[i] == '"')
                return i;
            if (s[i] == '\\')
                i++;
        } else {
            if (i + 3 < n && s[i] == '\\' && s[i + 1] == '\\' && s[i + 2] == '\\' &&
                s[i + 3] == '"') {
                i += 4;
                continue;
            }
            if (s[i] == '\\' && i + 1 < n && s[i + 1] == '"')
                return i;
        }
        i++;
    }
    return n;
}

/* A quoted string at i (content replaced), returns the index after it. */
static size_t redact_string(struct scan *sc, size_t i, size_t ql)
{
    size_t e = string_end(sc->s, sc->n, i + ql, ql);

    put(sc->o, sc->s + i, ql);
    if (e == i + ql || (e - (i + ql) == MARK_LEN && is_mark(sc->s + i + ql, MARK_LEN)))
        put(sc->o, sc->s + i + ql, e - (i + ql));
    else
        put_mark(sc->o);
    if (e >= sc->n)
        return sc->n;
    put(sc->o, sc->s + e, ql);
    return e + ql;
}

static int scalar_end(char c)
{
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' ||
           c == '"' || c == '\\';
}

/* A bare scalar (number, NaN, Infinity) at i becomes a quoted marker;
 * true/false/null carry nothing. */
static size_t redact_scalar(struct scan *sc, size_t i, size_t ql)
{
    size_t e = i;

    while (e < sc->n && !scalar_end(sc->s[e]))
        e++;
    if (e == i) {
        put(sc->o, sc->s + i, 1);
        return i + 1;
    }
    if ((e - i == 4 && (!memcmp(sc->s + i, "true", 4) || !memcmp(sc->s + i, "null", 4))) ||
        (e - i == 5 && !memcmp(sc->s + i, "false", 5))) {
        put(sc->o, sc->s + i, e - i);
        return e;
    }
    put(sc->o, ql == 1 ? "\"" : "\\\"", ql);
    put_mark(sc->o);
    put(sc->o, ql == 1 ? "\"" : "\\\"", ql);
    return e;
}

/* An array under a secret name: every string and scalar in it replaced. */
static size_t redact_array(struct scan *sc, size_t i, size_t ql)
{
    int depth = 0;

    while (i < sc->n) {
        char c = sc->s[i];
        size_t q = quote_at(sc->s, sc->n, i);
        if (q == ql) {
            i = redact_string(sc, i, ql);
            continue;
        }
        if (c == '[' || c == '{')
            depth++;
        else if (c == ']' || c == '}')
            depth--;
        if (c == '[' || c == '{' || c == ']' || c == '}' || c == ',' || c == ':' || c == ' ' ||
            c == '\n' || c == '\r' || c == '\t' || c == '\\') {
            put(sc->o, &c, 1);
            i++;
            if (depth <= 0)
                return i;
            continue;
        }
        i = redact_scalar(sc, i, ql);
    }
    return i;
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* A member name as written: no quotes, no escapes but \u. */
static int plain_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"' || (unsigned char)s[i] < 0x20 ||
            (s[i] == '\\' && (i + 1 >= n || s[i + 1] != 'u')))
            return 0;
    return 1;
}

/* "name" : value at i (quote length ql). Returns the index after what it
 * consumed, or 0 when this is not a member with a secret name. */
static size_t try_member(struct scan *sc, size_t ql)
{
    const char *s = sc->s;
    size_t i = sc->i, ne = string_end(s, sc->n, i + ql, ql), v;

    if (ne >= sc->n || ne - (i + ql) > NAME_MAX_LEN || !plain_name(s + i + ql, ne - (i + ql)) ||
        !llm_redact_is_secret_name(s + i + ql, ne - (i + ql), LLM_NAME_MEMBER))
        return 0;
    v = skip_ws(s, sc->n, ne + ql);
    if (v >= sc->n || s[v] != ':')
        return 0;
    v = skip_ws(s, sc->n, v + 1);
    put(sc->o, s + i, v - i);
    if (v >= sc->n)
        return v;
    if (quote_at(s, sc->n, v) == ql)
        return redact_string(sc, v, ql);
    if (s[v] == '[')
        return redact_array(sc, v, ql);
    if (s[v] == '{')
        return v; /* an object is searched member by member */
    return redact_scalar(sc, v, ql);
}

static void scan(struct scan *sc);

/* scheme://user:password@host: the password. */
static size_t try_userinfo(struct scan *sc)
{
    const char *s = sc->s;
    size_t i = sc->i + 3, colon = 0, e = i;

    while (e < sc->n && !strchr("/?#@ \t\r\n\"'\\<>", s[e])) {
        if (s[e] == ':' && !colon)
            colon = e;
        e++;
    }
    if (e >= sc->n || s[e] != '@' || !colon || colon + 1 == e)
        return 0;
    /* the user part is scanned on its own, bounded at the colon, whether or
     * not the password was replaced before: a second pass must see the same
     * pieces as the first */
    struct scan user = {s + i, colon - i, 0, sc->o};
    put(sc->o, "://", 3);
    scan(&user);
    put(sc->o, ":", 1);
    if (e - colon - 1 == MARK_LEN && is_mark(s + colon + 1, MARK_LEN))
        put(sc->o, MARK, MARK_LEN);
    else
        put_mark(sc->o);
    return e;
}

static int value_end(char c, int header)
{
    if (header)
        return c == '\r' || c == '\n' || c == '"' || c == '\\';
    return strchr("&;# \t\r\n\"'\\,<>", c) != NULL;
}

/* name=value or name: value at i (a word start). Returns the index after
 * what it consumed, or 0. */
static size_t try_assign(struct scan *sc)
{
    const char *s = sc->s;
    size_t i = sc->i, e = i, v, ve;
    int header;

    while (e < sc->n && e - i <= NAME_MAX_LEN && name_char(s[e]))
        e++;
    if (e >= sc->n || e == i || e - i > NAME_MAX_LEN || (s[e] != '=' && s[e] != ':'))
        return 0;
    header = s[e] == ':';
    if (header && e + 2 < sc->n && s[e + 1] == '/' && s[e + 2] == '/')
        return 0; /* a URL scheme */
    if (!llm_redact_is_secret_name(s + i, e - i, header ? LLM_NAME_HEADER : LLM_NAME_EQ))
        return 0;
    v = e + 1;
    if (header)
        while (v < sc->n && s[v] == ' ')
            v++;
    put(sc->o, s + i, v - i);
    if (v < sc->n && (s[v] == '"' || s[v] == '\'') && !header) {
        char q = s[v];
        const char *c = memchr(s + v + 1, q, sc->n - v - 1);
        ve = c ? (size_t)(c - s) : sc->n;
        put(sc->o, s + v, 1);
        v++;
    } else {
        ve = v;
        while (ve < sc->n && !value_end(s[ve], header))
            ve++;
    }
    if (ve == v || (ve - v == MARK_LEN && is_mark(s + v, MARK_LEN)))
        put(sc->o, s + v, ve - v);
    else
        put_mark(sc->o);
    return ve;
}

static void scan(struct scan *sc)
{
    const char *s = sc->s;

    while (sc->i < sc->n && !sc->o->oom) {
        size_t i = sc->i, next = 0, ql, tok;
        char prev = i ? s[i - 1] : ' ';

        if (s[i] == ':' && i + 2 < sc->n && s[i + 1] == '/' && s[i + 2] == '/') {
            next = try_userinfo(sc);
            if (!next) {
                put(sc->o, "://", 3);
                next = i + 3;
            }
            sc->i = next;
            continue;
        }
        if ((ql = quote_at(s, sc->n, i)) != 0 && (next = try_member(sc, ql)) != 0) {
            sc->i = next;
            continue;
        }
        if (!key_char(prev) && (next = key_shape(s + i, sc->n - i)) != 0) {
            put_mark(sc->o);
            sc->i += next;
            continue;
        }
        if (!isalnum((unsigned char)prev) && (next = auth_scheme(s + i, sc->n - i, &tok)) != 0 &&
            tok) {
            put(sc->o, s + i, next);
            put_mark(sc->o);
            sc->i += next + tok;
            continue;
        }
        if (!name_char(prev) && (next = try_assign(sc)) != 0) {
            sc->i = next;
            continue;
        }
        put(sc->o, s + i, 1);
        sc->i++;
    }
}

char *llm_redact_text(const char *s, size_t n, size_t *out_len, int *count)
{
    struct out o = {0};
    struct scan sc = {s, n, 0, &o};

    o.p = malloc(n + 1);
    o.cap = n + 1;
    if (!o.p)
        return NULL;
    o.p[0] = '\0';
    scan(&sc);
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    if (out_len)
        *out_len = o.n;
    if (count)
        *count = o.count;
    return o.p;
}

char *llm_redact_url(const char *url, size_t n)
{
    return llm_redact_text(url, n, NULL, NULL);
}
