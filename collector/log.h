/* Diagnostics for the injected code: never the host's stdout or stderr.
 * Lines go to the file named by LLMOPS_LOG (opened on first use, O_APPEND,
 * one write(2) per line so processes do not interleave), and nowhere when it
 * is unset. Any thread; safe after fork. */
#ifndef LLM_LOG_H
#define LLM_LOG_H

void llm_log_init(const char *path); /* NULL: logging off */
void llm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
