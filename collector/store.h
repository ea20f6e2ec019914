/* The LMDB store. One environment per process (LMDB forbids opening the same
 * file twice in a process, and using an env after fork). Records live in the
 * "ops" database keyed by their 16-byte binary ULID, so key order is time
 * order; "meta" holds small named values (schema version, sync cursors).
 * Writers: the collector thread (batched puts) and the tool; readers never
 * block writers. Every function returns 0 or a negative llm code. */
#ifndef LLM_STORE_H
#define LLM_STORE_H

#include <stddef.h>
#include <stdint.h>

#define LLM_STORE_RDONLY 0x1 /* open for reading; fails if the store is missing */
#define LLM_STORE_NOSYNC 0x2 /* skip fsync at commit (kill -9 safe, not power-loss safe) */

struct llm_store;

struct llm_kv {
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
};

/* Opens (creating with mode 0700/0600 unless RDONLY) the store in dir. */
int llm_store_open(const char *dir, unsigned flags, struct llm_store **out);
void llm_store_close(struct llm_store *s);
/* Before writing: is data.mdb still the file we opened, and whole? Returns
 * 0, LLM_ENOTFOUND (deleted or replaced: open the store anew) or
 * LLM_ECORRUPT (cut short: stop using it, its pages would fault). */
int llm_store_check(struct llm_store *s);
/* Frees the reader slots of processes that died mid-read (long-lived
 * readers call it now and then; every open does). Returns how many, or a
 * negative code. */
int llm_store_reader_check(struct llm_store *s);
/* Forgets an env inherited through fork without touching it (LMDB rule). */
void llm_store_abandon(struct llm_store *s);

/* Writes n records in one transaction, growing the map when it is full. */
int llm_store_put(struct llm_store *s, const struct llm_kv *kv, size_t n);

/* Calls fn for each record with key >= from (NULL: from the start) and, when
 * to is non-NULL, key < to, in key order. A non-zero return from fn stops
 * the scan and is returned. The value pointers are valid only during fn. */
typedef int (*llm_store_visit_fn)(void *ctx, const void *key, size_t klen, const void *val,
                                  size_t vlen);
int llm_store_scan(struct llm_store *s, const uint8_t *from, const uint8_t *to,
                   llm_store_visit_fn fn, void *ctx);
int llm_store_count(struct llm_store *s, size_t *out);
/* Deletes records with key < before. *deleted gets the count. */
int llm_store_delete_before(struct llm_store *s, const uint8_t before[16], size_t *deleted);

/* meta: small named values. get returns LLM_ENOTFOUND when absent. */
int llm_store_meta_get(struct llm_store *s, const char *name, void *buf, size_t *len);
int llm_store_meta_put(struct llm_store *s, const char *name, const void *val, size_t len);

#endif
