/* record.c: the schema table, setters (copy, take, unset, overwrite), UTF-8
 * repair on the way in, and llm_record_encode -> llm_record_to_json round
 * trips of every field type (STR, INT, REAL, BOOL, TIME, JSON, MAP, ARRAY),
 * nil for unset and for MAP/ARRAY fields holding bad JSON, schema key order,
 * keys a newer writer added appended after the schema, foreign invalid
 * UTF-8 replaced, and corrupt input refused. */
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
    assert_int_equal(LLM_SCHEMA_VERSION, 1);
    assert_string_equal(llm_schema[0].name, "operation_id");
    assert_string_equal(llm_schema[LLM_F_INPUT_TOKENS].name, "input_tokens");
    assert_int_equal(llm_schema[LLM_F_INPUT_TOKENS].type, LLM_T_INT);
    assert_int_equal(llm_schema[LLM_F_EXTRAS].type, LLM_T_MAP);
    assert_int_equal(llm_schema[LLM_F_ARGV].type, LLM_T_ARRAY);
    assert_string_equal(llm_schema[LLM_F__COUNT - 1].name, "hostname");
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
    assert_int_equal(strcmp(dump + strlen(dump) - 15, "\"hostname\":\"h\"}"), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema),       cmocka_unit_test(test_setters),
        cmocka_unit_test(test_utf8_repair),  cmocka_unit_test(test_roundtrip_every_type),
        cmocka_unit_test(test_schema_order), cmocka_unit_test(test_foreign_maps),
        cmocka_unit_test(test_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
