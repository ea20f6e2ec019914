/* LMDB wrapper. Runs on the collector thread (puts) and in the tool (scans).
 * Invariants: the env is used only in the process that opened it; a put that
 * hits MDB_MAP_FULL doubles the map and retries; LMDB codes never leak out,
 * they are mapped to llm codes here. A store that is not ours, or is damaged,
 * is refused before LMDB gets to read its pages. */
#include "store.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAP_INITIAL ((size_t)1 << 30) /* sparse: costs nothing until written */
#define MAP_MAX ((size_t)1 << 40)

/* LLMOPS_MAP_SIZE (bytes, k/m suffix, >= 16k): the first map size instead of
 * MAP_INITIAL. For tests, which use a tiny one to make puts hit MDB_MAP_FULL
 * and grow the map. */
static size_t map_initial(void)
{
    const char *v = getenv("LLMOPS_MAP_SIZE");
    char *end;
    unsigned long long n;

    if (!v || !*v)
        return MAP_INITIAL;
    n = strtoull(v, &end, 10);
    if (*end == 'k' || *end == 'K')
        n <<= 10, end++;
    else if (*end == 'm' || *end == 'M')
        n <<= 20, end++;
    if (*end || n < (16 << 10) || n > MAP_MAX)
        return MAP_INITIAL;
    return (size_t)(n + 4095) & ~(size_t)4095;
}

struct llm_store {
    MDB_env *env;
    MDB_dbi ops, meta;
    unsigned flags;
    char path[4200]; /* data.mdb */
    dev_t dev;       /* its identity at open, to notice it being replaced */
    ino_t ino;
    unsigned psize; /* page size, read once while the file is known good */
};

static int map_rc(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        return LLM_ENOTFOUND;
    case MDB_MAP_FULL:
        return LLM_EMAPFULL;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
    case MDB_BAD_TXN:
        return LLM_ECORRUPT;
    default:
        return rc > 0 ? -rc : LLM_ESTORE;
    }
}

static int mkdirs(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);

    if (n >= sizeof(path))
        return -ENAMETOOLONG;
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, 0700) && errno != EEXIST)
        return -errno;
    return 0;
}

/* A store written by this process must be this user's alone: the directory
 * owned by the user and not writable by group or others (so no one else can
 * swap a file in it after these checks), each existing file a regular file
 * (never a symbolic link), owned by the user, not writable by others, with
 * one name. Else another user could read our prompts or point lock.mdb at a
 * file of ours for LMDB to overwrite. */
static int check_private(const char *dir)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[4200];
    struct stat st;

    if (stat(dir, &st))
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (st.st_uid != geteuid() || (st.st_mode & 022))
        return LLM_EUNSAFE;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        if (lstat(path, &st)) {
            if (errno == ENOENT)
                continue;
            return -errno;
        }
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) ||
            st.st_nlink != 1)
            return LLM_EUNSAFE;
    }
    return 0;
}

/* An existing data.mdb must carry LMDB's magic in its first meta page. */
static int check_file(const char *dir)
{
    char path[4200];
    unsigned char page[32];
    uint32_t magic;
    int fd, rc = 0;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? LLM_ENOTFOUND : errno == ELOOP ? LLM_EUNSAFE : -errno;
    n = read(fd, page, sizeof(page));
    /* page header (8 pgno + 2 pad + 2 flags + 4 lower/upper) then MDB_meta */
    if (n == 0) {
        rc = 0; /* created but never written: LMDB initialises it */
    } else if (n < 20) {
        rc = LLM_ECORRUPT;
    } else {
        memcpy(&magic, page + 16, 4);
        if (magic != 0xBEEFC0DE)
            rc = LLM_ECORRUPT;
    }
    close(fd);
    return rc;
}

/* The root pages of the two main B-trees, by pread: each must name itself
 * and have a sane header. A store whose pages were overwritten while its
 * meta pages survived is refused here instead of faulting in LMDB. (MDB_db
 * roots: free DB at 80, main DB at 128 within the meta; page header: pgno at
 * 0, flags at 10, lower at 12, upper at 14.) */
static int check_roots(const char *path, unsigned psize)
{
    unsigned char m[152], pg[16];
    uint64_t txnid[2], roots[2][2], pgno;
    uint16_t flags, lower, upper;
    int fd, newer, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        if (pread(fd, m, sizeof(m), (off_t)i * psize) != (ssize_t)sizeof(m)) {
            rc = LLM_ECORRUPT;
            goto close_fd;
        }
        memcpy(&roots[i][0], m + 80, 8);
        memcpy(&roots[i][1], m + 128, 8);
        memcpy(&txnid[i], m + 144, 8);
    }
    newer = txnid[1] > txnid[0];
    for (int d = 0; d < 2 && !rc; d++) {
        uint64_t root = roots[newer][d];
        if (root == (uint64_t)-1) /* P_INVALID: an empty tree */
            continue;
        if (pread(fd, pg, sizeof(pg), (off_t)(root * psize)) != (ssize_t)sizeof(pg)) {
            rc = LLM_ECORRUPT;
            break;
        }
        memcpy(&pgno, pg, 8);
        memcpy(&flags, pg + 10, 2);
        memcpy(&lower, pg + 12, 2);
        memcpy(&upper, pg + 14, 2);
        if (pgno != root || !(flags & 0x03) || lower > upper || upper > psize)
            rc = LLM_ECORRUPT; /* 0x01 P_BRANCH, 0x02 P_LEAF */
    }
close_fd:
    close(fd);
    return rc;
}

/* LMDB sizes lock.mdb with ftruncate and writes it through a shared map: on
 * a full disk that write is a SIGBUS in whatever thread makes it. Reserving
 * the blocks first turns a full disk into an error at open. */
static int reserve_lock_file(const char *dir)
{
    char path[4200];
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return errno == ELOOP ? LLM_EUNSAFE : -errno;
    if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1 << 16) && errno != EOPNOTSUPP && errno != ENOSYS)
        rc = -errno;
    close(fd);
    return rc;
}

/* The directory and its files before LMDB touches them: a reader needs an
 * existing, safe store; a writer makes the directory and reserves the lock
 * file's blocks. */
static int prepare_dir(const char *dir, unsigned flags)
{
    struct stat st;
    int rc;

    if (flags & LLM_STORE_RDONLY) {
        if (stat(dir, &st))
            return -errno;
        if (!S_ISDIR(st.st_mode))
            return -ENOTDIR;
        return check_file(dir);
    }
    rc = mkdirs(dir);
    if (!rc)
        rc = check_private(dir);
    if (rc)
        return rc;
    rc = check_file(dir);
    if (rc && rc != LLM_ENOTFOUND)
        return rc;
    return reserve_lock_file(dir);
}

static int env_create(struct llm_store *s, int readers)
{
    int rc = mdb_env_create(&s->env);

    if (rc)
        return rc;
    mdb_env_set_maxdbs(s->env, 4);
    if (readers)
        mdb_env_set_maxreaders(s->env, 256);
    mdb_env_set_mapsize(s->env, map_initial());
    return 0;
}

/* Creates and opens s->env; on failure s->env is closed (or never made). */
static int env_open(struct llm_store *s, const char *dir, unsigned flags)
{
    unsigned env_flags = MDB_NOTLS | MDB_NOMETASYNC;
    int rc;

    if (flags & LLM_STORE_NOSYNC)
        env_flags |= MDB_NOSYNC;
    rc = env_create(s, 1);
    if (rc)
        return rc;
    /* Readers open read-write so they can take a reader slot in lock.mdb;
     * they never start a write transaction, so they never block writers. */
    rc = mdb_env_open(s->env, dir, env_flags, 0600);
    if ((rc == EACCES || rc == EPERM || rc == EROFS) && (flags & LLM_STORE_RDONLY)) {
        /* a store we may read but not write (another user's, a read-only
         * mount): no reader slot can be taken, so read without the lock
         * file. A writer committing meanwhile may reuse pages a long read is
         * still walking: such a read can see a torn record (caught by the
         * record checks) but never harms the store. */
        mdb_env_close(s->env);
        rc = env_create(s, 0);
        if (rc)
            return rc;
        rc = mdb_env_open(s->env, dir, env_flags | MDB_RDONLY | MDB_NOLOCK, 0600);
    }
    if (rc) {
        mdb_env_close(s->env);
        return rc;
    }
    /* slots of readers that died mid-read (`llmops export | head`, kill -9)
     * stay taken while any process holds the store open: free them at
     * every open, before they add up to "no reader slot left" */
    mdb_reader_check(s->env, NULL);
    return 0;
}

/* Before LMDB walks any tree: are its roots what they claim? A page read
 * while another process commits may have just been reused: ask again
 * before believing it. */
static int roots_ok(struct llm_store *s, const char *dir)
{
    MDB_stat ms;
    struct stat st;
    char data[4200];
    int bad = 0;

    snprintf(data, sizeof(data), "%s/data.mdb", dir);
    for (int i = 0; i < 3; i++) {
        bad = !mdb_env_stat(s->env, &ms) && !stat(data, &st) && st.st_size >= 2 * ms.ms_psize &&
              check_roots(data, ms.ms_psize);
        if (!bad)
            break;
        usleep(2000);
    }
    return bad ? MDB_CORRUPTED : 0;
}

/* The "ops" and "meta" databases: made by a writer; a reader of a store
 * with no "ops" yet (an empty store another writer made) gets
 * MDB_NOTFOUND. */
static int open_dbis(struct llm_store *s, unsigned flags)
{
    unsigned ro = flags & LLM_STORE_RDONLY;
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, ro ? MDB_RDONLY : 0, &txn);

    if (rc == MDB_MAP_RESIZED) { /* another process grew the map meanwhile */
        mdb_env_set_mapsize(s->env, 0);
        rc = mdb_txn_begin(s->env, NULL, ro ? MDB_RDONLY : 0, &txn);
    }
    if (rc)
        return rc;
    if (ro) {
        rc = mdb_dbi_open(txn, "ops", 0, &s->ops);
        if (!rc)
            rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
        else
            goto abort; /* MDB_NOTFOUND included */
        if (rc == MDB_NOTFOUND)
            rc = 0, s->meta = 0;
    } else {
        rc = mdb_dbi_open(txn, "ops", MDB_CREATE, &s->ops);
        if (!rc)
            rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
    }
    if (rc)
        goto abort;
    /* commit even a read-only txn: aborting it would close the handles */
    return mdb_txn_commit(txn);

abort:
    mdb_txn_abort(txn);
    return rc;
}

int llm_store_open(const char *dir, unsigned flags, struct llm_store **out)
{
    struct llm_store *s;
    struct stat st;
    int rc;

    *out = NULL;
    rc = prepare_dir(dir, flags);
    if (rc)
        return rc;
    s = calloc(1, sizeof(*s));
    if (!s)
        return LLM_ENOMEM;
    s->flags = flags;
    rc = env_open(s, dir, flags);
    if (rc)
        goto free_store;
    rc = roots_ok(s, dir);
    if (!rc)
        rc = open_dbis(s, flags);
    if (rc)
        goto env_close;
    /* the file's identity, to notice it being replaced under us */
    snprintf(s->path, sizeof(s->path), "%s/data.mdb", dir);
    if (!stat(s->path, &st)) {
        MDB_stat ms;
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        if (!mdb_env_stat(s->env, &ms))
            s->psize = ms.ms_psize;
    }
    *out = s;
    return 0;

env_close:
    mdb_env_close(s->env);
free_store:
    free(s);
    return map_rc(rc);
}

int llm_store_reader_check(struct llm_store *s)
{
    int dead = 0, rc = mdb_reader_check(s->env, &dead);

    return rc ? map_rc(rc) : dead;
}

void llm_store_close(struct llm_store *s)
{
    if (!s)
        return;
    mdb_env_close(s->env);
    free(s);
}

static int check_metas_once(const char *path, unsigned psize)
{
    unsigned char m[152];
    uint64_t last_pg[2], txnid[2], last;
    uint32_t magic, version;
    struct stat st;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    for (int i = 0; i < 2 && !rc; i++) {
        if (pread(fd, m, sizeof(m), (off_t)i * psize) != (ssize_t)sizeof(m)) {
            rc = LLM_ECORRUPT;
            break;
        }
        memcpy(&magic, m + 16, 4);
        memcpy(&version, m + 20, 4);
        memcpy(&last_pg[i], m + 136, 8);
        memcpy(&txnid[i], m + 144, 8);
        if (magic != 0xBEEFC0DE || version != 1)
            rc = LLM_ECORRUPT;
    }
    /* the size after the metas were read: another process's commit extends
     * the file before it writes the meta that points into the new pages */
    if (!rc && !fstat(fd, &st)) {
        last = txnid[1] > txnid[0] ? last_pg[1] : last_pg[0];
        if (last > (uint64_t)st.st_size / psize || (last + 1) * psize > (uint64_t)st.st_size)
            rc = LLM_ECORRUPT;
    }
    close(fd);
    return rc;
}

/* Both meta pages must carry LMDB's magic and version, and the newer one
 * must not point past the end of the file. Other processes commit while we
 * look, so a bad answer is asked again before it is believed. (Offsets: a
 * 16-byte page header, then MDB_meta: magic, version, address, mapsize, two
 * 48-byte MDB_db, last_pg at 136, txnid at 144.) */
static int check_metas(const char *path, unsigned psize)
{
    int rc = 0;

    for (int attempt = 0; attempt < 3; attempt++) {
        rc = check_metas_once(path, psize);
        if (rc != LLM_ECORRUPT)
            break;
        usleep(2000);
    }
    return rc;
}

int llm_store_check(struct llm_store *s)
{
    struct stat st;

    if (!s->psize)
        return 0; /* a store opened before the file existed: nothing to compare */
    if (stat(s->path, &st))
        return errno == ENOENT ? LLM_ENOTFOUND : -errno;
    if (st.st_dev != s->dev || st.st_ino != s->ino)
        return LLM_ENOTFOUND; /* deleted and made anew, or replaced */
    /* LMDB reads pages through the map: a file cut short, or meta pages
     * rewritten to point past its end, would fault in this thread. So this
     * looks at the file with pread only, never through the map. */
    return check_metas(s->path, s->psize);
}

void llm_store_abandon(struct llm_store *s)
{
    /* Deliberately leaked: closing an env in a forked child would touch
     * state that belongs to the parent's transactions. */
    (void)s;
}

static int grow(struct llm_store *s)
{
    MDB_envinfo info;

    mdb_env_info(s->env, &info);
    if (info.me_mapsize >= MAP_MAX)
        return LLM_EMAPFULL;
    return map_rc(mdb_env_set_mapsize(s->env, info.me_mapsize * 2));
}

int llm_store_put(struct llm_store *s, const struct llm_kv *kv, size_t n)
{
    MDB_txn *txn;
    int rc;

    for (int attempt = 0; attempt < 8; attempt++) {
        rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        if (rc == MDB_MAP_RESIZED) { /* another process grew it */
            mdb_env_set_mapsize(s->env, 0);
            continue;
        }
        if (rc)
            return map_rc(rc);
        for (size_t i = 0; i < n && !rc; i++) {
            MDB_val k = {kv[i].klen, (void *)kv[i].key};
            MDB_val v = {kv[i].vlen, (void *)kv[i].val};
            rc = mdb_put(txn, s->ops, &k, &v, 0);
        }
        if (rc) {
            mdb_txn_abort(txn);
        } else {
            rc = mdb_txn_commit(txn);
        }
        if (rc != MDB_MAP_FULL)
            return map_rc(rc);
        rc = grow(s);
        if (rc)
            return rc;
    }
    return LLM_EMAPFULL;
}

int llm_store_scan(struct llm_store *s, const uint8_t *from, const uint8_t *to,
                   llm_store_visit_fn fn, void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, op, stop = 0;

    rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(s->env, 0);
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    }
    if (rc)
        return map_rc(rc);
    rc = mdb_cursor_open(txn, s->ops, &cur);
    if (rc) {
        rc = map_rc(rc);
        goto txn_abort;
    }
    if (from) {
        k.mv_size = 16;
        k.mv_data = (void *)from;
        op = MDB_SET_RANGE;
    } else {
        op = MDB_FIRST;
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        op = MDB_NEXT;
        if (to && k.mv_size >= 16 && memcmp(k.mv_data, to, 16) >= 0)
            break;
        stop = fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
        if (stop)
            break;
    }
    rc = rc == MDB_NOTFOUND ? 0 : map_rc(rc);
    mdb_cursor_close(cur);
txn_abort:
    mdb_txn_abort(txn);
    return stop ? stop : rc;
}

int llm_store_count(struct llm_store *s, size_t *out)
{
    MDB_txn *txn;
    MDB_stat st;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);

    if (rc)
        return map_rc(rc);
    rc = mdb_stat(txn, s->ops, &st);
    if (!rc)
        *out = st.ms_entries;
    mdb_txn_abort(txn);
    return map_rc(rc);
}

int llm_store_delete_before(struct llm_store *s, const uint8_t before[16], size_t *deleted)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    size_t n = 0;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

    if (rc)
        return map_rc(rc);
    rc = mdb_cursor_open(txn, s->ops, &cur);
    if (rc)
        goto txn_abort;
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0) {
        if (k.mv_size >= 16 && memcmp(k.mv_data, before, 16) >= 0)
            break;
        rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        goto txn_abort;
    rc = mdb_txn_commit(txn);
    if (!rc && deleted)
        *deleted = n;
    return map_rc(rc);
txn_abort:
    mdb_txn_abort(txn);
    return map_rc(rc);
}

int llm_store_meta_get(struct llm_store *s, const char *name, void *buf, size_t *len)
{
    MDB_txn *txn;
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc;

    if (!s->meta)
        return LLM_ENOTFOUND;
    rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return map_rc(rc);
    rc = map_rc(mdb_get(txn, s->meta, &k, &v));
    if (!rc) {
        if (v.mv_size > *len)
            rc = -ENOBUFS;
        else
            memcpy(buf, v.mv_data, v.mv_size);
        *len = v.mv_size;
    }
    mdb_txn_abort(txn);
    return rc;
}

int llm_store_meta_put(struct llm_store *s, const char *name, const void *val, size_t len)
{
    MDB_txn *txn;
    MDB_val k = {strlen(name), (void *)name}, v = {len, (void *)val};
    int rc;

    if (!s->meta)
        return LLM_EINVAL;
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc)
        return map_rc(rc);
    rc = mdb_put(txn, s->meta, &k, &v, 0);
    if (rc) {
        mdb_txn_abort(txn);
        return map_rc(rc);
    }
    return map_rc(mdb_txn_commit(txn));
}
