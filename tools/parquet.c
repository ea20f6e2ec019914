/* A minimal Apache Parquet writer (parquet.h), enough for flat tables of
 * optional scalar columns, written against the format specification
 * (apache/parquet-format: README.md, Encodings.md, Compression.md,
 * LogicalTypes.md and the Thrift IDL src/main/thrift/parquet.thrift).
 * Debian ships no C library for Parquet, hence this file. The tool's one
 * thread runs it.
 *
 * File layout (README "File Format"):
 *   "PAR1" | row group 0: column chunk 0 .. n-1 | row group 1 ... | FileMetaData
 *   | footer length (4 bytes, little-endian) | "PAR1"
 * Each column chunk of a row group is exactly one data page (PageHeader +
 * page data); no dictionary pages, no page index, no statistics, no CRC.
 *
 * Schema: a root group (SchemaElement with num_children) and one leaf per
 * column, all repetition OPTIONAL, so max_definition_level 1 and
 * max_repetition_level 0 (no repetition levels are written at all).
 *   BOOL         -> BOOLEAN
 *   INT64        -> INT64 (no logical type: a plain signed 64-bit integer)
 *   DOUBLE       -> DOUBLE
 *   STRING       -> BYTE_ARRAY, LogicalType STRING, ConvertedType UTF8
 *   TIMESTAMP_US -> INT64, LogicalType TIMESTAMP(isAdjustedToUTC=true,
 *                   unit=MICROS), ConvertedType TIMESTAMP_MICROS (the legacy
 *                   annotation, defined as UTC-adjusted, for older readers)
 *
 * Data page (DATA_PAGE, v1; "Data Pages"): the page data is
 *   definition levels | values
 * compressed as one block (ZSTD, Compression.md: a ZSTD frame, RFC 8878).
 * Definition levels use the RLE/bit-packing hybrid (Encodings.md, "RLE"),
 * prefixed, in a v1 page, by their byte length as a 4-byte little-endian
 * integer. Bit width is 1 (max level 1). This writer emits only RLE runs:
 * header varint(run_length << 1), then the repeated value in
 * ceil(bit_width / 8) = 1 byte. Level 1 is a present value, 0 a null.
 * Values use PLAIN encoding (Encodings.md, "Plain"), nulls having no value:
 * BOOLEAN bit-packed one bit each, least significant bit first; INT64 and
 * DOUBLE as 8 little-endian bytes (IEEE 754 for DOUBLE); BYTE_ARRAY as a
 * 4-byte little-endian length followed by the bytes.
 *
 * Metadata is Thrift's compact protocol (thrift doc/specs/thrift-compact-
 * protocol.md): a field header is one byte (field-id delta << 4 | type) when
 * the delta from the previous field of the struct is 1..15, else the type
 * byte and the id as a zigzag varint; i16/i32/i64 are zigzag varints;
 * binary is varint length + bytes; a list header is (size << 4 | element
 * type) for sizes under 15, else (0xf0 | type) and a varint size; a bool
 * field's value is its type (1 true, 2 false); a struct ends with a 0 byte.
 * Unions (LogicalType, TimeUnit) are structs with exactly one field set.
 * Fields written: FileMetaData {1 version = 1, 2 schema, 3 num_rows,
 * 4 row_groups, 5 key_value_metadata, 6 created_by}; SchemaElement {1 type,
 * 3 repetition_type, 4 name, 5 num_children, 6 converted_type,
 * 10 logicalType}; RowGroup {1 columns, 2 total_byte_size, 3 num_rows,
 * 5 file_offset, 6 total_compressed_size, 7 ordinal}; ColumnChunk
 * {2 file_offset, 3 meta_data}; ColumnMetaData {1 type, 2 encodings,
 * 3 path_in_schema, 4 codec = ZSTD, 5 num_values, 6 total_uncompressed_size,
 * 7 total_compressed_size, 9 data_page_offset}; PageHeader {1 type,
 * 2 uncompressed_page_size, 3 compressed_page_size, 5 data_page_header};
 * DataPageHeader {1 num_values, 2 encoding = PLAIN,
 * 3 definition_level_encoding = RLE, 4 repetition_level_encoding = RLE}.
 * The sizes of a column chunk include its page header (as the spec defines
 * them); total_byte_size is the uncompressed sum.
 *
 * Memory: values are buffered per column for the current row group only; a
 * row group is written when it has max_rows rows or max_bytes of buffered
 * values, so memory stays flat however many rows go through. Buffers are
 * kept between row groups unless together they grew past twice the bound. */
#include "parquet.h"
#include "err.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define MAGIC "PAR1"
#define DEF_ROWS 65536
#define DEF_BYTES (64u << 20)
#define DEF_LEVEL 3

/* parquet.thrift enums */
enum { PT_BOOLEAN = 0, PT_INT64 = 2, PT_DOUBLE = 5, PT_BYTE_ARRAY = 6 };
enum { CT_UTF8 = 0, CT_TIMESTAMP_MICROS = 10 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };
enum { ENC_PLAIN = 0, ENC_RLE = 3 };
enum { CODEC_ZSTD = 6 };
enum { PAGE_DATA = 0 };

/* Thrift compact type ids */
enum {
    TT_TRUE = 1,
    TT_FALSE = 2,
    TT_I32 = 5,
    TT_I64 = 6,
    TT_BINARY = 8,
    TT_LIST = 9,
    TT_STRUCT = 12
};

struct buf {
    unsigned char *p;
    size_t n, cap;
};

struct chunk { /* one column chunk's place in the file, for the footer */
    uint64_t offset, uncompressed, compressed, values;
};

struct group {
    uint64_t rows, offset, uncompressed, compressed;
    struct chunk *chunks; /* ncols */
};

struct col {
    const struct llm_pq_column *c;
    struct buf defs; /* one byte per row of the group: 1 present, 0 null */
    struct buf vals; /* PLAIN values (booleans: one byte each until written) */
    int set;         /* set in the current row */
};

struct llm_pq {
    struct col *cols;
    size_t ncols;
    struct llm_pq_limits lim;
    llm_pq_write_fn write;
    void *arg;
    uint64_t pos;        /* bytes written */
    uint64_t rows;       /* all rows */
    uint64_t group_rows; /* rows of the group being buffered */
    size_t buffered;     /* value and level bytes buffered */
    struct group *groups;
    size_t ngroups, agroups;
    ZSTD_CCtx *zc;
    struct buf page, zout, meta;
};

/* ------------------------------------------------------------------ bytes */

static int grow(struct buf *b, size_t more)
{
    size_t want;
    unsigned char *p;

    if (more <= b->cap - b->n)
        return 0;
    if (more > SIZE_MAX / 2 - b->n)
        return LLM_ENOMEM;
    want = (b->n + more) * 3 / 2 + 256;
    p = realloc(b->p, want);
    if (!p)
        return LLM_ENOMEM;
    b->p = p;
    b->cap = want;
    return 0;
}

static int put(struct buf *b, const void *s, size_t n)
{
    int rc = grow(b, n);
    if (!rc && n) {
        memcpy(b->p + b->n, s, n);
        b->n += n;
    }
    return rc;
}

static int put_byte(struct buf *b, unsigned char c)
{
    return put(b, &c, 1);
}

static int put_le(struct buf *b, uint64_t v, int nbytes)
{
    unsigned char t[8];
    for (int i = 0; i < nbytes; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    return put(b, t, (size_t)nbytes);
}

static int put_varint(struct buf *b, uint64_t v)
{
    unsigned char t[10];
    size_t n = 0;

    do {
        t[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            t[n] |= 0x80;
        n++;
    } while (v);
    return put(b, t, n);
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* --------------------------------------------------- Thrift compact writer */

struct tw {
    struct buf *b;
    int16_t last[8]; /* the previous field id, per open struct */
    int depth;
    int rc;
};

static void t_raw_varint(struct tw *t, uint64_t v)
{
    if (!t->rc)
        t->rc = put_varint(t->b, v);
}

static void t_raw_byte(struct tw *t, unsigned char c)
{
    if (!t->rc)
        t->rc = put_byte(t->b, c);
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void t_field(struct tw *t, int16_t id, int type)
{
    int delta = id - t->last[t->depth];

    if (delta > 0 && delta <= 15) {
        t_raw_byte(t, (unsigned char)(delta << 4 | type));
    } else {
        t_raw_byte(t, (unsigned char)type);
        t_raw_varint(t, zigzag(id));
    }
    t->last[t->depth] = id;
}

static void t_i32(struct tw *t, int16_t id, int32_t v)
{
    t_field(t, id, TT_I32);
    t_raw_varint(t, zigzag(v));
}

static void t_i64(struct tw *t, int16_t id, int64_t v)
{
    t_field(t, id, TT_I64);
    t_raw_varint(t, zigzag(v));
}

static void t_raw_bin(struct tw *t, const char *s, size_t n)
{
    t_raw_varint(t, n);
    if (!t->rc)
        t->rc = put(t->b, s, n);
}

static void t_bin(struct tw *t, int16_t id, const char *s)
{
    t_field(t, id, TT_BINARY);
    t_raw_bin(t, s, strlen(s));
}

static void t_bool(struct tw *t, int16_t id, int v)
{
    t_field(t, id, v ? TT_TRUE : TT_FALSE);
}

/* A struct's fields follow, then t_end(). */
static void t_open(struct tw *t)
{
    t->last[++t->depth] = 0; /* depth stays < 8: our metadata nests 5 deep */
}

static void t_struct(struct tw *t, int16_t id)
{
    t_field(t, id, TT_STRUCT);
    t_open(t);
}

static void t_end(struct tw *t)
{
    t_raw_byte(t, 0);
    t->depth--;
}

static void t_list(struct tw *t, int16_t id, int elem, size_t n)
{
    t_field(t, id, TT_LIST);
    if (n < 15) {
        t_raw_byte(t, (unsigned char)(n << 4 | elem));
    } else {
        t_raw_byte(t, (unsigned char)(0xf0 | elem));
        t_raw_varint(t, n);
    }
}

/* ------------------------------------------------------------------ values */

static int physical(enum llm_pq_type t)
{
    switch (t) {
    case LLM_PQ_BOOL:
        return PT_BOOLEAN;
    case LLM_PQ_DOUBLE:
        return PT_DOUBLE;
    case LLM_PQ_STRING:
        return PT_BYTE_ARRAY;
    default:
        return PT_INT64;
    }
}

/* The column to set, or NULL if col is out of range, set already or of
 * another type. */
static struct col *col_for(struct llm_pq *q, size_t col, int ptype)
{
    struct col *c = col < q->ncols ? &q->cols[col] : NULL;
    return c && !c->set && physical(c->c->type) == ptype ? c : NULL;
}

static int present(struct llm_pq *q, struct col *c, const void *v, size_t n)
{
    int rc = put(&c->vals, v, n);
    if (!rc)
        rc = put_byte(&c->defs, 1);
    if (!rc) {
        c->set = 1;
        q->buffered += n + 1;
    }
    return rc;
}

int llm_pq_bool(struct llm_pq *q, size_t col, int v)
{
    struct col *c = col_for(q, col, PT_BOOLEAN);
    unsigned char b = v != 0;
    return c ? present(q, c, &b, 1) : LLM_EINVAL;
}

int llm_pq_int64(struct llm_pq *q, size_t col, int64_t v)
{
    struct col *c = col_for(q, col, PT_INT64);
    unsigned char t[8];

    for (int i = 0; i < 8; i++)
        t[i] = (unsigned char)((uint64_t)v >> (8 * i));
    return c ? present(q, c, t, 8) : LLM_EINVAL;
}

int llm_pq_double(struct llm_pq *q, size_t col, double v)
{
    struct col *c = col_for(q, col, PT_DOUBLE);
    unsigned char t[8];
    uint64_t u;

    memcpy(&u, &v, 8);
    for (int i = 0; i < 8; i++)
        t[i] = (unsigned char)(u >> (8 * i));
    return c ? present(q, c, t, 8) : LLM_EINVAL;
}

int llm_pq_string(struct llm_pq *q, size_t col, const void *s, size_t n)
{
    struct col *c = col_for(q, col, PT_BYTE_ARRAY);
    int rc;

    if (!c || n > INT32_MAX)
        return LLM_EINVAL;
    rc = put_le(&c->vals, n, 4);
    if (!rc)
        rc = present(q, c, s, n);
    if (!rc)
        q->buffered += 4;
    return rc;
}

/* ------------------------------------------------------------------ output */

static int out(struct llm_pq *q, const void *p, size_t n)
{
    int rc = n ? q->write(q->arg, p, n) : 0;
    if (!rc)
        q->pos += n;
    return rc;
}

/* The definition levels of a group as RLE runs (see the top). */
static int put_levels(struct buf *page, const struct buf *defs)
{
    size_t start, i = 0;
    int rc = put_le(page, 0, 4); /* the length, filled in below */

    start = page->n;
    while (!rc && i < defs->n) {
        size_t j = i;
        while (j < defs->n && defs->p[j] == defs->p[i])
            j++;
        rc = put_varint(page, (uint64_t)(j - i) << 1);
        if (!rc)
            rc = put_byte(page, defs->p[i]);
        i = j;
    }
    if (!rc) {
        size_t n = page->n - start;
        for (int k = 0; k < 4; k++)
            page->p[start - 4 + k] = (unsigned char)(n >> (8 * k));
    }
    return rc;
}

/* PLAIN booleans: the one-byte values packed eight to a byte, LSB first. */
static int put_bools(struct buf *page, const struct buf *vals)
{
    int rc = grow(page, (vals->n + 7) / 8);

    for (size_t i = 0; !rc && i < vals->n; i += 8) {
        unsigned char b = 0;
        for (size_t k = 0; k < 8 && i + k < vals->n; k++)
            b |= (unsigned char)(vals->p[i + k] << k);
        page->p[page->n++] = b;
    }
    return rc;
}

static int page_header(struct llm_pq *q, size_t rows, size_t raw, size_t packed)
{
    struct tw t = {.b = &q->meta};

    q->meta.n = 0;
    t_i32(&t, 1, PAGE_DATA);
    t_i32(&t, 2, (int32_t)raw);
    t_i32(&t, 3, (int32_t)packed);
    t_struct(&t, 5);
    t_i32(&t, 1, (int32_t)rows);
    t_i32(&t, 2, ENC_PLAIN);
    t_i32(&t, 3, ENC_RLE);
    t_i32(&t, 4, ENC_RLE);
    t_end(&t);
    t_raw_byte(&t, 0);
    return t.rc;
}

/* One column chunk: a single data page of the group's values. */
static int write_chunk(struct llm_pq *q, struct col *c, struct chunk *k)
{
    size_t bound, packed;
    int rc;

    q->page.n = 0;
    rc = put_levels(&q->page, &c->defs);
    if (!rc)
        rc = c->c->type == LLM_PQ_BOOL ? put_bools(&q->page, &c->vals)
                                       : put(&q->page, c->vals.p, c->vals.n);
    if (rc)
        return rc;
    bound = ZSTD_compressBound(q->page.n);
    q->zout.n = 0;
    if (q->page.n > INT32_MAX || bound > INT32_MAX || c->defs.n > INT32_MAX)
        return LLM_ETOOBIG; /* page sizes are i32 */
    rc = grow(&q->zout, bound);
    if (rc)
        return rc;
    packed = ZSTD_compressCCtx(q->zc, q->zout.p, bound, q->page.p, q->page.n, q->lim.zstd_level);
    if (ZSTD_isError(packed))
        return LLM_ENOMEM; /* with a bound-sized buffer, only allocation can fail */
    rc = page_header(q, c->defs.n, q->page.n, packed);
    if (rc)
        return rc;
    k->offset = q->pos;
    k->values = c->defs.n;
    k->uncompressed = q->meta.n + q->page.n;
    k->compressed = q->meta.n + packed;
    rc = out(q, q->meta.p, q->meta.n);
    return rc ? rc : out(q, q->zout.p, packed);
}

static void reset_cols(struct llm_pq *q)
{
    size_t cap = 0;

    for (size_t i = 0; i < q->ncols; i++)
        cap += q->cols[i].vals.cap + q->cols[i].defs.cap;
    for (size_t i = 0; i < q->ncols; i++) {
        if (cap > 2 * q->lim.max_bytes + 2 * q->lim.max_rows * q->ncols) {
            buf_free(&q->cols[i].vals);
            buf_free(&q->cols[i].defs);
        }
        q->cols[i].vals.n = q->cols[i].defs.n = 0;
    }
    q->group_rows = 0;
    q->buffered = 0;
}

static int write_group(struct llm_pq *q)
{
    struct group *g;
    int rc = 0;

    if (!q->group_rows)
        return 0;
    if (q->ngroups == q->agroups) {
        size_t na = q->agroups ? 2 * q->agroups : 8;
        g = realloc(q->groups, na * sizeof(*g));
        if (!g)
            return LLM_ENOMEM;
        q->groups = g;
        q->agroups = na;
    }
    g = &q->groups[q->ngroups];
    memset(g, 0, sizeof(*g));
    g->chunks = calloc(q->ncols, sizeof(*g->chunks));
    if (!g->chunks)
        return LLM_ENOMEM;
    q->ngroups++;
    g->rows = q->group_rows;
    g->offset = q->pos;
    for (size_t i = 0; i < q->ncols && !rc; i++) {
        rc = write_chunk(q, &q->cols[i], &g->chunks[i]);
        g->uncompressed += g->chunks[i].uncompressed;
        g->compressed += g->chunks[i].compressed;
    }
    reset_cols(q);
    return rc;
}

int llm_pq_row_end(struct llm_pq *q)
{
    int rc = 0;

    for (size_t i = 0; i < q->ncols && !rc; i++) {
        struct col *c = &q->cols[i];
        if (!c->set) {
            rc = put_byte(&c->defs, 0);
            q->buffered++;
        }
        c->set = 0;
    }
    if (rc)
        return rc;
    q->rows++;
    q->group_rows++;
    if (q->group_rows >= q->lim.max_rows || q->buffered >= q->lim.max_bytes)
        rc = write_group(q);
    return rc;
}

/* ------------------------------------------------------------------ footer */

static void schema_element(struct tw *t, const struct llm_pq_column *c)
{
    t_open(t);
    t_i32(t, 1, physical(c->type));
    t_i32(t, 3, REP_OPTIONAL);
    t_bin(t, 4, c->name);
    if (c->type == LLM_PQ_STRING) {
        t_i32(t, 6, CT_UTF8);
        t_struct(t, 10); /* LogicalType */
        t_struct(t, 1);  /* STRING: StringType {} */
        t_end(t);
        t_end(t);
    } else if (c->type == LLM_PQ_TIMESTAMP_US) {
        t_i32(t, 6, CT_TIMESTAMP_MICROS);
        t_struct(t, 10); /* LogicalType */
        t_struct(t, 8);  /* TIMESTAMP: TimestampType */
        t_bool(t, 1, 1); /* isAdjustedToUTC */
        t_struct(t, 2);  /* unit: TimeUnit */
        t_struct(t, 2);  /* MICROS: MicroSeconds {} */
        t_end(t);
        t_end(t);
        t_end(t);
        t_end(t);
    }
    t_end(t);
}

static void column_chunk(struct tw *t, const struct llm_pq_column *c, const struct chunk *k)
{
    t_open(t);
    t_i64(t, 2, (int64_t)k->offset);
    t_struct(t, 3); /* ColumnMetaData */
    t_i32(t, 1, physical(c->type));
    t_list(t, 2, TT_I32, 2);
    t_raw_varint(t, zigzag(ENC_PLAIN));
    t_raw_varint(t, zigzag(ENC_RLE));
    t_list(t, 3, TT_BINARY, 1);
    t_raw_bin(t, c->name, strlen(c->name));
    t_i32(t, 4, CODEC_ZSTD);
    t_i64(t, 5, (int64_t)k->values);
    t_i64(t, 6, (int64_t)k->uncompressed);
    t_i64(t, 7, (int64_t)k->compressed);
    t_i64(t, 9, (int64_t)k->offset);
    t_end(t);
    t_end(t);
}

static void file_metadata(struct llm_pq *q, struct tw *t, const char *created_by,
                          const char *const *kv, size_t nkv)
{
    t_i32(t, 1, 1);
    t_list(t, 2, TT_STRUCT, q->ncols + 1);
    t_open(t); /* the root */
    t_bin(t, 4, "schema");
    t_i32(t, 5, (int32_t)q->ncols);
    t_end(t);
    for (size_t i = 0; i < q->ncols; i++)
        schema_element(t, q->cols[i].c);
    t_i64(t, 3, (int64_t)q->rows);
    t_list(t, 4, TT_STRUCT, q->ngroups);
    for (size_t g = 0; g < q->ngroups; g++) {
        const struct group *gr = &q->groups[g];
        t_open(t);
        t_list(t, 1, TT_STRUCT, q->ncols);
        for (size_t i = 0; i < q->ncols; i++)
            column_chunk(t, q->cols[i].c, &gr->chunks[i]);
        t_i64(t, 2, (int64_t)gr->uncompressed);
        t_i64(t, 3, (int64_t)gr->rows);
        t_i64(t, 5, (int64_t)gr->offset);
        t_i64(t, 6, (int64_t)gr->compressed);
        t_field(t, 7, 4); /* ordinal: i16 */
        t_raw_varint(t, zigzag((int16_t)g));
        t_end(t);
    }
    if (nkv) {
        t_list(t, 5, TT_STRUCT, nkv);
        for (size_t i = 0; i < nkv; i++) {
            t_open(t);
            t_bin(t, 1, kv[2 * i]);
            t_bin(t, 2, kv[2 * i + 1]);
            t_end(t);
        }
    }
    if (created_by)
        t_bin(t, 6, created_by);
    t_raw_byte(t, 0);
}

int llm_pq_finish(struct llm_pq *q, const char *created_by, const char *const *kv, size_t nkv)
{
    struct tw t = {.b = &q->meta};
    unsigned char len[4];
    int rc = write_group(q);

    if (rc)
        return rc;
    q->meta.n = 0;
    file_metadata(q, &t, created_by, kv, nkv);
    if (t.rc)
        return t.rc;
    if (q->meta.n > UINT32_MAX)
        return LLM_ETOOBIG;
    for (int i = 0; i < 4; i++)
        len[i] = (unsigned char)(q->meta.n >> (8 * i));
    rc = out(q, q->meta.p, q->meta.n);
    if (!rc)
        rc = out(q, len, 4);
    return rc ? rc : out(q, MAGIC, 4);
}

/* ------------------------------------------------------------------ life */

int llm_pq_open(const struct llm_pq_column *cols, size_t ncols, const struct llm_pq_limits *lim,
                llm_pq_write_fn write, void *arg, struct llm_pq **outp)
{
    struct llm_pq *q;
    int rc;

    *outp = NULL;
    if (!ncols || ncols > INT32_MAX - 1)
        return LLM_EINVAL;
    q = calloc(1, sizeof(*q));
    if (!q)
        return LLM_ENOMEM;
    q->cols = calloc(ncols, sizeof(*q->cols));
    q->zc = ZSTD_createCCtx();
    if (!q->cols || !q->zc) {
        llm_pq_free(q);
        return LLM_ENOMEM;
    }
    for (size_t i = 0; i < ncols; i++)
        q->cols[i].c = &cols[i];
    q->ncols = ncols;
    if (lim)
        q->lim = *lim;
    if (!q->lim.max_rows || q->lim.max_rows > INT32_MAX)
        q->lim.max_rows = DEF_ROWS;
    if (!q->lim.max_bytes)
        q->lim.max_bytes = DEF_BYTES;
    if (!q->lim.zstd_level)
        q->lim.zstd_level = DEF_LEVEL;
    q->write = write;
    q->arg = arg;
    rc = out(q, MAGIC, 4);
    if (rc) {
        llm_pq_free(q);
        return rc;
    }
    *outp = q;
    return 0;
}

uint64_t llm_pq_rows(const struct llm_pq *q)
{
    return q->rows;
}

uint64_t llm_pq_bytes(const struct llm_pq *q)
{
    return q->pos;
}

void llm_pq_free(struct llm_pq *q)
{
    if (!q)
        return;
    for (size_t i = 0; q->cols && i < q->ncols; i++) {
        buf_free(&q->cols[i].vals);
        buf_free(&q->cols[i].defs);
    }
    for (size_t g = 0; g < q->ngroups; g++)
        free(q->groups[g].chunks);
    free(q->groups);
    free(q->cols);
    ZSTD_freeCCtx(q->zc);
    buf_free(&q->page);
    buf_free(&q->zout);
    buf_free(&q->meta);
    free(q);
}
