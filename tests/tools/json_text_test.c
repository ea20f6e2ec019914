/* json_text_test: the direct JSON text writer (tools/record_json.c) against
 * the path it replaces, json_dumps(llm_record_to_json(value)) with
 * LLM_EXPORT_JSON_FLAGS, byte for byte, for
 *   --db DIR       every value in a store (mkstore's, garbage included)
 *   --corpus DIR   records the collector makes of every corpus vector (each
 *                  replayed through the connection layer) and records filled
 *                  from each vector's bodies and headers by the setters
 *   --cases        hand-made msgpack: numbers at every edge and encoding,
 *                  reals, escapes, control characters, U+2028, invalid UTF-8,
 *                  bin and ext, empty and deep containers, unknown, missing,
 *                  repeated and non-str keys, wrong types, truncations and
 *                  random maps and mutations
 * Each value is compared as loaded, and again after both are priced
 * (llm_cost_fill, with --prices FILE): same return code, same text, the same
 * cells for the table exporters (llm_rjson_cell: every field), and the
 * fields the filters and the price read equal in both decodings. Cases that
 * name the path they must take (direct, or jansson) are checked for it;
 * store and corpus records must all take the direct one. Prints a summary;
 * exit 0 when everything matched. */
#include "cost.h"
#include "err.h"
#include "export.h"
#include "feeder.h"
#include "filter.h"
#include "record.h"
#include "record_json.h"
#include "store.h"

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum path { ANY, DIRECT, JANSSON };

static struct llm_rjson rj;
static long compared, direct, failures;

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
    va_list ap;

    failures++;
    if (failures > 20)
        return;
    va_start(ap, fmt);
    fprintf(stderr, "json_text_test: FAIL ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* The first difference of a and b, for the failure message. */
static void show_diff(const char *name, const char *a, size_t na, const char *b, size_t nb)
{
    size_t i = 0;

    while (i < na && i < nb && a[i] == b[i])
        i++;
    failf("%s: texts differ at byte %zu (jansson %zu bytes, direct %zu)\n  jansson: ...%.80s\n  "
          "direct:  ...%.80s",
          name, i, na, nb, a + (i > 20 ? i - 20 : 0), b + (i > 20 ? i - 20 : 0));
}

/* One value both ways; priced too when price is set. */
/* The table exporters' values (llm_rjson_cell) against what the jansson
 * record holds (llm_cell_of_json), field by field: kind, number, bytes. */
static void compare_cells(const char *name, json_t *j)
{
    for (int f = 0; f <= LLM_RJSON_EXTRA; f++) { /* and the unknown members */
        struct llm_cell a, b;
        char *owned = NULL;
        const char *fn = f == LLM_RJSON_EXTRA ? LLM_RJSON_EXTRA_NAME : llm_schema[f].name;
        int rc_a = f == LLM_RJSON_EXTRA ? llm_cell_extra_of_json(j, &a, &owned)
                                        : llm_cell_of_json(json_object_get(j, fn), &a, &owned);
        int rc_b = llm_rjson_cell(&rj, f, &b);
        if (rc_a || rc_b)
            failf("%s: field %s: cell %d / %d", name, fn, rc_a, rc_b);
        else if (a.k != b.k || a.i != b.i || memcmp(&a.d, &b.d, sizeof(a.d)) || a.n != b.n ||
                 (a.n && memcmp(a.s, b.s, a.n)) || ((a.s || b.s) && (b.s[b.n] || a.s[a.n])))
            failf("%s: field %s: the cells differ (kind %d / %d)", name, fn, a.k, b.k);
        free(owned);
    }
}

static void compare_once(const char *name, const void *buf, size_t len, enum path want, int price)
{
    void *j = NULL;
    int rc_j = llm_record_to_json(buf, len, &j), rc_d = llm_rjson_load(&rj, buf, len);
    char *text_j = NULL;
    const char *text_d;
    size_t n_d;

    compared += !price; /* values, not passes */
    if (rc_j != rc_d) {
        failf("%s: llm_record_to_json %d, direct load %d", name, rc_j, rc_d);
        goto out;
    }
    if (rc_j)
        goto out;
    if (!rj.whole && !price)
        direct++;
    if ((want == DIRECT && rj.whole) || (want == JANSSON && !rj.whole))
        failf("%s: took the %s path", name, rj.whole ? "jansson" : "direct");
    for (int f = 0; f < LLM_F__COUNT; f++) { /* what filters and the price see */
        json_t *a, *b;
        if (!rj.want[f])
            continue;
        a = json_object_get(j, llm_schema[f].name);
        b = json_object_get(rj.rec, llm_schema[f].name);
        if (!a || !b || json_typeof(a) != json_typeof(b) || !json_equal(a, b))
            failf("%s: field %s decodes differently", name, llm_schema[f].name);
    }
    if (price) {
        llm_cost_fill(j);
        llm_cost_fill(rj.rec);
    }
    compare_cells(name, j);
    text_j = json_dumps(j, LLM_EXPORT_JSON_FLAGS);
    if (!text_j || llm_rjson_text(&rj, &text_d, &n_d)) {
        failf("%s: no text", name);
        goto out;
    }
    if (strlen(text_j) != n_d || memcmp(text_j, text_d, n_d))
        show_diff(name, text_j, strlen(text_j), text_d, n_d);
out:
    free(text_j);
    json_decref(j);
}

static void compare(const char *name, const void *buf, size_t len, enum path want)
{
    compare_once(name, buf, len, want, 0);
    compare_once(name, buf, len, want, 1);
}

static void compare_record(const char *name, const struct llm_record *r)
{
    char *val;
    size_t len;

    if (llm_record_encode(r, &val, &len)) {
        failf("%s: llm_record_encode failed", name);
        return;
    }
    compare(name, val, len, DIRECT);
    free(val);
}

/* ------------------------------------------------------------------ store */

static int store_visit(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    char name[64];

    snprintf(name, sizeof(name), "store record %ld", (*(long *)arg)++);
    /* a value mkstore's --garbage wrote is corrupt either way */
    compare(name, val, vlen, vlen > 0 && ((const unsigned char *)val)[0] >= 0xde ? DIRECT : ANY);
    return 0;
}

static void run_store(const char *db)
{
    struct llm_store *s;
    long n = 0, before = direct;
    int rc = llm_store_open(db, LLM_STORE_RDONLY, &s);

    if (rc) {
        failf("open %s: %s", db, llm_strerror(rc));
        return;
    }
    rc = llm_store_scan(s, NULL, NULL, store_visit, &n);
    if (rc)
        failf("scan %s: %s", db, llm_strerror(rc));
    llm_store_close(s);
    printf("store %s: %ld values, %ld written directly\n", db, n, direct - before);
    if (n < 10)
        failf("store %s: only %ld values", db, n);
}

/* ----------------------------------------------------------------- corpus */

static void append(char **p, size_t *n, const void *s, size_t k)
{
    *p = realloc(*p, *n + k + 1);
    if (!*p) {
        fprintf(stderr, "json_text_test: out of memory\n");
        exit(1);
    }
    memcpy(*p + *n, s, k);
    *n += k;
}

/* The vector through the connection layer, as test_conn replays it (whole
 * messages, Content-Length framing); each record it emits is compared. */
static int replay_vector(const char *name, json_t *root)
{
    struct llm_feeder f;
    char label[512];
    int made;

    if (llm_feed_vector(&f, root))
        return 0;
    made = f.sink.n < LLM_FEED_MAX_RECS ? f.sink.n : LLM_FEED_MAX_RECS;
    for (int i = 0; i < made; i++) {
        snprintf(label, sizeof(label), "corpus %s replayed, record %d", name, i);
        compare_record(label, &f.sink.recs[i]);
    }
    llm_feed_done(&f);
    return made;
}

/* A record filled from the vector's raw material: bodies as the text and
 * JSON-text fields, the headers as extras (a map) and argv (an array). */
static void filled_vector(const char *name, json_t *root)
{
    struct llm_record r;
    json_t *hdrs = json_object_get(root, "response_headers"), *names = json_array(), *v;
    json_t *req = json_object_get(root, "request_body"), *resp;
    const char *k;
    char label[512], *text;

    llm_record_init(&r);
    llm_record_set_cstr(&r, LLM_F_OPERATION_ID, name);
    llm_record_set_cstr(&r, LLM_F_PROVIDER, json_string_value(json_object_get(root, "provider")));
    llm_record_set_cstr(&r, LLM_F_API, json_string_value(json_object_get(root, "api")));
    llm_record_set_cstr(&r, LLM_F_URL_PATH, json_string_value(json_object_get(root, "url")));
    if (json_is_string(req))
        llm_record_set_str(&r, LLM_F_COMPLETION_ARGS, json_string_value(req),
                           json_string_length(req));
    resp = json_object_get(root, "response_body");
    if (json_is_string(resp)) {
        llm_record_set_str(&r, LLM_F_RESPONSE, json_string_value(resp), json_string_length(resp));
        llm_record_set_str(&r, LLM_F_USAGE_RAW, json_string_value(resp), json_string_length(resp));
    }
    if (json_is_object(hdrs)) {
        text = json_dumps(hdrs, JSON_COMPACT);
        if (text)
            llm_record_set_cstr(&r, LLM_F_EXTRAS, text);
        free(text);
        json_object_foreach(hdrs, k, v) json_array_append_new(names, json_string(k));
    }
    text = json_dumps(names, JSON_COMPACT);
    if (text)
        llm_record_set_cstr(&r, LLM_F_ARGV, text);
    free(text);
    json_decref(names);
    llm_record_set_real(&r, LLM_F_LATENCY_MS, (double)strlen(name) * 1.37);
    llm_record_set_int(&r, LLM_F_HTTP_STATUS, json_integer_value(json_object_get(root, "status")));
    snprintf(label, sizeof(label), "corpus %s filled", name);
    compare_record(label, &r);
    llm_record_clear(&r);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_corpus(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, file[4096];
    size_t n = 0;
    long before = compared, recs = 0;

    if (!d) {
        failf("open %s", dir);
        return;
    }
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) {
            names = realloc(names, (n + 1) * sizeof(*names));
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        json_error_t err;
        json_t *root;
        snprintf(file, sizeof(file), "%s/%s", dir, names[i]);
        root = json_load_file(file, 0, &err);
        if (!root) {
            failf("%s: %s", file, err.text);
            continue;
        }
        recs += replay_vector(names[i], root);
        filled_vector(names[i], root);
        json_decref(root);
        free(names[i]);
    }
    free(names);
    printf("corpus %s: %zu vectors, %ld records replayed, %ld values compared\n", dir, n, recs,
           compared - before);
    if (n < 50 || recs < (long)n / 2)
        failf("corpus: %zu vectors, %ld records", n, recs);
}

/* --------------------------------------------------------------- msgpack */

struct mp {
    unsigned char *p;
    size_t n;
};

static void mp_raw(struct mp *m, const void *s, size_t k)
{
    append((char **)&m->p, &m->n, s, k);
}

static void mp_byte(struct mp *m, unsigned b)
{
    unsigned char c = (unsigned char)b;
    mp_raw(m, &c, 1);
}

static void mp_be(struct mp *m, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        mp_byte(m, (unsigned)(v >> (8 * i)) & 0xff);
}

/* A str header of the given width (0: the shortest), then the bytes. */
static void mp_strw(struct mp *m, const void *s, size_t n, int width)
{
    if (!width)
        width = n < 32 ? 1 : n < 256 ? 8 : n < 65536 ? 16 : 32;
    if (width == 1)
        mp_byte(m, 0xa0 | (unsigned)n);
    else if (width == 8)
        mp_byte(m, 0xd9), mp_be(m, n, 1);
    else if (width == 16)
        mp_byte(m, 0xda), mp_be(m, n, 2);
    else
        mp_byte(m, 0xdb), mp_be(m, n, 4);
    mp_raw(m, s, n);
}

static void mp_strn(struct mp *m, const void *s, size_t n)
{
    mp_strw(m, s, n, 0);
}

static void mp_str(struct mp *m, const char *s)
{
    mp_strn(m, s, strlen(s));
}

static void mp_bin(struct mp *m, const void *s, size_t n)
{
    mp_byte(m, 0xc4);
    mp_be(m, n, 1);
    mp_raw(m, s, n);
}

static void mp_int(struct mp *m, int64_t v)
{
    if (v >= 0 && v < 128)
        mp_byte(m, (unsigned)v);
    else if (v < 0 && v >= -32)
        mp_byte(m, (unsigned)(v & 0xff));
    else if (v >= 0)
        mp_byte(m, 0xcf), mp_be(m, (uint64_t)v, 8);
    else
        mp_byte(m, 0xd3), mp_be(m, (uint64_t)v, 8);
}

static void mp_double(struct mp *m, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    mp_byte(m, 0xcb);
    mp_be(m, u, 8);
}

static void mp_float(struct mp *m, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    mp_byte(m, 0xca);
    mp_be(m, u, 4);
}

static void mp_map(struct mp *m, uint32_t n)
{
    if (n < 16)
        mp_byte(m, 0x80 | n);
    else
        mp_byte(m, 0xdf), mp_be(m, n, 4);
}

static void mp_array(struct mp *m, uint32_t n)
{
    if (n < 16)
        mp_byte(m, 0x90 | n);
    else
        mp_byte(m, 0xdd), mp_be(m, n, 4);
}

/* A record map of every schema field, nil but field f, whose value is the
 * msgpack in val, and room for extra more entries the caller appends. */
static void mp_record(struct mp *m, int f, const struct mp *val, uint32_t extra)
{
    mp_map(m, LLM_F__COUNT + extra);
    for (int i = 0; i < LLM_F__COUNT; i++) {
        mp_str(m, llm_schema[i].name);
        if (i == f && val)
            mp_raw(m, val->p, val->n);
        else
            mp_byte(m, 0xc0);
    }
}

static void mp_free(struct mp *m)
{
    free(m->p);
    m->p = NULL;
    m->n = 0;
}

/* Field f holding the value in v, as a case. */
static void value_case(const char *name, int f, struct mp *v, enum path want)
{
    struct mp m = {0};

    mp_record(&m, f, v, 0);
    compare(name, m.p, m.n, want);
    mp_free(&m);
    mp_free(v);
}

/* ------------------------------------------------------------------ cases */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void numbers(void)
{
    static const double reals[] = {0.1,
                                   0.2,
                                   0.3,
                                   1e300,
                                   -1e300,
                                   0.0,
                                   -0.0,
                                   1.0,
                                   -1.0,
                                   2.0,
                                   2.5,
                                   1.5e-5,
                                   1e-4,
                                   1e-5,
                                   9.99e-5,
                                   0.0001234,
                                   1e14,
                                   1e15,
                                   1e16,
                                   1e17,
                                   1e21,
                                   1e22,
                                   1e23,
                                   123456789012345.0,
                                   1234567890123456.0,
                                   12345678901234567890.0,
                                   999999999999999.0,
                                   999999999999999.4,
                                   999999999999999.5,
                                   999999999999999.6,
                                   99999999999999.95,
                                   100000000000000.5,
                                   0.5,
                                   0.25,
                                   1.0 / 3,
                                   2.0 / 3,
                                   M_PI,
                                   M_E,
                                   DBL_MAX,
                                   -DBL_MAX,
                                   DBL_MIN,
                                   5e-324,
                                   DBL_EPSILON,
                                   44.02049,
                                   1234.567,
                                   0.000015,
                                   1.7976931348623157e308,
                                   4.35,
                                   0.045,
                                   1e-300,
                                   123e-20,
                                   1e27,
                                   1e28,
                                   1e-13,
                                   1e-14,
                                   1e41,
                                   1e42,
                                   9007199254740993.0,
                                   4503599627370495.5,
                                   0.1 + 0.2};
    static const int64_t ints[] = {
        0,         1,  127, 128, 255,  256,  65535,  65536,  4294967295LL, 4294967296LL,
        INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN,    (int64_t)INT32_MIN - 1,
        INT64_MIN};
    struct mp v = {0};
    char name[128];

    /* every real above, as a record field and all at once in an array */
    mp_array(&v, sizeof(reals) / sizeof(reals[0]));
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        struct mp one = {0};
        mp_double(&one, reals[i]);
        snprintf(name, sizeof(name), "real %.17g", reals[i]);
        value_case(name, LLM_F_LATENCY_MS, &one, DIRECT);
        mp_double(&v, reals[i]);
    }
    value_case("reals in an array", LLM_F_ARGV, &v, DIRECT);
    /* random reals: raw bit patterns, decimals of a few digits, and values
     * next to the ties printf rounds */
    for (int round = 0; round < 60; round++) {
        mp_array(&v, 1000);
        for (int i = 0; i < 1000; i++) {
            double d;
            uint64_t u = next();
            switch (round % 4) {
            case 0:
                memcpy(&d, &u, 8);
                if (!isfinite(d))
                    d = (double)(u >> 11);
                break;
            case 1:
                d = (double)(int64_t)(u % 100000000) / pow(10, (double)(u >> 60));
                break;
            case 2:
                d = ldexp((double)(u >> 11), (int)(u % 200) - 150);
                break;
            default:
                d = nextafter((double)(u % 1000000000000000ULL) + 0.5, (u & 1) ? 0 : 1e300);
            }
            mp_double(&v, (u >> 63) ? -d : d);
        }
        snprintf(name, sizeof(name), "random reals, round %d", round);
        value_case(name, LLM_F_ARGV, &v, DIRECT);
    }
    /* float32: widened to double */
    mp_array(&v, 6);
    mp_float(&v, 0.1f);
    mp_float(&v, 3.4e38f);
    mp_float(&v, -0.0f);
    mp_float(&v, 1e-40f);
    mp_float(&v, 16777217.0f);
    mp_float(&v, 1.5f);
    value_case("float32", LLM_F_ARGV, &v, DIRECT);
    /* NaN and infinity: json_real() refuses them, the record is corrupt */
    mp_double(&v, NAN);
    value_case("NaN", LLM_F_LATENCY_MS, &v, ANY);
    mp_double(&v, INFINITY);
    value_case("infinity", LLM_F_TOP_P, &v, ANY);
    mp_array(&v, 2);
    mp_byte(&v, 1);
    mp_float(&v, -INFINITY);
    value_case("-inf float32 in an array", LLM_F_ARGV, &v, ANY);
    /* integers, shortest and in every wider encoding */
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        int64_t x = ints[i];
        mp_array(&v, 9);
        mp_int(&v, x);
        for (int w = 0; w < 4; w++) { /* uint 8..64 and int 8..64 where x fits */
            int bytes = 1 << w;
            int ubig = bytes == 8 || (x >= 0 && (uint64_t)x < (1ULL << (8 * bytes)));
            int sbig =
                bytes == 8 || (x >= -(1LL << (8 * bytes - 1)) && x < (1LL << (8 * bytes - 1)));
            if (x >= 0 && ubig)
                mp_byte(&v, 0xcc + (unsigned)w), mp_be(&v, (uint64_t)x, bytes);
            else
                mp_byte(&v, 0xc0);
            if (sbig)
                mp_byte(&v, 0xd0 + (unsigned)w), mp_be(&v, (uint64_t)x, bytes);
            else
                mp_byte(&v, 0xc0);
        }
        snprintf(name, sizeof(name), "integer %lld", (long long)x);
        value_case(name, LLM_F_ARGV, &v, DIRECT);
    }
    /* uint64 past INT64_MAX wraps, as json_integer((json_int_t)u64) does */
    mp_array(&v, 3);
    mp_byte(&v, 0xcf), mp_be(&v, (uint64_t)INT64_MAX + 1, 8);
    mp_byte(&v, 0xcf), mp_be(&v, UINT64_MAX, 8);
    mp_byte(&v, 0xcf), mp_be(&v, UINT64_MAX - 12345, 8);
    value_case("uint64 past INT64_MAX", LLM_F_ARGV, &v, DIRECT);
    mp_byte(&v, 0xcf), mp_be(&v, UINT64_MAX, 8);
    value_case("uint64 max as input_tokens", LLM_F_INPUT_TOKENS, &v, DIRECT);
}

static void strings(void)
{
    static const struct {
        const char *name, *s;
        size_t n;
        enum path want;
    } strs[] = {
#define S(lit) lit, sizeof(lit) - 1
        {"empty", S(""), DIRECT},
        {"quotes and backslashes", S("a\"b\\c/d\"\"\\\\"), DIRECT},
        {"controls",
         S("\x01\x02\x03\x04\x05\x06\x07\b\t\n\x0b\f\r\x0e\x0f\x10\x11\x12\x13\x14\x15"
           "\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f"),
         DIRECT},
        {"NUL inside valid UTF-8", S("a\0b\0"), DIRECT},
        {"U+2028 U+2029", S("x\xe2\x80\xa8y\xe2\x80\xa9z"), DIRECT},
        {"non-ASCII", S("h\xc3\xa9llo \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xef\xbf\xbf"),
         DIRECT},
        {"U+10FFFF", S("\xf4\x8f\xbf\xbf"), DIRECT},
        {"lone continuation", S("a\x80z"), DIRECT},
        {"overlong slash", S("\xc0\xaf"), DIRECT},
        {"overlong 3-byte", S("\xe0\x80\xaf"), DIRECT},
        {"surrogate", S("\xed\xa0\x80"), DIRECT},
        {"past U+10FFFF", S("\xf4\x90\x80\x80"), DIRECT},
        {"F5 lead", S("\xf5\x80\x80\x80"), DIRECT},
        {"FF", S("\xff"), DIRECT},
        {"cut 3-byte at the end", S("ab\xe2\x82"), DIRECT},
        {"cut 4-byte then ASCII", S("\xf0\x9f\x98z"), DIRECT},
        {"invalid with NUL and controls", S("\x00\x80\n\"\x01\\\xc3\xa9\x00"), DIRECT},
        {"valid then invalid late", S("\xc3\xa9\xc3\xa9\n\x00\t\xe2\x80\xa8\xfe"), DIRECT},
#undef S
    };
    struct mp v = {0};
    char name[128], *big;

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        for (int w = 0; w < 4; w++) { /* fixstr, str 8, 16, 32 */
            mp_strw(&v, strs[i].s, strs[i].n, w == 0 ? 1 : 8 << (w - 1));
            snprintf(name, sizeof(name), "string %s (width %d)", strs[i].name, w);
            value_case(name, LLM_F_RESPONSE, &v, strs[i].want);
        }
        mp_bin(&v, strs[i].s, strs[i].n);
        snprintf(name, sizeof(name), "bin %s", strs[i].name);
        value_case(name, LLM_F_ERROR_MESSAGE, &v, DIRECT);
        mp_strn(&v, strs[i].s, strs[i].n); /* a field the filters read */
        snprintf(name, sizeof(name), "model %s", strs[i].name);
        value_case(name, LLM_F_MODEL, &v, DIRECT);
    }
    /* every byte value, alone and after valid text */
    for (unsigned b = 0; b < 256; b++) {
        unsigned char s[4] = {'a', (unsigned char)b, 'z', (unsigned char)b};
        mp_strn(&v, s, 4);
        snprintf(name, sizeof(name), "byte 0x%02x", b);
        value_case(name, LLM_F_RESPONSE, &v, DIRECT);
    }
    /* a long string of random bytes, mostly text */
    big = malloc(200000);
    for (int i = 0; i < 200000; i++) {
        uint64_t u = next();
        big[i] = (char)(u % 10 ? ' ' + u % 95 : u >> 8);
    }
    mp_strn(&v, big, 200000);
    value_case("long random string", LLM_F_RESPONSE, &v, DIRECT);
    for (int i = 0; i < 200000; i++)
        big[i] = (char)("h\xc3\xa9\"\\\n\x01 "[i % 8]);
    mp_strn(&v, big, 199998);
    value_case("long escaped text", LLM_F_COMPLETION_ARGS, &v, DIRECT);
    free(big);
}

static void others(void)
{
    struct mp v = {0}, m = {0};
    char name[128];

    mp_byte(&v, 0xc3);
    value_case("true", LLM_F_STREAM, &v, DIRECT);
    mp_byte(&v, 0xc2);
    value_case("false", LLM_F_TRUNCATED, &v, DIRECT);
    /* ext: null, in every form */
    mp_array(&v, 8);
    mp_byte(&v, 0xd4), mp_raw(&v, "\x01\x02", 2);
    mp_byte(&v, 0xd5), mp_raw(&v, "\xff\x02\x03", 3);
    mp_byte(&v, 0xd6), mp_raw(&v, "\xff\x00\x00\x00\x01", 5);
    mp_byte(&v, 0xd7), mp_raw(&v, "\xff\x00\x00\x00\x01\x00\x00\x00\x01", 9);
    mp_byte(&v, 0xd8), mp_raw(&v,
                              "\x05"
                              "0123456789abcdef",
                              17);
    mp_byte(&v, 0xc7), mp_raw(&v,
                              "\x03\x07"
                              "abc",
                              5);
    mp_byte(&v, 0xc8), mp_raw(&v,
                              "\x00\x01\x07"
                              "a",
                              4);
    mp_byte(&v, 0xc9), mp_raw(&v, "\x00\x00\x00\x00\x07", 5);
    value_case("ext", LLM_F_ARGV, &v, DIRECT);
    mp_byte(&v, 0xd6), mp_raw(&v, "\xff\x00\x00\x00\x01", 5);
    value_case("ext timestamp as the timestamp", LLM_F_TIMESTAMP, &v, DIRECT);
    /* containers */
    mp_map(&v, 0);
    value_case("empty map", LLM_F_EXTRAS, &v, DIRECT);
    mp_array(&v, 0);
    value_case("empty array", LLM_F_ARGV, &v, DIRECT);
    mp_map(&v, 4);
    mp_str(&v, "a"), mp_array(&v, 2), mp_map(&v, 0), mp_array(&v, 0);
    mp_str(&v, "k\"e\\y\n\xe2\x80\xa8"), mp_byte(&v, 0xc0);
    mp_str(&v, ""), mp_map(&v, 1), mp_str(&v, "x"), mp_double(&v, 0.1);
    mp_str(&v, "\xc3\xa9"), mp_str(&v, "v");
    value_case("nested map", LLM_F_EXTRAS, &v, DIRECT);
    mp_map(&v, 5); /* keys that are not str: dropped, values and all */
    mp_int(&v, 1), mp_str(&v, "int key");
    mp_bin(&v, "bin", 3), mp_str(&v, "bin key");
    mp_byte(&v, 0xc0), mp_double(&v, NAN); /* never converted: not corrupt */
    mp_map(&v, 1), mp_str(&v, "k"), mp_str(&v, "v"), mp_array(&v, 1), mp_str(&v, "map key");
    mp_str(&v, "kept"), mp_str(&v, "yes");
    value_case("non-str keys", LLM_F_EXTRAS, &v, DIRECT);
    mp_map(&v, 2);
    mp_int(&v, 1), mp_str(&v, "x");
    mp_int(&v, 2), mp_str(&v, "y");
    value_case("only non-str keys", LLM_F_EXTRAS, &v, DIRECT);
    /* shapes the direct writer leaves to jansson */
    mp_map(&v, 3);
    mp_str(&v, "a"), mp_int(&v, 1), mp_str(&v, "b"), mp_int(&v, 2), mp_str(&v, "a"), mp_int(&v, 3);
    value_case("repeated key in a nested map", LLM_F_EXTRAS, &v, JANSSON);
    mp_map(&v, 2);
    mp_str(&v, "\xff"), mp_int(&v, 1), mp_str(&v, "\xfe"), mp_int(&v, 2);
    value_case("keys equal once repaired", LLM_F_EXTRAS, &v, JANSSON);
    mp_map(&v, 1);
    mp_strn(&v, "a\0b", 3), mp_int(&v, 1);
    value_case("NUL in a nested key", LLM_F_EXTRAS, &v, JANSSON);
    for (uint32_t n = 63; n <= 66; n++) {
        mp_map(&v, n);
        for (uint32_t i = 0; i < n; i++) {
            snprintf(name, sizeof(name), "key%u", i);
            mp_str(&v, name);
            mp_int(&v, i);
        }
        snprintf(name, sizeof(name), "map of %u entries", n);
        value_case(name, LLM_F_EXTRAS, &v, n <= 64 ? DIRECT : JANSSON);
    }
    mp_map(&v, 1);
    mp_str(&v, "m"), mp_map(&v, 0);
    value_case("a map in provider", LLM_F_PROVIDER, &v, JANSSON);
    mp_array(&v, 1);
    mp_str(&v, "x");
    value_case("an array in input_tokens", LLM_F_INPUT_TOKENS, &v, JANSSON);
    mp_array(&v, 0);
    value_case("an array in a field nothing reads", LLM_F_MAX_TOKENS, &v, DIRECT);
    /* nesting: containers at depth 31 are the deepest the pre-scan takes */
    for (int depth = 29; depth <= 33; depth++) {
        for (int d = 1; d < depth; d++) {
            if (d % 2)
                mp_array(&v, 2), mp_int(&v, d);
            else
                mp_map(&v, 1), mp_str(&v, "k");
        }
        mp_array(&v, 0);
        snprintf(name, sizeof(name), "nested to depth %d", depth);
        value_case(name, LLM_F_EXTRAS, &v, depth <= 31 ? DIRECT : ANY);
    }
    /* wrong types where the schema says otherwise */
    mp_str(&v, "12");
    value_case("string input_tokens", LLM_F_INPUT_TOKENS, &v, DIRECT);
    mp_double(&v, 12.0);
    value_case("real output_tokens", LLM_F_OUTPUT_TOKENS, &v, DIRECT);
    mp_int(&v, 7);
    value_case("integer latency_ms", LLM_F_LATENCY_MS, &v, DIRECT);
    mp_int(&v, 3);
    value_case("integer provider", LLM_F_PROVIDER, &v, DIRECT);
    mp_str(&v, "0.5");
    value_case("string cost_usd", LLM_F_COST_USD, &v, DIRECT);
    mp_map(&v, 0);
    value_case("map cost_usd", LLM_F_COST_USD, &v, JANSSON); /* the price reads cost_usd */
    mp_byte(&v, 0xc3);
    value_case("boolean timestamp", LLM_F_TIMESTAMP, &v, DIRECT);
    mp_str(&v, "not a time");
    value_case("bad timestamp", LLM_F_TIMESTAMP, &v, DIRECT);

    /* the record's own map */
    mp_map(&m, 0);
    compare("empty record", m.p, m.n, DIRECT);
    mp_free(&m);
    mp_map(&m, 3);
    mp_str(&m, "model"), mp_str(&m, "gpt-4o");
    mp_str(&m, "provider"), mp_str(&m, "openai");
    mp_str(&m, "input_tokens"), mp_int(&m, 1000);
    compare("three fields", m.p, m.n, DIRECT);
    mp_free(&m);
    mp_map(&m, LLM_F__COUNT); /* schema order reversed */
    for (int i = LLM_F__COUNT - 1; i >= 0; i--) {
        mp_str(&m, llm_schema[i].name);
        mp_int(&m, i);
    }
    compare("fields in reverse", m.p, m.n, DIRECT);
    mp_free(&m);
    mp_str(&v, "v");
    mp_record(&m, LLM_F_MODEL, &v, 4); /* unknown keys after the schema's */
    mp_str(&m, "zeta"), mp_double(&m, 1.5);
    mp_int(&m, 42), mp_str(&m, "dropped");
    mp_str(&m, "alpha \"q\" \xe2\x80\xa8"), mp_map(&m, 1), mp_str(&m, "x"), mp_byte(&m, 0xc0);
    mp_str(&m, ""), mp_array(&m, 0);
    compare("unknown keys", m.p, m.n, DIRECT);
    mp_free(&m);
    mp_map(&m, 4); /* unknown keys among the schema's */
    mp_str(&m, "new1"), mp_int(&m, 1);
    mp_str(&m, "model"), mp_str(&m, "m");
    mp_str(&m, "new2"), mp_int(&m, 2);
    mp_str(&m, "operation_id"), mp_str(&m, "x");
    compare("unknown keys first", m.p, m.n, DIRECT);
    mp_free(&m);
    mp_record(&m, LLM_F_MODEL, &v, 1);
    mp_str(&m, "model"), mp_str(&m, "second");
    compare("a schema key twice", m.p, m.n, JANSSON);
    mp_free(&m);
    mp_record(&m, LLM_F_MODEL, &v, 2);
    mp_str(&m, "extra"), mp_int(&m, 1);
    mp_str(&m, "extra"), mp_int(&m, 2);
    compare("an unknown key twice", m.p, m.n, JANSSON);
    mp_free(&m);
    mp_record(&m, LLM_F_MODEL, &v, 1);
    mp_str(&m, "bad\xffkey"), mp_int(&m, 1);
    compare("an unknown key not UTF-8", m.p, m.n, JANSSON);
    mp_free(&m);
    mp_record(&m, LLM_F_MODEL, &v, 2);
    mp_byte(&m, 0xc0), mp_int(&m, 1);
    mp_bin(&m, "model", 5), mp_str(&m, "bin key");
    compare("non-str keys in the record", m.p, m.n, DIRECT);
    mp_free(&m);
    mp_free(&v);
    /* not a record at all, and broken msgpack */
    compare("empty value", "", 0, ANY);
    compare("nil", "\xc0", 1, ANY);
    compare("an array", "\x91\x01", 2, ANY);
    compare("a string", "\xa1x", 2, ANY);
    compare("0xc1", "\x81\xa1x\xc1", 4, ANY);
    compare("map claiming more than there is", "\xdf\xff\xff\xff\xff\xa1x\x01", 8, ANY);
    compare("str claiming more than there is",
            "\x81\xa1x\xdb\x00\x01\x00\x00"
            "ab",
            10, ANY);
    compare("trailing bytes", "\x81\xa1x\x01garbage", 11, DIRECT);
}

/* A realistic record, then every prefix of it, then random mutations. */
static void broken(void)
{
    struct llm_record r;
    char *val, *copy, name[128];
    size_t len;

    llm_record_init(&r);
    llm_record_set_cstr(&r, LLM_F_OPERATION_ID, "01J0000000000000000000000");
    llm_record_set_int(&r, LLM_F_SCHEMA_VERSION, 1);
    llm_record_set_cstr(&r, LLM_F_TIMESTAMP, "2025-01-02T03:04:05.123456Z");
    llm_record_set_real(&r, LLM_F_LATENCY_MS, 1234.5);
    llm_record_set_cstr(&r, LLM_F_PROVIDER, "openai");
    llm_record_set_cstr(&r, LLM_F_MODEL, "gpt-4o");
    llm_record_set_int(&r, LLM_F_INPUT_TOKENS, 1200);
    llm_record_set_int(&r, LLM_F_OUTPUT_TOKENS, 300);
    llm_record_set_cstr(&r, LLM_F_RESPONSE, "Hello \"world\"\n\xc3\xa9");
    llm_record_set_cstr(&r, LLM_F_EXTRAS, "{\"a\":[1,2.5,{\"b\":null}],\"c\":\"d\"}");
    llm_record_set_cstr(&r, LLM_F_ARGV, "[\"python\",\"-c\",\"x\"]");
    llm_record_set_bool(&r, LLM_F_STREAM, 1);
    if (llm_record_encode(&r, &val, &len)) {
        failf("encode");
        return;
    }
    llm_record_clear(&r);
    compare("realistic", val, len, DIRECT);
    for (size_t n = 0; n < len; n++) {
        snprintf(name, sizeof(name), "realistic cut at %zu", n);
        compare(name, val, n, ANY);
    }
    copy = malloc(len);
    for (int i = 0; i < 20000; i++) {
        uint64_t u = next();
        memcpy(copy, val, len);
        for (int k = 0; k <= (int)(u % 4); k++) {
            uint64_t w = next();
            copy[w % len] = (char)(w % 7 ? w >> 16 : (w >> 16) % 3 ? 0xc1 : 0xdf);
        }
        snprintf(name, sizeof(name), "realistic mutated %d", i);
        compare(name, copy, len, ANY);
    }
    free(copy);
    free(val);
}

/* Random values: every type, nested, keys from a pool that holds schema
 * names, repeats, empty and broken keys. */
static void random_value(struct mp *m, int depth)
{
    static const char *pool[] = {"model", "provider", "a",     "b",          "",
                                 "k\"",   "\xc3\xa9", "x\x01", "latency_ms", "extras"};
    uint64_t u = next();
    unsigned kind = (unsigned)(u % (depth > 5 ? 9 : 12));
    char s[40];

    switch (kind) {
    case 0: /* nil, false, true */
        mp_byte(m, (u >> 8) % 3 == 0 ? 0xc0 : (u >> 8) % 3 == 1 ? 0xc2 : 0xc3);
        break;
    case 1:
        mp_int(m, (int64_t)(next() >> (u >> 8) % 64) * ((u >> 14) & 1 ? -1 : 1));
        break;
    case 2:
        if ((u >> 8) % 3) {
            mp_double(m, (double)(int64_t)(next() % 2000000) / 1000.0);
        } else {
            double d;
            uint64_t b = next();
            memcpy(&d, &b, 8);
            mp_double(m, isnan(d) && (u >> 12) % 4 ? 1.0 : d);
        }
        break;
    case 3:
        mp_float(m, (float)(next() % 100000) / 7.0f);
        break;
    case 4:
    case 5:
    case 6: {
        size_t n = (size_t)(u >> 8) % sizeof(s);
        for (size_t i = 0; i < n; i++) {
            uint64_t w = next();
            s[i] = (char)(w % 4 ? 'a' + w % 26 : w >> 8);
        }
        if ((u >> 20) % 5 == 0)
            mp_bin(m, s, n);
        else
            mp_strw(m, s, n, (u >> 24) % 4 == 0 ? 16 : 0);
        break;
    }
    case 7:
    case 8:
        mp_byte(m, 0xd4), mp_byte(m, 1), mp_byte(m, 2);
        break;
    case 9:
    case 10: {
        uint32_t n = (uint32_t)(u >> 8) % 5;
        mp_array(m, n);
        for (uint32_t i = 0; i < n; i++)
            random_value(m, depth + 1);
        break;
    }
    default: {
        uint32_t n = (uint32_t)(u >> 8) % 5;
        mp_map(m, n);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t w = next();
            if (w % 9 == 0)
                mp_int(m, (int64_t)(w % 100));
            else
                mp_str(m, pool[w % (sizeof(pool) / sizeof(pool[0]))]);
            random_value(m, depth + 1);
        }
    }
    }
}

static void randoms(void)
{
    char name[64];

    for (int i = 0; i < 20000; i++) {
        struct mp m = {0};
        uint32_t n = (uint32_t)(next() % 8);
        if (i % 2) { /* a record with a few random fields and unknown keys */
            mp_map(&m, n);
            for (uint32_t k = 0; k < n; k++) {
                uint64_t w = next();
                if (w % 3)
                    mp_str(&m, llm_schema[w % LLM_F__COUNT].name);
                else
                    mp_str(&m, w % 2 ? "unknown" : "other");
                random_value(&m, 1);
            }
        } else { /* a whole record with one random field */
            struct mp v = {0};
            random_value(&v, 1);
            mp_record(&m, (int)(next() % LLM_F__COUNT), &v, 0);
            mp_free(&v);
        }
        snprintf(name, sizeof(name), "random %d", i);
        compare(name, m.p, m.n, ANY);
        mp_free(&m);
    }
}

int main(int argc, char **argv)
{
    struct llm_filter all = {.has_since = 1, .has_min_tokens = 1, .has_min_latency = 1};
    int rc;

    /* decode what every filter and the price read, as export does */
    llm_rjson_init(&rj);
    for (int i = 0; i < LLM_FILTER_NEQ; i++)
        all.eq[i] = "x";
    llm_filter_fields(&all, rj.want);
    llm_cost_fields(rj.want);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--prices") && i + 1 < argc) {
            llm_cost_set_path(argv[++i]);
            if (llm_cost_load(1))
                return 1;
        } else if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            run_store(argv[++i]);
        } else if (!strcmp(argv[i], "--corpus") && i + 1 < argc) {
            run_corpus(argv[++i]);
        } else if (!strcmp(argv[i], "--cases")) {
            long before = compared;
            numbers();
            strings();
            others();
            broken();
            randoms();
            printf("cases: %ld values compared\n", compared - before);
        } else {
            fprintf(stderr,
                    "usage: json_text_test [--prices FILE] [--db DIR] [--corpus DIR] [--cases]\n");
            return 2;
        }
    }
    llm_rjson_free(&rj);
    printf("%ld values compared unpriced and priced, %ld written directly, %ld failures\n",
           compared, direct, failures);
    rc = failures || !compared;
    return rc;
}
