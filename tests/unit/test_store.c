/* store.c: LMDB store in a temp dir: open (nested dirs, modes), batched put,
 * overwrite, count, full and ranged scans (from inclusive, to exclusive),
 * early stop, delete_before, meta get/put (missing, short buffer), reopen
 * RDONLY, and refusals: garbage or short data.mdb (LLM_ECORRUPT), missing
 * dir with RDONLY (-ENOENT), dir without a store, a file instead of a dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "err.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[256];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof(tmp), "%s/llmops-store-XXXXXX", base);
    assert_non_null(mkdtemp(tmp));
    return 0;
}

static int teardown(void **state)
{
    char cmd[512];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void key_for(int i, uint8_t k[16])
{
    /* time-ordered keys: i milliseconds after a fixed instant */
    llm_ulid_new(k, (1795805362000LL + i) * 1000000LL);
}

struct collected {
    int n;
    char vals[200][32];
    uint8_t keys[200][16];
    int stop_after;
};

static int collect(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct collected *c = ctx;
    assert_int_equal(klen, 16);
    assert_true(vlen < 32);
    memcpy(c->keys[c->n], key, 16);
    memcpy(c->vals[c->n], val, vlen);
    c->vals[c->n][vlen] = '\0';
    c->n++;
    return c->stop_after && c->n == c->stop_after ? 77 : 0;
}

static void put_range(struct llm_store *s, int from, int to, uint8_t keys[][16])
{
    struct llm_kv kv[200];
    char vals[200][32];
    int n = 0;

    for (int i = from; i < to; i++, n++) {
        key_for(i, keys[i]);
        snprintf(vals[n], sizeof(vals[n]), "record-%03d", i);
        kv[n] = (struct llm_kv){keys[i], 16, vals[n], strlen(vals[n])};
    }
    assert_int_equal(llm_store_put(s, kv, (size_t)n), 0);
}

static void test_put_scan_count_delete(void **state)
{
    char dir[300];
    struct llm_store *s = NULL;
    uint8_t keys[200][16];
    struct collected c;
    size_t n = 0, deleted = 0;
    struct stat st;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/a/b/db", tmp);
    assert_int_equal(llm_store_open(dir, LLM_STORE_NOSYNC, &s), 0);
    assert_non_null(s);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char f[400];
    snprintf(f, sizeof(f), "%s/data.mdb", dir);
    assert_int_equal(stat(f, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_int_equal(llm_store_count(s, &n), 0);
    assert_int_equal(n, 0);
    /* in two batches, the second one first: key order is time order */
    put_range(s, 100, 150, keys);
    put_range(s, 0, 100, keys);
    assert_int_equal(llm_store_count(s, &n), 0);
    assert_int_equal(n, 150);

    memset(&c, 0, sizeof(c));
    assert_int_equal(llm_store_scan(s, NULL, NULL, collect, &c), 0);
    assert_int_equal(c.n, 150);
    for (int i = 0; i < 150; i++) {
        char want[32];
        snprintf(want, sizeof(want), "record-%03d", i);
        assert_string_equal(c.vals[i], want);
        assert_memory_equal(c.keys[i], keys[i], 16);
    }

    /* [from, to) */
    memset(&c, 0, sizeof(c));
    assert_int_equal(llm_store_scan(s, keys[10], keys[20], collect, &c), 0);
    assert_int_equal(c.n, 10);
    assert_string_equal(c.vals[0], "record-010");
    assert_string_equal(c.vals[9], "record-019");
    /* a from key between stored keys starts at the next one */
    uint8_t mid[16];
    memcpy(mid, keys[30], 6); /* same millisecond, largest random part */
    memset(mid + 6, 0xff, 10);
    memset(&c, 0, sizeof(c));
    assert_int_equal(llm_store_scan(s, mid, NULL, collect, &c), 0);
    assert_int_equal(c.n, 150 - 31);
    assert_string_equal(c.vals[0], "record-031");
    /* only to */
    memset(&c, 0, sizeof(c));
    assert_int_equal(llm_store_scan(s, NULL, keys[5], collect, &c), 0);
    assert_int_equal(c.n, 5);
    /* empty ranges */
    memset(&c, 0, sizeof(c));
    assert_int_equal(llm_store_scan(s, keys[7], keys[7], collect, &c), 0);
    assert_int_equal(c.n, 0);
    uint8_t after[16];
    memset(after, 0xff, sizeof(after));
    assert_int_equal(llm_store_scan(s, after, NULL, collect, &c), 0);
    assert_int_equal(c.n, 0);
    /* the visitor stops the scan; its value comes back */
    memset(&c, 0, sizeof(c));
    c.stop_after = 3;
    assert_int_equal(llm_store_scan(s, NULL, NULL, collect, &c), 77);
    assert_int_equal(c.n, 3);

    /* overwrite: same key, new value, same count */
    struct llm_kv kv = {keys[3], 16, "changed", 7};
    assert_int_equal(llm_store_put(s, &kv, 1), 0);
    assert_int_equal(llm_store_count(s, &n), 0);
    assert_int_equal(n, 150);

    assert_int_equal(llm_store_delete_before(s, keys[40], &deleted), 0);
    assert_int_equal(deleted, 40);
    assert_int_equal(llm_store_count(s, &n), 0);
    assert_int_equal(n, 110);
    memset(&c, 0, sizeof(c));
    assert_int_equal(llm_store_scan(s, NULL, NULL, collect, &c), 0);
    assert_string_equal(c.vals[0], "record-040");
    assert_int_equal(llm_store_delete_before(s, keys[0], &deleted), 0);
    assert_int_equal(deleted, 0);
    assert_int_equal(llm_store_delete_before(s, after, &deleted), 0);
    assert_int_equal(deleted, 110);
    assert_int_equal(llm_store_count(s, &n), 0);
    assert_int_equal(n, 0);
    llm_store_close(s);
}

static void test_meta_and_reopen(void **state)
{
    char dir[300], buf[64];
    struct llm_store *s = NULL;
    uint8_t keys[200][16];
    size_t len, n;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/db", tmp);
    assert_int_equal(llm_store_open(dir, 0, &s), 0);
    assert_int_equal(llm_store_meta_put(s, "schema", "1", 1), 0);
    assert_int_equal(llm_store_meta_put(s, "cursor", "0123456789", 10), 0);
    assert_int_equal(llm_store_meta_put(s, "cursor", "abc", 3), 0); /* replaced */
    len = sizeof(buf);
    assert_int_equal(llm_store_meta_get(s, "cursor", buf, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "abc", 3);
    /* too small a buffer: refused, the needed size reported */
    len = 2;
    assert_int_equal(llm_store_meta_get(s, "cursor", buf, &len), -ENOBUFS);
    assert_int_equal(len, 3);
    /* meta values are not records */
    assert_int_equal(llm_store_count(s, &n), 0);
    assert_int_equal(n, 0);
    put_range(s, 0, 5, keys);
    llm_store_close(s);

    /* read-only reopen sees everything */
    s = NULL;
    assert_int_equal(llm_store_open(dir, LLM_STORE_RDONLY, &s), 0);
    assert_int_equal(llm_store_count(s, &n), 0);
    assert_int_equal(n, 5);
    len = sizeof(buf);
    assert_int_equal(llm_store_meta_get(s, "schema", buf, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(buf[0], '1');
    struct collected c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(llm_store_scan(s, NULL, NULL, collect, &c), 0);
    assert_int_equal(c.n, 5);
    assert_string_equal(c.vals[4], "record-004");
    llm_store_close(s);
}

/* store.h: "get returns LLM_ENOTFOUND when absent" (no LMDB code leaks out) */
static void test_meta_missing(void **state)
{
    char dir[300], buf[16];
    struct llm_store *s = NULL;
    size_t len = sizeof(buf);

    (void)state;
    snprintf(dir, sizeof(dir), "%s/db", tmp);
    assert_int_equal(llm_store_open(dir, 0, &s), 0);
    assert_int_equal(llm_store_meta_put(s, "present", "1", 1), 0);
    int rc = llm_store_meta_get(s, "absent", buf, &len);
    if (rc != LLM_ENOTFOUND)
        fail_msg("meta_get of an absent name: %d, want LLM_ENOTFOUND (%d)", rc, LLM_ENOTFOUND);
    llm_store_close(s);
    assert_int_equal(llm_store_open(dir, LLM_STORE_RDONLY, &s), 0);
    len = sizeof(buf);
    assert_int_equal(llm_store_meta_get(s, "absent", buf, &len), LLM_ENOTFOUND);
    llm_store_close(s);
}

static void write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static void test_refusals(void **state)
{
    char dir[300], f[400];
    struct llm_store *s = (struct llm_store *)0x1;
    char garbage[8192];

    (void)state;
    /* missing directory, read-only: nothing is created */
    snprintf(dir, sizeof(dir), "%s/missing", tmp);
    assert_int_equal(llm_store_open(dir, LLM_STORE_RDONLY, &s), -ENOENT);
    assert_null(s);
    assert_int_equal(access(dir, F_OK), -1);

    /* a directory without a store */
    snprintf(dir, sizeof(dir), "%s/empty", tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(llm_store_open(dir, LLM_STORE_RDONLY, &s), LLM_ENOTFOUND);
    assert_null(s);

    /* a file where the directory should be */
    snprintf(f, sizeof(f), "%s/afile", tmp);
    write_file(f, "x", 1);
    assert_int_equal(llm_store_open(f, LLM_STORE_RDONLY, &s), -ENOTDIR);

    /* garbage data.mdb: refused both ways, and left as it was */
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (char)(i * 131 + 7);
    snprintf(dir, sizeof(dir), "%s/garbage", tmp);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(f, sizeof(f), "%s/data.mdb", dir);
    write_file(f, garbage, sizeof(garbage));
    assert_int_equal(llm_store_open(dir, LLM_STORE_RDONLY, &s), LLM_ECORRUPT);
    assert_null(s);
    assert_int_equal(llm_store_open(dir, 0, &s), LLM_ECORRUPT);
    assert_null(s);
    struct stat st;
    assert_int_equal(stat(f, &st), 0);
    assert_int_equal(st.st_size, sizeof(garbage));

    /* too short to hold a meta page */
    write_file(f, "0123456789", 10);
    assert_int_equal(llm_store_open(dir, 0, &s), LLM_ECORRUPT);
    /* an empty file (created, never written) is initialised */
    write_file(f, "", 0);
    assert_int_equal(llm_store_open(dir, 0, &s), 0);
    assert_non_null(s);
    llm_store_close(s);
    /* and it is a valid store from then on */
    assert_int_equal(llm_store_open(dir, LLM_STORE_RDONLY, &s), 0);
    llm_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_scan_count_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
