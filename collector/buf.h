/* Bounded byte buffers (curl's dynbuf idea: the cap is set at init and an
 * append past it fails). llm_buf keeps a prefix; llm_cap keeps the head and
 * the tail of a longer stream and remembers how much was dropped, so content
 * truncation is visible in the record. Not thread-safe; owned by one thread. */
#ifndef LLM_BUF_H
#define LLM_BUF_H

#include <stddef.h>
#include <stdint.h>

struct llm_buf {
    char *p;      /* NUL-terminated when non-NULL */
    size_t len;   /* bytes held */
    size_t alloc; /* bytes allocated, excluding the terminator */
    size_t max;   /* hard cap */
    int truncated; /* an append was cut short by the cap */
};

void llm_buf_init(struct llm_buf *b, size_t max);
/* Appends what fits. Returns 0, LLM_ETOOBIG (cut at the cap) or LLM_ENOMEM. */
int llm_buf_append(struct llm_buf *b, const void *data, size_t n);
void llm_buf_reset(struct llm_buf *b);
void llm_buf_free(struct llm_buf *b);
/* Hands the bytes to the caller (who frees them) and resets the buffer. */
char *llm_buf_steal(struct llm_buf *b, size_t *len);

/* Head + tail keeper for content of unknown size. */
struct llm_cap {
    struct llm_buf head; /* the first max/2 bytes */
    char *tail;          /* ring of the last max - max/2 bytes */
    size_t tail_max, tail_pos, tail_len;
    uint64_t total; /* every byte ever appended */
};

void llm_cap_init(struct llm_cap *c, size_t max);
void llm_cap_append(struct llm_cap *c, const void *data, size_t n);
int llm_cap_truncated(const struct llm_cap *c);
/* The kept bytes in order; when truncated, head and tail are joined by a
 * marker saying how many bytes were left out. Caller frees. */
char *llm_cap_join(const struct llm_cap *c, size_t *len);
void llm_cap_free(struct llm_cap *c);

#endif
