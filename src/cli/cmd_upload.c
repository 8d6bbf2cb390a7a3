/* teleop upload — episodes or a dataset folder to S3-compatible object
 * storage, verified and resumable (include/teleop/s3.h, docs/upload.md). */
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "teleop/bucket_catalog.h"
#include "teleop/export_check.h"
#include "teleop/s3.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: teleop upload (EPISODE...|DATASET_DIR) s3://BUCKET/PREFIX [options]\n\n"
            "Uploads finished episodes as PREFIX/NAME.db (each validated as 'teleop check' does; a live or\n"
            "invalid episode is refused), or a dataset folder file by file under PREFIX/ with meta/ last\n"
            "(validated as 'teleop export --check' does), so a reader never sees a dataset with missing\n"
            "files. Small files go in one PUT, larger ones as a multipart upload (parts in parallel)\n"
            "that resumes from FILE.upload-state after an interruption; nothing shows under the final\n"
            "key until it is complete. Every object is verified afterwards (size and ETag/MD5).\n"
            "Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN], else the profile\n"
            "AWS_PROFILE of AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials (mode 0600 only).\n"
            "  --endpoint URL      S3 endpoint (default AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS\n"
            "                      for the region): http://127.0.0.1:9000 (MinIO),\n"
            "                      https://ACCOUNT.r2.cloudflarestorage.com (R2)\n"
            "  --region R          signing region (default AWS_REGION, the profile's, else us-east-1;\n"
            "                      R2: auto)\n"
            "  --addressing MODE   auto (default: virtual-host on AWS, path-style elsewhere), path, virtual\n"
            "  --part-size MiB     multipart part size, at least 5 (default 8)\n"
            "  --parallel N        parts in flight (default 4); memory: N x part size\n"
            "  --ca-bundle FILE    PEM of a private CA to trust (default AWS_CA_BUNDLE); TLS is always\n"
            "                      verified\n"
            "  --abort-stale HOURS first abort multipart uploads under PREFIX older than HOURS (on servers\n"
            "                      that list them) and restart interrupted uploads older than that\n"
            "  --station NAME      the station named in the episodes' bucket catalog entries (default: the\n"
            "                      host name); each verified episode gets its entry under\n"
            "                      PREFIX/_catalog/entries/STATION/ ('teleop catalog s3://BUCKET/PREFIX')\n"
            "  --no-catalog        upload episodes without writing their catalog entries\n"
            "  --quiet             no progress line\n");
}

typedef struct progress_state {
    bool tty, quiet, done_shown;
    char key[512];
    double t0, last_print;
    int64_t bytes0;
} progress_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void on_progress(void *user, const tp_s3_progress *p)
{
    progress_state *ps = user;
    if (ps->quiet)
        return;
    double t = now_s();
    if (strcmp(ps->key, p->key)) {
        snprintf(ps->key, sizeof ps->key, "%s", p->key);
        ps->t0 = t;
        ps->bytes0 = p->bytes_done;
        ps->last_print = 0;
        ps->done_shown = false;
    }
    bool done = p->bytes_done >= p->bytes_total;
    if (ps->done_shown || (!ps->tty && !done && t - ps->last_print < 10.0))
        return;
    ps->done_shown = done;
    ps->last_print = t;
    double rate = t > ps->t0 + 0.2 ? (double)(p->bytes_done - ps->bytes0) / (t - ps->t0) : 0;
    char files[48] = "";
    if (p->files_total > 1)
        snprintf(files, sizeof files, "  file %d/%d", p->files_done + 1, p->files_total);
    fprintf(stderr, "%supload: %s  %.1f/%.1f MiB  %3.0f%%  %.1f MiB/s%s%s", ps->tty ? "\r\033[K" : "", p->key,
            (double)p->bytes_done / 1048576.0, (double)p->bytes_total / 1048576.0,
            p->bytes_total ? 100.0 * (double)p->bytes_done / (double)p->bytes_total : 100.0, rate / 1048576.0,
            files, ps->tty ? "" : "\n");
    fflush(stderr);
}

static void end_progress_line(progress_state *ps)
{
    if (ps->tty && !ps->quiet && ps->key[0]) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    ps->key[0] = 0;
}

static void print_result(const char *bucket, const char *key, const tp_s3_upload_result *r, bool dataset)
{
    printf("s3://%s/%s: %.1f MiB%s, %s (ETag %s", bucket, key, (double)r->bytes / 1048576.0,
           dataset ? " in all" : "", r->unchanged ? "already uploaded, identical" : "verified", r->object.etag);
    if (r->multipart)
        printf(", %d parts", r->parts);
    if (r->parts_resumed)
        printf(", %d resumed", r->parts_resumed);
    if (r->retries)
        printf(", %d retries", r->retries);
    printf(")\n");
}

/* First line of what fn reported, for a one-line refusal. */
static int dataset_valid(const char *dir, char *why, size_t whylen)
{
    char *report = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&report, &len);
    if (!f) {
        snprintf(why, whylen, "out of memory");
        return 0;
    }
    int rc = tp_export_check(dir, f);
    fclose(f);
    snprintf(why, whylen, "%.*s", report ? (int)strcspn(report, "\n") : 0, report ? report : "");
    free(report);
    return rc == 0;
}

static bool holds_episodes(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        found = n > 3 && !strcmp(de->d_name + n - 3, ".db");
    }
    closedir(d);
    return found;
}

int cmd_upload(int argc, char **argv)
{
    static const struct option opts[] = {{"endpoint", required_argument, NULL, 'e'},
                                         {"region", required_argument, NULL, 'r'},
                                         {"addressing", required_argument, NULL, 'a'},
                                         {"part-size", required_argument, NULL, 'p'},
                                         {"parallel", required_argument, NULL, 'j'},
                                         {"ca-bundle", required_argument, NULL, 'c'},
                                         {"abort-stale", required_argument, NULL, 's'},
                                         {"station", required_argument, NULL, 'S'},
                                         {"no-catalog", no_argument, NULL, 'N'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    tp_s3_config cfg = {0};
    tp_s3_upload_options uo = {0};
    double abort_stale_h = 0;
    progress_state ps = {.tty = isatty(STDERR_FILENO) == 1};
    char station[TP_BCAT_STATION_MAX + 1] = "";
    bool catalog = true;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hq", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'e': cfg.endpoint = optarg; break;
        case 'r': cfg.region = optarg; break;
        case 'a':
            if (!strcmp(optarg, "auto"))
                cfg.addressing = TP_S3_ADDRESSING_AUTO;
            else if (!strcmp(optarg, "path"))
                cfg.addressing = TP_S3_ADDRESSING_PATH;
            else if (!strcmp(optarg, "virtual"))
                cfg.addressing = TP_S3_ADDRESSING_VIRTUAL;
            else
                return cli_usage_error("upload", "--addressing '%s': use auto, path or virtual", optarg);
            break;
        case 'p': {
            long mib = strtol(optarg, &end, 10);
            if (!*optarg || *end || mib < 5 || mib > 5120)
                return cli_usage_error("upload", "--part-size '%s': a whole number of MiB from 5 to 5120", optarg);
            uo.part_size = (int64_t)mib << 20;
            break;
        }
        case 'j': {
            long n = strtol(optarg, &end, 10);
            if (!*optarg || *end || n < 1 || n > 64)
                return cli_usage_error("upload", "--parallel '%s': a number from 1 to 64", optarg);
            uo.parallel = (int)n;
            break;
        }
        case 'c': cfg.ca_bundle = optarg; break;
        case 's':
            abort_stale_h = strtod(optarg, &end);
            if (!*optarg || *end || !(abort_stale_h > 0) || !isfinite(abort_stale_h))
                return cli_usage_error("upload", "--abort-stale '%s': a positive number of hours", optarg);
            break;
        case 'S':
            if (!tp_bcat_station_valid(optarg))
                return cli_usage_error("upload", "--station '%s': letters, digits, '.', '_', '-' (1 to %d bytes)",
                                       optarg, TP_BCAT_STATION_MAX);
            snprintf(station, sizeof station, "%s", optarg);
            break;
        case 'N': catalog = false; break;
        case 'q': ps.quiet = true; break;
        case 'h': usage(stdout); return 0;
        case ':': return cli_usage_error("upload", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("upload", "unknown option '%s'", argv[optind - 1]);
        }
    }
    int nargs = argc - optind;
    if (nargs < 2)
        return cli_usage_error("upload", "give the episodes (or one dataset folder) and an s3://bucket/prefix");
    const char *url = argv[argc - 1];
    char bucket[256], prefix[1024], err[512];
    if (tp_s3_parse_url(url, bucket, sizeof bucket, prefix, sizeof prefix, err, sizeof err))
        return cli_usage_error("upload", "%s", err);
    char **sources = argv + optind;
    int nsources = nargs - 1;
    bool dataset = false;
    for (int i = 0; i < nsources; i++) {
        struct stat sb;
        if (stat(sources[i], &sb) != 0) {
            fprintf(stderr, "teleop upload: %s: no such file or folder\n", sources[i]);
            return 1;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (nsources > 1)
                return cli_usage_error("upload", "%s is a folder: give one dataset folder alone, or episodes",
                                       sources[i]);
            dataset = true;
        }
    }
    if (!cfg.endpoint) {
        cfg.endpoint = getenv("AWS_ENDPOINT_URL_S3");
        if (!cfg.endpoint || !cfg.endpoint[0])
            cfg.endpoint = getenv("AWS_ENDPOINT_URL");
    }
    if (dataset) {
        char why[512];
        if (!dataset_valid(sources[0], why, sizeof why)) {
            fprintf(stderr, "teleop upload: %s: refused, not a valid dataset: %s%s\n", sources[0],
                    why[0] ? why : "teleop export --check failed",
                    holds_episodes(sources[0]) ? " (to upload episodes, name them: DIR/*.db)" : "");
            return 1;
        }
    }
    tp_s3_error e = {0};
    tp_s3 *s3 = tp_s3_open(&cfg, &e);
    if (!s3) {
        fprintf(stderr, "teleop upload: %s\n", e.message);
        return 1;
    }
    if (abort_stale_h > 0) {
        int aborted = 0;
        uo.restart_older_than_s = abort_stale_h * 3600.0;
        if (tp_s3_abort_stale(s3, bucket, prefix, abort_stale_h * 3600.0, &aborted, &e))
            fprintf(stderr, "teleop upload: stale uploads not aborted: %s\n", e.message);
        else if (!ps.quiet)
            fprintf(stderr, "teleop upload: aborted %d stale multipart upload%s under s3://%s/%s\n", aborted,
                    aborted == 1 ? "" : "s", bucket, prefix);
    }
    uo.progress = on_progress;
    uo.progress_user = &ps;
    int failed = 0;
    if (dataset) {
        tp_s3_upload_result r;
        if (tp_s3_upload_dataset(s3, sources[0], bucket, prefix, &uo, &r, &e)) {
            end_progress_line(&ps);
            fprintf(stderr, "teleop upload: %s\n", e.message);
            failed = 1;
        } else {
            end_progress_line(&ps);
            printf("s3://%s/%s/: dataset %s, %.1f MiB, every file verified, meta/ last\n", bucket, prefix,
                   sources[0], (double)r.bytes / 1048576.0);
        }
    } else {
        if (catalog && !station[0])
            tp_bcat_default_station(station, sizeof station);
        for (int i = 0; i < nsources; i++) {
            tp_s3_upload_result r;
            char key[2048], sha_before[65] = "", sha_after[65] = "", why[512] = "";
            int64_t size = 0;
            /* The entry names the bytes uploaded: hashed before and after, so
             * a file changed meanwhile (a review write) gets no entry. */
            if (catalog && tp_bcat_sha256_file(sources[i], sha_before, &size, why, sizeof why)) {
                fprintf(stderr, "teleop upload: %s\n", why);
                failed = 1;
                continue;
            }
            if (tp_s3_upload_episode(s3, sources[i], bucket, prefix, &uo, &r, key, sizeof key, &e)) {
                end_progress_line(&ps);
                fprintf(stderr, "teleop upload: %s\n", e.message);
                failed = 1;
                continue;
            }
            end_progress_line(&ps);
            print_result(bucket, key, &r, false);
            if (!catalog)
                continue;
            if (tp_bcat_sha256_file(sources[i], sha_after, &size, why, sizeof why) ||
                strcmp(sha_before, sha_after)) {
                fprintf(stderr, "teleop upload: %s: changed while it was uploaded; no catalog entry written (upload "
                                "it again)\n", sources[i]);
                failed = 1;
            } else if (tp_bcat_put_episode(s3, bucket, prefix, station, sources[i], key, sha_after, r.object.etag,
                                           &e)) {
                fprintf(stderr, "teleop upload: %s: uploaded, but its catalog entry was not written: %s\n",
                        sources[i], e.message);
                failed = 1;
            }
        }
    }
    tp_s3_close(s3);
    return failed;
}
