/* Secret removal before anything reaches the store. Two nets over every
 * free-text field a record carries (README "Secrets"): by name (a value
 * under a credential-like name in JSON of any strictness, form bodies, query
 * strings, URLs with userinfo, command-line flags, "Name: value" headers and
 * NAME=value words) and by shape (sk-..., AIza..., ghp_..., AKIA..., JWTs,
 * "Bearer ..." wherever they stand). The value is replaced, the name kept.
 * Pure functions; any thread. */
#ifndef LLM_REDACT_H
#define LLM_REDACT_H

#include <jansson.h>
#include <stddef.h>

#define LLM_REDACTED "[REDACTED]"

struct llm_record;

/* 1 if a parameter, member, header, flag or variable called s[0..n) holds a
 * credential: case-insensitive, -, _, ., spaces and %XX decoding ignored
 * (api_key, API-KEY, apiKey, api%5Fkey are one name). form: where the name
 * stood: a JSON member or flag, before '=' (query and form parameters, where
 * OAuth's "code" counts too), or before ':' (a header, where one-word names
 * count only when they name nothing but credentials). */
enum { LLM_NAME_MEMBER, LLM_NAME_EQ, LLM_NAME_HEADER };
int llm_redact_is_secret_name(const char *s, size_t n, int form);
/* A copy of s[0..n) with every secret found by either net replaced by
 * LLM_REDACTED; *out_len its length, *count (if not NULL) how many values
 * were replaced. The output is never longer than n plus, per replacement,
 * LLM_REDACTED and two quotes' worth of bytes (LLM_REDACT_GROWTH); a second
 * pass changes nothing. NULL on ENOMEM. */
char *llm_redact_text(const char *s, size_t n, size_t *out_len, int *count);
#define LLM_REDACT_GROWTH (sizeof(LLM_REDACTED) - 1 + 4)
/* Like llm_redact_text for a JSON document kept as text: parsed when jansson
 * can (every string redacted as text, members by name), scanned as text when
 * it cannot (NaN, lone surrogates, truncated heads). The sender's exact text
 * is kept when nothing was found. */
char *llm_redact_json_text(const char *s, size_t n, size_t *out_len, int *count);
/* A copy of url (path and query) with secrets replaced. Caller frees. */
char *llm_redact_url(const char *url, size_t n);
/* Replaces, in place, the values of members whose names are secret (arrays
 * under them too) and secrets inside every string. Returns how many. */
int llm_redact_json(json_t *root);
/* A copy of one command-line argument with secrets replaced; prev is the
 * argument before it (NULL for the first), for "--api-key VALUE" forms. */
char *llm_redact_arg(const char *arg, const char *prev);
/* LLMOPS_CAPTURE_CONTENT=0: the flag name of an argument ("--model" of
 * "--model=x", "-H" of "-HAuth: K"), or NULL when it is not a flag. */
char *llm_redact_flag(const char *arg);
/* The last step before a record is encoded: both nets over every free-text
 * field; with capture_content 0, error_message reduced to error_type. */
void llm_redact_record(struct llm_record *r, int capture_content);

#endif
