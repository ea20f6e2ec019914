/* Fuzz harness for record.c's decoding, the `llmops` tool's view of the
 * store: llm_record_to_json on arbitrary msgpack, then the JSON text export
 * makes of it, and the msgpack pre-scan against msgpack-c (what it passes
 * unpacks, to the same end; a huge container header is refused before
 * msgpack-c allocates for it). Input: [mode][bytes]. mode bit 0 clear: the bytes are one
 * stored value. Set: they are [u8 field][u8 len][len bytes] triples that
 * fill a record (strings as given, numbers from the bytes, MAP and ARRAY
 * fields as JSON text), which is encoded with llm_record_encode and decoded
 * again: every field must come back as it was set. */
#include "err.h"
#include "fuzz_common.h"
#include "record.h"

#include <jansson.h>
#include <msgpack.h>

static void decode_raw(const uint8_t *p, size_t n)
{
    char *copy = fz_dup(p, n);
    void *out = NULL;
    size_t end = 0, off = 0;
    int rc = llm_record_to_json(copy, n, &out);
    int crc = llm_msgpack_check(copy, n, &end);

    FZ_CHECK(rc == 0 || rc == LLM_ECORRUPT || rc == LLM_ENOMEM, "rc %d", rc);
    FZ_CHECK(rc || !crc, "decoded what the pre-scan refuses: %d", crc);
    if (!crc) { /* what the pre-scan passes, msgpack-c unpacks, to the same end */
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        FZ_CHECK(msgpack_unpack_next(&u, copy, n, &off) == MSGPACK_UNPACK_SUCCESS && off == end,
                 "pre-scan passed %zu bytes, msgpack-c unpacked %zu", end, off);
        msgpack_unpacked_destroy(&u);
    }
    if (!rc) {
        char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        FZ_CHECK(json_object_size(out) >= LLM_F__COUNT, "%zu keys", json_object_size(out));
        free(s);
        json_decref(out);
    }
    free(copy);
}

static int64_t bytes_int(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* Containers nested in j, j included. */
static int depth(json_t *j)
{
    int d = 0, k;
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_object(j)) {
        json_object_foreach(j, key, v)
        {
            if ((k = depth(v)) > d)
                d = k;
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v)
        {
            if ((k = depth(v)) > d)
                d = k;
        }
    } else {
        return 0;
    }
    return d + 1;
}

/* The value field f should have after the round trip. */
static void check_field(const struct llm_record *r, int f, json_t *got)
{
    const struct llm_value *v = &r->f[f];
    const char *name = llm_schema[f].name;
    json_t *want;

    if (!v->set) {
        FZ_CHECK(json_is_null(got), "%s: unset, came back", name);
        return;
    }
    switch (llm_schema[f].type) {
    case LLM_T_INT:
        FZ_CHECK(json_is_integer(got) && json_integer_value(got) == v->u.i, "%s", name);
        break;
    case LLM_T_REAL:
        FZ_CHECK(json_is_real(got) && json_real_value(got) == v->u.d, "%s", name);
        break;
    case LLM_T_BOOL:
        FZ_CHECK(json_is_boolean(got) && json_is_true(got) == !!v->u.b, "%s", name);
        break;
    case LLM_T_MAP:
    case LLM_T_ARRAY:
        want = json_loadb(v->u.s.p, v->u.s.n, JSON_DECODE_ANY, NULL);
        /* what msgpack-c cannot decode (32 levels, the record's map one of
         * them) is stored as nil too */
        if (!want || json_typeof(want) != (llm_schema[f].type == LLM_T_MAP ? JSON_OBJECT
                                                                            : JSON_ARRAY) ||
            depth(want) > 31)
            FZ_CHECK(json_is_null(got), "%s: bad or too deep JSON stored as a value", name);
        else
            FZ_CHECK(json_equal(want, got), "%s: JSON changed in the round trip", name);
        json_decref(want);
        break;
    default:
        FZ_CHECK(json_is_string(got) && json_string_length(got) == v->u.s.n &&
                     !memcmp(json_string_value(got), v->u.s.p, v->u.s.n),
                 "%s: text changed in the round trip", name);
    }
}

static void round_trip(struct fz *f)
{
    struct llm_record r;
    char *enc = NULL;
    size_t len = 0, end = 0;
    void *out = NULL;
    int rc;

    llm_record_init(&r);
    while (f->n) {
        int fld = fz_u8(f) % LLM_F__COUNT;
        size_t n = fz_u8(f);
        const uint8_t *p = fz_take(f, &n);
        switch (llm_schema[fld].type) {
        case LLM_T_INT:
            llm_record_set_int(&r, fld, bytes_int(p, n));
            break;
        case LLM_T_REAL: /* finite values only: JSON has no NaN */
            llm_record_set_real(&r, fld, (double)(int32_t)bytes_int(p, n) / 7.0);
            break;
        case LLM_T_BOOL:
            llm_record_set_bool(&r, fld, n && (p[0] & 1));
            break;
        default:
            llm_record_set_str(&r, fld, (const char *)p, n);
        }
    }
    rc = llm_record_encode(&r, &enc, &len);
    FZ_CHECK(!rc, "encode: %d", rc);
    FZ_CHECK(!llm_msgpack_check(enc, len, &end) && end == len, "pre-scan refuses a record");
    rc = llm_record_to_json(enc, len, &out);
    FZ_CHECK(!rc, "a record we encoded does not decode: %d", rc);
    for (int i = 0; i < LLM_F__COUNT; i++)
        check_field(&r, i, json_object_get(out, llm_schema[i].name));
    json_decref(out);
    free(enc);
    llm_record_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    uint8_t mode = fz_u8(&f);

    if (mode & 1)
        round_trip(&f);
    else
        decode_raw(f.p, f.n);
    return 0;
}
