/* `llmops run`: CMD under the shim and the recording proxy (run.c). */
#ifndef LLM_RUN_H
#define LLM_RUN_H

extern const char llm_run_usage[];
/* argv[0] is "run". Returns the exit status (CMD's, or 1/2 for our errors). */
int llm_run_cmd(int argc, char **argv);

#endif
