/* The proxy's certificate authority: one per store and per set of LLM host
 * names, kept beside the store (the key 0600, never installed anywhere),
 * and the leaf certificates it mints on the fly for intercepted hosts.
 *
 * The CA carries critical X.509 name constraints: it may sign only for the
 * names of the provider table and LLMOPS_HOSTS (a pattern with a wildcard
 * widens to the domain after it: "*-aiplatform.googleapis.com" permits
 * googleapis.com) and for no IP address, so its key, if stolen, cannot
 * impersonate anything else to a program that trusts it. The set of names
 * is hashed into the file names: a new LLMOPS_HOSTS gets a new CA.
 *
 * Threads: open/free on the main thread; use_leaf from any connection
 * thread (the leaf cache is under a mutex). */
#include "err.h"
#include "log.h"
#include "providers.h"
#include "proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CA_DAYS 825
#define LEAF_DAYS 30

struct leaf {
    struct leaf *next;
    X509 *cert;
    char host[];
};

struct llm_proxy_ca {
    X509 *cert;
    EVP_PKEY *key, *leaf_key; /* one key for every leaf, made per run */
    char *pem;
    pthread_mutex_t mu;
    struct leaf *leaves;
};

/* "critical,permitted;DNS:a,...": one subtree per host pattern, each once. */
static int constraints(char *out, size_t n)
{
    size_t used = snprintf(out, n, "critical");
    const char *h, *seen[128];
    size_t nseen = 0;

    for (size_t i = 0; (h = llm_providers_host_at(i)) && nseen < 128; i++) {
        const char *star = strchr(h, '*');
        int dup = 0;
        if (star) {
            const char *dot = strchr(star, '.');
            if (!dot || !dot[1])
                continue;
            h = dot + 1;
        }
        for (size_t j = 0; j < nseen && !dup; j++)
            dup = !strcasecmp(seen[j], h);
        if (dup)
            continue;
        seen[nseen++] = h;
        used += snprintf(out + used, used < n ? n - used : 0, ",permitted;DNS:%s", h);
    }
    used += snprintf(out + used, used < n ? n - used : 0,
                     ",excluded;IP:0.0.0.0/0.0.0.0,excluded;IP:::/::");
    return used < n ? 0 : LLM_ETOOBIG;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return LLM_EINVAL;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : LLM_ENOMEM;
}

/* A certificate with a random serial, valid from an hour ago. */
static X509 *new_cert(const char *cn, EVP_PKEY *key, long days)
{
    X509 *c = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    X509_NAME *name;

    if (!c)
        return NULL;
    RAND_bytes(serial, sizeof(serial));
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    name = X509_get_subject_name(c);
    if (!bn || !X509_set_version(c, 2) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) ||
        !X509_gmtime_adj(X509_getm_notBefore(c), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(c), days * 86400) || !X509_set_pubkey(c, key) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0)) {
        X509_free(c);
        c = NULL;
    }
    BN_free(bn);
    return c;
}

static int make_ca(const char *nc, X509 **cert, EVP_PKEY **key)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *c = k ? new_cert("llmops run proxy CA (this machine only)", k, CA_DAYS) : NULL;
    int rc = LLM_ENOMEM;

    if (!c)
        goto fail;
    X509_set_issuer_name(c, X509_get_subject_name(c));
    if ((rc = add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")) ||
        (rc = add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign")) ||
        (rc = add_ext(c, c, NID_subject_key_identifier, "hash")) ||
        (rc = add_ext(c, c, NID_name_constraints, nc)))
        goto fail;
    if (!X509_sign(c, k, EVP_sha256())) {
        rc = LLM_EINVAL;
        goto fail;
    }
    *cert = c;
    *key = k;
    return 0;
fail:
    X509_free(c);
    EVP_PKEY_free(k);
    return rc;
}

/* Writes via a temporary file and rename, so a reader never sees half. */
static int save(const char *path, int mode, X509 *cert, EVP_PKEY *key)
{
    char tmp[PATH_MAX];
    FILE *f;
    int fd, ok;

    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return LLM_ENOMEM;
    }
    ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return LLM_ESTORE;
    }
    return 0;
}

static int load(const char *cert_path, const char *key_path, X509 **cert, EVP_PKEY **key)
{
    FILE *f = fopen(cert_path, "re");
    X509 *c = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

    if (f)
        fclose(f);
    f = c ? fopen(key_path, "re") : NULL;
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    /* still valid for a month, and the pair matches */
    if (!k || X509_cmp_time(X509_get0_notAfter(c), &(time_t){time(NULL) + 31 * 86400}) <= 0 ||
        !X509_check_private_key(c, k)) {
        X509_free(c);
        EVP_PKEY_free(k);
        return LLM_ENOTFOUND;
    }
    *cert = c;
    *key = k;
    return 0;
}

int llm_proxy_ca_open(const char *dir, struct llm_proxy_ca **out)
{
    char nc[8192], cpath[PATH_MAX], kpath[PATH_MAX];
    unsigned char md[32];
    struct llm_proxy_ca *ca;
    int rc;

    if ((rc = constraints(nc, sizeof(nc))))
        return rc;
    EVP_Digest(nc, strlen(nc), md, NULL, EVP_sha256(), NULL);
    snprintf(cpath, sizeof(cpath), "%s/proxy-ca-%02x%02x%02x%02x.pem", dir, md[0], md[1], md[2],
             md[3]);
    snprintf(kpath, sizeof(kpath), "%s/proxy-ca-%02x%02x%02x%02x.key", dir, md[0], md[1], md[2],
             md[3]);
    ca = calloc(1, sizeof(*ca));
    if (!ca)
        return LLM_ENOMEM;
    pthread_mutex_init(&ca->mu, NULL);
    if (load(cpath, kpath, &ca->cert, &ca->key)) {
        if ((rc = make_ca(nc, &ca->cert, &ca->key)) || (rc = save(kpath, 0600, NULL, ca->key)) ||
            (rc = save(cpath, 0644, ca->cert, NULL)))
            goto fail;
        llm_log("made proxy CA %s", cpath);
    }
    ca->leaf_key = EVP_EC_gen("P-256");
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n = b && PEM_write_bio_X509(b, ca->cert) ? BIO_get_mem_data(b, &p) : 0;
    ca->pem = n > 0 ? strndup(p, (size_t)n) : NULL;
    BIO_free(b);
    if (!ca->leaf_key || !ca->pem) {
        rc = LLM_ENOMEM;
        goto fail;
    }
    *out = ca;
    return 0;
fail:
    llm_proxy_ca_free(ca);
    return rc;
}

void llm_proxy_ca_free(struct llm_proxy_ca *ca)
{
    if (!ca)
        return;
    for (struct leaf *l = ca->leaves, *next; l; l = next) {
        next = l->next;
        X509_free(l->cert);
        free(l);
    }
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    EVP_PKEY_free(ca->leaf_key);
    free(ca->pem);
    pthread_mutex_destroy(&ca->mu);
    free(ca);
}

const char *llm_proxy_ca_pem(const struct llm_proxy_ca *ca)
{
    return ca->pem;
}

static X509 *mint(struct llm_proxy_ca *ca, const char *host)
{
    char san[300];
    X509 *c = new_cert(host, ca->leaf_key, LEAF_DAYS);

    if (!c)
        return NULL;
    snprintf(san, sizeof(san), "DNS:%s", host);
    X509_set_issuer_name(c, X509_get_subject_name(ca->cert));
    if (add_ext(c, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(c, ca->cert, NID_key_usage, "critical,digitalSignature") ||
        add_ext(c, ca->cert, NID_ext_key_usage, "serverAuth") ||
        add_ext(c, ca->cert, NID_authority_key_identifier, "keyid:always") ||
        add_ext(c, ca->cert, NID_subject_alt_name, san) || !X509_sign(c, ca->key, EVP_sha256())) {
        X509_free(c);
        return NULL;
    }
    return c;
}

int llm_proxy_ca_use_leaf(struct llm_proxy_ca *ca, SSL *ssl, const char *host)
{
    struct leaf *l;
    int rc = 0;

    if (!llm_provider_for_host(host, strlen(host)) || strlen(host) > 253)
        return LLM_EINVAL; /* the constraints would refuse it anyway */
    pthread_mutex_lock(&ca->mu);
    for (l = ca->leaves; l && strcasecmp(l->host, host); l = l->next)
        ;
    if (!l) {
        l = malloc(sizeof(*l) + strlen(host) + 1);
        if (l && (l->cert = mint(ca, host))) {
            strcpy(l->host, host);
            l->next = ca->leaves;
            ca->leaves = l;
        } else {
            free(l);
            l = NULL;
        }
    }
    if (!l || SSL_use_certificate(ssl, l->cert) != 1 ||
        SSL_use_PrivateKey(ssl, ca->leaf_key) != 1 || SSL_add1_chain_cert(ssl, ca->cert) != 1)
        rc = LLM_EINVAL;
    pthread_mutex_unlock(&ca->mu);
    return rc;
}

const char *const *llm_proxy_trust_files(void)
{
    static const char *files[8];
    static const char *const vars[] = {"NODE_EXTRA_CA_CERTS", "DENO_CERT", "REQUESTS_CA_BUNDLE",
                                       "CURL_CA_BUNDLE"};
    const char *base = getenv("SSL_CERT_FILE");
    size_t n = 0;

    if (files[0])
        return files;
    files[n++] = base && *base ? base : X509_get_default_cert_file();
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        int dup = !v || !*v;
        for (size_t j = 0; j < n && !dup; j++)
            dup = !strcmp(files[j], v);
        if (!dup)
            files[n++] = v;
    }
    return files;
}
