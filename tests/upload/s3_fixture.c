/* Upload tests' fixtures (s3_fixture.h). */
#include "s3_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int s3_server_start(s3_server *s, const char *node, const char *script, const char *const *buckets)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/teleop-s3rver-XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -1;
    }
    int in[2], out[2];
    if (pipe(in) || pipe(out)) {
        perror("pipe");
        return -1;
    }
    /* s3rver 3.7.1 enciphers ListObjectsV2 continuation tokens with DES,
     * which OpenSSL 3 (Node 18+) keeps in its legacy provider */
    const char *argv[16] = {node, "--openssl-legacy-provider", script, s->dir};
    int n = 4;
    for (int i = 0; buckets[i] && n < 15; i++)
        argv[n++] = buckets[i];
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execv(node, (char *const *)argv);
        perror("exec node");
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->stdin_fd = in[1];
    char line[32] = "";
    size_t len = 0;
    while (len < sizeof line - 1) {
        ssize_t k = read(out[0], line + len, 1);
        if (k <= 0 || line[len] == '\n')
            break;
        len++;
    }
    line[len] = 0;
    close(out[0]);
    s->port = atoi(line);
    if (s->port <= 0) {
        fprintf(stderr, "s3rver did not start (got '%s'); scripts/setup_node.sh installs it\n", line);
        s3_server_stop(s);
        return -1;
    }
    return 0;
}

void s3_server_stop(s3_server *s)
{
    if (s->stdin_fd > 0)
        close(s->stdin_fd);
    s->stdin_fd = -1;
    if (s->pid > 0) {
        int status;
        for (int i = 0; i < 50 && waitpid(s->pid, &status, WNOHANG) == 0; i++)
            usleep(100000);
        if (waitpid(s->pid, &status, WNOHANG) == 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
        }
        s->pid = 0;
    }
    if (s->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", s->dir);
        s->dir[0] = 0;
    }
}

/* ---- proxy ---- */

typedef struct relay {
    s3_proxy *p;
    int client, upstream;
} relay;

static bool write_all(int fd, const char *buf, size_t n)
{
    while (n) {
        ssize_t k = send(fd, buf, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        buf += k;
        n -= (size_t)k;
    }
    return true;
}

static void *relay_run(void *arg)
{
    relay *r = arg;
    s3_proxy *p = r->p;
    char buf[65536];
    for (;;) {
        struct pollfd fds[2] = {{r->client, POLLIN, 0}, {r->upstream, POLLIN, 0}};
        if (poll(fds, 2, 200) < 0 && errno != EINTR)
            break;
        if (atomic_load(&p->down))
            break;
        if (fds[0].revents) {
            ssize_t n = recv(r->client, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            long long budget = atomic_load(&p->budget);
            if (budget >= 0) {
                long long left = atomic_fetch_sub(&p->budget, n);
                if (left < n) {
                    /* the budget runs out inside this chunk: relay what is left and cut */
                    if (left > 0)
                        write_all(r->upstream, buf, (size_t)left);
                    atomic_store(&p->budget, 0);
                    atomic_store(&p->down, true);
                    break;
                }
            }
            atomic_fetch_add(&p->forwarded, n);
            if (!write_all(r->upstream, buf, (size_t)n))
                break;
        }
        if (fds[1].revents) {
            ssize_t n = recv(r->upstream, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            if (!write_all(r->client, buf, (size_t)n))
                break;
        }
    }
    close(r->client);
    close(r->upstream);
    free(r);
    return NULL;
}

static void answer_503(int c)
{
    char buf[8192];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        ssize_t n = recv(c, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    static const char body[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
                               "<Message>Please reduce your request rate.</Message></Error>";
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     sizeof body - 1);
    write_all(c, head, (size_t)n);
    write_all(c, body, sizeof body - 1);
    shutdown(c, SHUT_WR);
    /* drain what the client still sends so it reads the answer, not a reset */
    struct pollfd pf = {c, POLLIN, 0};
    while (poll(&pf, 1, 500) > 0 && recv(c, buf, sizeof buf, 0) > 0)
        ;
}

static void *accept_run(void *arg)
{
    s3_proxy *p = arg;
    for (;;) {
        int c = accept(p->listen_fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        atomic_fetch_add(&p->connections, 1);
        if (atomic_load(&p->down)) {
            close(c);
            continue;
        }
        int refuse = atomic_load(&p->refuse);
        if (refuse > 0 && atomic_compare_exchange_strong(&p->refuse, &refuse, refuse - 1)) {
            close(c);
            continue;
        }
        int inject = atomic_load(&p->inject_503);
        if (inject > 0 && atomic_compare_exchange_strong(&p->inject_503, &inject, inject - 1)) {
            answer_503(c);
            close(c);
            continue;
        }
        int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p->upstream_port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (u < 0 || connect(u, (struct sockaddr *)&a, sizeof a) != 0) {
            if (u >= 0)
                close(u);
            close(c);
            continue;
        }
        relay *r = malloc(sizeof *r);
        *r = (relay){p, c, u};
        pthread_t t;
        if (pthread_create(&t, NULL, relay_run, r) != 0) {
            close(c);
            close(u);
            free(r);
            continue;
        }
        pthread_detach(t);
    }
}

int s3_proxy_start(s3_proxy *p, int upstream_port)
{
    memset(p, 0, sizeof *p);
    p->upstream_port = upstream_port;
    atomic_store(&p->budget, -1);
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, sizeof a) || listen(p->listen_fd, 64) ||
        getsockname(p->listen_fd, (struct sockaddr *)&a, &al)) {
        perror("proxy");
        return -1;
    }
    p->port = ntohs(a.sin_port);
    pthread_t t;
    if (pthread_create(&t, NULL, accept_run, p) != 0)
        return -1;
    pthread_detach(t);
    return 0;
}

void s3_proxy_heal(s3_proxy *p)
{
    atomic_store(&p->budget, -1);
    atomic_store(&p->down, false);
    atomic_store(&p->refuse, 0);
    atomic_store(&p->inject_503, 0);
}
