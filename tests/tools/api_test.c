/* api_test: uses libllmops-api as an application would, through
 * include/llmops.h only. Records into $LLMOPS_DB:
 *   session "sync"   5 records, llmops_record_completion
 *   session "tK"     THREADS threads x PER_THREAD, every 10th synchronous,
 *                    the rest async; the process forks while they run
 *   session "child"  the forked child: CHILD async + 5 sync, then exit()
 *                    (its queue is committed by the exit flush)
 *   session "after"  THREADS x AFTER async after the fork, then llmops_flush
 *   session "exit"   EXIT async left queued when main returns
 * Each record has extras {"i": n} and input_tokens n. test_record.sh checks
 * the export holds each (session, i) exactly once. Refused records must
 * return the documented codes. Exit 0 when every call returned as it should. */
#include "llmops.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define PER_THREAD 100
#define CHILD 20
#define AFTER 50
#define EXIT 50

static int failures;
static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;

static void check(int ok, const char *what, int rc)
{
    if (ok)
        return;
    pthread_mutex_lock(&fail_mu);
    failures++;
    fprintf(stderr, "api_test: %s: %d (%s)\n", what, rc, llmops_strerror(rc));
    pthread_mutex_unlock(&fail_mu);
}

static int record(const char *session, int i, int sync)
{
    char json[512];
    int rc;

    snprintf(json, sizeof(json),
             "{\"provider\":\"custom\",\"model\":\"m-%s\",\"session_id\":\"%s\","
             "\"input_tokens\":%d,\"output_tokens\":%d,\"latency_ms\":%d.5,"
             "\"status\":\"ok\",\"extras\":{\"i\":%d}}",
             session, session, i, 2 * i, i, i);
    rc = sync ? llmops_record_completion(json) : llmops_record_completion_async(json);
    check(rc == 0, sync ? "llmops_record_completion" : "llmops_record_completion_async", rc);
    return rc;
}

struct job {
    char session[16];
    int count, sync_every;
};

static void *worker(void *arg)
{
    struct job *j = arg;

    for (int i = 0; i < j->count; i++)
        record(j->session, i, j->sync_every && i % j->sync_every == 0);
    return NULL;
}

static void run_threads(const char *prefix, int count, int sync_every)
{
    pthread_t t[THREADS];
    struct job jobs[THREADS];

    for (int k = 0; k < THREADS; k++) {
        snprintf(jobs[k].session, sizeof(jobs[k].session), "%s%d", prefix, k);
        jobs[k].count = count;
        jobs[k].sync_every = sync_every;
        pthread_create(&t[k], NULL, worker, &jobs[k]);
    }
    if (!strcmp(prefix, "t")) { /* fork while the threads record */
        pid_t pid;
        int status = 0;
        usleep(2000);
        pid = fork();
        if (pid == 0) {
            for (int i = 0; i < CHILD; i++)
                record("child", i, 0);
            for (int i = CHILD; i < CHILD + 5; i++)
                record("child", i, 1);
            exit(failures ? 1 : 0); /* exit() runs the flush */
        }
        check(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                  WEXITSTATUS(status) == 0,
              "forked child", status);
    }
    for (int k = 0; k < THREADS; k++)
        pthread_join(t[k], NULL);
}

static void refused(const char *json, int want)
{
    int rc = llmops_record_completion(json);
    const char *msg = llmops_strerror(rc);

    check(rc == want, json ? json : "(NULL)", rc);
    check(msg && *msg, "llmops_strerror gives a text", rc);
    rc = llmops_record_completion_async(json);
    check(rc == want, "async refusal", rc);
}

int main(void)
{
    int rc;

    for (int i = 0; i < 5; i++)
        record("sync", i, 1);
    refused("{\"model\":\"x\",\"no_such_field\":1}", LLMOPS_EFIELD);
    refused("{\"input_tokens\":\"12\"}", LLMOPS_ETYPE);
    refused("{\"timestamp\":\"yesterday\"}", LLMOPS_ETYPE);
    refused("[1,2]", LLMOPS_EJSON);
    refused("{\"model\":", LLMOPS_EJSON);
    refused(NULL, LLMOPS_EINVAL);

    run_threads("t", PER_THREAD, 10);
    run_threads("after", AFTER, 0);
    rc = llmops_flush(10000);
    check(rc == 0, "llmops_flush", rc);
    for (int i = 0; i < EXIT; i++)
        record("exit", i, 0);
    if (failures)
        fprintf(stderr, "api_test: %d failure(s)\n", failures);
    return failures ? 1 : 0; /* the "exit" records are committed by the exit flush */
}
