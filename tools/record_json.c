/* The direct msgpack -> JSON text writer behind the NDJSON and JSON exports.
 *
 * Contract: for every stored value, the text is byte for byte what
 * json_dumps(llm_record_to_json(value), LLM_EXPORT_JSON_FLAGS) gives (after
 * the same llm_cost_fill), and load fails exactly when llm_record_to_json
 * does, with its code. tests/tools/json_text_test.c holds the two side by
 * side on generated stores, the corpus and hand-made and random maps.
 *
 * It mirrors record.c's to_json() and jansson 2.14's dump.c:
 *  - the record's entries in schema order (null where missing), then the
 *    keys the schema does not know in stored order; entries whose key is not
 *    a msgpack str are dropped, at any depth;
 *  - nil, booleans; integers as int64 (a uint64 above INT64_MAX wraps, as
 *    json_integer((json_int_t)u64) does); float32 widened to double; reals as
 *    jansson prints them with JSON_REAL_PRECISION(15) (see put_real); ext
 *    objects are null; bin is a string like str;
 *  - strings: valid UTF-8 (NUL allowed: json_stringn takes it) is escaped as
 *    dump_string does ("\\", "\"", \b \f \n \r \t, other controls \u00XX in
 *    upper-case hex, everything else, U+2028 and DEL included, as is); a
 *    string with any invalid sequence is first repaired as record.c's
 *    llm_utf8_copy does (each bad byte, and each NUL, becomes U+FFFD).
 * Shapes where jansson's object semantics would matter, and which nothing
 * we store has, go through llm_record_to_json() instead (rec is then the
 * whole record and the text its json_dumpb): a key repeated in a map (jansson
 * keeps the first position and the last value), a key that is not clean UTF-8
 * or holds a NUL (repairing may merge keys), a nested map of more than
 * MAX_DEDUP entries (the repeat check is pairwise), a NaN or infinity
 * (json_real refuses it: the record is corrupt), nesting past to_json's limit,
 * a wanted field holding a map or array, and anything llm_msgpack_check
 * refuses or that is not a map (corrupt). Walks recurse at most 32 deep: the
 * pre-scan refuses more open containers. */
#include "record_json.h"
#include "err.h"
#include "export.h"
#include "util.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* record.c's TO_JSON_MAX_DEPTH: to_json refuses values nested deeper. */
#define TO_JSON_MAX_DEPTH 64
/* Nested maps up to this many entries are checked for repeated keys here. */
#define MAX_DEDUP 64

struct llm_rjson_extra {
    size_t key, klen, val; /* offsets into the record */
};

/* ------------------------------------------------------------------ msgpack */

enum kind { K_NIL, K_FALSE, K_TRUE, K_INT, K_REAL, K_STR, K_BIN, K_ARRAY, K_MAP, K_EXT };

struct obj {
    enum kind k;
    size_t next; /* past the header and payload (a container: past its header) */
    union {
        int64_t i;
        double d;
        uint32_t count; /* entries of a map, elements of an array */
        struct {
            const unsigned char *p;
            size_t n;
        } s;
    } v;
};

static uint64_t be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The object starting at pos. Returns 0, or -1 when it does not lie within
 * the buffer (the pre-scan rules that out; checked so a walk can trust it). */
static int head_slow(const unsigned char *p, size_t len, size_t pos, struct obj *o)
{
    unsigned char b;
    size_t hdr = 1, body = 0; /* header bytes; payload bytes after it */

    if (pos >= len)
        return -1;
    b = p[pos];
    if (b <= 0x7f) {
        o->k = K_INT;
        o->v.i = b;
    } else if (b >= 0xe0) {
        o->k = K_INT;
        o->v.i = (int8_t)b;
    } else if (b <= 0x8f) {
        o->k = K_MAP;
        o->v.count = b & 0x0f;
    } else if (b <= 0x9f) {
        o->k = K_ARRAY;
        o->v.count = b & 0x0f;
    } else if (b <= 0xbf) {
        o->k = K_STR;
        body = b & 0x1f;
    } else {
        switch (b) {
        case 0xc0:
            o->k = K_NIL;
            break;
        case 0xc2:
            o->k = K_FALSE;
            break;
        case 0xc3:
            o->k = K_TRUE;
            break;
        case 0xc4: /* bin 8/16/32: a string, as to_json takes it */
        case 0xc5:
        case 0xc6:
        case 0xd9: /* str 8/16/32 */
        case 0xda:
        case 0xdb: {
            size_t lb = b <= 0xc6 ? (size_t)1 << (b - 0xc4) : (size_t)1 << (b - 0xd9);
            if (lb > len - pos - 1)
                return -1;
            hdr += lb;
            body = be(p + pos + 1, lb);
            o->k = b <= 0xc6 ? K_BIN : K_STR;
            break;
        }
        case 0xc7: /* ext 8/16/32: length, type, data */
        case 0xc8:
        case 0xc9: {
            size_t lb = (size_t)1 << (b - 0xc7);
            if (lb > len - pos - 1)
                return -1;
            hdr += lb + 1;
            body = be(p + pos + 1, lb);
            o->k = K_EXT;
            break;
        }
        case 0xd4: /* fixext 1/2/4/8/16: type, data */
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
            hdr = 2;
            body = (size_t)1 << (b - 0xd4);
            o->k = K_EXT;
            break;
        case 0xca:
        case 0xcb: {
            size_t nb = b == 0xca ? 4 : 8;
            uint64_t bits;
            if (nb > len - pos - 1)
                return -1;
            bits = be(p + pos + 1, nb);
            if (nb == 4) {
                uint32_t u = (uint32_t)bits;
                float f;
                memcpy(&f, &u, 4);
                o->v.d = f;
            } else {
                memcpy(&o->v.d, &bits, 8);
            }
            hdr += nb;
            o->k = K_REAL;
            break;
        }
        case 0xcc: /* uint 8..64 */
        case 0xcd:
        case 0xce:
        case 0xcf:
        case 0xd0: /* int 8..64 */
        case 0xd1:
        case 0xd2:
        case 0xd3: {
            size_t nb = (size_t)1 << ((b - 0xcc) & 3);
            uint64_t u;
            if (nb > len - pos - 1)
                return -1;
            u = be(p + pos + 1, nb);
            if (b >= 0xd0 && nb < 8) /* sign-extend */
                u = (uint64_t)(((int64_t)(u << (64 - 8 * nb))) >> (64 - 8 * nb));
            o->v.i = (int64_t)u; /* json_integer((json_int_t)u64) wraps the same way */
            hdr += nb;
            o->k = K_INT;
            break;
        }
        case 0xdc: /* array 16/32 */
        case 0xdd:
        case 0xde: /* map 16/32 */
        case 0xdf: {
            size_t lb = b & 1 ? 4 : 2;
            if (lb > len - pos - 1)
                return -1;
            o->v.count = (uint32_t)be(p + pos + 1, lb);
            o->k = b >= 0xde ? K_MAP : K_ARRAY;
            hdr += lb;
            break;
        }
        default: /* 0xc1: never used */
            return -1;
        }
    }
    if (hdr > len - pos || body > len - pos - hdr)
        return -1;
    if (o->k == K_STR || o->k == K_BIN) {
        o->v.s.p = p + pos + hdr;
        o->v.s.n = body;
    }
    o->next = pos + hdr + body;
    return 0;
}

/* head_slow, with the one-byte headers that make up most of a record
 * (fixstr, positive fixint, nil, booleans) inline. */
static inline int head(const unsigned char *p, size_t len, size_t pos, struct obj *o)
{
    unsigned char b;

    if (pos >= len)
        return -1;
    b = p[pos];
    if (b >= 0xa0 && b <= 0xbf) {
        size_t n = b & 0x1f;
        if (n > len - pos - 1)
            return -1;
        o->k = K_STR;
        o->v.s.p = p + pos + 1;
        o->v.s.n = n;
        o->next = pos + 1 + n;
        return 0;
    }
    if (b <= 0x7f) {
        o->k = K_INT;
        o->v.i = b;
        o->next = pos + 1;
        return 0;
    }
    if (b == 0xc0 || b == 0xc2 || b == 0xc3) {
        o->k = b == 0xc0 ? K_NIL : b == 0xc2 ? K_FALSE : K_TRUE;
        o->next = pos + 1;
        return 0;
    }
    return head_slow(p, len, pos, o);
}

/* ---------------------------------------------------------------- UTF-8 */

/* Sequences are checked by llm_utf8_seq (util.c), which record.c's to_json
 * uses too, with jansson's rules. */

/* Valid UTF-8 without NUL: a key to_json keeps as it is. */
static int clean_key(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = s[i] >= 0x80 ? llm_utf8_seq(s + i, n - i) : s[i] != 0;
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

/* --------------------------------------------------------------- output */

static int grow_slow(struct llm_rjson *r, size_t more)
{
    size_t want;
    char *p;

    if (more > SIZE_MAX / 2 - r->n)
        return LLM_ENOMEM;
    want = (r->n + more) + (r->n + more) / 2 + 4096;
    p = realloc(r->out, want);
    if (!p)
        return LLM_ENOMEM;
    r->out = p;
    r->cap = want;
    return 0;
}

/* Room for more bytes of text; inline, as it runs for every token. */
static inline int grow(struct llm_rjson *r, size_t more)
{
    return more <= r->cap - r->n ? 0 : grow_slow(r, more);
}

static inline int put(struct llm_rjson *r, const void *s, size_t n)
{
    int rc = grow(r, n);
    if (!rc && n) { /* n = 0 may come with no buffer yet */
        memcpy(r->out + r->n, s, n);
        r->n += n;
    }
    return rc;
}

/* 0: the byte goes out as it is; 1: an ASCII byte to escape; 2: non-ASCII */
static const unsigned char byte_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* How many bytes from s on go out as they are (byte_class 0). Eight at a
 * time while none is a control, '"', '\\' or non-ASCII (the usual bit
 * tricks; a false alarm only hands over to the byte loop early). */
static inline size_t plain_run(const unsigned char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    size_t j = 0;

    for (; j + 8 <= n; j += 8) {
        uint64_t x, q, b;
        memcpy(&x, s + j, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        if ((x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high)
            break;
    }
    while (j < n && !byte_class[s[j]])
        j++;
    return j;
}

/* A JSON string as jansson's dump_string writes it (see the top). Valid
 * UTF-8 is written in one pass; at the first invalid sequence the string
 * starts over in repair mode, where NULs are replaced too, as llm_utf8_copy
 * replaces them before jansson ever sees the string. */
static int put_str(struct llm_rjson *r, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = r->n, i = 0, o;
    int repair = 0, rc;
    char *out;

    if (n > (SIZE_MAX - 2) / 6)
        return LLM_ENOMEM;
    rc = grow(r, 6 * n + 2); /* \u00XX per byte at worst; U+FFFD is 3 */
    if (rc)
        return rc;
    out = r->out;
    o = r->n;
    out[o++] = '"';
    while (i < n) {
        size_t j = i + plain_run(s + i, n - i);
        unsigned char c;

        memcpy(out + o, s + i, j - i);
        o += j - i;
        i = j;
        if (i == n)
            break;
        c = s[i];
        if (c >= 0x80) {
            size_t k = llm_utf8_seq(s + i, n - i);
            if (k) {
                memcpy(out + o, s + i, k);
                o += k;
                i += k;
            } else if (!repair) {
                repair = 1;
                o = start + 1;
                i = 0;
            } else {
                memcpy(out + o, "\xef\xbf\xbd", 3);
                o += 3;
                i++;
            }
            continue;
        }
        i++;
        out[o++] = '\\';
        switch (c) {
        case '"':
        case '\\':
            out[o++] = (char)c;
            break;
        case '\b':
            out[o++] = 'b';
            break;
        case '\f':
            out[o++] = 'f';
            break;
        case '\n':
            out[o++] = 'n';
            break;
        case '\r':
            out[o++] = 'r';
            break;
        case '\t':
            out[o++] = 't';
            break;
        default:
            if (!c && repair) { /* llm_utf8_copy made it U+FFFD */
                o--;
                memcpy(out + o, "\xef\xbf\xbd", 3);
                o += 3;
                break;
            }
            memcpy(out + o, "u00", 3);
            out[o + 3] = hex[c >> 4];
            out[o + 4] = hex[c & 15];
            o += 5;
        }
    }
    out[o++] = '"';
    r->n = o;
    return 0;
}

static int put_int(struct llm_rjson *r, int64_t v)
{
    char buf[24], *e = buf + sizeof(buf), *p = e;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    return put(r, p, (size_t)(e - p));
}

/* %.15g of a finite double without printf's multi-precision arithmetic,
 * which dominated the export's profile. x = |d| * 10^(14-e), e being |d|'s
 * decimal exponent, so x is in [1e14, 1e15); it is computed in long double
 * with one rounding (10^k is exact there for k <= 27: 5^27 < 2^64), so it is
 * off by less than 2^-64 of itself, < 1e-4. The 15 digits are x rounded to
 * an integer (a carry to 1e15 moves to the next exponent, as printf's does);
 * x landing on the wrong side of a power of ten by that error changes
 * nothing, the value rounds to 1 and zeros either way. Only when x's
 * fraction lies within 1e-3 of one half (or the scale needs more than
 * 10^27, or long double is no wider than double) is the rounding in doubt:
 * then 0 is returned and printf decides. Otherwise writes what %.15g would
 * (trailing zeros and a bare point dropped; exponent form below 1e-4 and
 * from 1e15, with a sign and at least two digits) and returns its length. */
static int fast_g15(double d, char *out)
{
#if LDBL_MANT_DIG >= 64
    static const long double p10[28] = {
        1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
        1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
        1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
    };
    long double a = fabsl((long double)d), x = 0, fl;
    char dig[16], *o = out;
    int e, k, nd = 15, tries = 0;
    uint64_t n;

    if (d == 0) {
        if (signbit(d))
            *o++ = '-';
        *o++ = '0';
        *o = '\0';
        return (int)(o - out);
    }
    e = (int)floor(log10(fabs(d))); /* the decimal exponent, give or take one */
    for (;;) {
        k = 14 - e;
        if (k > 27 || k < -27 || ++tries > 3)
            return 0;
        x = k >= 0 ? a * p10[k] : a / p10[-k];
        if (x < 1e14L)
            e--;
        else if (x >= 1e15L)
            e++;
        else
            break;
    }
    fl = floorl(x);
    if (fabsl(x - fl - 0.5L) < 1e-3L)
        return 0; /* too near a tie to round here */
    n = (uint64_t)fl + (x - fl > 0.5L);
    if (n == 1000000000000000ULL) { /* rounded up to the next power: 1e(e+1) */
        n /= 10;
        e++;
    }
    for (int i = 14; i >= 0; i--, n /= 10)
        dig[i] = (char)('0' + n % 10);
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    if (d < 0)
        *o++ = '-';
    if (e >= -4 && e < 15) { /* %f style */
        if (e < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -e - 1; i++)
                *o++ = '0';
            memcpy(o, dig, (size_t)nd);
            o += nd;
        } else {
            int ip = e + 1; /* digits before the point */
            for (int i = 0; i < ip; i++)
                *o++ = i < nd ? dig[i] : '0';
            if (nd > ip) {
                *o++ = '.';
                memcpy(o, dig + ip, (size_t)(nd - ip));
                o += nd - ip;
            }
        }
    } else {
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)(nd - 1));
            o += nd - 1;
        }
        o += sprintf(o, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    *o = '\0';
    return (int)(o - out);
#else
    (void)d;
    (void)out;
    return 0;
#endif
}

int llm_rjson_g15(double d, char out[64])
{
    int len = fast_g15(d, out);

    return len ? len : snprintf(out, 64, "%.15g", d);
}

/* A real as jansson 2.14's jsonp_dtostr writes it at precision 15 (that
 * build has no dtoa): "%.15g", ".0" added when neither '.' nor 'e' shows,
 * then the exponent's '+' and leading zeros dropped (1e+300 -> 1e300,
 * 1e-05 -> 1e-5). The tool never calls setlocale, so the point is '.'. */
static int put_real(struct llm_rjson *r, double d)
{
    char buf[64];
    int len = fast_g15(d, buf);
    char *e;

    if (!len)
        len = snprintf(buf, sizeof(buf) - 3, "%.15g", d);
    if (len < 0 || (size_t)len >= sizeof(buf) - 3)
        return LLM_ENOMEM; /* cannot happen for a finite double */
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    e = strchr(buf, 'e');
    if (e) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)len - (size_t)(end - buf) + 1);
            len -= (int)(end - start);
        }
    }
    return put(r, buf, (size_t)len);
}

/* A jansson value (the price llm_cost_fill set) as json_dumpb would write it. */
static int put_json(struct llm_rjson *r, json_t *v)
{
    size_t n;
    int rc;

    switch (json_typeof(v)) {
    case JSON_NULL:
        return put(r, "null", 4);
    case JSON_REAL:
        return put_real(r, json_real_value(v));
    case JSON_INTEGER:
        return put_int(r, json_integer_value(v));
    default:
        n = json_dumpb(v, NULL, 0, LLM_EXPORT_JSON_FLAGS | JSON_ENCODE_ANY);
        rc = n ? grow(r, n) : LLM_ENOMEM;
        if (!rc && json_dumpb(v, r->out + r->n, n, LLM_EXPORT_JSON_FLAGS | JSON_ENCODE_ANY) != n)
            rc = LLM_ENOMEM;
        if (!rc)
            r->n += n;
        return rc;
    }
}

/* ------------------------------------------------------------ the walks */

/* Past the object at pos, every value to_json would convert (convert set:
 * not under a non-str key) being one the writer reproduces. Returns the end
 * offset, or 0 to hand the record to jansson. */
static size_t skim(const struct llm_rjson *r, size_t pos, int depth, int convert)
{
    struct obj o;
    struct {
        const unsigned char *p;
        size_t n;
    } keys[MAX_DEDUP];
    size_t nkeys = 0;

    if ((convert && depth > TO_JSON_MAX_DEPTH) || head(r->p, r->len, pos, &o))
        return 0;
    if (o.k == K_REAL && convert && !isfinite(o.v.d))
        return 0; /* json_real() refuses it: a corrupt record, jansson says so */
    if (o.k == K_ARRAY) {
        pos = o.next;
        for (uint32_t i = 0; pos && i < o.v.count; i++)
            pos = skim(r, pos, depth + 1, convert);
        return pos;
    }
    if (o.k != K_MAP)
        return o.next;
    if (convert && o.v.count > MAX_DEDUP)
        return 0;
    pos = o.next;
    for (uint32_t i = 0; pos && i < o.v.count; i++) {
        struct obj k;
        int conv = convert;
        if (head(r->p, r->len, pos, &k))
            return 0;
        if (k.k != K_STR) {
            conv = 0; /* to_json drops the entry */
            pos = skim(r, pos, depth + 1, 0);
        } else if (convert) {
            if (!clean_key(k.v.s.p, k.v.s.n))
                return 0;
            for (size_t j = 0; j < nkeys; j++)
                if (keys[j].n == k.v.s.n && !memcmp(keys[j].p, k.v.s.p, k.v.s.n))
                    return 0;
            keys[nkeys].p = k.v.s.p;
            keys[nkeys++].n = k.v.s.n;
            pos = k.next;
        } else {
            pos = k.next;
        }
        if (pos)
            pos = skim(r, pos, depth + 1, conv);
    }
    return pos;
}

/* Writes the object at pos (skim passed it); returns the end offset, or 0 on
 * allocation failure. */
static size_t emit(struct llm_rjson *r, size_t pos, int *rc)
{
    struct obj o;
    int first = 1;

    if (head(r->p, r->len, pos, &o)) { /* skim made sure it is there */
        *rc = LLM_ECORRUPT;
        return 0;
    }
    switch (o.k) {
    case K_NIL:
    case K_EXT:
        *rc = put(r, "null", 4);
        break;
    case K_FALSE:
        *rc = put(r, "false", 5);
        break;
    case K_TRUE:
        *rc = put(r, "true", 4);
        break;
    case K_INT:
        *rc = put_int(r, o.v.i);
        break;
    case K_REAL:
        *rc = put_real(r, o.v.d);
        break;
    case K_STR:
    case K_BIN: /* a string as a value; never a key */
        *rc = put_str(r, o.v.s.p, o.v.s.n);
        break;
    case K_ARRAY:
        *rc = put(r, "[", 1);
        pos = o.next;
        for (uint32_t i = 0; !*rc && i < o.v.count; i++) {
            if (i)
                *rc = put(r, ",", 1);
            if (!*rc)
                pos = emit(r, pos, rc);
        }
        if (!*rc)
            *rc = put(r, "]", 1);
        return *rc ? 0 : pos;
    case K_MAP:
        *rc = put(r, "{", 1);
        pos = o.next;
        for (uint32_t i = 0; !*rc && i < o.v.count; i++) {
            struct obj k;
            if (head(r->p, r->len, pos, &k)) {
                *rc = LLM_ECORRUPT;
                break;
            }
            if (k.k != K_STR) { /* dropped, as to_json drops it */
                pos = skim(r, pos, 1, 0);
                pos = pos ? skim(r, pos, 1, 0) : 0;
                if (!pos)
                    *rc = LLM_ECORRUPT;
                continue;
            }
            if (!first)
                *rc = put(r, ",", 1);
            first = 0;
            if (!*rc)
                *rc = put_str(r, k.v.s.p, k.v.s.n);
            if (!*rc)
                *rc = put(r, ":", 1);
            if (!*rc)
                pos = emit(r, k.next, rc);
        }
        if (!*rc)
            *rc = put(r, "}", 1);
        return *rc ? 0 : pos;
    }
    return *rc ? 0 : o.next;
}

/* ---------------------------------------------------------------- load */

/* The schema's names as the text spells them: ,"name": (the first without
 * the comma). Built once; the tool is single-threaded. */
static struct {
    char *s;
    size_t n, len; /* the text; the name's own length */
} names[LLM_F__COUNT];

static int names_init(void)
{
    static int done;
    struct llm_rjson tmp;
    int rc = 0;

    if (done)
        return 0;
    for (int f = 0; f < LLM_F__COUNT && !rc; f++) {
        memset(&tmp, 0, sizeof(tmp));
        rc = put(&tmp, ",", f > 0);
        if (!rc)
            rc = put_str(&tmp, (const unsigned char *)llm_schema[f].name,
                         strlen(llm_schema[f].name));
        if (!rc)
            rc = put(&tmp, ":", 1);
        names[f].s = tmp.out;
        names[f].n = tmp.n;
        names[f].len = strlen(llm_schema[f].name);
    }
    done = !rc;
    return rc;
}

static int force_jansson(void)
{
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("LLMOPS_DEBUG_JANSSON");
        v = e && !strcmp(e, "1");
    }
    return v;
}

/* Sets field f of the small record r->mini to its stored value as to_json
 * makes it (null when absent). The values stay from record to record and are
 * updated in place where the type allows: no allocation per record. Returns
 * 0, 1 for a map or an array (the record then goes through jansson), or
 * LLM_ENOMEM. */
static int mini_set(struct llm_rjson *r, int f)
{
    json_t *cur = r->mv[f], *v = NULL;
    struct obj o;

    if (!r->at[f]) {
        v = json_null(); /* to_json's record has null there */
    } else if (head(r->p, r->len, r->at[f], &o)) {
        return 1;
    } else {
        switch (o.k) {
        case K_NIL:
        case K_EXT:
            v = json_null();
            break;
        case K_FALSE:
            v = json_false();
            break;
        case K_TRUE:
            v = json_true();
            break;
        case K_INT:
            if (json_is_integer(cur))
                return json_integer_set(cur, o.v.i) ? LLM_ENOMEM : 0;
            v = json_integer(o.v.i);
            break;
        case K_REAL: /* finite: skim checked */
            if (json_is_real(cur))
                return json_real_set(cur, o.v.d) ? LLM_ENOMEM : 0;
            v = json_real(o.v.d);
            break;
        case K_STR:
        case K_BIN:
            if (json_is_string(cur) && !json_string_setn(cur, (const char *)o.v.s.p, o.v.s.n))
                return 0;
            v = json_stringn((const char *)o.v.s.p, o.v.s.n);
            if (!v) { /* not UTF-8: repaired, as to_json does */
                char *c = llm_utf8_copy((const char *)o.v.s.p, o.v.s.n, NULL);
                v = c ? json_string(c) : NULL;
                free(c);
            }
            break;
        default:
            return 1;
        }
    }
    if (!v || json_object_set_new(r->mini, llm_schema[f].name, v))
        return LLM_ENOMEM;
    r->mv[f] = v;
    return 0;
}

static int field_index(const unsigned char *k, size_t n, uint32_t i)
{
    if (i < LLM_F__COUNT && names[i].len == n &&
        !memcmp(llm_schema[i].name, k, n)) /* where the record's own map has it */
        return (int)i;
    return llm_field_lookup((const char *)k, n);
}

/* Reads the top map. Returns 0 (at, extra filled), 1 for "ask jansson". */
static int index_record(struct llm_rjson *r)
{
    struct obj o;
    size_t pos;

    memset(r->at, 0, sizeof(r->at));
    r->nextra = 0;
    if (llm_msgpack_check(r->p, r->len, NULL) || head(r->p, r->len, 0, &o) || o.k != K_MAP)
        return 1; /* corrupt: llm_record_to_json says so */
    pos = o.next;
    for (uint32_t i = 0; i < o.v.count; i++) {
        struct obj k;
        int f;
        if (head(r->p, r->len, pos, &k))
            return 1;
        if (k.k != K_STR) { /* dropped entry */
            pos = skim(r, pos, 1, 0);
            pos = pos ? skim(r, pos, 1, 0) : 0;
            if (!pos)
                return 1;
            continue;
        }
        f = field_index(k.v.s.p, k.v.s.n, i);
        if (f < 0 && !clean_key(k.v.s.p, k.v.s.n))
            return 1;
        if (f >= 0) {
            if (r->at[f])
                return 1;
            r->at[f] = k.next;
        } else {
            for (size_t j = 0; j < r->nextra; j++)
                if (r->extra[j].klen == k.v.s.n &&
                    !memcmp(r->p + r->extra[j].key, k.v.s.p, k.v.s.n))
                    return 1;
            if (r->nextra == r->aextra) {
                size_t na = r->aextra ? 2 * r->aextra : 8;
                struct llm_rjson_extra *e = realloc(r->extra, na * sizeof(*e));
                if (!e)
                    return 1;
                r->extra = e;
                r->aextra = na;
            }
            r->extra[r->nextra].key = (size_t)(k.v.s.p - r->p);
            r->extra[r->nextra].klen = k.v.s.n;
            r->extra[r->nextra++].val = k.next;
        }
        pos = skim(r, k.next, 1, 1);
        if (!pos)
            return 1;
    }
    return 0;
}

void llm_rjson_init(struct llm_rjson *r)
{
    memset(r, 0, sizeof(*r));
}

void llm_rjson_free(struct llm_rjson *r)
{
    if (r->whole)
        json_decref(r->rec);
    json_decref(r->mini);
    free(r->cell_owned);
    free(r->extra);
    free(r->out);
    memset(r, 0, sizeof(*r));
}

static int load_jansson(struct llm_rjson *r)
{
    void *j = NULL;
    int rc = llm_record_to_json(r->p, r->len, &j);

    if (!rc) {
        r->rec = j;
        r->whole = 1;
    }
    return rc;
}

int llm_rjson_load(struct llm_rjson *r, const void *buf, size_t len)
{
    int rc = names_init();

    if (r->whole)
        json_decref(r->rec);
    r->rec = NULL;
    r->whole = 0;
    r->p = buf;
    r->len = len;
    if (rc)
        goto out;
    if (force_jansson() || index_record(r)) {
        rc = load_jansson(r);
        goto out;
    }
    if (!r->mini) {
        r->mini = json_object();
        memset(r->mv, 0, sizeof(r->mv));
        if (!r->mini) {
            rc = LLM_ENOMEM;
            goto out;
        }
    }
    /* the last record's price: llm_cost_fill replaced these values, so the
     * cached pointers to them are stale */
    json_object_del(r->mini, "cost_usd");
    json_object_del(r->mini, "cost_source");
    r->mv[LLM_F_COST_USD] = r->mv[LLM_F_COST_SOURCE] = NULL;
    for (int f = 0; f < LLM_F__COUNT && !rc; f++)
        if (r->want[f])
            rc = mini_set(r, f);
    if (rc == 1)
        rc = load_jansson(r); /* a wanted field holds a map or an array */
    else if (!rc)
        r->rec = r->mini;
out:
    return rc;
}

/* sep, then the i-th member the schema does not know, as "name":value */
static int put_extra(struct llm_rjson *r, size_t i, const char *sep)
{
    const struct llm_rjson_extra *e = &r->extra[i];
    int rc = put(r, sep, 1);

    if (!rc)
        rc = put_str(r, r->p + e->key, e->klen);
    if (!rc)
        rc = put(r, ":", 1);
    if (!rc)
        emit(r, e->val, &rc);
    return rc;
}

int llm_rjson_text(struct llm_rjson *r, const char **text, size_t *n)
{
    json_t *cost, *source;
    int rc = 0;

    r->n = 0;
    if (r->whole) {
        size_t k = json_dumpb(r->rec, r->out, r->cap, LLM_EXPORT_JSON_FLAGS);
        if (k > r->cap) {
            rc = grow(r, k);
            k = rc ? 0 : json_dumpb(r->rec, r->out, r->cap, LLM_EXPORT_JSON_FLAGS);
        }
        if (!rc && !k)
            rc = LLM_ENOMEM;
        r->n = k;
        goto out;
    }
    cost = r->rec ? json_object_get(r->rec, "cost_usd") : NULL;
    source = r->rec ? json_object_get(r->rec, "cost_source") : NULL;
    rc = put(r, "{", 1);
    for (int f = 0; f < LLM_F__COUNT && !rc; f++) {
        rc = put(r, names[f].s, names[f].n);
        if (rc)
            break;
        if (f == LLM_F_COST_USD && cost)
            rc = put_json(r, cost);
        else if (f == LLM_F_COST_SOURCE && source)
            rc = put_json(r, source);
        else if (r->at[f])
            emit(r, r->at[f], &rc);
        else
            rc = put(r, "null", 4);
    }
    for (size_t i = 0; i < r->nextra && !rc; i++)
        rc = put_extra(r, i, ",");
    if (!rc)
        rc = put(r, "}", 1);
out:
    *text = r->out;
    *n = rc ? 0 : r->n;
    return rc;
}

/* ---------------------------------------------------------------- cells */

int llm_cell_of_json(json_t *v, struct llm_cell *c, char **owned)
{
    memset(c, 0, sizeof(*c));
    switch (json_typeof(v)) {
    case JSON_STRING:
        c->k = LLM_CELL_STR;
        c->s = json_string_value(v);
        c->n = json_string_length(v);
        return 0;
    case JSON_INTEGER:
        c->k = LLM_CELL_INT;
        c->i = json_integer_value(v);
        return 0;
    case JSON_REAL:
        c->k = LLM_CELL_REAL;
        c->d = json_real_value(v);
        return 0;
    case JSON_TRUE:
        c->k = LLM_CELL_TRUE;
        return 0;
    case JSON_FALSE:
        c->k = LLM_CELL_FALSE;
        return 0;
    case JSON_OBJECT:
    case JSON_ARRAY:
        *owned = json_dumps(v, LLM_EXPORT_JSON_FLAGS);
        if (!*owned)
            return LLM_ENOMEM;
        c->k = LLM_CELL_JSON;
        c->s = *owned;
        c->n = strlen(*owned);
        return 0;
    default:
        return 0; /* null, or v == NULL */
    }
}

int llm_cell_extra_of_json(json_t *rec, struct llm_cell *c, char **owned)
{
    json_t *extra = NULL, *v;
    const char *k;
    int rc = 0;

    memset(c, 0, sizeof(*c));
    json_object_foreach(rec, k, v)
    {
        if (llm_field_lookup(k, strlen(k)) >= 0)
            continue;
        if (!extra && !(extra = json_object()))
            return LLM_ENOMEM;
        if (json_object_set(extra, k, v)) {
            rc = LLM_ENOMEM;
            break;
        }
    }
    if (!rc && extra)
        rc = llm_cell_of_json(extra, c, owned);
    json_decref(extra);
    return rc;
}

/* The unknown members as one object, from the msgpack (index_record found
 * them): the text json_dumps gives llm_cell_extra_of_json's object. */
static int cell_extra(struct llm_rjson *r, struct llm_cell *c)
{
    int rc = 0;

    if (!r->nextra)
        return 0;
    for (size_t i = 0; i < r->nextra && !rc; i++)
        rc = put_extra(r, i, i ? "," : "{");
    if (!rc)
        rc = put(r, "}", 2); /* with its terminator */
    if (rc)
        return rc;
    c->k = LLM_CELL_JSON;
    c->s = r->out;
    c->n = r->n - 1;
    return 0;
}

/* A string value as jansson holds it: as stored when it is valid UTF-8 (NUL
 * included), else repaired as llm_utf8_copy does; NUL-terminated in r->out. */
static int cell_str(struct llm_rjson *r, const unsigned char *s, size_t n, struct llm_cell *c)
{
    size_t i = 0, k;
    int rc;

    for (;;) { /* ASCII eight bytes at a time, the rest sequence by sequence */
        uint64_t w;
        while (n - i >= 8 && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080ull)))
            i += 8;
        if (i == n || !(k = s[i] < 0x80 ? 1 : llm_utf8_seq(s + i, n - i)))
            break;
        i += k;
    }
    if (i == n) {
        rc = put(r, s, n);
    } else {
        size_t len;
        char *fixed = llm_utf8_copy((const char *)s, n, &len);
        rc = fixed ? put(r, fixed, len) : LLM_ENOMEM;
        free(fixed);
    }
    if (!rc)
        rc = put(r, "", 1);
    if (rc)
        return rc;
    c->k = LLM_CELL_STR;
    c->s = r->out;
    c->n = r->n - 1;
    return 0;
}

int llm_rjson_cell(struct llm_rjson *r, int f, struct llm_cell *c)
{
    json_t *cost;
    struct obj o;
    int rc = 0;

    free(r->cell_owned);
    r->cell_owned = NULL;
    r->n = 0;
    memset(c, 0, sizeof(*c));
    if (r->whole && f == LLM_RJSON_EXTRA)
        return llm_cell_extra_of_json(r->rec, c, &r->cell_owned);
    if (r->whole)
        return llm_cell_of_json(json_object_get(r->rec, llm_schema[f].name), c, &r->cell_owned);
    if (f == LLM_RJSON_EXTRA)
        return cell_extra(r, c);
    /* the price (llm_cost_fill) may have set these: as in llm_rjson_text */
    cost = (f == LLM_F_COST_USD || f == LLM_F_COST_SOURCE) && r->rec
               ? json_object_get(r->rec, llm_schema[f].name)
               : NULL;
    if (cost)
        return llm_cell_of_json(cost, c, &r->cell_owned);
    if (!r->at[f] || head(r->p, r->len, r->at[f], &o))
        return 0; /* null (index_record made sure the value is there) */
    switch (o.k) {
    case K_FALSE:
        c->k = LLM_CELL_FALSE;
        break;
    case K_TRUE:
        c->k = LLM_CELL_TRUE;
        break;
    case K_INT:
        c->k = LLM_CELL_INT;
        c->i = o.v.i;
        break;
    case K_REAL:
        c->k = LLM_CELL_REAL;
        c->d = o.v.d;
        break;
    case K_STR:
    case K_BIN:
        return cell_str(r, o.v.s.p, o.v.s.n, c);
    case K_ARRAY:
    case K_MAP:
        emit(r, r->at[f], &rc);
        if (!rc)
            rc = put(r, "", 1);
        if (rc)
            return rc;
        c->k = LLM_CELL_JSON;
        c->s = r->out;
        c->n = r->n - 1;
        break;
    default:
        break; /* nil, ext: null */
    }
    return 0;
}
