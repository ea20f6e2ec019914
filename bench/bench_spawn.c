/* bench_spawn: start-up timing loop (a small stand-in for hyperfine that also
 * reports CPU). Runs a command RUNS times without and RUNS times with
 * LD_PRELOAD=SO, interleaved in ABBA order so drift hits both sides alike,
 * after WARMUP untimed runs of each. Per run: wall time from posix_spawn to
 * wait4, user+sys CPU and max RSS from wait4's rusage. Output is two lines:
 *   plain|shim runs=N wall_mean_us= wall_median_us= wall_sd_us= cpu_mean_us=
 *              cpu_median_us= maxrss_kb=
 * With --base BASE the "plain" side preloads BASE instead of nothing (the
 * shim against an empty preload).
 * usage: bench_spawn --runs N [--warmup W] [--base BASE] --preload SO -- CMD [ARGS...] */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

struct sample {
    double wall_us, cpu_us;
    long maxrss_kb;
};

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void run_once(char **argv, char **envp, struct sample *s)
{
    posix_spawn_file_actions_t fa;
    struct rusage ru;
    pid_t pid;
    int st, rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    double t0 = now_us();
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) {
        fprintf(stderr, "bench_spawn: %s: %s\n", argv[0], strerror(rc));
        exit(2);
    }
    while (wait4(pid, &st, 0, &ru) < 0)
        if (errno != EINTR) {
            perror("bench_spawn: wait4");
            exit(2);
        }
    s->wall_us = now_us() - t0;
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        fprintf(stderr, "bench_spawn: %s failed (status 0x%x)\n", argv[0], st);
        exit(2);
    }
    s->cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    s->maxrss_kb = ru.ru_maxrss;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void summarize(const char *name, const struct sample *s, int n)
{
    double *w = malloc(sizeof(double) * (size_t)n), *c = malloc(sizeof(double) * (size_t)n);
    double wsum = 0, csum = 0, var = 0;
    long rss = 0;

    for (int i = 0; i < n; i++) {
        w[i] = s[i].wall_us;
        c[i] = s[i].cpu_us;
        wsum += w[i];
        csum += c[i];
        if (s[i].maxrss_kb > rss)
            rss = s[i].maxrss_kb;
    }
    for (int i = 0; i < n; i++)
        var += (w[i] - wsum / n) * (w[i] - wsum / n);
    printf("%s runs=%d wall_mean_us=%.1f wall_median_us=%.1f wall_sd_us=%.1f "
           "cpu_mean_us=%.1f cpu_median_us=%.1f maxrss_kb=%ld\n",
           name, n, wsum / n, median(w, n), n > 1 ? sqrt(var / (n - 1)) : 0.0, csum / n,
           median(c, n), rss);
    free(w);
    free(c);
}

/* environ without LD_PRELOAD, plus LD_PRELOAD=so when so is given. */
static char **make_env(const char *so)
{
    size_t n = 0, k = 0;

    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11))
            env[k++] = environ[i];
    if (so) {
        env[k] = malloc(strlen(so) + 12);
        sprintf(env[k++], "LD_PRELOAD=%s", so);
    }
    env[k] = NULL;
    return env;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"runs", 1, 0, 'n'},
                                         {"warmup", 1, 0, 'w'},
                                         {"preload", 1, 0, 'p'},
                                         {"base", 1, 0, 'b'},
                                         {0, 0, 0, 0}};
    int runs = 0, warmup = 10, o;
    const char *so = NULL, *base = NULL;

    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (o) {
        case 'n':
            runs = atoi(optarg);
            break;
        case 'w':
            warmup = atoi(optarg);
            break;
        case 'p':
            so = optarg;
            break;
        case 'b':
            base = optarg;
            break;
        default:
            return 2;
        }
    }
    if (runs < 1 || !so || optind >= argc) {
        fputs("usage: bench_spawn --runs N [--warmup W] [--base BASE] --preload SO -- CMD "
              "[ARGS...]\n",
              stderr);
        return 2;
    }
    char **cmd = argv + optind;
    char **env[2] = {make_env(base), make_env(so)};
    struct sample *s[2] = {calloc((size_t)runs, sizeof(struct sample)),
                           calloc((size_t)runs, sizeof(struct sample))};
    struct sample junk;

    for (int i = 0; i < warmup; i++) {
        run_once(cmd, env[0], &junk);
        run_once(cmd, env[1], &junk);
    }
    for (int i = 0; i < runs; i++) {
        int first = (i % 4 == 0 || i % 4 == 3) ? 0 : 1; /* ABBA */
        run_once(cmd, env[first], &s[first][i]);
        run_once(cmd, env[!first], &s[!first][i]);
    }
    summarize("plain", s[0], runs);
    summarize("shim", s[1], runs);
    return 0;
}
