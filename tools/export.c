/* `llmops export`: every stored record in key (= time) order, as NDJSON or
 * as one JSON array. Each object comes from llm_record_to_json(), so it has
 * every schema field, in schema order, null where unknown.
 * Records stream from one read transaction, so the export is one consistent
 * snapshot even while writers keep adding, and only one record is in memory.
 * A named output file is written under a temporary name and renamed at the
 * end: a failed export never leaves a file that looks complete. */
#include "cli.h"
#include "err.h"
#include "record.h"
#include "store.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct out {
    FILE *fp;
    const char *name; /* for messages */
    char *tmp;        /* the temporary file to rename over name, or NULL */
};

struct export_ctx {
    FILE *fp;
    const char *out_name;
    enum llm_export_format format;
    size_t n;
    char what[4200]; /* set by whoever fails, for the error line */
};

static int write_errno(void)
{
    return errno ? -errno : -EIO;
}

static int put_str(struct export_ctx *c, const char *s)
{
    errno = 0;
    if (fputs(s, c->fp) == EOF) {
        snprintf(c->what, sizeof(c->what), "write %s", c->out_name);
        return write_errno();
    }
    return 0;
}

static int put_record(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct export_ctx *c = arg;
    void *obj;
    int rc = llm_record_to_json(val, vlen, &obj);

    if (rc) {
        llm_cli_key_name(key, klen, c->what, sizeof(c->what));
        return rc;
    }
    if (c->format == LLM_EXPORT_JSON) {
        rc = put_str(c, c->n ? ",\n" : "\n");
        if (rc)
            goto obj_decref;
    }
    errno = 0;
    /* 15 significant digits: what a double holds exactly, no 44.020490000000002 */
    if (json_dumpf(obj, c->fp, JSON_COMPACT | JSON_REAL_PRECISION(15))) {
        snprintf(c->what, sizeof(c->what), "write %s", c->out_name);
        rc = write_errno();
        goto obj_decref;
    }
    if (c->format == LLM_EXPORT_NDJSON)
        rc = put_str(c, "\n");
    c->n++;
obj_decref:
    json_decref(obj);
    return rc;
}

static int out_open(const char *path, struct out *o)
{
    struct stat st;
    int fd, rc;

    memset(o, 0, sizeof(*o));
    if (!path || !strcmp(path, "-")) {
        o->fp = stdout;
        o->name = "standard output";
        return 0;
    }
    o->name = path;
    if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
        /* a device or a pipe: nothing to rename, write it in place */
        o->fp = fopen(path, "w");
        return o->fp ? 0 : -errno;
    }
    o->tmp = malloc(strlen(path) + sizeof(".XXXXXX"));
    if (!o->tmp)
        return LLM_ENOMEM;
    sprintf(o->tmp, "%s.XXXXXX", path);
    fd = mkstemp(o->tmp); /* 0600 is right: exports carry prompts and responses */
    if (fd < 0) {
        rc = -errno;
        goto tmp_free;
    }
    o->fp = fdopen(fd, "w");
    if (!o->fp) {
        rc = -errno;
        goto fd_close;
    }
    return 0;

fd_close:
    close(fd);
    unlink(o->tmp);
tmp_free:
    free(o->tmp);
    o->tmp = NULL;
    return rc;
}

/* Flushes and closes the output; renames it into place only if keep. */
static int out_close(struct out *o, int keep)
{
    int rc = 0;

    errno = 0;
    if (o->fp == stdout) {
        if (fflush(stdout) || ferror(stdout))
            rc = write_errno();
        return rc;
    }
    if (ferror(o->fp))
        rc = -EIO;
    if (fclose(o->fp) && !rc)
        rc = write_errno();
    if (o->tmp) {
        if (!rc && keep && rename(o->tmp, o->name))
            rc = -errno;
        if (rc || !keep)
            unlink(o->tmp);
        free(o->tmp);
    }
    return rc;
}

int llm_export_run(const struct llm_export_opts *o)
{
    struct llm_store *s;
    struct out out;
    struct export_ctx *c;
    int rc, close_rc;

    c = calloc(1, sizeof(*c));
    if (!c) {
        llm_cli_error(LLM_ENOMEM, "export");
        return LLM_ENOMEM;
    }
    rc = llm_cli_open(o->db, &s);
    if (rc)
        goto ctx_free;
    rc = out_open(o->out, &out);
    if (rc) {
        llm_cli_error(rc, "create %s", o->out);
        goto store_close;
    }
    c->fp = out.fp;
    c->out_name = out.name;
    c->format = o->format;
    snprintf(c->what, sizeof(c->what), "read database %s", o->db);

    if (o->format == LLM_EXPORT_JSON)
        rc = put_str(c, "[");
    if (!rc)
        rc = llm_store_scan(s, NULL, NULL, put_record, c);
    if (!rc && o->format == LLM_EXPORT_JSON)
        rc = put_str(c, c->n ? "\n]\n" : "]\n");
    if (rc)
        llm_cli_error(rc, "%s", c->what);

    close_rc = out_close(&out, rc == 0);
    if (!rc && close_rc) {
        rc = close_rc;
        llm_cli_error(rc, "write %s", out.name);
    }
store_close:
    llm_store_close(s);
ctx_free:
    free(c);
    return rc;
}
