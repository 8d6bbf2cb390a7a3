/* Test driver for the bucket catalog (tests/fleet): writes catalog entries
 * as a station would, compacts, reads the merged catalog, gets objects.
 *   fleet-tool entries s3://B/P STATION N EPISODE [COMPACT_EVERY]
 *       N entries for keys P/STATION/ep-NNN.db (EPISODE gives their
 *       fields and SHA-256), a compaction every COMPACT_EVERY rounds
 *   fleet-tool read s3://B/P        "entries N snapshot S fetched F skipped K"
 *   fleet-tool compact s3://B/P STATION
 *   fleet-tool conditional s3://B/P  "conditional 0|1"
 *   fleet-tool get s3://B KEY OUT
 * Endpoint from AWS_ENDPOINT_URL, credentials from the environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/bucket_catalog.h"
#include "teleop/s3.h"

static int die(const tp_s3_error *e)
{
    fprintf(stderr, "fleet-tool: %s\n", e->message);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fleet-tool entries|read|compact|conditional|get s3://B/P ...\n");
        return 2;
    }
    char bucket[256], prefix[1024], err[1024];
    if (tp_s3_parse_url(argv[2], bucket, sizeof bucket, prefix, sizeof prefix, err, sizeof err)) {
        fprintf(stderr, "fleet-tool: %s\n", err);
        return 2;
    }
    tp_s3_config sc = {.endpoint = getenv("AWS_ENDPOINT_URL")};
    tp_s3_error e = {0};
    tp_s3 *s3 = tp_s3_open(&sc, &e);
    if (!s3)
        return die(&e);
    int rc = 0;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "entries") && argc >= 6) {
        const char *station = argv[3], *episode = argv[5];
        int n = atoi(argv[4]), every = argc > 6 ? atoi(argv[6]) : 0;
        char sha[65];
        if (tp_bcat_sha256_file(episode, sha, NULL, err, sizeof err)) {
            fprintf(stderr, "fleet-tool: %s\n", err);
            return 1;
        }
        for (int i = 0; i < n && !rc; i++) {
            char key[1200];
            snprintf(key, sizeof key, "%s%s%s/ep-%03d.db", prefix, *prefix ? "/" : "", station, i);
            if (tp_bcat_put_episode(s3, bucket, prefix, station, episode, key, sha, "0123", &e))
                rc = die(&e);
            else if (every > 0 && (i + 1) % every == 0 && tp_bcat_compact(s3, bucket, prefix, station, NULL, 0, NULL, &e))
                rc = die(&e);
        }
    } else if (!strcmp(cmd, "read")) {
        tp_bcat_listing l;
        if (tp_bcat_read(s3, bucket, prefix, &l, &e))
            rc = die(&e);
        else {
            printf("entries %d snapshot %d fetched %d skipped %d\n", l.n, l.from_snapshot, l.fetched, l.skipped);
            tp_bcat_listing_free(&l);
        }
    } else if (!strcmp(cmd, "compact") && argc >= 4) {
        char key[1200];
        int n;
        if (tp_bcat_compact(s3, bucket, prefix, argv[3], key, sizeof key, &n, &e))
            rc = die(&e);
        else
            printf("snapshot %s %d\n", key, n);
    } else if (!strcmp(cmd, "conditional")) {
        int c = tp_bcat_conditional_writes(s3, bucket, prefix, "probe", &e);
        if (c < 0)
            rc = die(&e);
        else
            printf("conditional %d\n", c);
    } else if (!strcmp(cmd, "get") && argc >= 5) {
        int g = tp_s3_get_file(s3, bucket, argv[3], argv[4], NULL, &e);
        if (g)
            rc = g == 1 ? (fprintf(stderr, "fleet-tool: %s: no such key\n", argv[3]), 1) : die(&e);
    } else {
        fprintf(stderr, "fleet-tool: bad arguments\n");
        rc = 2;
    }
    tp_s3_close(s3);
    return rc;
}
