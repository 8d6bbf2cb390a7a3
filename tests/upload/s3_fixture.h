/* Upload tests' fixtures: a local s3rver on loopback (started through node),
 * and a TCP proxy in front of it that the test controls: it cuts the
 * connection after a byte budget, refuses connections, or answers 503
 * SlowDown, the faults a station's network and a busy store produce. */
#ifndef TELEOP_TEST_S3_FIXTURE_H
#define TELEOP_TEST_S3_FIXTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct s3_server {
    pid_t pid;
    int stdin_fd; /* closing it stops the server */
    int port;
    char dir[256];
} s3_server;

/* node server.mjs DIR bucket... ; 0 or -1 (message on stderr). */
int s3_server_start(s3_server *s, const char *node, const char *script, const char *const *buckets);
void s3_server_stop(s3_server *s);

typedef struct s3_proxy {
    int listen_fd;
    int port;
    int upstream_port;
    atomic_llong budget;     /* client->server bytes still allowed; < 0: unlimited */
    atomic_bool down;        /* set when the budget ran out: connections are accepted and closed */
    atomic_int refuse;       /* the next N connections are accepted and closed */
    atomic_int inject_503;   /* the next N connections get "503 SlowDown" to their first request */
    atomic_llong forwarded;  /* client->server bytes relayed */
    atomic_int connections;
} s3_proxy;

int s3_proxy_start(s3_proxy *p, int upstream_port);
void s3_proxy_heal(s3_proxy *p);

#endif
