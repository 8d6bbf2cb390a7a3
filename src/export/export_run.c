/* teleop — `teleop export --format lerobot`: selection, order, increments,
 * crash-safe publication and progress (docs/export.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "export_output.h"
#include "export_select.h"
#include "lerobot.h"
#include "teleop/config.h"
#include "teleop/export_run.h"

static volatile int g_interrupt;

static void on_signal(int sig)
{
    (void)sig;
    g_interrupt = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: teleop export EPISODE...|DIR... --format lerobot -o DATASET [options]\n"
            "  --lerobot-version 3.0|2.1   dataset layout (default 3.0)\n"
            "  --mapping FILE              feature keys, streams, dimensions, robot_type (docs/export.md)\n"
            "  --video-codec copy|av1      remux the recorded H.264 (default) or transcode to AV1 (libsvtav1)\n"
            "  --fps N                     dataset rate (default: the reference camera's nominal rate)\n"
            "  --reference-camera NAME     camera whose first frame anchors the grid (default: the first)\n"
            "  --tolerance FRAMES          allowed frame offset from the grid, in frame periods (default 0.5)\n"
            "  --allow-offgrid             export off-grid episodes flagged instead of refusing them\n"
            "  --outcome LIST              only these outcomes (comma-separated: completed,stopped,...)\n"
            "  --task TEXT                 only episodes whose task contains TEXT\n"
            "  --operator NAME             only this operator's episodes\n"
            "  --since DATE, --until DATE  only episodes started in [since, until] (YYYY-MM-DD[THH:MM:SS], UTC)\n"
            "  --min-duration S, --max-duration S   only episodes this long (exported window)\n"
            "  --tag TAG                   only episodes with this tag (repeatable: all of them)\n"
            TP_EXPORT_SELECT_USAGE
            "  --data-file-mb N, --video-file-mb N  v3.0 file size limits (default 100, 200)\n"
            "  --license ID                dataset card license for the hub (default apache-2.0, or the card's)\n"
            "  --quiet                     no progress, no per-episode lines\n");
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- arguments ---- */

typedef struct run_opts {
    const char *out, *mapping, *outcome, *task, *operator_name;
    const char *license; /* dataset card; NULL: kept or apache-2.0 */
    int version;
    bool av1, quiet, have_since, have_until;
    int64_t since_ns, until_ns;
    double min_dur, max_dur;
    const char *tags[16];
    int ntags;
    tp_export_selection review; /* verdict, rating, QA, deletion marks */
    int data_mb, video_mb;
    tp_export_options ex;
    tp_lr_mapping map;
} run_opts;

static int parse_index_list(const char *s, int *idx, int *n, int max)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0)
            return -1;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a)
                return -1;
            p = end;
        }
        for (long i = a; i <= b; i++) {
            if (*n >= max)
                return -1;
            idx[(*n)++] = (int)i;
        }
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
        while (*p == ' ')
            p++;
    }
    return *n ? 0 : -1;
}

/* The mapping file: an INI like the station config (docs/export.md). */
static int load_mapping(run_opts *o, char *err, size_t errlen)
{
    tp_lr_mapping *m = &o->map;
    snprintf(m->robot_type, sizeof m->robot_type, "unitree_g1_dex3");
    snprintf(m->state_key, sizeof m->state_key, "observation.state");
    snprintf(m->action_key, sizeof m->action_key, "action");
    snprintf(m->velocity_key, sizeof m->velocity_key, "observation.velocity");
    if (!o->mapping)
        return 0;
    tp_config *cfg = tp_config_load(o->mapping, err, errlen);
    if (!cfg)
        return -1;
    const char *v;
    static char streams[3][64];
    int rc = -1;
    struct {
        const char *key;
        char *dst;
        size_t n;
    } keys[] = {
        {"dataset.robot_type", m->robot_type, sizeof m->robot_type},
        {"features.state", m->state_key, sizeof m->state_key},
        {"features.action", m->action_key, sizeof m->action_key},
        {"features.velocity", m->velocity_key, sizeof m->velocity_key},
        {"streams.state", streams[0], sizeof streams[0]},
        {"streams.action", streams[1], sizeof streams[1]},
        {"streams.velocity", streams[2], sizeof streams[2]},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (tp_config_get_string(cfg, keys[i].key, NULL, &v, err, errlen))
            goto out;
        if (v)
            snprintf(keys[i].dst, keys[i].n, "%s", v);
        else if (i >= 4)
            keys[i].dst[0] = 0;
    }
    o->ex.state_stream = streams[0][0] ? streams[0] : NULL;
    o->ex.action_stream = streams[1][0] ? streams[1] : NULL;
    if (tp_config_has(cfg, "streams.velocity"))
        o->ex.velocity_stream = streams[2];
    const char *dims[2] = {"dims.state", "dims.action"};
    for (int i = 0; i < 2; i++) {
        if (tp_config_get_string(cfg, dims[i], NULL, &v, err, errlen))
            goto out;
        if (v && parse_index_list(v, i ? o->ex.action_index : o->ex.state_index,
                                  i ? &o->ex.n_action_index : &o->ex.n_state_index, TP_EXPORT_MAX_DIMS)) {
            fail(err, errlen, "%s: [dims] %s: '%s' is not a list of indices and ranges (0-6,14-20)", o->mapping,
                 dims[i] + 5, v);
            goto out;
        }
    }
    const char *cams[TP_EXPORT_MAX_CAMERAS];
    int nc = tp_config_subsections(cfg, "camera", cams, TP_EXPORT_MAX_CAMERAS);
    if (nc > TP_EXPORT_MAX_CAMERAS) {
        fail(err, errlen, "%s: more than %d [camera.NAME] sections", o->mapping, TP_EXPORT_MAX_CAMERAS);
        goto out;
    }
    for (int i = 0; i < nc; i++) {
        char key[200];
        snprintf(o->ex.cameras[i], sizeof o->ex.cameras[i], "%s", cams[i]);
        snprintf(key, sizeof key, "camera.%s.key", cams[i]);
        if (tp_config_get_string(cfg, key, NULL, &v, err, errlen))
            goto out;
        snprintf(m->camera_key[i], sizeof m->camera_key[i], v ? "%s" : "observation.images.%s", v ? v : cams[i]);
    }
    o->ex.n_cameras = nc;
    rc = tp_config_check_unused(cfg, err, errlen);
out:
    tp_config_free(cfg);
    return rc;
}

/* ---- inputs ---- */

typedef struct input {
    char path[4096];
    tp_export_episode meta; /* meta_only */
    char sha256[65];
    int64_t size;
} input;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_input(input **in, int *n, int *cap, const char *path)
{
    if (*n == *cap) {
        int c = *cap ? *cap * 2 : 64;
        input *p = realloc(*in, sizeof *p * (size_t)c);
        if (!p)
            return -1;
        *in = p;
        *cap = c;
    }
    memset(&(*in)[*n], 0, sizeof **in);
    snprintf((*in)[*n].path, sizeof (*in)[*n].path, "%s", path);
    (*n)++;
    return 0;
}

static int collect(char **args, int nargs, input **in, int *n, int *cap, char *err, size_t errlen)
{
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (stat(args[i], &st))
            return fail(err, errlen, "%s: %s", args[i], strerror(errno));
        if (!S_ISDIR(st.st_mode)) {
            if (add_input(in, n, cap, args[i]))
                return fail(err, errlen, "out of memory");
            continue;
        }
        DIR *d = opendir(args[i]);
        if (!d)
            return fail(err, errlen, "%s: %s", args[i], strerror(errno));
        char **names = NULL;
        int nn = 0, cn = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (l < 4 || strcmp(de->d_name + l - 3, ".db"))
                continue;
            if (nn == cn) {
                cn = cn ? cn * 2 : 64;
                char **p = realloc(names, sizeof *p * (size_t)cn);
                if (!p)
                    break;
                names = p;
            }
            names[nn++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(names, (size_t)nn, sizeof *names, cmp_name);
        for (int k = 0; k < nn; k++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", args[i], names[k]);
            if (add_input(in, n, cap, p))
                return fail(err, errlen, "out of memory");
            free(names[k]);
        }
        free(names);
    }
    return 0;
}

static int sha256_file(const char *path, char out[65], int64_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static __thread unsigned char buf[1 << 16];
    ssize_t r;
    *size = 0;
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        *size += r;
    }
    close(fd);
    unsigned char md[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    if (r < 0)
        return fail(err, errlen, "%s: cannot read", path);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static bool selected(const run_opts *o, const tp_export_episode *m)
{
    tp_export_selection sel = o->review;
    sel.outcome = o->outcome;
    sel.task = o->task;
    sel.operator_name = o->operator_name;
    sel.have_since = o->have_since;
    sel.have_until = o->have_until;
    sel.since_ns = o->since_ns;
    sel.until_ns = o->until_ns;
    sel.min_duration = o->min_dur;
    sel.max_duration = o->max_dur;
    sel.n_tags = o->ntags;
    for (int t = 0; t < o->ntags && t < 16; t++)
        sel.tags[t] = o->tags[t];
    return tp_export_selected(&sel, m);
}

static int cmp_input(const void *a, const void *b)
{
    const input *x = a, *y = b;
    if (x->meta.start_unix_ns != y->meta.start_unix_ns)
        return x->meta.start_unix_ns < y->meta.start_unix_ns ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* ---- folders ---- */

static const char *g_link_src, *g_link_dst;
static int g_link_rc;

static int link_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    const char *rel = p + strlen(g_link_src);
    if (*rel == '/')
        rel++;
    if (!*rel)
        return 0;
    if (!strncmp(rel, "meta", 4) && (rel[4] == 0 || rel[4] == '/'))
        return 0;
    char dst[8300];
    snprintf(dst, sizeof dst, "%s/%s", g_link_dst, rel);
    if (flag == FTW_D) {
        if (mkdir(dst, 0755) && errno != EEXIST)
            g_link_rc = -1;
    } else if (flag == FTW_F) {
        if (strstr(rel, ".tmp-"))
            return 0;
        if (link(p, dst))
            g_link_rc = -1;
    }
    return 0;
}

/* The old dataset's data and videos, hard-linked (never modified: every
 * file is written under a temporary name and renamed). */
static int link_old(const char *src, const char *dst, char *err, size_t errlen)
{
    g_link_src = src;
    g_link_dst = dst;
    g_link_rc = 0;
    if (nftw(src, link_entry, 16, FTW_PHYS) || g_link_rc)
        return fail(err, errlen, "%s: cannot link the existing dataset's files into %s: %s", src, dst,
                    strerror(errno));
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* ---- progress ---- */

typedef struct progress {
    bool tty, quiet;
    struct timespec t0;
    int64_t done_eps, total_eps, frames, bytes, total_bytes;
} progress;

static double elapsed(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

static void bar(const progress *p)
{
    if (p->quiet || !p->tty)
        return;
    double dt = elapsed(&p->t0), rate = dt > 0 ? (double)p->bytes / dt : 0;
    double eta = rate > 0 ? (double)(p->total_bytes - p->bytes) / rate : 0;
    int w = 30, fill = p->total_eps ? (int)(w * p->done_eps / p->total_eps) : w;
    char b[64];
    for (int i = 0; i < w; i++)
        b[i] = i < fill ? '#' : '.';
    b[w] = 0;
    fprintf(stderr, "\r\033[K[%s] %" PRId64 "/%" PRId64 " episodes, %" PRId64 " frames, %.1f MB/s, ETA %.0f s", b,
            p->done_eps, p->total_eps, p->frames, rate / 1e6, eta);
    fflush(stderr);
}

static void line(const progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(const progress *p, const char *fmt, ...)
{
    if (p->quiet)
        return;
    if (p->tty)
        fprintf(stderr, "\r\033[K");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    bar(p);
}

/* ---- the run ---- */

int tp_export_main(int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    tp_export_options_default(&o.ex);
    o.version = 30;
    o.data_mb = 100;
    o.video_mb = 200;
    const char *format = NULL;
    enum {
        OPT_FORMAT = 256, OPT_VERSION, OPT_MAPPING, OPT_CODEC, OPT_FPS, OPT_REF, OPT_TOL, OPT_OFFGRID, OPT_OUTCOME,
        OPT_TASK, OPT_OPERATOR, OPT_SINCE, OPT_UNTIL, OPT_MIN, OPT_MAX, OPT_TAG, OPT_QUIET, OPT_DATA_MB, OPT_VIDEO_MB,
        OPT_LICENSE,
    };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"lerobot-version", required_argument, NULL, OPT_VERSION},
        {"mapping", required_argument, NULL, OPT_MAPPING},
        {"video-codec", required_argument, NULL, OPT_CODEC},
        {"fps", required_argument, NULL, OPT_FPS},
        {"reference-camera", required_argument, NULL, OPT_REF},
        {"tolerance", required_argument, NULL, OPT_TOL},
        {"allow-offgrid", no_argument, NULL, OPT_OFFGRID},
        {"outcome", required_argument, NULL, OPT_OUTCOME},
        {"task", required_argument, NULL, OPT_TASK},
        {"operator", required_argument, NULL, OPT_OPERATOR},
        {"since", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"min-duration", required_argument, NULL, OPT_MIN},
        {"max-duration", required_argument, NULL, OPT_MAX},
        {"tag", required_argument, NULL, OPT_TAG},
        TP_EXPORT_SELECT_LONGOPTS,
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"data-file-mb", required_argument, NULL, OPT_DATA_MB},
        {"license", required_argument, NULL, OPT_LICENSE},
        {"video-file-mb", required_argument, NULL, OPT_VIDEO_MB},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    char *end;
#define BAD(...)                                                                                                     \
    do {                                                                                                             \
        fprintf(stderr, "teleop export: ");                                                                         \
        fprintf(stderr, __VA_ARGS__);                                                                                \
        fprintf(stderr, " (see 'teleop export --help')\n");                                                         \
        return 2;                                                                                                    \
    } while (0)
    while ((c = getopt_long(argc, argv, "o:hq", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'o': o.out = optarg; break;
        case 'q':
        case OPT_QUIET: o.quiet = true; break;
        case OPT_FORMAT: format = optarg; break;
        case OPT_VERSION:
            if (!strcmp(optarg, "3.0") || !strcmp(optarg, "v3.0"))
                o.version = 30;
            else if (!strcmp(optarg, "2.1") || !strcmp(optarg, "v2.1"))
                o.version = 21;
            else
                BAD("--lerobot-version: '%s' is not 3.0 or 2.1", optarg);
            break;
        case OPT_MAPPING: o.mapping = optarg; break;
        case OPT_CODEC:
            if (!strcmp(optarg, "av1"))
                o.av1 = true;
            else if (!strcmp(optarg, "copy") || !strcmp(optarg, "h264"))
                o.av1 = false;
            else
                BAD("--video-codec: '%s' is not copy or av1", optarg);
            break;
        case OPT_FPS:
            o.ex.fps = strtod(optarg, &end);
            if (*end || o.ex.fps < 1 || o.ex.fps > 1000 || o.ex.fps != floor(o.ex.fps))
                BAD("--fps: '%s' is not a whole number of frames per second from 1 to 1000", optarg);
            break;
        case OPT_REF: o.ex.reference_camera = optarg; break;
        case OPT_TOL:
            o.ex.tolerance_frames = strtod(optarg, &end);
            if (*end || !(o.ex.tolerance_frames > 0) || o.ex.tolerance_frames > 10)
                BAD("--tolerance: '%s' is not a number of frame periods in (0, 10]", optarg);
            break;
        case OPT_OFFGRID: o.ex.allow_offgrid = true; break;
        case OPT_OUTCOME: o.outcome = optarg; break;
        case OPT_TASK: o.task = optarg; break;
        case OPT_OPERATOR: o.operator_name = optarg; break;
        case OPT_SINCE:
        case OPT_UNTIL:
            if (tp_export_parse_date(optarg, c == OPT_UNTIL, c == OPT_SINCE ? &o.since_ns : &o.until_ns))
                BAD("--%s: '%s' is not a date YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)",
                    c == OPT_SINCE ? "since" : "until", optarg);
            *(c == OPT_SINCE ? &o.have_since : &o.have_until) = true;
            break;
        case OPT_MIN:
        case OPT_MAX: {
            double v = strtod(optarg, &end);
            if (*end || !(v >= 0) || v > 86400)
                BAD("--%s: '%s' is not a number of seconds", c == OPT_MIN ? "min-duration" : "max-duration", optarg);
            *(c == OPT_MIN ? &o.min_dur : &o.max_dur) = v;
            break;
        }
        case OPT_TAG:
            if (o.ntags == 16)
                BAD("--tag: at most 16");
            o.tags[o.ntags++] = optarg;
            break;
        case OPT_LICENSE:
            if (!tp_lr_license_valid(optarg))
                BAD("--license: '%s' is not a hub license identifier (lowercase letters, digits, '-', '.')", optarg);
            o.license = optarg;
            break;
        case OPT_DATA_MB:
        case OPT_VIDEO_MB: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000)
                BAD("--%s: '%s' is not a size in MB from 1 to 100000", c == OPT_DATA_MB ? "data-file-mb" : "video-file-mb",
                    optarg);
            *(c == OPT_DATA_MB ? &o.data_mb : &o.video_mb) = (int)v;
            break;
        }
        default: {
            char why[256];
            int r = tp_export_select_option(&o.review, c, optarg, why, sizeof why);
            if (r < 0)
                BAD("%s", why);
            if (r == 0)
                BAD("unknown option '%s'", argv[optind - 1]);
        }
        }
    }
    if (!format)
        BAD("--format is required (lerobot)");
    if (strcmp(format, "lerobot"))
        BAD("--format: '%s' is not a format this teleop writes (lerobot)", format);
    if (!o.out)
        BAD("-o DATASET is required");
    if (optind >= argc)
        BAD("no episodes given");
#undef BAD

    char err[2048] = "";
    int rc = 1;
    input *in = NULL;
    int nin = 0, cap = 0;
    tp_lr_dataset *ds = calloc(1, sizeof *ds);
    char tmp[4200] = "";
    progress pr = {.tty = isatty(2), .quiet = o.quiet};
    clock_gettime(CLOCK_MONOTONIC, &pr.t0);
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    if (!ds || load_mapping(&o, err, sizeof err) ||
        collect(argv + optind, argc - optind, &in, &nin, &cap, err, sizeof err))
        goto out;
    /* selection on the episodes' meta */
    int nsel = 0, nin_given = nin;
    for (int i = 0; i < nin; i++) {
        tp_export_options mo = o.ex;
        mo.meta_only = true;
        if (tp_export_episode_load(in[i].path, &mo, &in[i].meta, err, sizeof err))
            goto out;
        if (selected(&o, &in[i].meta)) {
            if (sha256_file(in[i].path, in[i].sha256, &in[i].size, err, sizeof err))
                goto out;
            in[nsel++] = in[i];
        } else {
            tp_export_episode_free(&in[i].meta);
        }
    }
    nin = nsel;
    if (!nsel) {
        fail(err, sizeof err, "no episode selected (of %d given)", nin_given);
        goto out;
    }
    qsort(in, (size_t)nsel, sizeof *in, cmp_input);
    for (int i = 1; i < nsel; i++)
        for (int k = 0; k < i; k++)
            if (!strcmp(in[i].meta.file_name, in[k].meta.file_name)) {
                fail(err, sizeof err, "%s and %s: two episodes of the same file name", in[k].path, in[i].path);
                goto out;
            }

    /* the dataset so far */
    ds->version = o.version;
    ds->map = o.map;
    ds->license = o.license;
    ds->video = (tp_video_settings){.av1 = o.av1, .g = 2, .crf = 30, .preset = o.version == 30 ? 12 : -1};
    ds->data_limit_bytes = (int64_t)o.data_mb * 1024 * 1024;
    ds->video_limit_bytes = (int64_t)o.video_mb * 1024 * 1024;
    char dir[4096], base[1024];
    tp_export_split_path(o.out, dir, sizeof dir, base, sizeof base);
    tp_export_remove_stale(dir, base);
    struct stat st;
    bool exists = stat(o.out, &st) == 0;
    if (exists && !S_ISDIR(st.st_mode)) {
        fail(err, sizeof err, "%s: exists and is not a folder", o.out);
        goto out;
    }
    int have = 0;
    if (exists) {
        have = tp_lr_load_sources(o.out, ds, err, sizeof err);
        if (have < 0)
            goto out;
        if (!have) {
            DIR *d = opendir(o.out);
            struct dirent *de;
            int entries = 0;
            while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                    entries++;
            if (d)
                closedir(d);
            if (entries) {
                fail(err, sizeof err, "%s: exists and is not a dataset teleop exported (no meta/teleop_sources.json)",
                     o.out);
                goto out;
            }
        }
    }
    /* what is new, unchanged or changed */
    int *pending = calloc((size_t)(nsel ? nsel : 1), sizeof *pending), n_pending = 0;
    bool changed = false;
    for (int i = 0; i < nsel && pending; i++) {
        int found = -1;
        for (int64_t k = 0; k < ds->n_old_eps; k++)
            if (!strcmp(ds->eps[k].file, in[i].meta.file_name))
                found = (int)k;
        if (found < 0)
            pending[n_pending++] = i;
        else if (strcmp(ds->eps[found].sha256, in[i].sha256)) {
            changed = true;
            snprintf(ds->eps[found].path, sizeof ds->eps[found].path, "%s", in[i].path);
            snprintf(ds->eps[found].sha256, sizeof ds->eps[found].sha256, "%s", in[i].sha256);
        }
    }
    if (!pending) {
        fail(err, sizeof err, "out of memory");
        goto out;
    }
    /* A changed episode: its rows sit in shared files, so the dataset is
     * written again from every source, in the same episode order. */
    int64_t n_rebuild = 0;
    tp_lr_episode *old = NULL;
    if (changed) {
        n_rebuild = ds->n_old_eps;
        old = ds->eps;
        ds->eps = NULL;
        ds->n_eps = 0;
        tp_lr_free(ds);
        ds->n_eps = ds->cap_eps = ds->total_frames = ds->n_old_eps = 0;
        ds->data_chunk = ds->data_file = 0;
        memset(ds->vid_chunk, 0, sizeof ds->vid_chunk);
        memset(ds->vid_file, 0, sizeof ds->vid_file);
    }
    if (!n_pending && !changed) {
        if (!o.quiet)
            fprintf(stderr, "teleop export: %s is up to date (%" PRId64 " episodes)\n", o.out, ds->n_eps);
        free(pending);
        rc = 0;
        goto out;
    }
    if (snprintf(tmp, sizeof tmp, "%s/%s.tmp-XXXXXX", dir, base) >= (int)sizeof tmp) {
        fail(err, sizeof err, "%s: path too long", o.out);
        tmp[0] = 0;
        free(pending);
        free(old);
        goto out;
    }
    if (!mkdtemp(tmp)) {
        fail(err, sizeof err, "%s: cannot create: %s", tmp, strerror(errno));
        tmp[0] = 0;
        free(pending);
        free(old);
        goto out;
    }
    chmod(tmp, 0755 & ~0022);
    snprintf(ds->root, sizeof ds->root, "%s", tmp);
    if (have && !changed && link_old(o.out, tmp, err, sizeof err)) {
        free(pending);
        goto out;
    }
    pr.total_eps = n_pending + n_rebuild;
    for (int i = 0; i < n_pending; i++)
        pr.total_bytes += in[pending[i]].size;
    for (int64_t k = 0; k < n_rebuild; k++) {
        struct stat s2;
        if (!stat(old[k].path, &s2))
            pr.total_bytes += s2.st_size;
    }
    bar(&pr);
    int64_t total_frames = 0;
    double max_off = 0;
    int64_t n_total = pr.total_eps, refused = 0;
    for (int64_t j = 0; j < n_total; j++) {
        if (g_interrupt) {
            fail(err, sizeof err, "interrupted: %s left as it was", o.out);
            break;
        }
        const char *path = j < n_rebuild ? old[j].path : in[pending[j - n_rebuild]].path;
        const char *sha = j < n_rebuild ? old[j].sha256 : in[pending[j - n_rebuild]].sha256;
        tp_export_episode e;
        if (tp_export_episode_load(path, &o.ex, &e, err, sizeof err)) {
            if (j < n_rebuild)
                break;
            /* a new episode that cannot be exported (off the grid, unreadable)
             * is refused: the others are written, the exit status is 1 */
            if (pr.tty && !pr.quiet)
                fprintf(stderr, "\r\033[K");
            fprintf(stderr, "teleop export: %s (not exported)\n", err);
            err[0] = 0;
            refused++;
            pr.total_eps--;
            bar(&pr);
            continue;
        }
        if (j < n_rebuild) {
            char sha_now[65];
            int64_t sz;
            if (sha256_file(path, sha_now, &sz, err, sizeof err)) {
                tp_export_episode_free(&e);
                break;
            }
            sha = j < n_rebuild && strcmp(sha_now, old[j].sha256) ? sha_now : old[j].sha256;
            pr.bytes += sz;
        } else {
            pr.bytes += in[pending[j - n_rebuild]].size;
        }
        if (!ds->fps)
            ds->fps = (int)llround(e.fps);
        if (e.fps != (double)ds->fps) {
            fail(err, sizeof err, "%s: %.3f fps; the dataset is %d fps (LeRobot needs a whole number: --fps)", path, e.fps,
                 ds->fps);
            tp_export_episode_free(&e);
            break;
        }
        tp_lr_episode rec;
        memset(&rec, 0, sizeof rec);
        int r = tp_lr_add_episode(ds, &e, &rec, &g_interrupt, err, sizeof err);
        if (!r) {
            tp_lr_episode *last = &ds->eps[ds->n_eps - 1];
            snprintf(last->sha256, sizeof last->sha256, "%s", sha);
            pr.done_eps++;
            pr.frames += e.n_frames;
            total_frames += e.n_frames;
            if (e.max_frame_offset_s > max_off)
                max_off = e.max_frame_offset_s;
            line(&pr,
                 "episode %" PRId64 ": %s, %" PRId64 " frames, frame offset max %.3f ms, median %.3f ms%s%s",
                 last->episode_index, path, e.n_frames, e.max_frame_offset_s * 1e3, e.median_frame_offset_s * 1e3,
                 e.offgrid ? ", OFF-GRID (allowed): " : "", e.offgrid ? e.offgrid_reason : "");
        } else {
            free(rec.stats);
        }
        tp_export_episode_free(&e);
        if (r)
            break;
    }
    free(pending);
    for (int64_t k = 0; k < n_rebuild; k++)
        free(old[k].stats);
    free(old);
    if (pr.done_eps + refused != n_total)
        goto out;
    if (pr.done_eps == 0) {
        fail(err, sizeof err, "no episode exported (%" PRId64 " refused); %s left as it was", refused, o.out);
        goto out;
    }
    if (g_interrupt) {
        fail(err, sizeof err, "interrupted: %s left as it was", o.out);
        goto out;
    }
    if (tp_lr_finish(ds, err, sizeof err))
        goto out;
    /* publish: every file synced, then one atomic rename (or exchange) */
    int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd < 0 || syncfs(tfd)) {
        fail(err, sizeof err, "%s: cannot sync: %s", tmp, strerror(errno));
        if (tfd >= 0)
            close(tfd);
        goto out;
    }
    close(tfd);
    if (g_interrupt) {
        fail(err, sizeof err, "interrupted: %s left as it was", o.out);
        goto out;
    }
    if (exists) {
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, o.out, RENAME_EXCHANGE)) {
            fail(err, sizeof err, "%s: cannot replace: %s", o.out, strerror(errno));
            goto out;
        }
        fsync_dir(dir);
        tp_export_rm_tree(tmp); /* now the old dataset */
    } else {
        if (rename(tmp, o.out)) {
            fail(err, sizeof err, "%s: cannot create: %s", o.out, strerror(errno));
            goto out;
        }
        fsync_dir(dir);
    }
    tmp[0] = 0;
    if (!o.quiet) {
        if (pr.tty)
            fprintf(stderr, "\r\033[K");
        double dt = elapsed(&pr.t0);
        fprintf(stderr,
                "teleop export: %s: %" PRId64 " episodes written (%" PRId64 " frames, %.1f s of episodes) in %.2f s "
                "(%.0fx real time), %" PRId64 " episodes in the dataset; frame offset max %.3f ms%s\n",
                o.out, pr.done_eps, total_frames, (double)total_frames / ds->fps, dt,
                dt > 0 ? (double)total_frames / ds->fps / dt : 0, ds->n_eps, max_off * 1e3,
                refused ? "; some episodes were refused (above)" : "");
    }
    rc = refused ? 1 : 0;
out:
    if (rc && g_interrupt)
        fail(err, sizeof err, "interrupted: %s left as it was", o.out ? o.out : "the dataset");
    if (rc && err[0]) {
        if (pr.tty && !pr.quiet)
            fprintf(stderr, "\r\033[K");
        fprintf(stderr, "teleop export: %s\n", err);
    }
    if (ds)
        tp_lr_free(ds);
    free(ds);
    if (tmp[0])
        tp_export_rm_tree(tmp);
    for (int i = 0; i < nin; i++)
        tp_export_episode_free(&in[i].meta);
    free(in);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc && g_interrupt)
        return 130;
    return rc;
}
