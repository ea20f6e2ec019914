/* The record in memory, and its msgpack form in the store.
 * Encoding runs on the collector thread; decoding in the `llmops` tool.
 * Invariant: every string a record holds is valid UTF-8 (invalid sequences are
 * replaced with U+FFFD on the way in), so every export can carry it. */
#include "record.h"
#include "err.h"
#include "util.h"

#include <jansson.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

const struct llm_field_info llm_schema[LLM_F__COUNT] = {
#define LLM_X_INFO(id, name, type) {name, type},
    LLM_FIELDS(LLM_X_INFO)
#undef LLM_X_INFO
};

int llm_field_lookup(const char *name, size_t len)
{
    for (int i = 0; i < LLM_F__COUNT; i++)
        if (strlen(llm_schema[i].name) == len && !memcmp(llm_schema[i].name, name, len))
            return i;
    return -1;
}

void llm_record_init(struct llm_record *r)
{
    memset(r, 0, sizeof(*r));
}

void llm_record_unset(struct llm_record *r, enum llm_field f)
{
    enum llm_type t = llm_schema[f].type;
    if (r->f[f].set && (t == LLM_T_STR || t == LLM_T_TIME || t == LLM_T_JSON || t == LLM_T_MAP ||
                        t == LLM_T_ARRAY))
        free(r->f[f].u.s.p);
    memset(&r->f[f], 0, sizeof(r->f[f]));
}

void llm_record_clear(struct llm_record *r)
{
    for (int i = 0; i < LLM_F__COUNT; i++)
        llm_record_unset(r, i);
}

int llm_record_set_str(struct llm_record *r, enum llm_field f, const char *s, size_t n)
{
    size_t len;
    char *p = llm_utf8_copy(s, n, &len);

    if (!p)
        return LLM_ENOMEM;
    llm_record_unset(r, f);
    r->f[f].set = 1;
    r->f[f].u.s.p = p;
    r->f[f].u.s.n = len;
    return 0;
}

int llm_record_set_cstr(struct llm_record *r, enum llm_field f, const char *s)
{
    if (!s) {
        llm_record_unset(r, f);
        return 0;
    }
    return llm_record_set_str(r, f, s, strlen(s));
}

void llm_record_take_str(struct llm_record *r, enum llm_field f, char *s, size_t n)
{
    llm_record_set_str(r, f, s, n);
    free(s);
}

void llm_record_set_int(struct llm_record *r, enum llm_field f, int64_t v)
{
    llm_record_unset(r, f);
    r->f[f].set = 1;
    r->f[f].u.i = v;
}

void llm_record_set_real(struct llm_record *r, enum llm_field f, double v)
{
    llm_record_unset(r, f);
    r->f[f].set = 1;
    r->f[f].u.d = v;
}

void llm_record_set_bool(struct llm_record *r, enum llm_field f, int v)
{
    llm_record_unset(r, f);
    r->f[f].set = 1;
    r->f[f].u.b = !!v;
}

const char *llm_record_str(const struct llm_record *r, enum llm_field f)
{
    return r->f[f].set ? r->f[f].u.s.p : NULL;
}

/* Records are shallow; deeper nesting (a crafted LLMOPS_EXTRAS, or a map
 * not written by us) is refused both ways, so what we store always decodes. */
#define TO_JSON_MAX_DEPTH 64
/* msgpack_unpack_next() follows at most 32 nested containers (msgpack-c's
 * MSGPACK_EMBED_STACK_SIZE, not in its public headers), the record's own map
 * being the first: a field's JSON may nest 31 deep to decode again. */
#define PACK_MAX_DEPTH 31

static int json_depth(const json_t *j)
{
    int d = 0, k;
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v) if ((k = json_depth(v)) > d) d = k;
        return d + 1;
    }
    if (json_is_array(j)) {
        json_array_foreach(j, i, v) if ((k = json_depth(v)) > d) d = k;
        return d + 1;
    }
    return 0;
}

static void pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void llm_msgpack_pack_json(msgpack_packer *pk, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        msgpack_pack_map(pk, json_object_size(j));
        json_object_foreach((json_t *)j, k, v)
        {
            pack_str(pk, k, strlen(k));
            llm_msgpack_pack_json(pk, v);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        msgpack_pack_array(pk, json_array_size(j));
        json_array_foreach(j, i, v) llm_msgpack_pack_json(pk, v);
        break;
    }
    case JSON_STRING:
        pack_str(pk, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(pk, json_integer_value(j));
        break;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(j));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    default:
        msgpack_pack_nil(pk);
    }
}

int llm_record_encode(const struct llm_record *r, char **out, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, LLM_F__COUNT);
    for (int i = 0; i < LLM_F__COUNT; i++) {
        const struct llm_value *v = &r->f[i];
        const char *name = llm_schema[i].name;

        pack_str(&pk, name, strlen(name));
        if (!v->set) {
            msgpack_pack_nil(&pk);
            continue;
        }
        switch (llm_schema[i].type) {
        case LLM_T_INT:
            msgpack_pack_int64(&pk, v->u.i);
            break;
        case LLM_T_REAL:
            msgpack_pack_double(&pk, v->u.d);
            break;
        case LLM_T_BOOL:
            v->u.b ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
            break;
        case LLM_T_MAP:
        case LLM_T_ARRAY: {
            json_t *j = json_loadb(v->u.s.p, v->u.s.n, JSON_DECODE_ANY, NULL);
            json_type want = llm_schema[i].type == LLM_T_MAP ? JSON_OBJECT : JSON_ARRAY;
            if (j && json_typeof(j) == want && json_depth(j) <= PACK_MAX_DEPTH)
                llm_msgpack_pack_json(&pk, j);
            else
                msgpack_pack_nil(&pk);
            json_decref(j);
            break;
        }
        default:
            pack_str(&pk, v->u.s.p, v->u.s.n);
        }
    }
    if (!sb.data) {
        msgpack_sbuffer_destroy(&sb);
        return LLM_ENOMEM;
    }
    *len = sb.size; /* release() zeroes it */
    *out = msgpack_sbuffer_release(&sb);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

/* msgpack_unpack_next() refuses a container header while this many are
 * open (MSGPACK_EMBED_STACK_SIZE); the pre-scan stops at the same point. */
#define UNPACK_MAX_OPEN 32

static uint64_t be_n(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* The object whose first byte is p[0] (avail >= 1 bytes from there): the
 * size of its header, the payload bytes after it (n), and for a container
 * the objects it claims. -1 for a byte msgpack never uses or a header cut
 * short. */
static int obj_header(const unsigned char *p, size_t avail, size_t *hdr, uint64_t *n,
                      uint64_t *objs, int *container)
{
    /* the rest: a 1, 2 or 4-byte length (str, bin, ext, array, map) or a
     * fixed payload (numbers, fixext) */
    static const unsigned char lenb[0xdf - 0xc4 + 1] = {
        [0xc4 - 0xc4] = 1, [0xc5 - 0xc4] = 2, [0xc6 - 0xc4] = 4, /* bin */
        [0xc7 - 0xc4] = 1, [0xc8 - 0xc4] = 2, [0xc9 - 0xc4] = 4, /* ext */
        [0xd9 - 0xc4] = 1, [0xda - 0xc4] = 2, [0xdb - 0xc4] = 4, /* str */
        [0xdc - 0xc4] = 2, [0xdd - 0xc4] = 4,                    /* array */
        [0xde - 0xc4] = 2, [0xdf - 0xc4] = 4,                    /* map */
    };
    static const unsigned char fixed[0xdf - 0xc4 + 1] = {
        [0xca - 0xc4] = 4,  [0xcb - 0xc4] = 8, /* float */
        [0xcc - 0xc4] = 1,  [0xcd - 0xc4] = 2, [0xce - 0xc4] = 4, [0xcf - 0xc4] = 8,
        [0xd0 - 0xc4] = 1,  [0xd1 - 0xc4] = 2, [0xd2 - 0xc4] = 4, [0xd3 - 0xc4] = 8,
        [0xd4 - 0xc4] = 2,  [0xd5 - 0xc4] = 3, [0xd6 - 0xc4] = 5, [0xd7 - 0xc4] = 9,
        [0xd8 - 0xc4] = 17, /* fixext: type byte + data */
    };
    unsigned char b = p[0];

    if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3 && b != 0xc1))
        return 0;    /* fixint, nil, bool */
    if (b <= 0x8f) { /* fixmap: two objects an entry */
        *container = 1;
        *objs = 2 * (uint64_t)(b & 0x0f);
        return 0;
    }
    if (b <= 0x9f) { /* fixarray */
        *container = 1;
        *objs = b & 0x0f;
        return 0;
    }
    if (b <= 0xbf) { /* fixstr */
        *n = b & 0x1f;
        return 0;
    }
    if (b == 0xc1) /* never used */
        return -1;
    *hdr = 1 + lenb[b - 0xc4];
    if (*hdr > avail)
        return -1;
    *n = *hdr > 1 ? be_n(p + 1, *hdr - 1) : fixed[b - 0xc4];
    if (b >= 0xc7 && b <= 0xc9)
        (*n)++;      /* the ext type byte */
    if (b >= 0xdc) { /* array or map 16/32: n was the count */
        *container = 1;
        *objs = b >= 0xde ? 2 * *n : *n;
        *n = 0;
    }
    return 0;
}

/* msgpack-c allocates the element array a container header claims before it
 * reads one element, so a 6-byte store value claiming 2^32-1 elements costs
 * ~100 GB. This walk (iterative; its stack is msgpack-c's own depth limit)
 * proves the first object whole before msgpack-c sees it: every element is
 * there, hence each container's claim is bounded by the bytes it came in. */
int llm_msgpack_check(const void *buf, size_t len, size_t *end)
{
    const unsigned char *p = buf;
    uint64_t parent[UNPACK_MAX_OPEN]; /* objects still due in each open container */
    uint64_t due = 1;                 /* ... in the innermost; the root is one object */
    uint64_t owed = 1;                /* ... in all of them: each needs >= 1 byte */
    size_t pos = 0;
    int open = 0, rc = LLM_ECORRUPT;

    for (;;) {
        uint64_t n = 0, objs = 0; /* payload bytes after the header; container objects */
        size_t hdr = 1;
        int container = 0;

        while (!due && open)
            due = parent[--open];
        if (!due)
            break;
        if (pos >= len)
            goto out;
        due--;
        owed--;
        if (obj_header(p + pos, len - pos, &hdr, &n, &objs, &container))
            goto out;
        if (hdr > len - pos || n > len - pos - hdr)
            goto out;
        pos += hdr + (size_t)n;
        if (!container)
            continue;
        if (open == UNPACK_MAX_OPEN) /* even an empty one, as msgpack-c */
            goto out;
        owed += objs;
        if (owed > len - pos) /* more elements claimed than bytes left */
            goto out;
        if (objs) {
            parent[open++] = due;
            due = objs;
        }
    }
    if (end)
        *end = pos;
    rc = 0;
out:
    return rc;
}

static json_t *to_json(const msgpack_object *o, int depth)
{
    if (depth > TO_JSON_MAX_DEPTH)
        return NULL;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return json_real(o->via.f64);
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN: {
        const char *p = o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
        size_t n = o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
        json_t *s = json_stringn(p, n);
        if (!s) { /* not UTF-8: written by something other than us */
            size_t len;
            char *c = llm_utf8_copy(p, n, &len);
            s = c ? json_stringn(c, len) : NULL;
            free(c);
        }
        return s;
    }
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < o->via.array.size; i++) {
            json_t *v = to_json(&o->via.array.ptr[i], depth + 1);
            if (!v || json_array_append_new(a, v)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; m && i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            json_t *v;
            char *key;
            if (k->type != MSGPACK_OBJECT_STR)
                continue;
            key = llm_utf8_copy(k->via.str.ptr, k->via.str.size, NULL);
            v = to_json(&o->via.map.ptr[i].val, depth + 1);
            if (!key || !v || json_object_set_new(m, key, v)) {
                free(key);
                json_decref(m);
                return NULL;
            }
            free(key);
        }
        return m;
    }
    default:
        return json_null();
    }
}

int llm_record_to_json(const void *buf, size_t len, void **json_out)
{
    msgpack_unpacked u;
    size_t off = 0;
    int rc = LLM_ECORRUPT;
    json_t *obj = NULL, *all = NULL;

    msgpack_unpacked_init(&u);
    if (llm_msgpack_check(buf, len, NULL) ||
        msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP)
        goto unpacked_destroy;
    all = to_json(&u.data, 0);
    if (!all) { /* nested past any record we write, or out of memory */
        rc = LLM_ECORRUPT;
        goto unpacked_destroy;
    }
    obj = json_object();
    if (!obj) {
        rc = LLM_ENOMEM;
        goto all_decref;
    }
    /* schema order first, then whatever a newer writer added */
    for (int i = 0; i < LLM_F__COUNT; i++) {
        json_t *v = json_object_get(all, llm_schema[i].name);
        json_object_set_new(obj, llm_schema[i].name, v ? json_incref(v) : json_null());
    }
    {
        const char *k;
        json_t *v;
        json_object_foreach(all, k, v)
        {
            if (!json_object_get(obj, k))
                json_object_set(obj, k, v);
        }
    }
    *json_out = obj;
    rc = 0;
all_decref:
    json_decref(all);
unpacked_destroy:
    msgpack_unpacked_destroy(&u);
    return rc;
}
