/* Clocks, time formatting, ULIDs and the default database path.
 * Pure functions of their arguments and the environment; any thread. */
#include "util.h"
#include "err.h"

#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int64_t llm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t llm_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void llm_deadline_ms(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

void llm_rfc3339(int64_t ns, char out[LLM_RFC3339_LEN])
{
    time_t sec = (time_t)(ns / 1000000000);
    long us = (long)((ns % 1000000000) / 1000);
    struct tm tm;

    gmtime_r(&sec, &tm);
    char tmp[64]; /* wide enough for any int the compiler imagines */

    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
    memcpy(out, tmp, LLM_RFC3339_LEN - 1);
    out[LLM_RFC3339_LEN - 1] = '\0';
}

static int digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return -1;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return 0;
}

int llm_parse_time(const char *s, int64_t *us)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
    long frac = 0;

    if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' || digits(&s, 2, &d))
        return LLM_EINVAL;
    if (*s == 'T' || *s == 't' || *s == ' ') {
        s++;
        if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
            return LLM_EINVAL;
        if (*s == ':') {
            s++;
            if (digits(&s, 2, &sec))
                return LLM_EINVAL;
        }
        if (*s == '.') {
            int nd = 0;
            s++;
            while (isdigit((unsigned char)*s)) {
                if (nd < 6) {
                    frac = frac * 10 + (*s - '0');
                    nd++;
                }
                s++;
            }
            while (nd++ < 6)
                frac *= 10;
        }
        if (*s == 'Z' || *s == 'z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            int sign = *s++ == '-' ? -1 : 1, oh, om;
            if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
                return LLM_EINVAL;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (*s || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || sec > 60)
        return LLM_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *us = ((int64_t)timegm(&tm) - off) * 1000000 + frac;
    return 0;
}

void llm_ulid_new(uint8_t out[16], int64_t ns)
{
    uint64_t ms = (uint64_t)(ns / 1000000);

    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (40 - 8 * i));
    if (getrandom(out + 6, 10, GRND_NONBLOCK) != 10) {
        /* entropy not ready yet (early boot): fall back to clock and pid bits */
        uint64_t x = (uint64_t)llm_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)ns;
        for (int i = 6; i < 16; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out[i] = (uint8_t)x;
        }
    }
}

void llm_ulid_format(const uint8_t id[16], char out[LLM_ULID_LEN])
{
    /* 128 bits as 26 base32 digits, the first carrying the top 3 bits */
    for (int i = 0; i < 26; i++) {
        int bit = 128 - 5 * (25 - i) - 5; /* index of the digit's low bit from the top */
        unsigned v = 0;
        for (int b = 0; b < 5; b++) {
            int pos = bit + b; /* bit position counted from the top, may be negative */
            if (pos < 0)
                continue;
            v |= ((id[pos / 8] >> (7 - pos % 8)) & 1u) << (4 - b);
        }
        out[i] = crockford[v];
    }
    out[26] = '\0';
}

int llm_ulid_parse(const char *s, uint8_t out[16])
{
    memset(out, 0, 16);
    if (strlen(s) != 26)
        return LLM_EINVAL;
    for (int i = 0; i < 26; i++) {
        const char *p = strchr(crockford, toupper((unsigned char)s[i]));
        if (!p || !*p)
            return LLM_EINVAL;
        unsigned v = (unsigned)(p - crockford);
        int bit = 128 - 5 * (25 - i) - 5;
        for (int b = 0; b < 5; b++) {
            int pos = bit + b;
            if (pos < 0) {
                if ((v >> (4 - b)) & 1u)
                    return LLM_EINVAL; /* overflow past 128 bits */
                continue;
            }
            if ((v >> (4 - b)) & 1u)
                out[pos / 8] |= (uint8_t)(1u << (7 - pos % 8));
        }
    }
    return 0;
}

int llm_db_path(char *out, size_t n)
{
    const char *p = getenv("LLMOPS_DB");
    int w;

    if (p && *p) {
        w = snprintf(out, n, "%s", p);
    } else if ((p = getenv("XDG_DATA_HOME")) && *p == '/') {
        w = snprintf(out, n, "%s/llmops", p);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) {
            struct passwd pw, *res = NULL;
            char tmp[1024];
            if (getpwuid_r(getuid(), &pw, tmp, sizeof(tmp), &res) || !res)
                return LLM_EINVAL;
            home = res->pw_dir;
            w = snprintf(out, n, "%s/.local/share/llmops", home);
            return (w < 0 || (size_t)w >= n) ? LLM_EINVAL : 0;
        }
        w = snprintf(out, n, "%s/.local/share/llmops", home);
    }
    return (w < 0 || (size_t)w >= n) ? LLM_EINVAL : 0;
}

size_t llm_utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

char *llm_utf8_copy(const char *s, size_t n, size_t *out_len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    char *out = n < SIZE_MAX / 3 ? malloc(n * 3 + 1) : NULL;

    if (!out)
        return NULL;
    while (i < n) {
        size_t k = u[i] ? llm_utf8_seq(u + i, n - i) : 0;
        if (k) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

int llm_has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);

    for (size_t i = 0; i + tl <= n; i++)
        if (!strncasecmp(v + i, tok, tl) && (i == 0 || v[i - 1] == ' ' || v[i - 1] == ',') &&
            (i + tl == n || v[i + tl] == ' ' || v[i + tl] == ','))
            return 1;
    return 0;
}
