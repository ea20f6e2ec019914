/* A progress bar on stderr for long scans (exports of more than 10,000
 * records), only when stderr is a terminal that is not also receiving the
 * output. filter.c drives it; a command only arms it. */
#ifndef LLM_PROGRESS_H
#define LLM_PROGRESS_H

#include <stdint.h>

struct llm_store;

/* Lets the next scan show a bar labelled label. output_to_stdout: the
 * command writes its results to standard output (no bar if that is a
 * terminal too: the two would interleave). */
void llm_progress_arm(const char *label, int output_to_stdout);
/* Counts the keys in [from, to) (NULL: unbounded) when armed; shows the bar
 * when there are enough. */
void llm_progress_begin(struct llm_store *s, const uint8_t *from, const uint8_t *to);
void llm_progress_tick(void);
/* Erases the bar, so what follows (an error line) starts a clean line. */
void llm_progress_end(void);

#endif
