/* `llmops run [--db DIR] [--] CMD [ARGS...]`: runs CMD with the shim
 * preloaded and, for the programs whose TLS no hook reaches (Bun, Deno,
 * Go, Rust), behind the recording proxy (proxy.c): every proxy variable
 * points at it and every CA variable at a bundle that adds our CA to what
 * the program trusted. Records of both paths land in the same store.
 *
 * Threads: the main thread forks, forwards signals and waits; the proxy's
 * threads and the collector thread run until CMD has ended, then get the
 * flush timeout to finish. Nothing is ever printed on standard output; the
 * exit status is CMD's (a CMD killed by a signal kills us with it). */
#include "cli.h"
#include "config.h"
#include "err.h"
#include "log.h"
#include "providers.h"
#include "proxy.h"
#include "queue.h"
#include "run.h"
#include "store.h"
#include "util.h"
#include "writer.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile pid_t child_pid;
static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* Signals sent with kill() go on to CMD; those the terminal sends reach
 * CMD by itself (same process group), so they are not sent twice. */
static void forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (child_pid > 0 && si->si_code <= 0)
        kill(child_pid, sig);
}

/* libllmops.so beside the tool (a build tree), else where it installs. */
static int find_shim(char *out, size_t n)
{
    const char *env = getenv("LLMOPS_PRELOAD");
    char exe[PATH_MAX - 64];
    ssize_t len;

    if (env && *env)
        return snprintf(out, n, "%s", env) < (int)n ? 0 : LLM_EINVAL;
    len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0)
        return LLM_ENOTFOUND;
    exe[len] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(out, n, "%s/libllmops.so", exe);
    if (!access(out, R_OK))
        return 0;
    snprintf(out, n, "%s/../lib/llmops/libllmops.so", exe);
    if (!access(out, R_OK))
        return 0;
    snprintf(out, n, "%s/../lib/x86_64-linux-gnu/llmops/libllmops.so", exe);
    return access(out, R_OK) ? LLM_ENOTFOUND : 0;
}

struct env {
    char **v;
    size_t n, cap;
};

/* Sets name=value in e (replacing an existing entry). */
static int env_set(struct env *e, const char *name, const char *value)
{
    size_t nl = strlen(name);
    char *s;

    if (asprintf(&s, "%s=%s", name, value) < 0)
        return LLM_ENOMEM;
    for (size_t i = 0; i < e->n; i++)
        if (!strncmp(e->v[i], name, nl) && e->v[i][nl] == '=') {
            e->v[i] = s; /* the old string is environ's or ours: leaked, the child execs */
            return 0;
        }
    if (e->n + 2 > e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        char **v = realloc(e->v, cap * sizeof(*v));
        if (!v) {
            free(s);
            return LLM_ENOMEM;
        }
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = s;
    e->v[e->n] = NULL;
    return 0;
}

static int build_env(struct env *e, const char *shim, const struct llm_proxy *p)
{
    static const char *const proxy_vars[] = {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
                                             "http_proxy",  "ALL_PROXY",   "all_proxy"};
    static const char *const ca_vars[] = {"NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "DENO_CERT",
                                          "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"};
    const char *old = getenv("LD_PRELOAD");
    char url[64], buf[PATH_MAX * 2];
    int rc = 0;

    for (char **v = environ; *v; v++)
        if ((rc = env_set(e, "", "")) == 0)
            e->v[e->n - 1] = *v; /* a slot; keeps the order */
    if (shim) {
        if (old && *old && !strstr(old, shim))
            snprintf(buf, sizeof(buf), "%s:%s", shim, old);
        else
            snprintf(buf, sizeof(buf), "%s", old && *old ? old : shim);
        rc |= env_set(e, "LD_PRELOAD", buf);
    }
    if (!p)
        return rc;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", llm_proxy_port(p));
    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        rc |= env_set(e, proxy_vars[i], url);
    rc |= env_set(e, "NO_PROXY", "");
    rc |= env_set(e, "no_proxy", "");
    for (size_t i = 0; i < sizeof(ca_vars) / sizeof(ca_vars[0]); i++)
        rc |= env_set(e, ca_vars[i], llm_proxy_bundle(p));
    rc |= env_set(e, "SSL_CERT_DIR", llm_proxy_cert_dir(p));
    /* the shim leaves connections to the proxy alone: the proxy records them */
    rc |= env_set(e, "LLMOPS_PROXY", url + 7);
    return rc;
}

static int parse_args(int argc, char **argv, const char **db, int *first)
{
    int i = 1;

    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strcmp(argv[i], "--db") && i + 1 < argc)
            *db = argv[++i];
        else if (!strncmp(argv[i], "--db=", 5))
            *db = argv[i] + 5;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
        else if (argv[i][0] == '-')
            return LLM_EINVAL;
        else
            break;
    }
    *first = i;
    return i < argc ? 0 : LLM_EINVAL;
}

static int flush_timeout_ms(void)
{
    const char *v = getenv("LLMOPS_FLUSH_TIMEOUT_MS");
    long ms = v && *v ? strtol(v, NULL, 10) : 3000;
    return ms >= 0 && ms <= 600000 ? (int)ms : 3000;
}

/* Starts the store check, the collector and the proxy; NULL proxy on
 * failure (reported by the caller). */
static int start_proxy(struct llm_queue *q, struct llm_proxy **p)
{
    char dir[PATH_MAX];
    struct llm_store *st;
    int rc;

    if ((rc = llm_db_path(dir, sizeof(dir))))
        return rc;
    if ((rc = llm_store_open(dir, 0, &st)))
        return rc;
    llm_store_close(st);
    llm_queue_init(q, (size_t)64 << 20);
    if ((rc = llm_writer_start(q, NULL)))
        return rc;
    struct llm_proxy_opts o = {.dir = dir, .q = q, .capture_content = 1};
    const char *cc = getenv("LLMOPS_CAPTURE_CONTENT");
    if (cc && *cc)
        llm_config_bool(cc, &o.capture_content); /* as the writer reads it */
    return llm_proxy_start(&o, p);
}

static int wait_child(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 127;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

int llm_run_cmd(int argc, char **argv)
{
    static struct llm_queue q;
    struct llm_proxy *proxy = NULL;
    struct env e = {0};
    const char *db = NULL;
    char shim[PATH_MAX];
    int first, rc, status;
    pid_t pid;

    rc = parse_args(argc, argv, &db, &first);
    if (rc == 1) {
        fputs(llm_run_usage, stdout);
        return 0;
    }
    if (rc) {
        llm_cli_error(LLM_EINVAL, "run: expected a command (try 'llmops run --help')");
        return 2;
    }
    if (db && setenv("LLMOPS_DB", db, 1))
        return 1;
    llm_log_init(getenv("LLMOPS_LOG"));
    llm_providers_configure(getenv("LLMOPS_HOSTS"));
    signal(SIGPIPE, SIG_IGN);
    if (find_shim(shim, sizeof(shim))) {
        fprintf(stderr, "llmops run: libllmops.so not found; calls are seen by the proxy only\n");
        shim[0] = '\0';
    }
    if ((rc = start_proxy(&q, &proxy))) {
        fprintf(stderr,
                "llmops run: the recording proxy did not start (%s); running %s with "
                "the preload only\n",
                llm_strerror(rc), argv[first]);
        proxy = NULL;
    }
    if (build_env(&e, shim[0] ? shim : NULL, proxy)) {
        llm_cli_error(LLM_ENOMEM, "run");
        return 1;
    }
    struct sigaction sa = {.sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        sigaction(forwarded[i], &sa, NULL);
    pid = fork();
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
            signal(forwarded[i], SIG_DFL);
        execvpe(argv[first], argv + first, e.v);
        fprintf(stderr, "llmops run: %s: %s\n", argv[first], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    if (pid < 0) {
        llm_cli_error(-errno, "run: fork");
        status = 1;
    } else {
        child_pid = pid;
        llm_proxy_set_root(proxy, pid);
        status = wait_child(pid);
    }
    llm_proxy_stop(proxy, flush_timeout_ms());
    llm_writer_stop(flush_timeout_ms());
    if (status > 128 && pid > 0) {
        /* die of the same signal, so our caller sees what it would have seen */
        int sig = status - 128;
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        if (sig != SIGKILL && sig != SIGSTOP)
            kill(getpid(), sig);
    }
    return status;
}

const char llm_run_usage[] =
    "usage: llmops run [--db DIR] [--] CMD [ARGS...]\n"
    "\n"
    "Runs CMD with the shim preloaded and behind a recording proxy on 127.0.0.1,\n"
    "so that programs whose TLS no hook reaches (Bun, Deno, Go, Rust) are recorded\n"
    "too. CMD and its children get HTTPS_PROXY, HTTP_PROXY, ALL_PROXY (and the\n"
    "lower-case forms) pointing at the proxy, an empty NO_PROXY, and a CA bundle\n"
    "(SSL_CERT_FILE, SSL_CERT_DIR, NODE_EXTRA_CA_CERTS, DENO_CERT,\n"
    "REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) that adds this store's proxy CA to what\n"
    "they trusted. Only LLM hosts are intercepted; every other connection is\n"
    "tunnelled untouched. Exits with CMD's status.\n"
    "\n"
    "  --db DIR   the store (default: LLMOPS_DB, else ~/.local/share/llmops)\n";
