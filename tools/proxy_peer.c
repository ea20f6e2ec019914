/* Who is on the other end of a proxy connection: the process that owns the
 * client's socket. Both ends are on loopback in the same network namespace,
 * so the client's socket is the /proc/net/tcp{,6} entry whose local port is
 * our peer's port and whose remote port is ours; its inode names the socket,
 * and the process holding a descriptor "socket:[inode]" is the caller.
 * CMD's descendants are searched first (through /proc/PID/task/TID/children),
 * then every process we can read. Connection threads of the proxy, when an
 * intercepted connection opens (never for tunnels). The socket is alive
 * then: the client waits for its TLS handshake or its answer. */
#include "proxy.h"
#include "err.h"
#include "peer.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ARGV_MAX 65536
#define ENV_MAX (256 << 10)
#define PIDS_MAX 4096

static int sock_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return 0;
}

/* The inode of the socket with local port lport and remote port rport. */
static unsigned long find_inode(int lport, int rport)
{
    static const char *const tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    char line[512];
    unsigned long inode = 0;

    for (size_t t = 0; t < 2 && !inode; t++) {
        FILE *f = fopen(tables[t], "re");
        if (!f)
            continue;
        while (!inode && fgets(line, sizeof(line), f)) {
            char local[64], remote[64];
            unsigned long ino;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
            if (sscanf(line, " %*s %63s %63s %*s %*s %*s %*s %*s %*s %lu", local, remote, &ino) !=
                3)
                continue;
            const char *lc = strrchr(local, ':'), *rc = strrchr(remote, ':');
            if (lc && rc && strtol(lc + 1, NULL, 16) == lport && strtol(rc + 1, NULL, 16) == rport)
                inode = ino;
        }
        fclose(f);
    }
    return inode;
}

static int holds(pid_t pid, const char *target)
{
    char path[64], link[64];
    DIR *d;
    struct dirent *e;
    int found = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    if (!(d = opendir(path)))
        return 0;
    while (!found && (e = readdir(d))) {
        ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
        if (n > 0) {
            link[n] = '\0';
            found = !strcmp(link, target);
        }
    }
    closedir(d);
    return found;
}

/* Appends the children of pid (every thread's) to list. */
static void add_children(pid_t pid, pid_t *list, size_t *n)
{
    char path[64], buf[4096];
    DIR *d;
    struct dirent *e;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    if (!(d = opendir(path)))
        return;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children", (int)pid, e->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        size_t got = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[got] = '\0';
        for (char *s = buf, *end; *n < PIDS_MAX; s = end) {
            long v = strtol(s, &end, 10);
            if (end == s || v <= 0)
                break;
            list[(*n)++] = (pid_t)v;
        }
    }
    closedir(d);
}

static pid_t find_owner(unsigned long inode, pid_t root)
{
    char target[48];
    pid_t *list = malloc(PIDS_MAX * sizeof(*list)), found = 0;
    size_t n = 0;
    DIR *d;
    struct dirent *e;

    snprintf(target, sizeof(target), "socket:[%lu]", inode);
    if (!list)
        return 0;
    if (root > 0)
        list[n++] = root;
    for (size_t i = 0; i < n && !found; i++) { /* breadth first: CMD, its children, ... */
        if (holds(list[i], target))
            found = list[i];
        else
            add_children(list[i], list, &n);
    }
    if (!found && (d = opendir("/proc"))) {
        pid_t self = getpid();
        while (!found && (e = readdir(d))) {
            long v = strtol(e->d_name, NULL, 10);
            if (v > 0 && v != self && holds((pid_t)v, target))
                found = (pid_t)v;
        }
        closedir(d);
    }
    free(list);
    return found;
}

/* Reads up to cap bytes of /proc/PID/name; malloc'd, NUL-terminated. */
static char *slurp(pid_t pid, const char *name, size_t cap, size_t *len)
{
    char path[64];
    char *buf = malloc(cap + 1);
    FILE *f;

    *len = 0;
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    if (!buf || !(f = fopen(path, "re"))) {
        free(buf);
        return NULL;
    }
    *len = fread(buf, 1, cap, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

static void read_env(pid_t pid, struct llm_peer *out)
{
    static const char *const names[] = {
        "LLMOPS_SESSION_ID=", "LLMOPS_WORKSPACE=", "LLMOPS_AGENT_ID=", "LLMOPS_ACTION_ID="};
    char **dst[] = {&out->session, &out->workspace, &out->agent, &out->action};
    size_t n;
    char *env = slurp(pid, "environ", ENV_MAX, &n);

    for (char *p = env; p && p < env + n; p += strlen(p) + 1)
        for (size_t i = 0; i < 4; i++) {
            size_t l = strlen(names[i]);
            if (!strncmp(p, names[i], l) && p[l] && !*dst[i])
                *dst[i] = strdup(p + l);
        }
    free(env);
}

int llm_proxy_peer_find(int fd, pid_t root, int capture_content, struct llm_peer *out)
{
    struct sockaddr_storage me, peer;
    socklen_t ml = sizeof(me), pl = sizeof(peer);
    char path[64], exe[PATH_MAX], *stat, *cmd, *close_paren;
    size_t n;
    ssize_t el;
    unsigned long inode;
    pid_t pid;

    memset(out, 0, sizeof(*out));
    if (getsockname(fd, (struct sockaddr *)&me, &ml) ||
        getpeername(fd, (struct sockaddr *)&peer, &pl))
        return -errno;
    if (!(inode = find_inode(sock_port(&peer), sock_port(&me))) || !(pid = find_owner(inode, root)))
        return LLM_ENOTFOUND;
    out->pid = pid;
    stat = slurp(pid, "stat", 1024, &n);
    /* "pid (comm) state ppid ...": comm may hold ")", so the last one ends it */
    if (stat && (close_paren = strrchr(stat, ')')))
        out->ppid = strtoll(close_paren + 4, NULL, 10);
    free(stat);
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    if ((el = readlink(path, exe, sizeof(exe) - 1)) > 0) {
        exe[el] = '\0';
        out->exe = strdup(exe);
    }
    if ((cmd = slurp(pid, "cmdline", ARGV_MAX, &n))) {
        out->argv_json = llm_peer_argv_json(cmd, n, capture_content);
        free(cmd);
    }
    read_env(pid, out);
    return 0;
}
