/* Raw-fd logger. Runs on any thread, including the app's inside a hook, so it
 * uses no stdio and no locks: a stack buffer and one write(2). A line budget
 * keeps a broken process from filling the disk. */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_MAX_LINES 1000

static char log_path[512];
static int log_fd = -1;
static int log_lines;

void llm_log_init(const char *path)
{
    log_fd = -1;
    log_lines = 0;
    log_path[0] = '\0';
    if (path && *path && strlen(path) < sizeof(log_path))
        strcpy(log_path, path);
}

void llm_log(const char *fmt, ...)
{
    char line[512];
    struct timespec ts;
    va_list ap;
    int n, m;

    if (!log_path[0] || __atomic_fetch_add(&log_lines, 1, __ATOMIC_RELAXED) >= LOG_MAX_LINES)
        return;
    if (log_fd < 0) {
        /* never through a symbolic link, never into a file that is not this
         * user's own private regular file (a .bashrc behind a link) */
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        struct stat fst;
        if (fd < 0)
            return;
        if (fstat(fd, &fst) || !S_ISREG(fst.st_mode) || fst.st_uid != geteuid() ||
            (fst.st_mode & 022) || fst.st_nlink != 1) {
            close(fd);
            log_path[0] = '\0';
            return;
        }
        int expected = -1;
        if (!__atomic_compare_exchange_n(&log_fd, &expected, fd, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            close(fd);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    n = snprintf(line, sizeof(line), "llmops[%d] %lld.%06ld ", (int)getpid(), (long long)ts.tv_sec,
                 ts.tv_nsec / 1000);
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    n += (m < 0) ? 0 : (m >= (int)sizeof(line) - n - 1 ? (int)sizeof(line) - n - 2 : m);
    line[n++] = '\n';
    {
        /* a write past RLIMIT_FSIZE raises SIGXFSZ, which would kill the
         * host: a full log file is simply not written to */
        struct rlimit rl;
        struct stat st;
        if (!getrlimit(RLIMIT_FSIZE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
            (fstat(log_fd, &st) || (rlim_t)st.st_size + (rlim_t)n > rl.rlim_cur))
            return;
    }
    if (write(log_fd, line, n) < 0) {
        /* nothing to do: the log is best effort */
    }
}
