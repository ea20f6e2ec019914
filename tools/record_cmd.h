/* `llmops record`: stores calls no hook saw, described as JSON on stdin. */
#ifndef LLM_RECORD_CMD_H
#define LLM_RECORD_CMD_H

extern const char llm_record_usage[];

/* argv[0] is "record". Returns the exit status: 0 stored, 1 refused input
 * or a database error (one line on stderr), 2 a usage error. */
int llm_record_cmd(int argc, char **argv);

#endif
