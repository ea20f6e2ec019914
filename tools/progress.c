/* The progress bar of long exports. Its total comes from a key-only pass
 * over the scan's key range before the scan (LMDB walks keys without
 * decoding anything, a small fraction of an export's cost), so the bar
 * counts records visited, filtered out or not, and ends at 100%. It redraws
 * at most ten times a second, in place with '\r', and is erased at the end:
 * a finished export leaves the terminal as it found it. Nothing is ever
 * written unless stderr is a terminal: pipes, files and tests see no bytes. */
#include "progress.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <unistd.h>

#define MIN_RECORDS 10000
#define REDRAW_NS 100000000LL

static const char *label;
static int armed, active;
static size_t total, done;
static int64_t last_draw;

void llm_progress_arm(const char *what, int output_to_stdout)
{
    label = what;
    armed = isatty(STDERR_FILENO) && !(output_to_stdout && isatty(STDOUT_FILENO));
}

static int count_key(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    total++;
    return 0;
}

static void draw(void)
{
    enum { WIDTH = 30 };
    char bar[WIDTH + 1];
    size_t pct = total ? (done >= total ? 100 : done * 100 / total) : 100;
    size_t fill = pct * WIDTH / 100;

    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r%s [%s] %3zu%% %zu/%zu records", label, bar, pct,
            done < total ? done : total, total);
    fflush(stderr);
    last_draw = llm_mono_ns();
}

void llm_progress_begin(struct llm_store *s, const uint8_t *from, const uint8_t *to)
{
    if (!armed)
        return;
    armed = 0; /* one scan per arming */
    total = done = 0;
    if (llm_store_scan(s, from, to, count_key, NULL) || total <= MIN_RECORDS)
        return;
    active = 1;
    draw();
}

void llm_progress_tick(void)
{
    if (!active)
        return;
    done++;
    if ((done & 1023) == 0 && llm_mono_ns() - last_draw >= REDRAW_NS)
        draw();
}

void llm_progress_end(void)
{
    if (!active)
        return;
    active = 0;
    done = total;
    draw(); /* the 100% a watcher may catch before it goes */
    fputs("\r\033[K", stderr);
    fflush(stderr);
}
