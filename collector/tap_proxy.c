/* The proxy's connections, as the tap sees them (tap_proxy.h).
 *
 * A connection whose peer port is the proxy's is the proxy's (a socket, an
 * SSL over that socket, a libcurl transfer, whose peer is the proxy). A TLS
 * connection over a memory BIO has no peer we can ask; its bytes reach the
 * socket hooks only as TLS records inside a tunnel. Each CONNECT the
 * program sends to the proxy is therefore counted by host, and a memory-BIO
 * TLS connection to a host with tunnels outstanding takes one: a program
 * that sends some calls through the proxy and others direct to the same
 * host (Node: undici's ProxyAgent and fetch) is recorded once per call as
 * long as the tunnel is opened before the connection's first request.
 * App threads, under one mutex re-made after fork. */
#include "tap_proxy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TUNNELS 64

static int proxy_port;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char host[256];
    unsigned n;
} tunnels[TUNNELS];

void llm_tap_proxy_configure(const char *hostport)
{
    const char *colon = hostport ? strrchr(hostport, ':') : NULL;
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;

    proxy_port = port > 0 && port < 65536 ? (int)port : 0;
}

static void note_connect(const char *head, size_t hlen)
{
    char host[256];
    size_t i, n;

    if (hlen < 9 || memcmp(head, "CONNECT ", 8))
        return;
    for (i = 8, n = 0; i < hlen && head[i] != ':' && head[i] != ' ' && n + 1 < sizeof(host); i++)
        host[n++] = head[i];
    host[n] = '\0';
    if (!n || i == hlen || head[i] != ':')
        return;
    pthread_mutex_lock(&mu);
    int free_slot = -1;
    for (i = 0; i < TUNNELS; i++) {
        if (tunnels[i].n && !strcasecmp(tunnels[i].host, host)) {
            tunnels[i].n++;
            goto unlock;
        }
        if (!tunnels[i].n && free_slot < 0)
            free_slot = (int)i;
    }
    if (free_slot >= 0) {
        snprintf(tunnels[free_slot].host, sizeof(tunnels[0].host), "%s", host);
        tunnels[free_slot].n = 1;
    }
unlock:
    pthread_mutex_unlock(&mu);
}

/* Takes one tunnel to host; non-zero when there was one. */
static int take_tunnel(const char *host)
{
    int found = 0;

    pthread_mutex_lock(&mu);
    for (int i = 0; i < TUNNELS && !found; i++)
        if (tunnels[i].n && !strcasecmp(tunnels[i].host, host)) {
            tunnels[i].n--;
            found = 1;
        }
    pthread_mutex_unlock(&mu);
    return found;
}

int llm_tap_proxy_owns(int capture, const struct llm_open_info *info, const char *head, size_t hlen)
{
    if (!proxy_port)
        return 0;
    if (info->port == proxy_port) {
        if (capture == LLM_CAPTURE_SOCKET)
            note_connect(head, hlen);
        else if (info->sni[0])
            take_tunnel(info->sni); /* its tunnel was counted by the socket hooks */
        return 1;
    }
    return capture != LLM_CAPTURE_SOCKET && info->tls && !info->port && info->sni[0] &&
           take_tunnel(info->sni);
}

void llm_tap_proxy_atfork_child(void)
{
    pthread_mutex_init(&mu, NULL);
}
