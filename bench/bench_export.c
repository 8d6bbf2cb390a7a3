/* teleop-bench-export: `teleop export --format lerobot` speed (docs/export.md).
 *
 *   teleop-bench-export EPISODE [--copies N] [--av1-frames N] [--targets]
 *
 * Remux: EPISODE (a 20 s recording: one 640x480 camera, 500 Hz streams,
 * 30 fps) is copied N times (default 100) under different names — each copy
 * is its own episode to the export — and all are exported in one run as a
 * LeRobot v3.0 dataset; prints episode-seconds per wall-second (target
 * >= 100x real time).
 *
 * AV1: the first --av1-frames frames (default 300) exported with
 * --video-codec av1 (decode the recorded H.264, encode libsvtav1 g=2
 * crf=30 preset 12) against LeRobot's pipeline on the same encoder with the
 * same settings, measured in the same run: LeRobot encodes the PNG frames its
 * image writer saved (ffmpeg -i frame_%06d.png -c:v libsvtav1 -pix_fmt yuv420p
 * -g 2 -crf 30 -preset 12); LeRobot's Python cannot run here, so the peer is
 * the same libavcodec calls ffmpeg makes: PNG decode, RGB to yuv420p, encode.
 * Prints the speed ratio (target >= 1: at least LeRobot's speed).
 * Exit 3 with --targets when a target is missed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
#include <sqlite3.h>

#include "teleop/episode.h"
#include "teleop/export.h"
#include "teleop/export_run.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char buf[1 << 16];
    ssize_t r;
    int rc = in < 0 || out < 0 ? -1 : 0;
    while (!rc && (r = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)r) != r)
            rc = -1;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static void rm_rf(const char *path)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", path);
}

/* The first n frames of the episode's first camera, decoded to RGB and
 * PNG-encoded (what LeRobot's image writer leaves on disk). */
static int make_pngs(const char *episode, int n, AVPacket **png, int *w, int *h)
{
    char err[512];
    tp_episode *ep = tp_episode_open(episode, err, sizeof err);
    if (!ep) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    const tp_stream_info *cam = NULL;
    for (int i = 0; i < tp_episode_stream_count(ep) && !cam; i++)
        if (tp_episode_stream(ep, i)->kind == TP_STREAM_CAMERA)
            cam = tp_episode_stream(ep, i);
    const AVCodec *dc = avcodec_find_decoder(AV_CODEC_ID_H264), *pc = avcodec_find_encoder(AV_CODEC_ID_PNG);
    AVCodecContext *dec = avcodec_alloc_context3(dc), *penc = avcodec_alloc_context3(pc);
    dec->extradata = av_mallocz(cam->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(dec->extradata, cam->extradata, cam->extradata_size);
    dec->extradata_size = (int)cam->extradata_size;
    avcodec_open2(dec, dc, NULL);
    *w = cam->width;
    *h = cam->height;
    penc->width = *w;
    penc->height = *h;
    penc->pix_fmt = AV_PIX_FMT_RGB24;
    penc->time_base = (AVRational){1, 30};
    penc->compression_level = 1; /* LeRobot writes video frames with compress_level=1 */
    avcodec_open2(penc, pc, NULL);
    struct SwsContext *sws = NULL;
    AVFrame *f = av_frame_alloc(), *rgb = av_frame_alloc();
    rgb->format = AV_PIX_FMT_RGB24;
    rgb->width = *w;
    rgb->height = *h;
    av_frame_get_buffer(rgb, 0);
    AVPacket *pkt = av_packet_alloc();
    tp_episode_cursor *c = tp_episode_cursor_open(ep, cam->id);
    tp_episode_row row;
    int got = 0;
    while (got < n && tp_episode_cursor_next(c, &row) == 1) {
        pkt->data = (uint8_t *)row.bytes;
        pkt->size = (int)row.size;
        avcodec_send_packet(dec, pkt);
        while (got < n && avcodec_receive_frame(dec, f) == 0) {
            if (!sws)
                sws = sws_getContext(*w, *h, f->format, *w, *h, AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
            sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, *h, rgb->data, rgb->linesize);
            avcodec_send_frame(penc, rgb);
            png[got] = av_packet_alloc();
            avcodec_receive_packet(penc, png[got]);
            got++;
        }
    }
    tp_episode_cursor_close(c);
    tp_episode_close(ep);
    sws_freeContext(sws);
    av_frame_free(&f);
    av_frame_free(&rgb);
    pkt->data = NULL;
    pkt->size = 0;
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avcodec_free_context(&penc);
    return got;
}

/* LeRobot's encode on the same encoder: PNG decode, RGB to yuv420p, libsvtav1. */
static double peer_encode(AVPacket **png, int n, int w, int h, int64_t *bytes)
{
    double t0 = now();
    const AVCodec *pd = avcodec_find_decoder(AV_CODEC_ID_PNG), *ec = avcodec_find_encoder_by_name("libsvtav1");
    AVCodecContext *dec = avcodec_alloc_context3(pd), *enc = avcodec_alloc_context3(ec);
    avcodec_open2(dec, pd, NULL);
    enc->width = w;
    enc->height = h;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = (AVRational){1, 30};
    enc->framerate = (AVRational){30, 1};
    enc->gop_size = 2;
    AVDictionary *o = NULL;
    av_dict_set(&o, "crf", "30", 0);
    av_dict_set(&o, "preset", "12", 0);
    avcodec_open2(enc, ec, &o);
    av_dict_free(&o);
    AVFrame *f = av_frame_alloc(), *yuv = av_frame_alloc();
    yuv->format = AV_PIX_FMT_YUV420P;
    yuv->width = w;
    yuv->height = h;
    av_frame_get_buffer(yuv, 0);
    struct SwsContext *sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, AV_PIX_FMT_YUV420P, SWS_BICUBIC, NULL, NULL,
                                            NULL);
    AVPacket *out = av_packet_alloc();
    *bytes = 0;
    for (int i = 0; i <= n; i++) {
        if (i < n) {
            avcodec_send_packet(dec, png[i]);
            if (avcodec_receive_frame(dec, f) == 0) {
                av_frame_make_writable(yuv);
                sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, h, yuv->data, yuv->linesize);
                yuv->pts = i;
                avcodec_send_frame(enc, yuv);
                av_frame_unref(f);
            }
        } else {
            avcodec_send_frame(enc, NULL);
        }
        while (avcodec_receive_packet(enc, out) == 0) {
            *bytes += out->size;
            av_packet_unref(out);
        }
    }
    double dt = now() - t0;
    sws_freeContext(sws);
    av_frame_free(&f);
    av_frame_free(&yuv);
    av_packet_free(&out);
    avcodec_free_context(&dec);
    avcodec_free_context(&enc);
    return dt;
}

int main(int argc, char **argv)
{
    const char *episode = NULL;
    int copies = 100, av1_frames = 300;
    bool targets = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--copies") && i + 1 < argc)
            copies = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--av1-frames") && i + 1 < argc)
            av1_frames = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--targets"))
            targets = true;
        else if (argv[i][0] != '-' && !episode)
            episode = argv[i];
        else {
            fprintf(stderr, "usage: teleop-bench-export EPISODE [--copies N] [--av1-frames N] [--targets]\n");
            return 2;
        }
    }
    if (!episode || copies < 1 || av1_frames < 1) {
        fprintf(stderr, "usage: teleop-bench-export EPISODE [--copies N] [--av1-frames N] [--targets]\n");
        return 2;
    }
    setenv("SVT_LOG", "1", 1); /* SVT-AV1's banner: errors only */
    tp_export_options opt;
    tp_export_options_default(&opt);
    opt.meta_only = true;
    tp_export_episode meta;
    char err[1024];
    if (tp_export_episode_load(episode, &opt, &meta, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double ep_seconds = meta.duration_s;
    printf("episode: %s, %.2f s, %d camera(s) %dx%d %s at %.0f fps\n", episode, ep_seconds, meta.n_cameras,
           meta.cameras[0].width, meta.cameras[0].height, meta.cameras[0].codec, meta.fps);
    tp_export_episode_free(&meta);

    char dir[] = "/tmp/teleop-bench-export-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char src[4200], out[4200], path[4300];
    snprintf(src, sizeof src, "%s/src", dir);
    mkdir(src, 0755);
    for (int i = 0; i < copies; i++) {
        snprintf(path, sizeof path, "%s/episode-copy-%03d.db", src, i);
        if (copy_file(episode, path)) {
            fprintf(stderr, "%s: cannot copy: %s\n", path, strerror(errno));
            rm_rf(dir);
            return 1;
        }
    }
    sync();
    int status = 0;

    /* remux */
    snprintf(out, sizeof out, "%s/remux", dir);
    char *args[] = {"export", src, "--format", "lerobot", "-o", out, "--quiet", NULL};
    double t0 = now();
    int rc = tp_export_main(7, args);
    double dt = now() - t0;
    if (rc) {
        fprintf(stderr, "export failed (%d)\n", rc);
        rm_rf(dir);
        return 1;
    }
    double ratio = (double)copies * ep_seconds / dt;
    printf("remux: %d episodes, %.0f s of episodes in %.2f s: %.0fx real time (target >= 100x) %s\n", copies,
           copies * ep_seconds, dt, ratio, ratio >= 100 ? "ok" : "MISSED");
    if (ratio < 100)
        status = 3;

    /* AV1: ours vs LeRobot's pipeline on the same encoder */
    AVPacket **png = calloc((size_t)av1_frames, sizeof *png);
    int w = 0, h = 0;
    int n = make_pngs(episode, av1_frames, png, &w, &h);
    /* ours: the same frames (a trimmed copy: trim_out after frame n) */
    snprintf(path, sizeof path, "%s/av1-src.db", dir);
    copy_file(episode, path);
    {
        tp_episode *ep = tp_episode_open(path, err, sizeof err);
        const tp_stream_info *cam = NULL;
        for (int i = 0; ep && i < tp_episode_stream_count(ep) && !cam; i++)
            if (tp_episode_stream(ep, i)->kind == TP_STREAM_CAMERA)
                cam = tp_episode_stream(ep, i);
        int64_t t_end = 0;
        tp_episode_cursor *c = cam ? tp_episode_cursor_open(ep, cam->id) : NULL;
        tp_episode_row row;
        for (int k = 0; c && k <= n && tp_episode_cursor_next(c, &row) == 1; k++)
            t_end = row.t_ns;
        if (c)
            tp_episode_cursor_close(c);
        if (ep)
            tp_episode_close(ep);
        sqlite3 *db = NULL;
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta VALUES('trim_out_ns','%" PRId64 "')", t_end);
        if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
            fprintf(stderr, "cannot set trim_out_ns on %s\n", path);
        sqlite3_close(db);
    }
    snprintf(out, sizeof out, "%s/av1", dir);
    char *args2[] = {"export", path, "--format", "lerobot", "--video-codec", "av1", "-o", out, "--quiet", NULL};
    t0 = now();
    rc = tp_export_main(9, args2);
    double ours = now() - t0;
    if (rc) {
        fprintf(stderr, "AV1 export failed (%d)\n", rc);
        rm_rf(dir);
        return 1;
    }
    int64_t peer_bytes;
    double peer = peer_encode(png, n, w, h, &peer_bytes);
    for (int i = 0; i < n; i++)
        av_packet_free(&png[i]);
    free(png);
    double speed = peer / ours;
    printf("av1: %d frames %dx%d, libsvtav1 g=2 crf=30 preset 12: ours %.2f s (%.1f fps, whole export), "
           "LeRobot's pipeline on the same encoder %.2f s (%.1f fps, %" PRId64 " bytes): ratio %.2f (target >= 1) %s\n",
           n, w, h, ours, n / ours, peer, n / peer, peer_bytes, speed, speed >= 1 ? "ok" : "MISSED");
    if (speed < 1)
        status = 3;
    rm_rf(dir);
    return targets ? status : 0;
}
