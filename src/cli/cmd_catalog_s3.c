/* teleop catalog s3://BUCKET/PREFIX — the bucket catalog many stations
 * write (docs/upload.md, "Bucket catalog"): listed with the local
 * catalog's filters and table; --json prints the stored entries;
 * --compact writes a snapshot. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "teleop/bucket_catalog.h"
#include "teleop/catalog.h"
#include "teleop/s3.h"


static void help(void)
{
    printf("usage: teleop catalog s3://BUCKET[/PREFIX] [--endpoint URL] [--region R] [--ca-bundle FILE]\n"
           "                      [--sort KEY] [--desc] [--search TEXT] [--outcome X] [--verdict X]\n"
           "                      [--operator NAME] [--station NAME] [--tag X] [--qa-flag X] [--min-rating N]\n"
           "                      [--include-deleted] [--json] [--stats] [--compact [--station NAME]]\n\n"
           "Lists the episodes of the bucket catalog under PREFIX/_catalog/ (the newest snapshot merged\n"
           "with the entry objects it does not hold), with the filters and sort keys of the local\n"
           "catalog. Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials (mode\n"
           "0600); endpoint: --endpoint, else AWS_ENDPOINT_URL, else AWS.\n\n"
           "  --json       the stored entry objects, one per line (station, key, sha256, etag, ...)\n"
           "  --station X  only entries written by station X\n"
           "  --stats      one line on stderr: entries, from the snapshot, read, skipped\n"
           "  --compact    write a snapshot of the catalog (as --station, default the host name);\n"
           "               deletes nothing\n");
}

int cmd_catalog_s3(int argc, char **argv)
{
    enum { OPT_ENDPOINT = CATALOG_OPT_NEXT, OPT_REGION, OPT_CA, OPT_STATION, OPT_COMPACT };
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        CATALOG_QUERY_LONG_OPTIONS,
        {"endpoint", required_argument, NULL, OPT_ENDPOINT},
        {"region", required_argument, NULL, OPT_REGION},
        {"ca-bundle", required_argument, NULL, OPT_CA},
        {"station", required_argument, NULL, OPT_STATION},
        {"compact", no_argument, NULL, OPT_COMPACT},
        {NULL, 0, NULL, 0},
    };
    tp_catalog_query q = {.sort = TP_SORT_DATE};
    bool json = false, stats = false, compact = false;
    const char *endpoint = NULL, *region = NULL, *ca = NULL, *station = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': help(); return 0;
        case CATALOG_OPT_JSON: json = true; break;
        case CATALOG_OPT_STATS: stats = true; break;
        case OPT_ENDPOINT: endpoint = optarg; break;
        case OPT_REGION: region = optarg; break;
        case OPT_CA: ca = optarg; break;
        case OPT_STATION:
            if (!tp_bcat_station_valid(optarg))
                return cli_usage_error("catalog", "--station: '%s' is not a station name (letters, digits, '.', "
                                                  "'_', '-')", optarg);
            station = optarg;
            break;
        case OPT_COMPACT: compact = true; break;
        case ':': return cli_usage_error("catalog", "option '%s' needs a value", argv[optind - 1]);
        default: {
            int r = catalog_query_option(c, optarg, &q);
            if (r == 2)
                return 2;
            if (r == 0)
                return cli_usage_error("catalog", "unknown option '%s'", argv[optind - 1]);
        }
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("catalog", "one s3://BUCKET/PREFIX, nothing else");
    char bucket[256], prefix[1024], err[1024];
    if (tp_s3_parse_url(argv[optind], bucket, sizeof bucket, prefix, sizeof prefix, err, sizeof err))
        return cli_usage_error("catalog", "%s", err);
    if (!endpoint)
        endpoint = getenv("AWS_ENDPOINT_URL_S3") ? getenv("AWS_ENDPOINT_URL_S3") : getenv("AWS_ENDPOINT_URL");
    tp_s3_config sc = {.endpoint = endpoint, .region = region, .ca_bundle = ca};
    tp_s3_error e = {0};
    tp_s3 *s3 = tp_s3_open(&sc, &e);
    if (!s3) {
        fprintf(stderr, "teleop catalog: %s\n", e.message);
        return 1;
    }
    int status = 0;
    if (compact) {
        char me[TP_BCAT_STATION_MAX + 1], key[1200];
        int n = 0;
        if (station)
            snprintf(me, sizeof me, "%s", station);
        else
            tp_bcat_default_station(me, sizeof me);
        if (tp_bcat_compact(s3, bucket, prefix, me, key, sizeof key, &n, &e)) {
            fprintf(stderr, "teleop catalog: %s\n", e.message);
            status = 1;
        } else {
            printf("snapshot: s3://%s/%s (%d entries)\n", bucket, key, n);
        }
        tp_s3_close(s3);
        return status;
    }
    tp_bcat_listing l;
    if (tp_bcat_read(s3, bucket, prefix, &l, &e)) {
        fprintf(stderr, "teleop catalog: %s\n", e.message);
        tp_s3_close(s3);
        return 1;
    }
    if (stats)
        fprintf(stderr, "catalog: %d entries, %d from snapshot %s, %d read, %d skipped\n", l.n, l.from_snapshot,
                l.snapshot_key[0] ? l.snapshot_key : "(none)", l.fetched, l.skipped);
    tp_catalog_filter(&l.list, &q);
    if (station) {
        int k = 0;
        for (int i = 0; i < l.list.n; i++) {
            const tp_bcat_item *it = tp_bcat_find(&l, l.list.entries[i].path);
            if (it && !strcmp(it->station, station))
                l.list.entries[k++] = l.list.entries[i];
            else
                tp_catalog_entry_clear(&l.list.entries[i]);
        }
        l.list.n = k;
    }
    if (json) {
        for (int i = 0; i < l.list.n; i++) {
            const tp_bcat_item *it = tp_bcat_find(&l, l.list.entries[i].path);
            if (it)
                printf("%s\n", it->json);
        }
    } else {
        catalog_print_table(stdout, &l.list);
    }
    tp_bcat_listing_free(&l);
    tp_s3_close(s3);
    return status;
}
