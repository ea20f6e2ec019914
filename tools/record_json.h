/* A stored record as JSON text, written straight from its msgpack: what the
 * NDJSON and JSON exports and `tail --format ndjson` print. The text is byte
 * for byte json_dumps(llm_record_to_json(...), LLM_EXPORT_JSON_FLAGS), but
 * without building the jansson tree (the export's main cost). A record of a
 * shape the direct writer does not reproduce goes through that very path.
 *
 * Use: llm_rjson_load() a record, match rec against the filters, price it
 * (llm_cost_fill(rec)), then llm_rjson_text(). One llm_rjson serves a whole
 * scan; its buffers grow to the largest record and are kept. */
#ifndef LLM_RECORD_JSON_H
#define LLM_RECORD_JSON_H

#include "record.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct llm_rjson_extra; /* a key the schema does not know */

struct llm_rjson {
    /* Set before the first load: the fields rec must carry (non-zero
     * entries), as filters and cost read them (llm_filter_fields,
     * llm_cost_fields). */
    unsigned char want[LLM_F__COUNT];

    /* After a load: the record for filters and pricing. The whole record as
     * llm_record_to_json() makes it when whole is set, else an object of the
     * wanted fields only, with the same values (null where the record has
     * none). Its cost_usd, once set (llm_cost_fill), is what the text
     * carries; until then the stored one is. Valid until the next load. */
    json_t *rec;
    int whole;

    /* private: the record last loaded */
    const unsigned char *p;
    size_t len;
    size_t at[LLM_F__COUNT]; /* offset of each field's value; 0: absent (offset 0
                              * is the map's header, never a value) */
    struct llm_rjson_extra *extra;
    size_t nextra, aextra;
    char *out; /* the text */
    size_t n, cap;
    json_t *mini;             /* rec when not whole: kept from record to record */
    json_t *mv[LLM_F__COUNT]; /* mini's values (borrowed), updated in place */
    char *cell_owned;         /* llm_rjson_cell's JSON text from jansson */
};

void llm_rjson_init(struct llm_rjson *r);
void llm_rjson_free(struct llm_rjson *r);

/* Takes one stored value (borrowed until the next load: the text is written
 * from it). Returns 0, or what llm_record_to_json() returns for it
 * (LLM_ECORRUPT, LLM_ENOMEM). With LLMOPS_DEBUG_JANSSON=1 in the environment
 * every record takes the jansson path (how the tests compare the two). */
int llm_rjson_load(struct llm_rjson *r, const void *buf, size_t len);

/* The loaded record as JSON text (no newline), valid until the next call on
 * r. Returns 0 or LLM_ENOMEM. */
int llm_rjson_text(struct llm_rjson *r, const char **text, size_t *n);

/* One value of a record as the table exporters (CSV, SQL) read it: what the
 * jansson record holds, with a string's bytes as json_string_value gives
 * them and an object or array as its json_dumps(LLM_EXPORT_JSON_FLAGS). */
enum llm_cell_kind {
    LLM_CELL_NULL, /* null, or not in the record */
    LLM_CELL_FALSE,
    LLM_CELL_TRUE,
    LLM_CELL_INT,
    LLM_CELL_REAL,
    LLM_CELL_STR,
    LLM_CELL_JSON, /* an object or an array, as JSON text */
};

struct llm_cell {
    enum llm_cell_kind k;
    int64_t i;
    double d;
    const char *s; /* STR, JSON: s[n] == '\0' */
    size_t n;
};

/* snprintf(out, 64, "%.15g", d), mostly without printf; returns its length. */
int llm_rjson_g15(double d, char out[64]);

/* The cell of a jansson value (NULL: LLM_CELL_NULL); JSON text goes into
 * *owned (malloc'd, freed by the caller). Returns 0 or LLM_ENOMEM. */
int llm_cell_of_json(json_t *v, struct llm_cell *c, char **owned);

/* The members of a record the schema does not know (written by a newer
 * llmops), as one JSON object in record order: what the table exports keep
 * in their extra_fields column. A pseudo field for llm_rjson_cell. */
#define LLM_RJSON_EXTRA LLM_F__COUNT
#define LLM_RJSON_EXTRA_NAME "extra_fields"

/* The extra_fields cell of a jansson record: LLM_CELL_JSON, or null when
 * every member is a schema field. Returns 0 or LLM_ENOMEM. */
int llm_cell_extra_of_json(json_t *rec, struct llm_cell *c, char **owned);

/* Field f (or LLM_RJSON_EXTRA) of the loaded (and priced) record, read from
 * its msgpack: the same cell as llm_cell_of_json(json_object_get(whole
 * record, name)) (llm_cell_extra_of_json(whole record)) gives. Valid until
 * the next call on r. Returns 0 or LLM_ENOMEM. */
int llm_rjson_cell(struct llm_rjson *r, int f, struct llm_cell *c);

#endif
