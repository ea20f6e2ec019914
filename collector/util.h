/* Small pure helpers: clocks, RFC 3339, ULIDs, the database location.
 * Any thread. */
#ifndef LLM_UTIL_H
#define LLM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define LLM_RFC3339_LEN 28 /* "2026-11-27T18:49:22.123456Z" + NUL */
#define LLM_ULID_LEN 27    /* 26 Crockford base32 characters + NUL */

int64_t llm_now_ns(void);  /* CLOCK_REALTIME in nanoseconds */
int64_t llm_mono_ns(void); /* CLOCK_MONOTONIC in nanoseconds */
/* CLOCK_REALTIME ms from now, for pthread_cond_timedwait */
struct timespec;
void llm_deadline_ms(struct timespec *ts, long ms);
void llm_rfc3339(int64_t realtime_ns, char out[LLM_RFC3339_LEN]);
/* Parses a date (YYYY-MM-DD) or an RFC 3339 time into microseconds since the
 * epoch. Returns 0 or LLM_EINVAL. */
int llm_parse_time(const char *s, int64_t *us);

/* 48-bit millisecond time + 80 random bits, big-endian: keys sort by time. */
void llm_ulid_new(uint8_t out[16], int64_t realtime_ns);
void llm_ulid_format(const uint8_t id[16], char out[LLM_ULID_LEN]);
int llm_ulid_parse(const char *s, uint8_t out[16]);

/* LLMOPS_DB, else $XDG_DATA_HOME/llmops, else ~/.local/share/llmops.
 * Returns 0 or LLM_EINVAL when no location can be formed. */
int llm_db_path(char *out, size_t n);

/* Length of the valid UTF-8 sequence at s[0..n) (n >= 1), 1 for ASCII, or 0
 * when it is not one: no overlong forms, surrogates or code points past
 * U+10FFFF (jansson's rules, so text we keep always loads back). */
size_t llm_utf8_seq(const unsigned char *s, size_t n);
/* A malloc'd NUL-terminated copy of s[0..n) with each byte of an invalid
 * sequence, and each NUL, replaced by U+FFFD; its length in *out_len (may be
 * NULL). NULL when out of memory. */
char *llm_utf8_copy(const char *s, size_t n, size_t *out_len);
/* Does the header value v[0..n) list tok (a whole comma- or space-separated
 * token, compared case-insensitively)? */
int llm_has_token(const char *v, size_t n, const char *tok);

#endif
