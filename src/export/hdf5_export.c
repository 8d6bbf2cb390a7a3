/* teleop — `teleop export --format hdf5 --layout aloha|robomimic`:
 * arguments, selection, the run and crash-safe publication (see
 * include/teleop/export_hdf5.h, docs/export.md). ALOHA's folder is built as
 * OUT.tmp-XXXXXX and published by rename (or an atomic exchange with the
 * old folder); robomimic's file is written as OUT.tmp-XXXXXX and renamed
 * over OUT. A kill leaves the old output or the new one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "export_output.h"
#include "export_select.h"
#include "hdf5_write.h"
#include "teleop/export_hdf5.h"

static volatile int g_interrupt;

static void on_signal(int sig)
{
    (void)sig;
    g_interrupt = 1;
}

bool tp_export_hdf5_requested(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--format=hdf5") || (!strcmp(argv[i], "--format") && i + 1 < argc &&
                                                  !strcmp(argv[i + 1], "hdf5")))
            return true;
    }
    return false;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: teleop export EPISODE...|DIR... --format hdf5 --layout aloha|robomimic -o OUT [options]\n"
            "  --layout aloha              OUT is a folder of episode_N.hdf5 files (ALOHA/ACT)\n"
            "  --layout robomimic          OUT is one .hdf5 file (data/demo_N, mask/*)\n"
            "  --compress                  aloha: images as JPEG bytes with compress_len (Mobile ALOHA)\n"
            "  --jpeg-quality N            JPEG quality 1-100 (default 50, as Mobile ALOHA)\n"
            "  --gzip N                    deflate level 0-9 of every dataset (default 4; 0: none)\n"
            "  --env-args JSON             robomimic data.attrs env_args (default: the robot, env_type 2)\n"
            "  --next-obs                  robomimic: also next_obs/<key> (the observation one step later)\n"
            "  --fps N                     dataset rate (default: the reference camera's nominal rate)\n"
            "  --reference-camera NAME     camera whose first frame anchors the grid (default: the first)\n"
            "  --camera NAME               export only this camera (repeatable; default: every camera)\n"
            "  --tolerance FRAMES          allowed frame offset from the grid, in frame periods (default 0.5)\n"
            "  --allow-offgrid             export off-grid episodes flagged instead of refusing them\n"
            "  --outcome LIST              only these outcomes (comma-separated: completed,stopped,...)\n"
            "  --task TEXT                 only episodes whose task contains TEXT\n"
            "  --operator NAME             only this operator's episodes\n"
            "  --since DATE, --until DATE  only episodes started in [since, until] (YYYY-MM-DD[THH:MM:SS], UTC)\n"
            "  --min-duration S, --max-duration S   only episodes this long (exported window)\n"
            "  --tag TAG                   only episodes with this tag (repeatable: all of them)\n"
            TP_EXPORT_SELECT_USAGE
            "  --quiet                     no progress, no per-episode lines\n");
}

typedef struct item {
    char *path;
    tp_export_episode meta;
    int64_t size;
} item;

static int cmp_item(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->meta.start_unix_ns != y->meta.start_unix_ns)
        return x->meta.start_unix_ns < y->meta.start_unix_ns ? -1 : 1;
    return strcmp(x->path, y->path);
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* An existing output is replaced only when it is one this export writes:
 * a folder of episode_N.hdf5 files (aloha), or an HDF5 file (robomimic).
 * Anything else is refused, never overwritten. */
static int replaceable(const char *out, bool aloha, char *err, size_t errlen)
{
    if (!aloha) {
        static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
        unsigned char head[8] = {0};
        FILE *f = fopen(out, "rb");
        size_t n = f ? fread(head, 1, sizeof head, f) : 0;
        if (f)
            fclose(f);
        if (n != sizeof head || memcmp(head, sig, sizeof sig)) {
            snprintf(err, errlen, "%s: exists and is not an HDF5 file: not replaced", out);
            return -1;
        }
        return 0;
    }
    DIR *d = opendir(out);
    if (!d) {
        snprintf(err, errlen, "%s: %s", out, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) && !rc) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        unsigned idx;
        int used = 0;
        if (sscanf(de->d_name, "episode_%u.hdf5%n", &idx, &used) != 1 || de->d_name[used] ||
            strncmp(de->d_name, "episode_", 8) || de->d_name[8] < '0' || de->d_name[8] > '9') {
            snprintf(err, errlen, "%s: exists and holds %s: not an ALOHA export of teleop, not replaced", out,
                     de->d_name);
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

typedef struct progress {
    bool tty, quiet;
    struct timespec t0;
    int64_t done, total, frames, bytes, total_bytes;
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
    int w = 30, fill = p->total ? (int)(w * p->done / p->total) : w;
    char b[64];
    for (int i = 0; i < w; i++)
        b[i] = i < fill ? '#' : '.';
    b[w] = 0;
    fprintf(stderr, "\r\033[K[%s] %" PRId64 "/%" PRId64 " episodes, %" PRId64 " frames, %.1f MB/s, ETA %.0f s", b,
            p->done, p->total, p->frames, rate / 1e6, eta);
    fflush(stderr);
}

int tp_export_hdf5_main(int argc, char **argv)
{
    tp_export_options ex;
    tp_export_options_default(&ex);
    tp_export_selection sel;
    memset(&sel, 0, sizeof sel);
    tp_h5_options h5 = {.gzip = 4, .jpeg_quality = 50, .interrupt = &g_interrupt};
    const char *out = NULL, *layout = NULL, *format = NULL;
    bool quiet = false, compress = false;
    enum {
        OPT_FORMAT = 256, OPT_NEXT_OBS, OPT_LAYOUT, OPT_COMPRESS, OPT_QUALITY, OPT_GZIP, OPT_ENV, OPT_FPS, OPT_REF, OPT_CAMERA,
        OPT_TOL, OPT_OFFGRID, OPT_OUTCOME, OPT_TASK, OPT_OPERATOR, OPT_SINCE, OPT_UNTIL, OPT_MIN, OPT_MAX, OPT_TAG,
    };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"layout", required_argument, NULL, OPT_LAYOUT},
        {"compress", no_argument, NULL, OPT_COMPRESS},
        {"jpeg-quality", required_argument, NULL, OPT_QUALITY},
        {"gzip", required_argument, NULL, OPT_GZIP},
        {"env-args", required_argument, NULL, OPT_ENV},
        {"next-obs", no_argument, NULL, OPT_NEXT_OBS},
        {"fps", required_argument, NULL, OPT_FPS},
        {"reference-camera", required_argument, NULL, OPT_REF},
        {"camera", required_argument, NULL, OPT_CAMERA},
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
        {"quiet", no_argument, NULL, 'q'},
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
        fprintf(stderr, " (see 'teleop export --format hdf5 --help')\n");                                           \
        return 2;                                                                                                    \
    } while (0)
    while ((c = getopt_long(argc, argv, "o:hq", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'o': out = optarg; break;
        case 'q': quiet = true; break;
        case OPT_FORMAT: format = optarg; break;
        case OPT_LAYOUT: layout = optarg; break;
        case OPT_COMPRESS: compress = true; break;
        case OPT_QUALITY: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100)
                BAD("--jpeg-quality: '%s' is not a quality from 1 to 100", optarg);
            h5.jpeg_quality = (int)v;
            break;
        }
        case OPT_GZIP: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 9)
                BAD("--gzip: '%s' is not a deflate level from 0 to 9", optarg);
            h5.gzip = (int)v;
            break;
        }
        case OPT_ENV: {
            cJSON *j = cJSON_Parse(optarg);
            bool object = cJSON_IsObject(j);
            cJSON_Delete(j);
            if (!object)
                BAD("--env-args: '%s' is not a JSON object", optarg);
            h5.env_args = optarg;
            break;
        }
        case OPT_NEXT_OBS: h5.next_obs = true; break;
        case OPT_FPS:
            ex.fps = strtod(optarg, &end);
            if (*end || !(ex.fps >= 1) || ex.fps > 1000)
                BAD("--fps: '%s' is not a rate from 1 to 1000 frames per second", optarg);
            break;
        case OPT_REF: ex.reference_camera = optarg; break;
        case OPT_CAMERA:
            if (ex.n_cameras == TP_EXPORT_MAX_CAMERAS)
                BAD("--camera: at most %d", TP_EXPORT_MAX_CAMERAS);
            if (strlen(optarg) >= sizeof ex.cameras[0])
                BAD("--camera: '%s' is too long", optarg);
            snprintf(ex.cameras[ex.n_cameras++], sizeof ex.cameras[0], "%s", optarg);
            break;
        case OPT_TOL:
            ex.tolerance_frames = strtod(optarg, &end);
            if (*end || !(ex.tolerance_frames > 0) || ex.tolerance_frames > 10)
                BAD("--tolerance: '%s' is not a number of frame periods in (0, 10]", optarg);
            break;
        case OPT_OFFGRID: ex.allow_offgrid = true; break;
        case OPT_OUTCOME: sel.outcome = optarg; break;
        case OPT_TASK: sel.task = optarg; break;
        case OPT_OPERATOR: sel.operator_name = optarg; break;
        case OPT_SINCE:
        case OPT_UNTIL:
            if (tp_export_parse_date(optarg, c == OPT_UNTIL, c == OPT_SINCE ? &sel.since_ns : &sel.until_ns))
                BAD("--%s: '%s' is not a date YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)",
                    c == OPT_SINCE ? "since" : "until", optarg);
            *(c == OPT_SINCE ? &sel.have_since : &sel.have_until) = true;
            break;
        case OPT_MIN:
        case OPT_MAX: {
            double v = strtod(optarg, &end);
            if (*end || !(v >= 0) || v > 86400)
                BAD("--%s: '%s' is not a number of seconds", c == OPT_MIN ? "min-duration" : "max-duration", optarg);
            *(c == OPT_MIN ? &sel.min_duration : &sel.max_duration) = v;
            break;
        }
        case OPT_TAG:
            if (sel.n_tags == 16)
                BAD("--tag: at most 16");
            sel.tags[sel.n_tags++] = optarg;
            break;
        default: {
            char why[256];
            int r = tp_export_select_option(&sel, c, optarg, why, sizeof why);
            if (r < 0)
                BAD("%s", why);
            if (r == 0)
                BAD("unknown option '%s'", argv[optind - 1]);
        }
        }
    }
    if (!format || strcmp(format, "hdf5"))
        BAD("--format: expected hdf5");
    if (!layout)
        BAD("--layout is required with --format hdf5 (aloha or robomimic)");
    bool aloha = !strcmp(layout, "aloha");
    if (!aloha && strcmp(layout, "robomimic"))
        BAD("--layout: '%s' is not aloha or robomimic", layout);
    if (h5.next_obs && aloha)
        BAD("--next-obs: next observations are the robomimic layout's");
    if (compress && !aloha)
        BAD("--compress: JPEG images are the aloha layout's (robomimic stores raw uint8 images)");
    h5.jpeg = compress;
    if (!out)
        BAD("-o OUT is required");
    if (optind >= argc)
        BAD("no episodes given");
#undef BAD

    char err[2048] = "";
    int rc = 1;
    char **paths = NULL;
    int npaths = 0, nsel = 0;
    item *items = NULL;
    char tmp[4200] = "";
    tp_h5_robomimic *rm = NULL;
    progress pr = {.tty = isatty(2), .quiet = quiet};
    clock_gettime(CLOCK_MONOTONIC, &pr.t0);
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    if (tp_export_collect(argv + optind, argc - optind, &paths, &npaths, err, sizeof err))
        goto out;
    items = calloc((size_t)(npaths ? npaths : 1), sizeof *items);
    if (!items) {
        snprintf(err, sizeof err, "out of memory");
        goto out;
    }
    for (int i = 0; i < npaths; i++) {
        tp_export_options mo = ex;
        mo.meta_only = true;
        item *it = &items[nsel];
        if (tp_export_episode_load(paths[i], &mo, &it->meta, err, sizeof err))
            goto out;
        if (!tp_export_selected(&sel, &it->meta)) {
            tp_export_episode_free(&it->meta);
            continue;
        }
        struct stat st;
        it->size = stat(paths[i], &st) ? 0 : st.st_size;
        it->path = paths[i];
        pr.total_bytes += it->size;
        nsel++;
    }
    qsort(items, (size_t)nsel, sizeof *items, cmp_item);
    if (!nsel) {
        snprintf(err, sizeof err, "no episode selected (of %d given): %s left as it was", npaths, out);
        goto out;
    }

    char dir[4096], base[1024];
    tp_export_split_path(out, dir, sizeof dir, base, sizeof base);
    tp_export_remove_stale(dir, base);
    struct stat st;
    bool exists = lstat(out, &st) == 0;
    if (exists && aloha && !S_ISDIR(st.st_mode)) {
        snprintf(err, sizeof err, "%s: exists and is not a folder (--layout aloha writes a folder)", out);
        goto out;
    }
    if (exists && !aloha && !S_ISREG(st.st_mode)) {
        snprintf(err, sizeof err, "%s: exists and is not a file (--layout robomimic writes one file)", out);
        goto out;
    }
    if (exists && replaceable(out, aloha, err, sizeof err))
        goto out;
    if (snprintf(tmp, sizeof tmp, "%s/%s.tmp-XXXXXX", dir, base) >= (int)sizeof tmp) {
        snprintf(err, sizeof err, "%s: path too long", out);
        tmp[0] = 0;
        goto out;
    }
    if (aloha) {
        if (!mkdtemp(tmp)) {
            snprintf(err, sizeof err, "%s: cannot create: %s", tmp, strerror(errno));
            tmp[0] = 0;
            goto out;
        }
        chmod(tmp, 0755 & ~0022);
    } else {
        int fd = mkstemp(tmp);
        if (fd < 0) {
            snprintf(err, sizeof err, "%s: cannot create: %s", tmp, strerror(errno));
            tmp[0] = 0;
            goto out;
        }
        fchmod(fd, 0644);
        close(fd);
        rm = tp_h5_robomimic_create(tmp, &h5, err, sizeof err);
        if (!rm)
            goto out;
    }
    pr.total = nsel;
    bar(&pr);
    double fps = 0, max_off = 0;
    for (int j = 0; j < nsel; j++) {
        if (g_interrupt)
            break;
        tp_export_episode e;
        err[0] = 0;
        if (tp_export_episode_load(items[j].path, &ex, &e, err, sizeof err))
            goto out;
        if (!fps)
            fps = e.fps;
        if (e.fps != fps) {
            snprintf(err, sizeof err, "%s: %.3f fps; the other episodes are %.3f fps (choose one rate: --fps)",
                     items[j].path, e.fps, fps);
            tp_export_episode_free(&e);
            goto out;
        }
        int sim = tp_h5_episode_is_sim(items[j].path, err, sizeof err);
        int r = -1;
        char file[4400] = "";
        if (sim >= 0 && aloha) {
            snprintf(file, sizeof file, "%s/episode_%d.hdf5", tmp, j);
            r = tp_h5_aloha_write(file, &e, sim, &h5, err, sizeof err);
        } else if (sim >= 0) {
            r = tp_h5_robomimic_add(rm, &e, sim, err, sizeof err);
        }
        if (!r) {
            pr.done++;
            pr.frames += e.n_frames;
            pr.bytes += items[j].size;
            if (e.max_frame_offset_s > max_off)
                max_off = e.max_frame_offset_s;
            if (!quiet) {
                if (pr.tty)
                    fprintf(stderr, "\r\033[K");
                fprintf(stderr,
                        "%s %d: %s, %" PRId64 " frames, frame offset max %.3f ms, median %.3f ms%s%s\n",
                        aloha ? "episode" : "demo", j, items[j].path, e.n_frames, e.max_frame_offset_s * 1e3,
                        e.median_frame_offset_s * 1e3, e.offgrid ? ", OFF-GRID (allowed): " : "",
                        e.offgrid ? e.offgrid_reason : "");
                bar(&pr);
            }
        }
        tp_export_episode_free(&e);
        if (r)
            goto out;
    }
    if (g_interrupt)
        goto out;
    if (rm) {
        tp_h5_robomimic *r = rm;
        rm = NULL;
        if (tp_h5_robomimic_finish(r, err, sizeof err))
            goto out;
    } else {
        fsync_dir(tmp);
    }
    if (g_interrupt)
        goto out;
    /* publish: one rename (or, for an existing folder, an atomic exchange) */
    if (aloha && exists) {
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE)) {
            snprintf(err, sizeof err, "%s: cannot replace: %s", out, strerror(errno));
            goto out;
        }
        fsync_dir(dir);
        tp_export_rm_tree(tmp); /* now the old folder */
    } else {
        if (rename(tmp, out)) {
            snprintf(err, sizeof err, "%s: cannot %s: %s", out, exists ? "replace" : "create", strerror(errno));
            goto out;
        }
        fsync_dir(dir);
    }
    tmp[0] = 0;
    if (!quiet) {
        if (pr.tty)
            fprintf(stderr, "\r\033[K");
        double dt = elapsed(&pr.t0);
        fprintf(stderr,
                "teleop export: %s: %" PRId64 " episodes written (%" PRId64 " frames, %.1f s of episodes) in %.2f s "
                "(%.0fx real time); frame offset max %.3f ms\n",
                out, pr.done, pr.frames, (double)pr.frames / fps, dt, dt > 0 ? (double)pr.frames / fps / dt : 0,
                max_off * 1e3);
    }
    rc = 0;
out:
    if (rc && g_interrupt)
        snprintf(err, sizeof err, "interrupted: %s left as it was", out);
    if (rc && err[0]) {
        if (pr.tty && !pr.quiet)
            fprintf(stderr, "\r\033[K");
        fprintf(stderr, "teleop export: %s\n", err);
    }
    tp_h5_robomimic_abort(rm);
    if (tmp[0])
        tp_export_rm_tree(tmp);
    for (int i = 0; i < nsel; i++)
        tp_export_episode_free(&items[i].meta);
    free(items);
    for (int i = 0; i < npaths; i++)
        free(paths[i]);
    free(paths);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc && g_interrupt)
        return 130;
    return rc;
}
