/* bench_store: writer throughput of the llmops store against LMDB itself.
 * Builds real-looking records (the fields a streamed OpenAI chat completion
 * gets, completion_args from --body) and encodes each with llm_record_encode
 * (timed: encode_us). Then PROCS writer processes open two fresh stores in
 * DIR, llm/ and raw/, and the parent runs 1 + ROUNDS rounds of two phases,
 * in ABBA order (round 0 is a warm-up and is not counted). In a phase every
 * writer commits RECORDS records, BATCH per transaction, into one store:
 *   llm   llm_store_put() (collector/store.c, what the writer thread calls)
 *   raw   mdb_txn_begin + mdb_put x BATCH + mdb_txn_commit on an env opened
 *         with the same flags (MDB_NOTLS | MDB_NOMETASYNC, plus MDB_NOSYNC
 *         with --nosync), the same map size and the same "ops" database.
 * Phase i of both kinds writes the very same records (bytes and keys), so
 * the two stores end up identical. A phase is timed by the parent from
 * opening the gate to the last writer's "done"; interleaving the phases
 * makes disk and CPU drift hit both sides alike. Both stores must hold
 * exactly PROCS x (1 + ROUNDS) x RECORDS records afterwards (exit 1
 * otherwise). One output line:
 *   procs= records= batch= rounds= sync= value_bytes= encode_us= llm_rps= raw_rps=
 *   ratio_median= ratio_min= ratio_max= llm_cpu_us= raw_cpu_us=
 * rps: records of all counted phases / their summed wall time; ratio_*: over
 * rounds of (llm rate / raw rate); cpu_us: writers' user+sys per record.
 * usage: bench_store --dir NEWDIR [--procs P] [--records N] [--batch B]
 *                    [--rounds R] [--nosync] [--body FILE] */
#include "record.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAP_INITIAL ((size_t)1 << 30) /* as collector/store.c */
#define MAXPROCS 64

struct opts {
    const char *dir, *body;
    long procs, records, batch, rounds;
    int nosync;
};

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("bench_store: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
        die("cannot read %s: %s", path, strerror(errno));
    p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n)
        die("cannot read %s", path);
    fclose(f);
    p[n] = '\0';
    return p;
}

/* One record as the collector makes it for a streamed chat completion. */
static void make_record(struct llm_kv *kv, const char *args, long seq)
{
    static const char response[] =
        "Why did the opentelemetry developer go broke? \n\nBecause they spent all their "
        "time tracking down bugs!";
    struct llm_record r;
    uint8_t *key = malloc(16);
    char id[LLM_ULID_LEN], t0[LLM_RFC3339_LEN], t1[LLM_RFC3339_LEN];
    int64_t ns = llm_now_ns();
    char *val;
    size_t vlen;

    if (!key)
        die("out of memory");
    llm_ulid_new(key, ns);
    llm_ulid_format(key, id);
    llm_rfc3339(ns, t0);
    llm_rfc3339(ns + 10431000, t1);
    llm_record_init(&r);
    llm_record_set_cstr(&r, LLM_F_OPERATION_ID, id);
    llm_record_set_int(&r, LLM_F_SCHEMA_VERSION, LLM_SCHEMA_VERSION);
    llm_record_set_cstr(&r, LLM_F_TIMESTAMP, t0);
    llm_record_set_cstr(&r, LLM_F_END_TIMESTAMP, t1);
    llm_record_set_real(&r, LLM_F_LATENCY_MS, 10.431 + (double)(seq % 97) / 10);
    llm_record_set_real(&r, LLM_F_TTFB_MS, 10.001);
    llm_record_set_real(&r, LLM_F_TTFT_MS, 10.078);
    llm_record_set_cstr(&r, LLM_F_OPERATION_TYPE, "chat");
    llm_record_set_cstr(&r, LLM_F_API, "openai.chat_completions");
    llm_record_set_cstr(&r, LLM_F_PROVIDER, "openai");
    llm_record_set_cstr(&r, LLM_F_SERVER_ADDRESS, "api.openai.com");
    llm_record_set_int(&r, LLM_F_SERVER_PORT, 443);
    llm_record_set_cstr(&r, LLM_F_URL_PATH, "/v1/chat/completions");
    llm_record_set_cstr(&r, LLM_F_HTTP_METHOD, "POST");
    llm_record_set_int(&r, LLM_F_HTTP_STATUS, 200);
    llm_record_set_cstr(&r, LLM_F_HTTP_VERSION, "1.1");
    llm_record_set_cstr(&r, LLM_F_CAPTURE, "openssl");
    llm_record_set_cstr(&r, LLM_F_REQUEST_MODEL, "gpt-3.5-turbo");
    llm_record_set_cstr(&r, LLM_F_RESPONSE_MODEL, "gpt-3.5-turbo-0125");
    llm_record_set_cstr(&r, LLM_F_MODEL, "gpt-3.5-turbo-0125");
    llm_record_set_bool(&r, LLM_F_STREAM, 1);
    llm_record_set_int(&r, LLM_F_INPUT_TOKENS, 13);
    llm_record_set_int(&r, LLM_F_OUTPUT_TOKENS, 21 + seq % 50);
    llm_record_set_int(&r, LLM_F_TOTAL_TOKENS, 34 + seq % 50);
    llm_record_set_cstr(&r, LLM_F_USAGE_SOURCE, "provider");
    llm_record_set_cstr(&r, LLM_F_USAGE_RAW,
                        "{\"prompt_tokens\":13,\"completion_tokens\":21,\"total_tokens\":34}");
    llm_record_set_cstr(&r, LLM_F_FINISH_REASON, "stop");
    llm_record_set_cstr(&r, LLM_F_STATUS, "ok");
    llm_record_set_cstr(&r, LLM_F_COMPLETION_ARGS, args);
    llm_record_set_cstr(&r, LLM_F_RESPONSE, response);
    llm_record_set_int(&r, LLM_F_REQUEST_BYTES, (int64_t)strlen(args));
    llm_record_set_int(&r, LLM_F_RESPONSE_BYTES, 6893);
    llm_record_set_bool(&r, LLM_F_TRUNCATED, 0);
    llm_record_set_cstr(&r, LLM_F_EXTRAS, "{}");
    llm_record_set_int(&r, LLM_F_PID, 19670);
    llm_record_set_int(&r, LLM_F_PPID, 19594);
    llm_record_set_cstr(&r, LLM_F_EXE, "/usr/bin/python3.11");
    llm_record_set_cstr(&r, LLM_F_ARGV, "[\"python3\",\"agent.py\",\"--task\",\"summarise\"]");
    llm_record_set_cstr(&r, LLM_F_HOSTNAME, "vm");
    if (llm_record_encode(&r, &val, &vlen))
        die("llm_record_encode failed");
    llm_record_clear(&r);
    *kv = (struct llm_kv){key, 16, val, vlen};
}

/* --impl raw: LMDB as collector/store.c sets it up, nothing in between. */
struct raw {
    MDB_env *env;
    MDB_dbi ops;
};

static int raw_open(const char *dir, int nosync, struct raw *r)
{
    MDB_txn *txn;
    int rc = mdb_env_create(&r->env);

    if (rc)
        return rc;
    mdb_env_set_maxdbs(r->env, 4);
    mdb_env_set_maxreaders(r->env, 256);
    mdb_env_set_mapsize(r->env, MAP_INITIAL);
    rc = mdb_env_open(r->env, dir, MDB_NOTLS | MDB_NOMETASYNC | (nosync ? MDB_NOSYNC : 0), 0600);
    if (!rc)
        rc = mdb_txn_begin(r->env, NULL, 0, &txn);
    if (!rc) {
        rc = mdb_dbi_open(txn, "ops", MDB_CREATE, &r->ops);
        rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
    }
    return rc;
}

static int raw_put(struct raw *r, const struct llm_kv *kv, size_t n)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(r->env, NULL, 0, &txn);

    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        MDB_val k = {kv[i].klen, (void *)kv[i].key};
        MDB_val v = {kv[i].vlen, (void *)kv[i].val};
        rc = mdb_put(txn, r->ops, &k, &v, 0);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static double cpu_now(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* One writer process. kv: its records, round after round. Per phase it reads
 * 'l' or 'r' from the gate, commits that round's records, writes one byte to
 * done; at EOF on the gate it reports its CPU per side and exits. */
static void writer(const struct opts *o, const struct llm_kv *kv, int gate, int done, int res)
{
    char path[4096], c;
    struct llm_store *s = NULL;
    struct raw r = {0};
    double cpu[2] = {0, 0};
    long round[2] = {0, 0};
    int rc;

    snprintf(path, sizeof(path), "%s/llm", o->dir);
    rc = llm_store_open(path, o->nosync ? LLM_STORE_NOSYNC : 0, &s);
    snprintf(path, sizeof(path), "%s/raw", o->dir);
    if (!rc)
        rc = mkdir(path, 0700) && errno != EEXIST ? -errno : raw_open(path, o->nosync, &r);
    if (rc)
        die("open the stores in %s: %d", o->dir, rc);
    c = 'o';
    if (write(done, &c, 1) != 1)
        die("done pipe");
    while (read(gate, &c, 1) == 1) {
        int llm = c == 'l';
        const struct llm_kv *p = kv + round[llm] * o->records;
        double t = cpu_now();
        for (long i = 0; i < o->records; i += o->batch) {
            size_t n = (size_t)(o->records - i < o->batch ? o->records - i : o->batch);
            rc = llm ? llm_store_put(s, p + i, n) : raw_put(&r, p + i, n);
            if (rc)
                die("put (%s): %d", llm ? "llm" : "raw", rc);
        }
        if (round[llm]) /* round 0 is the warm-up */
            cpu[llm] += cpu_now() - t;
        round[llm]++;
        if (write(done, &c, 1) != 1)
            die("done pipe");
    }
    llm_store_close(s);
    mdb_env_close(r.env);
    dprintf(res, "%.9f %.9f\n", cpu[1], cpu[0]);
    _exit(0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t count(const char *dir, const char *sub)
{
    char path[4096];
    struct llm_store *s;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    if (llm_store_open(path, LLM_STORE_RDONLY, &s) || llm_store_count(s, &n))
        die("cannot count the records in %s", path);
    llm_store_close(s);
    return n;
}

static void usage(void)
{
    fputs("usage: bench_store --dir NEWDIR [--procs P] [--records N] [--batch B]\n"
          "                   [--rounds R] [--nosync] [--body FILE]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"dir", 1, 0, 'd'},    {"procs", 1, 0, 'p'},  {"records", 1, 0, 'n'}, {"batch", 1, 0, 'b'},
        {"rounds", 1, 0, 'r'}, {"nosync", 0, 0, 's'}, {"body", 1, 0, 'B'},    {0, 0, 0, 0},
    };
    struct opts o = {.procs = 1, .records = 100, .batch = 1, .rounds = 10};
    int c, gate[MAXPROCS][2], done[2], res[2];

    while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.dir = optarg; break;
        case 'p': o.procs = atol(optarg); break;
        case 'n': o.records = atol(optarg); break;
        case 'b': o.batch = atol(optarg); break;
        case 'r': o.rounds = atol(optarg); break;
        case 's': o.nosync = 1; break;
        case 'B': o.body = optarg; break;
        default: usage();
        }
    }
    if (!o.dir || o.procs < 1 || o.procs > MAXPROCS || o.records < 1 || o.batch < 1 ||
        o.rounds < 1)
        usage();
    if (mkdir(o.dir, 0700))
        die("mkdir %s: %s (it must not exist)", o.dir, strerror(errno));

    /* the same JSON the LLM figure sends, else a small chat request */
    char *args = o.body ? slurp(o.body)
                        : strdup("{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a joke "
                                 "about opentelemetry\"}],\"model\":\"gpt-3.5-turbo\"}");
    size_t per_proc = (size_t)((o.rounds + 1) * o.records), total = (size_t)o.procs * per_proc;
    size_t vbytes = 0;
    struct llm_kv *kv = calloc(total, sizeof(*kv));
    double *ratio = calloc((size_t)o.rounds, sizeof(double));
    if (!args || !kv || !ratio)
        die("out of memory");
    double t = now();
    for (size_t i = 0; i < total; i++)
        make_record(&kv[i], args, (long)i);
    double encode_us = (now() - t) * 1e6 / (double)total;
    for (size_t i = 0; i < total; i++)
        vbytes += kv[i].vlen;

    /* one gate per writer: with a shared one, a fast writer could take a
     * slow one's token and run a phase twice */
    if (pipe(done) || pipe(res))
        die("pipe: %s", strerror(errno));
    for (long p = 0; p < o.procs; p++) {
        if (pipe(gate[p]))
            die("pipe: %s", strerror(errno));
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (!pid) {
            for (long q = 0; q < p; q++)
                close(gate[q][1]);
            close(gate[p][1]);
            close(done[0]);
            close(res[0]);
            writer(&o, kv + (size_t)p * per_proc, gate[p][0], done[1], res[1]);
        }
        close(gate[p][0]);
    }
    close(done[1]);
    close(res[1]);
    for (long p = 0; p < o.procs; p++) /* every writer has opened both stores */
        if (read(done[0], &c, 1) != 1)
            die("a writer failed to open the stores");

    double wall[2] = {0, 0};
    for (long round = 0; round <= o.rounds; round++) {
        double phase[2];
        for (int k = 0; k < 2; k++) {
            int llm = (round % 2 == 0) == (k == 0); /* l r, r l, l r, ... */
            char cmd = llm ? 'l' : 'r';
            t = now();
            for (long p = 0; p < o.procs; p++)
                if (write(gate[p][1], &cmd, 1) != 1)
                    die("gate pipe");
            for (long p = 0; p < o.procs; p++)
                if (read(done[0], &c, 1) != 1)
                    die("a writer failed");
            phase[llm] = now() - t;
        }
        if (round) {
            wall[0] += phase[0];
            wall[1] += phase[1];
            ratio[round - 1] = phase[0] / phase[1]; /* raw time / llm time = llm rate / raw */
        }
    }
    for (long p = 0; p < o.procs; p++)
        close(gate[p][1]);
    double cpu_llm = 0, cpu_raw = 0;
    FILE *rf = fdopen(res[0], "r");
    for (long p = 0; p < o.procs; p++) {
        double a, b;
        if (!rf || fscanf(rf, "%lf %lf", &a, &b) != 2)
            die("a writer did not report");
        cpu_llm += a;
        cpu_raw += b;
    }
    for (long p = 0; p < o.procs; p++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
            die("a writer failed");
    }
    size_t n_llm = count(o.dir, "llm"), n_raw = count(o.dir, "raw");
    if (n_llm != total || n_raw != total)
        die("the stores hold %zu (llm) and %zu (raw) records, expected %zu", n_llm, n_raw, total);

    double counted = (double)(o.procs * o.rounds * o.records);
    qsort(ratio, (size_t)o.rounds, sizeof(double), cmp_double);
    double med = o.rounds % 2 ? ratio[o.rounds / 2]
                              : (ratio[o.rounds / 2 - 1] + ratio[o.rounds / 2]) / 2;
    printf("procs=%ld records=%ld batch=%ld rounds=%ld sync=%s value_bytes=%zu encode_us=%.2f "
           "llm_rps=%.1f raw_rps=%.1f ratio_median=%.3f ratio_min=%.3f ratio_max=%.3f "
           "llm_cpu_us=%.2f raw_cpu_us=%.2f\n",
           o.procs, o.records, o.batch, o.rounds, o.nosync ? "nosync" : "fdatasync",
           vbytes / total, encode_us, counted / wall[1], counted / wall[0], med, ratio[0],
           ratio[o.rounds - 1], cpu_llm * 1e6 / counted, cpu_raw * 1e6 / counted);
    return 0;
}
