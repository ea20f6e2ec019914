/* record.c: the schema table, setters (copy, take, unset, overwrite), UTF-8
 * repair on the way in, and llm_record_encode -> llm_record_to_json round
 * trips of every field type (STR, INT, REAL, BOOL, TIME, JSON, MAP, ARRAY),
 * nil for unset and for MAP/ARRAY fields holding bad JSON, schema key order,
 * keys a newer writer added appended after the schema, foreign invalid
 * UTF-8 replaced, and corrupt input refused; the msgpack pre-scan
 * (llm_msgpack_check) against msgpack-c on every type, and refusing headers
 * that claim more than the bytes hold, or nest past msgpack-c's limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "record.h"

#include <jansson.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

static json_t *roundtrip(const struct llm_record *r)
{
    char *buf = NULL;
    size_t len = 0;
    void *out = NULL;

    assert_int_equal(llm_record_encode(r, &buf, &len), 0);
    assert_non_null(buf);
    assert_true(len > 0);
    assert_int_equal(llm_record_to_json(buf, len, &out), 0);
    free(buf);
    assert_non_null(out);
    return out;
}

static void test_schema(void **state)
{
    (void)state;
    assert_int_equal(LLM_SCHEMA_VERSION, 2);
    assert_string_equal(llm_schema[LLM_F_TRACE_ID].name, "trace_id");
    assert_string_equal(llm_schema[0].name, "operation_id");
    assert_string_equal(llm_schema[LLM_F_INPUT_TOKENS].name, "input_tokens");
    assert_int_equal(llm_schema[LLM_F_INPUT_TOKENS].type, LLM_T_INT);
    assert_int_equal(llm_schema[LLM_F_EXTRAS].type, LLM_T_MAP);
    assert_int_equal(llm_schema[LLM_F_ARGV].type, LLM_T_ARRAY);
    assert_string_equal(llm_schema[LLM_F__COUNT - 1].name, "trace_state");
    for (int i = 0; i < LLM_F__COUNT; i++) {
        assert_int_equal(llm_field_lookup(llm_schema[i].name, strlen(llm_schema[i].name)), i);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(llm_schema[i].name, llm_schema[j].name);
    }
    assert_int_equal(llm_field_lookup("model", 5), LLM_F_MODEL);
    assert_int_equal(llm_field_lookup("model_x", 7), -1);
    assert_int_equal(llm_field_lookup("mode", 4), -1);
    assert_int_equal(llm_field_lookup("modelXYZ", 5), LLM_F_MODEL); /* the length counts */
}

static void test_setters(void **state)
{
    struct llm_record r;

    (void)state;
    llm_record_init(&r);
    for (int i = 0; i < LLM_F__COUNT; i++)
        assert_int_equal(r.f[i].set, 0);
    assert_null(llm_record_str(&r, LLM_F_MODEL));
    assert_int_equal(llm_record_set_cstr(&r, LLM_F_MODEL, "gpt-4o"), 0);
    assert_string_equal(llm_record_str(&r, LLM_F_MODEL), "gpt-4o");
    assert_int_equal(r.f[LLM_F_MODEL].u.s.n, 6);
    /* overwriting frees the old value (checked under ASan) */
    assert_int_equal(llm_record_set_str(&r, LLM_F_MODEL, "o3-mini-extra", 7), 0);
    assert_string_equal(llm_record_str(&r, LLM_F_MODEL), "o3-mini");
    llm_record_set_cstr(&r, LLM_F_MODEL, NULL); /* NULL unsets */
    assert_int_equal(r.f[LLM_F_MODEL].set, 0);
    assert_null(llm_record_str(&r, LLM_F_MODEL));
    llm_record_take_str(&r, LLM_F_RESPONSE, strdup("taken"), 5);
    assert_string_equal(llm_record_str(&r, LLM_F_RESPONSE), "taken");
    llm_record_set_int(&r, LLM_F_INPUT_TOKENS, 5);
    llm_record_set_int(&r, LLM_F_INPUT_TOKENS, 7);
    assert_int_equal(r.f[LLM_F_INPUT_TOKENS].u.i, 7);
    llm_record_set_bool(&r, LLM_F_STREAM, 42);
    assert_int_equal(r.f[LLM_F_STREAM].u.b, 1);
    llm_record_unset(&r, LLM_F_STREAM);
    assert_int_equal(r.f[LLM_F_STREAM].set, 0);
    llm_record_clear(&r);
    for (int i = 0; i < LLM_F__COUNT; i++)
        assert_int_equal(r.f[i].set, 0);
}

static void test_utf8_repair(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"plain", 5, "plain"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
         "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"a\xff"
         "b",
         3,
         "a\xef\xbf\xbd"
         "b"},                                                       /* invalid byte */
        {"a\xc3", 2, "a\xef\xbf\xbd"},                               /* cut sequence */
        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong '/' */
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
        {"\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > 10FFFF */
        {"a\0b", 3,
         "a\xef\xbf\xbd"
         "b"}, /* NUL */
        {"\xe2\x82"
         "x",
         3,
         "\xef\xbf\xbd\xef\xbf\xbd"
         "x"},
    };
    struct llm_record r;

    (void)state;
    llm_record_init(&r);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(llm_record_set_str(&r, LLM_F_RESPONSE, cases[i].in, cases[i].n), 0);
        if (strcmp(llm_record_str(&r, LLM_F_RESPONSE), cases[i].want))
            fail_msg("case %zu", i);
        assert_int_equal(r.f[LLM_F_RESPONSE].u.s.n, strlen(cases[i].want));
    }
    /* and the stored form carries the repaired text */
    json_t *j = roundtrip(&r);
    assert_string_equal(json_string_value(json_object_get(j, "response")),
                        "\xef\xbf\xbd\xef\xbf\xbd"
                        "x");
    json_decref(j);
    llm_record_clear(&r);
}

static void test_roundtrip_every_type(void **state)
{
    struct llm_record r;
    json_t *j, *v;

    (void)state;
    llm_record_init(&r);
    llm_record_set_cstr(&r, LLM_F_OPERATION_ID, "01ARZ3NDEKTSV4RRFFQ69G5FAV"); /* STR */
    llm_record_set_int(&r, LLM_F_SCHEMA_VERSION, 1);                           /* INT */
    llm_record_set_cstr(&r, LLM_F_TIMESTAMP, "2026-11-27T18:49:22.123456Z");   /* TIME */
    llm_record_set_real(&r, LLM_F_LATENCY_MS, 1234.567);                       /* REAL */
    llm_record_set_real(&r, LLM_F_TEMPERATURE, 0.0);
    llm_record_set_int(&r, LLM_F_INPUT_TOKENS, 0);
    llm_record_set_int(&r, LLM_F_OUTPUT_TOKENS, INT64_MAX);
    llm_record_set_int(&r, LLM_F_SERVER_PORT, -1);
    llm_record_set_int(&r, LLM_F_PID, INT64_MIN);
    llm_record_set_bool(&r, LLM_F_STREAM, 1); /* BOOL */
    llm_record_set_bool(&r, LLM_F_TRUNCATED, 0);
    llm_record_set_cstr(&r, LLM_F_USAGE_RAW, "{\"prompt_tokens\":3}"); /* JSON */
    llm_record_set_cstr(&r, LLM_F_TOOL_CALLS, "not json at all");      /* JSON */
    llm_record_set_cstr(&r, LLM_F_EXTRAS,                              /* MAP */
                        "{\"team\":\"a\",\"n\":2,\"f\":1.5,\"ok\":false,\"z\":null,"
                        "\"nested\":{\"l\":[1,\"two\",[3]]}}");
    llm_record_set_cstr(&r, LLM_F_ARGV, "[\"python\",\"app.py\",\"--x\"]"); /* ARRAY */
    llm_record_set_cstr(&r, LLM_F_RESPONSE, "");                            /* empty STR */

    j = roundtrip(&r);
    assert_int_equal(json_object_size(j), LLM_F__COUNT);
    assert_string_equal(json_string_value(json_object_get(j, "operation_id")),
                        "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    assert_int_equal(json_integer_value(json_object_get(j, "schema_version")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "timestamp")),
                        "2026-11-27T18:49:22.123456Z");
    v = json_object_get(j, "latency_ms");
    assert_true(json_is_real(v));
    assert_true(json_real_value(v) == 1234.567);
    v = json_object_get(j, "temperature");
    assert_true(json_is_real(v));
    assert_true(json_real_value(v) == 0.0);
    v = json_object_get(j, "input_tokens");
    assert_true(json_is_integer(v));
    assert_int_equal(json_integer_value(v), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "output_tokens")), INT64_MAX);
    assert_int_equal(json_integer_value(json_object_get(j, "server_port")), -1);
    assert_int_equal(json_integer_value(json_object_get(j, "pid")), INT64_MIN);
    assert_true(json_is_true(json_object_get(j, "stream")));
    assert_true(json_is_false(json_object_get(j, "truncated")));
    /* JSON fields stay text */
    assert_string_equal(json_string_value(json_object_get(j, "usage_raw")),
                        "{\"prompt_tokens\":3}");
    assert_string_equal(json_string_value(json_object_get(j, "tool_calls")), "not json at all");
    /* MAP and ARRAY come back as structures */
    json_t *want_extras = json_loads("{\"team\":\"a\",\"n\":2,\"f\":1.5,\"ok\":false,\"z\":null,"
                                     "\"nested\":{\"l\":[1,\"two\",[3]]}}",
                                     0, NULL);
    assert_true(json_equal(json_object_get(j, "extras"), want_extras));
    json_decref(want_extras);
    json_t *want_argv = json_loads("[\"python\",\"app.py\",\"--x\"]", 0, NULL);
    assert_true(json_equal(json_object_get(j, "argv"), want_argv));
    json_decref(want_argv);
    assert_string_equal(json_string_value(json_object_get(j, "response")), "");
    /* unset fields are null, present */
    assert_true(json_is_null(json_object_get(j, "model")));
    assert_true(json_is_null(json_object_get(j, "hostname")));
    assert_non_null(json_object_get(j, "cost_usd"));
    json_decref(j);

    /* MAP/ARRAY holding bad JSON, or JSON of the other kind, become nil */
    llm_record_set_cstr(&r, LLM_F_EXTRAS, "{broken");
    llm_record_set_cstr(&r, LLM_F_ARGV, "{\"not\":\"an array\"}");
    j = roundtrip(&r);
    assert_true(json_is_null(json_object_get(j, "extras")));
    assert_true(json_is_null(json_object_get(j, "argv")));
    json_decref(j);
    llm_record_clear(&r);
}

static void test_schema_order(void **state)
{
    struct llm_record r;
    const char *k;
    json_t *v;
    int i = 0;

    (void)state;
    llm_record_init(&r);
    llm_record_set_cstr(&r, LLM_F_HOSTNAME, "h");
    llm_record_set_cstr(&r, LLM_F_TRACE_STATE, "t");
    llm_record_set_int(&r, LLM_F_INPUT_TOKENS, 1);
    json_t *j = roundtrip(&r);
    json_object_foreach(j, k, v)
    {
        assert_true(i < LLM_F__COUNT);
        assert_string_equal(k, llm_schema[i].name);
        i++;
    }
    assert_int_equal(i, LLM_F__COUNT);
    char *dump = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    static const char start[] = "{\"operation_id\":null,\"schema_version\":null,";
    assert_memory_equal(dump, start, strlen(start));
    assert_non_null(strstr(dump, "\"input_tokens\":1,"));
    assert_non_null(strstr(dump, "\"hostname\":\"h\","));
    assert_int_equal(strcmp(dump + strlen(dump) - 18, "\"trace_state\":\"t\"}"), 0);
    free(dump);
    json_decref(j);
    llm_record_clear(&r);
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

static void test_foreign_maps(void **state)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    void *out = NULL;
    const char *k;
    json_t *v;

    (void)state;
    /* a map written by something else: out of order, missing fields, keys
     * from a newer schema, a binary string with invalid UTF-8, a non-string key */
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    pack_cstr(&pk, "zz_new_field");
    msgpack_pack_int(&pk, 7);
    pack_cstr(&pk, "model");
    msgpack_pack_str(&pk, 4);
    msgpack_pack_str_body(&pk,
                          "m\xff\xfe"
                          "x",
                          4);
    msgpack_pack_int(&pk, 12); /* integer key: skipped */
    pack_cstr(&pk, "ignored");
    pack_cstr(&pk, "a_new_map");
    msgpack_pack_map(&pk, 1);
    pack_cstr(&pk, "k");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_true(&pk);
    msgpack_pack_double(&pk, 2.5);
    pack_cstr(&pk, "input_tokens");
    msgpack_pack_uint64(&pk, 42);
    pack_cstr(&pk, "bin");
    msgpack_pack_bin(&pk, 3);
    msgpack_pack_bin_body(&pk, "a\x80z", 3);

    assert_int_equal(llm_record_to_json(sb.data, sb.size, &out), 0);
    json_t *j = out;
    assert_int_equal(json_object_size(j), LLM_F__COUNT + 3);
    int i = 0;
    json_object_foreach(j, k, v)
    {
        if (i < LLM_F__COUNT)
            assert_string_equal(k, llm_schema[i].name);
        else if (i == LLM_F__COUNT)
            assert_string_equal(k, "zz_new_field"); /* in the writer's order */
        else if (i == LLM_F__COUNT + 1)
            assert_string_equal(k, "a_new_map");
        else
            assert_string_equal(k, "bin");
        i++;
    }
    assert_string_equal(json_string_value(json_object_get(j, "model")), "m\xef\xbf\xbd\xef\xbf\xbd"
                                                                        "x");
    assert_int_equal(json_integer_value(json_object_get(j, "input_tokens")), 42);
    assert_int_equal(json_integer_value(json_object_get(j, "zz_new_field")), 7);
    json_t *want = json_loads("{\"k\":[true,2.5]}", 0, NULL);
    assert_true(json_equal(json_object_get(j, "a_new_map"), want));
    json_decref(want);
    assert_string_equal(json_string_value(json_object_get(j, "bin")), "a\xef\xbf\xbdz");
    assert_true(json_is_null(json_object_get(j, "operation_id")));
    json_decref(j);
    msgpack_sbuffer_destroy(&sb);
}

static void test_corrupt(void **state)
{
    struct llm_record r;
    char *buf;
    size_t len;
    void *out = (void *)0x1;

    (void)state;
    /* not a map */
    assert_int_equal(llm_record_to_json("\x93\x01\x02\x03", 4, &out), LLM_ECORRUPT);
    /* empty and garbage */
    assert_int_equal(llm_record_to_json("", 0, &out), LLM_ECORRUPT);
    assert_int_equal(llm_record_to_json("\xc1\xc1\xc1", 3, &out), LLM_ECORRUPT);
    /* a real record cut short */
    llm_record_init(&r);
    llm_record_set_cstr(&r, LLM_F_MODEL, "gpt-4o-mini");
    assert_int_equal(llm_record_encode(&r, &buf, &len), 0);
    for (size_t cut = 0; cut < len; cut += 17)
        assert_int_equal(llm_record_to_json(buf, cut, &out), LLM_ECORRUPT);
    assert_int_equal(llm_record_to_json(buf, len, &out), 0);
    json_decref(out);
    free(buf);
    llm_record_clear(&r);
}

/* llm_msgpack_check on a literal: rc, and the object's size in *end. */
#define CHECK_OK(lit, want_end)                                                                    \
    do {                                                                                           \
        size_t e_ = 0;                                                                             \
        assert_int_equal(llm_msgpack_check(lit, sizeof(lit) - 1, &e_), 0);                         \
        assert_int_equal(e_, want_end);                                                            \
    } while (0)
#define CHECK_BAD(lit) assert_int_equal(llm_msgpack_check(lit, sizeof(lit) - 1, NULL), LLM_ECORRUPT)

/* The pre-scan accepts every msgpack type in every width msgpack-c writes,
 * and finds each object's end where msgpack_unpack_next does. */
static void test_msgpack_check_types(void **state)
{
    static char big[70000];
    const int64_t ints[] = {0,  1,   127, 128,  255,  256,    65535,  65536,     4294967296LL,
                            -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN, INT64_MIN};
    const size_t lens[] = {0, 5, 31, 32, 255, 256, 65535, 65536};
    const size_t elens[] = {1, 2, 4, 8, 16, 0, 3, 17, 255, 256, 65535, 65536};
    msgpack_sbuffer sb;
    msgpack_packer pk;
    size_t off = 0, nobj = 0;

    (void)state;
    memset(big, 'a', sizeof(big));
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_nil(&pk);
    msgpack_pack_true(&pk);
    msgpack_pack_false(&pk);
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        msgpack_pack_int64(&pk, ints[i]);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_double(&pk, 2.5);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) { /* str, bin 8/16/32 */
        msgpack_pack_str(&pk, lens[i]);
        msgpack_pack_str_body(&pk, big, lens[i]);
        msgpack_pack_bin(&pk, lens[i]);
        msgpack_pack_bin_body(&pk, big, lens[i]);
    }
    for (size_t i = 0; i < sizeof(elens) / sizeof(elens[0]); i++) { /* fixext, ext 8/16/32 */
        msgpack_pack_ext(&pk, elens[i], 7);
        msgpack_pack_ext_body(&pk, big, elens[i]);
    }
    const size_t clens[] = {0, 1, 15, 16, 65535, 65536};
    for (size_t i = 0; i < sizeof(clens) / sizeof(clens[0]); i++) { /* fix, 16, 32 */
        msgpack_pack_array(&pk, clens[i]);
        for (size_t k = 0; k < clens[i]; k++)
            msgpack_pack_nil(&pk);
        msgpack_pack_map(&pk, clens[i]);
        for (size_t k = 0; k < clens[i]; k++) {
            msgpack_pack_uint32(&pk, (uint32_t)k);
            msgpack_pack_str(&pk, 1);
            msgpack_pack_str_body(&pk, "v", 1);
        }
    }
    /* nested: [{"a": [1, [], {}], "b": bin}, "x"] */
    msgpack_pack_array(&pk, 2);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "a", 1);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_array(&pk, 0);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "b", 1);
    msgpack_pack_bin(&pk, 2);
    msgpack_pack_bin_body(&pk, "\0\1", 2);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "x", 1);

    /* the buffer holds a sequence of objects: walk it both ways */
    while (off < sb.size) {
        msgpack_unpacked u;
        size_t end = 0, next = off;
        assert_int_equal(llm_msgpack_check(sb.data + off, sb.size - off, &end), 0);
        msgpack_unpacked_init(&u);
        assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, &next), MSGPACK_UNPACK_SUCCESS);
        msgpack_unpacked_destroy(&u);
        assert_int_equal(off + end, next);
        /* every object cut short is refused */
        for (size_t cut = 0; cut < end; cut += 1 + cut / 8)
            assert_int_equal(llm_msgpack_check(sb.data + off, cut, NULL), LLM_ECORRUPT);
        off = next;
        nobj++;
    }
    assert_int_equal(nobj, 3 + 18 + 1 + 2 + 2 * 8 + 12 + 2 * 6 + 1);
    msgpack_sbuffer_destroy(&sb);
}

/* Headers that claim more than the input holds are refused before
 * msgpack-c allocates for them (fuzz regression record-huge-array-header:
 * an array 32 of 2^32-1 elements asked for ~100 GB). */
static void test_msgpack_check_claims(void **state)
{
    void *out = (void *)0x1;

    (void)state;
    CHECK_OK("\x93\xc0\xc0\xc0", 4); /* as many elements as bytes: fine */
    CHECK_BAD("\x93\xc0\xc0");
    CHECK_BAD("\xdd\xff\xff\xff\xff");                 /* array 32, 2^32-1 elements */
    CHECK_BAD("\xdd\xff\xff\xff\xff\xc0\xc0\xc0\xc0"); /* ... a few given */
    CHECK_BAD("\xdf\xff\xff\xff\xff\xc0\xc0");         /* map 32 */
    CHECK_BAD("\xdc\xff\xff\xc0");                     /* array 16 */
    CHECK_BAD("\xde\x00\x02\xc0\xc0\xc0");             /* map 16: 2 entries need 4 */
    CHECK_OK("\xde\x00\x02\xc0\xc0\xc0\xc0", 7);
    CHECK_BAD("\x82\xc0\xc0\xc0"); /* fixmap: 2 entries, 3 objects */
    /* each claim fits what is left, but not the siblings still due */
    CHECK_BAD("\x92\x93\xc0\xc0\xc0");
    CHECK_OK("\x92\x93\xc0\xc0\xc0\xc0", 6);
    CHECK_BAD("\x92\x92\xdd\x00\x00\x00\x02\xc0\xc0\xc0");
    /* lengths past the end */
    CHECK_BAD("\xa5wxyz");                 /* fixstr */
    CHECK_BAD("\xd9\x05wxyz");             /* str 8 */
    CHECK_BAD("\xdb\xff\xff\xff\xffwxyz"); /* str 32 */
    CHECK_BAD("\xc6\xff\xff\xff\xff");     /* bin 32 */
    CHECK_BAD("\xc7\x02\x01q");            /* ext 8: type byte + 2 */
    CHECK_OK("\xc7\x02\x01qr", 5);
    CHECK_BAD("\xc9\xff\xff\xff\xff\x01"); /* ext 32 */
    CHECK_BAD("\xd8\x01");                 /* fixext 16 */
    CHECK_BAD("\xcb\x00\x00");             /* float 64 */
    CHECK_BAD("\xdb\xff\xff");             /* the length itself cut */
    /* never-used byte, nothing at all; trailing bytes are not looked at */
    CHECK_BAD("\xc1");
    CHECK_BAD("");
    CHECK_OK("\xc0\xc1", 1);

    /* the tool's decoder refuses them with the same code, without asking
     * for the memory (under ASan an allocation that size aborts) */
    assert_int_equal(llm_record_to_json("\xdd\xff\xff\xff\xff", 5, &out), LLM_ECORRUPT);
    assert_int_equal(llm_record_to_json("\x81\xa1k\xdf\xff\xff\xff\xff\xc0", 9, &out),
                     LLM_ECORRUPT);
    assert_ptr_equal(out, (void *)0x1);
}

/* Nesting: as deep as msgpack-c unpacks (32 open containers) and no deeper;
 * the walk needs no recursion however deep the input claims to go. */
static void test_msgpack_check_depth(void **state)
{
    static char b[100001];
    msgpack_unpacked u;
    size_t end, off;

    (void)state;
    for (int depth = 30; depth <= 34; depth++) {
        /* depth arrays of one, around nil; then depth arrays around [] */
        for (int empty = 0; empty <= 1; empty++) {
            memset(b, 0x91, (size_t)depth);
            b[depth] = empty ? (char)0x90 : (char)0xc0;
            int rc = llm_msgpack_check(b, (size_t)depth + 1, &end);
            msgpack_unpacked_init(&u);
            off = 0;
            int mrc = msgpack_unpack_next(&u, b, (size_t)depth + 1, &off);
            msgpack_unpacked_destroy(&u);
            /* the same verdict as msgpack-c, which is: 32 open at most */
            assert_int_equal(rc == 0, mrc == MSGPACK_UNPACK_SUCCESS);
            assert_int_equal(rc == 0, depth < 32 || (depth == 32 && !empty));
            if (!rc)
                assert_int_equal(end, (size_t)depth + 1);
        }
    }
    /* 100000 levels claimed: refused at the 33rd, no stack overflow */
    memset(b, 0x91, sizeof(b) - 1);
    b[sizeof(b) - 1] = (char)0xc0;
    assert_int_equal(llm_msgpack_check(b, sizeof(b), NULL), LLM_ECORRUPT);
}

/* Every record we encode passes the pre-scan whole: the check refuses
 * nothing we write (here: every field set, JSON as deep as we store). */
static void test_msgpack_check_records(void **state)
{
    struct llm_record r;
    char *buf, deep[256];
    size_t len, end;

    (void)state;
    llm_record_init(&r);
    for (int i = 0; i < LLM_F__COUNT; i++) {
        switch (llm_schema[i].type) {
        case LLM_T_INT:
            llm_record_set_int(&r, i, -123456789012LL);
            break;
        case LLM_T_REAL:
            llm_record_set_real(&r, i, 0.25);
            break;
        case LLM_T_BOOL:
            llm_record_set_bool(&r, i, 1);
            break;
        case LLM_T_MAP: /* 31 levels, the most we store */
            memset(deep, 0, sizeof(deep));
            for (int k = 0; k < 30; k++)
                strcat(deep, "{\"a\":");
            strcat(deep, "{}");
            for (int k = 0; k < 30; k++)
                strcat(deep, "}");
            llm_record_set_cstr(&r, i, deep);
            break;
        case LLM_T_ARRAY:
            llm_record_set_cstr(&r, i, "[1,\"x\",[2.5,{\"k\":null}]]");
            break;
        default:
            llm_record_set_cstr(&r, i, "some text");
        }
    }
    assert_int_equal(llm_record_encode(&r, &buf, &len), 0);
    assert_int_equal(llm_msgpack_check(buf, len, &end), 0);
    assert_int_equal(end, len);
    void *out = NULL;
    assert_int_equal(llm_record_to_json(buf, len, &out), 0);
    for (int i = 0; i < LLM_F__COUNT; i++)
        assert_false(json_is_null(json_object_get(out, llm_schema[i].name)));
    json_decref(out);
    free(buf);
    llm_record_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_setters),
        cmocka_unit_test(test_utf8_repair),
        cmocka_unit_test(test_roundtrip_every_type),
        cmocka_unit_test(test_schema_order),
        cmocka_unit_test(test_foreign_maps),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_msgpack_check_types),
        cmocka_unit_test(test_msgpack_check_claims),
        cmocka_unit_test(test_msgpack_check_depth),
        cmocka_unit_test(test_msgpack_check_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
