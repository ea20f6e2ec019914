/* llm_strerror(): one table for the project codes, strerror_r for -errno.
 * Any thread; returns static strings or a thread-local buffer. */
#include "err.h"

#include <string.h>

static const char *const names[] = {
    "need more input",
    "malformed input",
    "size limit reached",
    "queue full, data dropped",
    "database error",
    "database or record is corrupt",
    "not found",
    "database map is full",
    "invalid argument",
    "out of memory",
    "collector core could not be loaded",
    "not owned by this user, or writable by others, or a symbolic link",
};

const char *llm_strerror(int rc)
{
    static __thread char buf[128];

    if (rc == LLM_OK)
        return "success";
    if (rc < LLM_ERR_BASE && rc > LLM_ERR_LAST)
        return names[LLM_ERR_BASE - 1 - rc];
    if (rc < 0 && rc > -4096) {
        /* GNU strerror_r may return a static string instead of filling buf */
        return strerror_r(-rc, buf, sizeof(buf));
    }
    return "unknown error";
}
