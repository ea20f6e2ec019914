/* lmdb_hold DIR: take the LMDB write lock of the store in DIR and keep it
 * until stdin reaches end of file, so a test can stall every writer of that
 * store (the shim's collector blocks in mdb_txn_begin). Prints "held" once
 * the lock is taken. Exit status 0, or 1 with a message on stderr. */
#include <lmdb.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    MDB_env *env;
    MDB_txn *txn;
    char buf[256];
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: lmdb_hold DIR\n");
        return 1;
    }
    if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 4)) ||
        (rc = mdb_env_set_maxreaders(env, 256)) || (rc = mdb_env_set_mapsize(env, 1u << 30)) ||
        (rc = mdb_env_open(env, argv[1], MDB_NOTLS, 0600)) ||
        (rc = mdb_txn_begin(env, NULL, 0, &txn))) {
        fprintf(stderr, "lmdb_hold: %s: %s\n", argv[1], mdb_strerror(rc));
        return 1;
    }
    printf("held\n");
    fflush(stdout);
    while (read(0, buf, sizeof(buf)) > 0)
        ;
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return 0;
}
