/* The file camera and camera reconnect. Test footage is made here with
 * libavformat/libavcodec: each frame shows its frame number in binary (a
 * row of 16x16 black/white blocks) over a moving gradient. Checked: frames
 * come at t0 + (pts_k - pts_0) for a variable-rate file, in order, with the
 * right picture; a once-played file ends (TP_CAMERA_ENDED), a looping one
 * goes on with time and index; open errors name the camera and file;
 * sessions with three file cameras (looping h264, once ffv1, MJPEG passed
 * through) pass `teleop check`, the once camera records camera_ended and
 * its recorded frames match the source's pixels; a pattern camera that
 * vanishes and reappears is lost, found again, and resumes in the same
 * stream. Usage: test_file_camera MODEL.xml MOTION.csv
 * or test_file_camera --footage OUT.mkv|OUT.avi FRAMES: writes the footage
 * (ffv1 in Matroska; MJPEG in AVI) at 20 fps, for file_camera_cli_test.sh. */
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "teleop/camera.h"
#include "teleop/clock.h"
#include "teleop/config.h"
#include "teleop/episode.h"
#include "teleop/session.h"
#include "teleop/station_config.h"
#include "teleop/video.h"

static const char *model_path, *motion_path;
static char out_dir[256];

enum { W = 160, H = 120, BITS = 8, BLOCK = 16 };

/* ------------------------------------------------------------ footage */

static void draw_frame(int k, uint8_t *rgb)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *px = rgb + 3 * (y * W + x);
            if (y < BLOCK && x < BITS * BLOCK) {
                uint8_t v = (k >> (x / BLOCK)) & 1 ? 235 : 16;
                px[0] = px[1] = px[2] = v;
            } else {
                px[0] = (uint8_t)(x * 255 / W);
                px[1] = (uint8_t)((y + 4 * k) % 256);
                px[2] = (uint8_t)((x + y + 8 * k) % 256);
            }
        }
}

/* The frame number a picture shows (block centres, scaled to its size). */
static int read_number(const uint8_t *rgb, int w, int h)
{
    int n = 0;
    for (int b = 0; b < BITS; b++) {
        int x = (b * BLOCK + BLOCK / 2) * w / W, y = (BLOCK / 2) * h / H;
        if (rgb[3 * (y * w + x) + 1] > 128)
            n |= 1 << b;
    }
    return n;
}

/* Writes nframes at pts_ms[k] (time base 1 ms) in codec/pix_fmt into path. */
static void write_video(const char *path, const char *codec_name, enum AVPixelFormat pix, int nframes,
                        const int64_t *pts_ms)
{
    AVFormatContext *fmt = NULL;
    assert_true(avformat_alloc_output_context2(&fmt, NULL, NULL, path) >= 0);
    const AVCodec *codec = avcodec_find_encoder_by_name(codec_name);
    assert_non_null(codec);
    AVStream *st = avformat_new_stream(fmt, NULL);
    AVCodecContext *enc = avcodec_alloc_context3(codec);
    enc->width = W;
    enc->height = H;
    enc->pix_fmt = pix;
    enc->time_base = (AVRational){1, 1000};
    enc->framerate = (AVRational){20, 1};
    enc->thread_count = 1;
    if (!strcmp(codec_name, "mjpeg")) {
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality = FF_QP2LAMBDA * 3;
    }
    if (fmt->oformat->flags & AVFMT_GLOBALHEADER)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    assert_true(avcodec_open2(enc, codec, NULL) >= 0);
    assert_true(avcodec_parameters_from_context(st->codecpar, enc) >= 0);
    st->time_base = enc->time_base;
    assert_true(avio_open(&fmt->pb, path, AVIO_FLAG_WRITE) >= 0);
    assert_true(avformat_write_header(fmt, NULL) >= 0);
    struct SwsContext *sws =
        sws_getContext(W, H, AV_PIX_FMT_RGB24, W, H, pix, SWS_BILINEAR, NULL, NULL, NULL);
    AVFrame *f = av_frame_alloc();
    f->width = W;
    f->height = H;
    f->format = pix;
    assert_true(av_frame_get_buffer(f, 0) >= 0);
    AVPacket *pkt = av_packet_alloc();
    static uint8_t rgb[W * H * 3];
    for (int k = 0; k <= nframes; k++) {
        if (k < nframes) {
            draw_frame(k, rgb);
            const uint8_t *src[1] = {rgb};
            int stride[1] = {3 * W};
            assert_true(av_frame_make_writable(f) >= 0);
            sws_scale(sws, src, stride, 0, H, f->data, f->linesize);
            f->pts = pts_ms[k];
            assert_true(avcodec_send_frame(enc, f) >= 0);
        } else {
            assert_true(avcodec_send_frame(enc, NULL) >= 0);
        }
        while (avcodec_receive_packet(enc, pkt) == 0) {
            av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
            pkt->stream_index = st->index;
            assert_true(av_interleaved_write_frame(fmt, pkt) >= 0);
        }
    }
    assert_true(av_write_trailer(fmt) >= 0);
    av_packet_free(&pkt);
    av_frame_free(&f);
    sws_freeContext(sws);
    avcodec_free_context(&enc);
    avio_closep(&fmt->pb);
    avformat_free_context(fmt);
}

static void regular_pts(int64_t *pts, int n, int step_ms)
{
    for (int k = 0; k < n; k++)
        pts[k] = (int64_t)k * step_ms;
}

static void footage_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", out_dir, name);
}

static void file_params(tp_camera_params *p, const char *name, const char *path, bool loop)
{
    tp_camera_default_params(p, name);
    p->driver = "file";
    p->width = W;
    p->height = H;
    p->fps = 20;
    p->path = path;
    p->loop = loop;
}

/* ------------------------------------------------------- the driver */

/* A variable-rate file played once: frame k at t0 + pts_k exactly, never
 * delivered before it is due, its own picture; then the camera ends. */
static void test_file_once_variable_rate(void **state)
{
    (void)state;
    enum { N = 12 };
    int64_t pts[N];
    for (int k = 0; k < N; k++)
        pts[k] = 50 * k + 20 * (k % 2); /* 0, 70, 100, 170, ...: steps of 70 and 30 ms */
    char path[512];
    footage_path(path, sizeof path, "vfr.mkv");
    write_video(path, "ffv1", AV_PIX_FMT_YUV420P, N, pts);
    tp_camera_params p;
    file_params(&p, "vfr", path, false);
    char err[256];
    tp_camera *cam = tp_camera_open(&p, NULL, err, sizeof err);
    if (!cam)
        fail_msg("%s", err);
    int64_t t0 = tp_now_ns() + 20000000;
    assert_int_equal(tp_camera_start(cam, t0, err, sizeof err), 0);
    static uint8_t buf[W * H * 3];
    for (int k = 0; k < N; k++) {
        int rc;
        while ((rc = tp_camera_poll(cam, tp_now_ns() + 50000000, err, sizeof err)) == 0) {
        }
        assert_int_equal(rc, 1);
        int64_t now = tp_now_ns();
        tp_camera_frame f = {.data = buf, .capacity = sizeof buf};
        assert_int_equal(tp_camera_read(cam, &f, err, sizeof err), 0);
        assert_int_equal(f.index, k);
        assert_int_equal(f.t_ns, t0 + pts[k] * 1000000);
        assert_true(now >= f.t_ns); /* not before it is due */
        assert_int_equal(f.size, sizeof buf);
        assert_int_equal(f.format, TP_PIXEL_RGB24);
        assert_int_equal(read_number(buf, W, H), k);
    }
    assert_int_equal(tp_camera_poll(cam, tp_now_ns() + 50000000, err, sizeof err), TP_CAMERA_ENDED);
    assert_non_null(strstr(err, "camera 'vfr': file played to its end after 12 frames"));
    tp_camera_close(cam);
}

/* Looping: the file starts over, time and index go on (one frame step after
 * the last frame); a smaller configured size scales the picture. */
static void test_file_loop_and_scale(void **state)
{
    (void)state;
    enum { N = 5, STEP = 40 };
    int64_t pts[N];
    regular_pts(pts, N, STEP);
    char path[512];
    footage_path(path, sizeof path, "loop.mkv");
    write_video(path, "ffv1", AV_PIX_FMT_YUV420P, N, pts);
    tp_camera_params p;
    file_params(&p, "loop", path, true);
    p.width = 80;
    p.height = 60;
    char err[256];
    tp_camera *cam = tp_camera_open(&p, NULL, err, sizeof err);
    if (!cam)
        fail_msg("%s", err);
    int64_t t0 = tp_now_ns();
    assert_int_equal(tp_camera_start(cam, t0, err, sizeof err), 0);
    static uint8_t buf[80 * 60 * 3];
    for (int k = 0; k < 3 * N + 2; k++) {
        int rc;
        while ((rc = tp_camera_poll(cam, tp_now_ns() + 50000000, err, sizeof err)) == 0) {
        }
        assert_int_equal(rc, 1);
        tp_camera_frame f = {.data = buf, .capacity = sizeof buf};
        assert_int_equal(tp_camera_read(cam, &f, err, sizeof err), 0);
        assert_int_equal(f.index, k);
        assert_int_equal(f.t_ns, t0 + (int64_t)k * STEP * 1000000);
        assert_int_equal(f.size, sizeof buf);
        assert_int_equal(read_number(buf, 80, 60), k % N);
    }
    tp_camera_close(cam);
}

/* A file cut short (a copy that stopped halfway): the frames that are there
 * play in order, then the camera ends; nothing crashes or hangs. */
static void test_file_truncated(void **state)
{
    (void)state;
    enum { N = 10 };
    int64_t pts[N];
    regular_pts(pts, N, 30);
    char path[512], cut[512];
    footage_path(path, sizeof path, "whole.mkv");
    footage_path(cut, sizeof cut, "cut.mkv");
    write_video(path, "ffv1", AV_PIX_FMT_YUV420P, N, pts);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    static uint8_t bytes[1 << 20];
    size_t size = fread(bytes, 1, sizeof bytes, in);
    fclose(in);
    assert_true(size > 0 && size < sizeof bytes);
    FILE *out = fopen(cut, "wb");
    fwrite(bytes, 1, size * 6 / 10, out);
    fclose(out);
    tp_camera_params p;
    file_params(&p, "cut", cut, false);
    char err[256];
    tp_camera *cam = tp_camera_open(&p, NULL, err, sizeof err);
    if (!cam)
        fail_msg("%s", err);
    assert_int_equal(tp_camera_start(cam, tp_now_ns(), err, sizeof err), 0);
    static uint8_t buf[W * H * 3];
    int n = 0, rc;
    while ((rc = tp_camera_poll(cam, tp_now_ns() + 50000000, err, sizeof err)) >= 0) {
        if (rc == 0)
            continue;
        tp_camera_frame f = {.data = buf, .capacity = sizeof buf};
        assert_int_equal(tp_camera_read(cam, &f, err, sizeof err), 0);
        assert_int_equal(read_number(buf, W, H), n);
        n++;
    }
    printf("cut file: %d of %d frames played, then: %s\n", n, N, err);
    assert_int_equal(rc, TP_CAMERA_ENDED);
    assert_true(n >= 1 && n < N);
    tp_camera_close(cam);
}

static void expect_open_error(const tp_camera_params *p, const char *want)
{
    char err[512] = "";
    tp_camera *cam = tp_camera_open(p, NULL, err, sizeof err);
    if (cam || !strstr(err, want))
        fail_msg("expected '%s', got '%s'", want, cam ? "(opened)" : err);
}

static void test_file_errors(void **state)
{
    (void)state;
    char missing[512], text[512], audio[512], video[512];
    footage_path(missing, sizeof missing, "missing.mkv");
    footage_path(text, sizeof text, "notes.mkv");
    footage_path(audio, sizeof audio, "tone.wav");
    footage_path(video, sizeof video, "ffv1.mkv");
    FILE *f = fopen(text, "w");
    fputs("not a video at all\n", f);
    fclose(f);
    /* A WAV file: a real media file with an audio stream and no video. */
    f = fopen(audio, "wb");
    static const uint8_t wav[44 + 8] = {'R', 'I', 'F', 'F', 44, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
                                        16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0,
                                        'd', 'a', 't', 'a', 8, 0, 0, 0};
    fwrite(wav, 1, sizeof wav, f);
    fclose(f);
    int64_t pts[3];
    regular_pts(pts, 3, 50);
    write_video(video, "ffv1", AV_PIX_FMT_YUV420P, 3, pts);

    tp_camera_params p;
    file_params(&p, "front", missing, false);
    expect_open_error(&p, "camera 'front': file '");
    expect_open_error(&p, "missing.mkv' does not exist");
    p.path = text;
    expect_open_error(&p, "notes.mkv' is not a video libav can read");
    p.path = audio;
    expect_open_error(&p, "camera 'front': file '");
    expect_open_error(&p, "tone.wav' has no video stream");
    p.path = video;
    p.format = TP_PIXEL_MJPEG;
    expect_open_error(&p, "ffv1.mkv' is ffv1, not MJPEG");
    p.path = NULL;
    expect_open_error(&p, "camera 'front': the file driver needs `path`");

    /* The config: a file camera without a path, and a path that is missing. */
    char ini[1024], e[512];
    snprintf(ini, sizeof ini, "[camera.front]\ndriver = file\n");
    tp_config *cfgf = tp_config_parse(ini, "cams.ini", e, sizeof e);
    assert_non_null(cfgf);
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    assert_int_not_equal(tp_session_apply_config(&cfg, cfgf, e, sizeof e), 0);
    if (!strstr(e, "cams.ini") || !strstr(e, "path") || !strstr(e, "camera 'front': the file driver needs"))
        fail_msg("'%s'", e);
    tp_config_free(cfgf);
    snprintf(ini, sizeof ini, "[camera.front]\ndriver = file\npath = %s\nloop = true\n", missing);
    cfgf = tp_config_parse(ini, "cams.ini", e, sizeof e);
    assert_non_null(cfgf);
    tp_session_default_config(&cfg);
    assert_int_not_equal(tp_session_apply_config(&cfg, cfgf, e, sizeof e), 0);
    if (!strstr(e, "cams.ini:3: [camera.front] path") || !strstr(e, "missing.mkv"))
        fail_msg("'%s'", e);
    tp_config_free(cfgf);
    snprintf(ini, sizeof ini, "[camera.front]\ndriver = file\npath = %s\nloop = true\n", video);
    cfgf = tp_config_parse(ini, "cams.ini", e, sizeof e);
    assert_non_null(cfgf);
    tp_session_default_config(&cfg);
    if (tp_session_apply_config(&cfg, cfgf, e, sizeof e) != 0)
        fail_msg("%s", e);
    assert_string_equal(cfg.cameras[0].device.driver, "file");
    assert_string_equal(cfg.cameras[0].device.path, video);
    assert_true(cfg.cameras[0].device.loop);
    tp_config_free(cfgf);
}

/* ------------------------------------------------------- sessions */

static void session_config(tp_session_config *cfg, double seconds)
{
    tp_session_default_config(cfg);
    cfg->duration_s = seconds;
    cfg->model_path = model_path;
    cfg->motion_path = motion_path;
    cfg->out_dir = out_dir;
    cfg->task = "file camera test";
}

static void session_camera(tp_session_camera *c, const tp_camera_params *p)
{
    memset(c, 0, sizeof *c);
    c->device = *p;
    tp_video_encoder_default_config(&c->video, p->width, p->height, p->fps);
    c->video.preset = "ultrafast";
}

typedef struct event_tally {
    const char *camera;
    int lost, found, ended, gaps, gaps_to_end;
    int64_t lost_t, found_t, ended_t;
    double gap_ms;
} event_tally;

static int tally_event(const tp_episode_event *ev, void *user)
{
    event_tally *t = user;
    char prefix[80];
    snprintf(prefix, sizeof prefix, "camera %s:", t->camera);
    if (!ev->detail || strncmp(ev->detail, prefix, strlen(prefix)) != 0)
        return 0;
    if (!strcmp(ev->kind, "camera_lost")) {
        t->lost++;
        t->lost_t = ev->t_ns;
    }
    else if (!strcmp(ev->kind, "camera_found")) {
        t->found++;
        t->found_t = ev->t_ns;
    } else if (!strcmp(ev->kind, "camera_ended")) {
        t->ended++;
        t->ended_t = ev->t_ns;
    } else if (!strcmp(ev->kind, "camera_gap")) {
        t->gaps++;
        const char *p = strstr(ev->detail, "no frames for ");
        assert_non_null(p);
        t->gap_ms = atof(p + strlen("no frames for "));
        if (strstr(ev->detail, "until the end"))
            t->gaps_to_end++;
    }
    return 0;
}

static event_tally tally(tp_episode *ep, const char *camera)
{
    event_tally t = {.camera = camera};
    assert_int_equal(tp_episode_events(ep, tally_event, &t), 0);
    return t;
}

static void assert_valid_episode(const char *path)
{
    char report[4096] = "";
    FILE *f = fmemopen(report, sizeof report, "w");
    int rc = tp_episode_check(path, f);
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "teleop check %s:\n%s", path, report);
        fail();
    }
}

/* Every frame of a file, decoded here with libav (not the driver) to RGB. */
static int decode_file(const char *path, uint8_t *rgb, int max_frames)
{
    AVFormatContext *fmt = NULL;
    assert_true(avformat_open_input(&fmt, path, NULL, NULL) >= 0);
    assert_true(avformat_find_stream_info(fmt, NULL) >= 0);
    int si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    assert_true(si >= 0);
    const AVCodec *codec = avcodec_find_decoder(fmt->streams[si]->codecpar->codec_id);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(dec, fmt->streams[si]->codecpar);
    assert_true(avcodec_open2(dec, codec, NULL) >= 0);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    struct SwsContext *sws = NULL;
    int n = 0;
    bool eof = false;
    while (n < max_frames) {
        int rc = avcodec_receive_frame(dec, fr);
        if (rc == 0) {
            sws = sws_getCachedContext(sws, fr->width, fr->height, fr->format, W, H, AV_PIX_FMT_RGB24, SWS_BILINEAR,
                                       NULL, NULL, NULL);
            uint8_t *dst[4] = {rgb + (size_t)n * W * H * 3};
            int stride[4] = {3 * W};
            sws_scale(sws, (const uint8_t *const *)fr->data, fr->linesize, 0, H, dst, stride);
            n++;
            continue;
        }
        if (rc == AVERROR_EOF)
            break;
        if (eof)
            break;
        if (av_read_frame(fmt, pkt) < 0) {
            avcodec_send_packet(dec, NULL);
            eof = true;
            continue;
        }
        if (pkt->stream_index == si)
            avcodec_send_packet(dec, pkt);
        av_packet_unref(pkt);
    }
    sws_freeContext(sws);
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    return n;
}

/* Decodes a recorded camera stream: frame numbers shown, into numbers[]; the
 * pictures into rgb (when not NULL). Returns the frame count. */
static int decode_stream(tp_episode *ep, const char *name, int *numbers, uint8_t *rgb, int max_frames)
{
    const tp_stream_info *s = tp_episode_find_stream(ep, name);
    assert_non_null(s);
    char err[256];
    tp_video_decoder *dec =
        tp_video_decoder_create(s->codec, s->extradata, s->extradata_size, s->width, s->height, err, sizeof err);
    if (!dec)
        fail_msg("%s", err);
    tp_episode_cursor *cur = tp_episode_cursor_open(ep, s->id);
    assert_non_null(cur);
    tp_episode_row row;
    int n = 0;
    bool more = true;
    while (n < max_frames) {
        tp_video_frame vf;
        int rc = tp_video_decoder_receive(dec, &vf, err, sizeof err);
        assert_true(rc >= 0);
        if (rc == 1) {
            assert_int_equal(vf.width, W);
            numbers[n] = read_number(vf.rgb, W, H);
            if (rgb)
                memcpy(rgb + (size_t)n * W * H * 3, vf.rgb, (size_t)W * H * 3);
            n++;
            continue;
        }
        if (!more)
            break;
        int c = tp_episode_cursor_next(cur, &row);
        assert_true(c >= 0);
        if (c == 0) {
            more = false;
            assert_int_equal(tp_video_decoder_send(dec, NULL, 0, 0, err, sizeof err), 0);
        } else {
            assert_int_equal(tp_video_decoder_send(dec, row.bytes, row.size, row.pts, err, sizeof err), 0);
        }
    }
    tp_episode_cursor_close(cur);
    tp_video_decoder_destroy(dec);
    return n;
}

/* Three file cameras at once, for 2 s: "loops" (1 s of h264-recorded
 * footage, looping), "once" (0.5 s, played once, recorded lossless with
 * ffv1) and "mjpeg" (an MJPEG file passed through, looping). */
static void test_three_file_cameras(void **state)
{
    (void)state;
    enum { NL = 20, NO = 10, NM = 8 };
    int64_t pts[NL];
    char loops[512], once[512], mjpeg[512];
    footage_path(loops, sizeof loops, "loops.mkv");
    footage_path(once, sizeof once, "once.mkv");
    footage_path(mjpeg, sizeof mjpeg, "mjpeg.avi");
    regular_pts(pts, NL, 50);
    write_video(loops, "ffv1", AV_PIX_FMT_YUV420P, NL, pts);
    write_video(once, "ffv1", AV_PIX_FMT_YUV420P, NO, pts);
    write_video(mjpeg, "mjpeg", AV_PIX_FMT_YUVJ420P, NM, pts);

    tp_session_config cfg;
    session_config(&cfg, 2.0);
    cfg.camera_count = 3;
    tp_camera_params p;
    file_params(&p, "loops", loops, true);
    session_camera(&cfg.cameras[0], &p);
    file_params(&p, "once", once, false);
    session_camera(&cfg.cameras[1], &p);
    cfg.cameras[1].video.codec = "ffv1";
    file_params(&p, "mjpeg", mjpeg, true);
    p.format = TP_PIXEL_MJPEG;
    session_camera(&cfg.cameras[2], &p);
    cfg.cameras[2].video.codec = "mjpeg";
    tp_session_stats st;
    char err[512];
    if (tp_session_run(&cfg, NULL, &st, err, sizeof err) != 0)
        fail_msg("%s", err);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(atomic_load(&st.cameras[i].lost), 0);
        assert_int_equal(atomic_load(&st.cameras[i].dropped), 0);
    }
    assert_valid_episode(st.episode_path);

    char e2[256];
    tp_episode *ep = tp_episode_open(st.episode_path, e2, sizeof e2);
    assert_non_null(ep);
    int64_t start = atoll(tp_episode_meta(ep, "start_t_ns"));
    static int numbers[64];
    /* Looping: 2 s at 20 fps, the picture counting 0..19 over again, the
     * capture times going on. */
    const tp_stream_info *s = tp_episode_find_stream(ep, "loops");
    printf("loops: %lld frames, last at %.3f s\n", (long long)s->count, (double)(s->t_last - start) / 1e9);
    assert_true(s->count >= 38 && s->count <= 41);
    assert_true(s->t_last - start >= 1900000000LL);
    int n = decode_stream(ep, "loops", numbers, NULL, 64);
    assert_int_equal(n, s->count);
    for (int k = 0; k < n; k++)
        assert_int_equal(numbers[k], k % NL);
    event_tally t = tally(ep, "loops");
    assert_int_equal(t.ended + t.lost + t.gaps, 0);

    /* Once: ten frames, then camera_ended (not lost, no gap). */
    s = tp_episode_find_stream(ep, "once");
    assert_int_equal(s->count, NO);
    assert_string_equal(s->codec, "ffv1");
    t = tally(ep, "once");
    assert_int_equal(t.ended, 1);
    assert_int_equal(t.lost + t.gaps, 0);
    assert_true(t.ended_t >= s->t_last && t.ended_t - start < 1000000000LL);
    static uint8_t recorded[NO * W * H * 3], source[NO * W * H * 3];
    assert_int_equal(decode_stream(ep, "once", numbers, recorded, NO), NO);
    assert_int_equal(decode_file(once, source, NO), NO);
    /* Recorded with ffv1 (lossless) from the RGB the camera delivered: the
     * tolerance is zero, every pixel equals the source decoded here. */
    double sum = 0;
    int worst = 0;
    for (size_t i = 0; i < sizeof recorded; i++) {
        int d = abs((int)recorded[i] - (int)source[i]);
        sum += d;
        if (d > worst)
            worst = d;
    }
    double mean = sum / sizeof recorded;
    printf("once: recorded vs source pixels: mean |diff| %.3f, max %d levels\n", mean, worst);
    assert_int_equal(worst, 0);
    assert_true(mean == 0);
    for (int k = 0; k < NO; k++)
        assert_int_equal(numbers[k], k);

    /* MJPEG passed through: the file's own JPEGs, looping. */
    s = tp_episode_find_stream(ep, "mjpeg");
    assert_string_equal(s->codec, "mjpeg");
    assert_true(s->count >= 38 && s->count <= 41);
    n = decode_stream(ep, "mjpeg", numbers, NULL, 64);
    for (int k = 0; k < n; k++)
        assert_int_equal(numbers[k], k % NM);
    tp_episode_close(ep);
}

/* A pattern camera vanishes at 0.6 s and can be opened again from 1.2 s:
 * camera_lost, then (retries every 0.5 s: 1.1 s fails, 1.6 s succeeds)
 * camera_found, a camera_gap for the time without frames, and frames resume
 * in the same stream until the end. */
static void test_reconnect(void **state)
{
    (void)state;
    tp_session_config cfg;
    session_config(&cfg, 2.4);
    cfg.camera_count = 1;
    tp_camera_params p;
    tp_camera_default_params(&p, "replugged");
    p.driver = "pattern";
    p.width = W;
    p.height = H;
    p.vanish_at_s = 0.6;
    p.reappear_at_s = 1.2;
    session_camera(&cfg.cameras[0], &p);
    tp_session_stats st;
    char err[512];
    if (tp_session_run(&cfg, NULL, &st, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(atomic_load(&st.cameras[0].lost), 0); /* back */
    assert_int_equal(atomic_load(&st.cameras[0].gaps), 1);
    assert_valid_episode(st.episode_path);
    char e2[256];
    tp_episode *ep = tp_episode_open(st.episode_path, e2, sizeof e2);
    assert_non_null(ep);
    int64_t start = atoll(tp_episode_meta(ep, "start_t_ns"));
    event_tally t = tally(ep, "replugged");
    printf("reconnect: lost %d, found %d at %.3f s, gap %.0f ms\n", t.lost, t.found,
           (double)(t.found_t - start) / 1e9, t.gap_ms);
    assert_int_equal(t.lost, 1);
    assert_int_equal(t.found, 1);
    assert_int_equal(t.gaps, 1);
    assert_int_equal(t.gaps_to_end, 0);
    /* Lost at about 0.6 s; tried again 0.5 s later (still gone), found at
     * the second try, 1.0 s after the loss. */
    assert_true(t.lost_t - start >= 600000000LL && t.lost_t - start <= 800000000LL);
    assert_true(t.found_t - start >= 1200000000LL);
    assert_true(t.found_t - t.lost_t >= 990000000LL && t.found_t - t.lost_t <= 1200000000LL);
    assert_true(t.gap_ms >= 1000 && t.gap_ms <= 1300);
    const tp_stream_info *s = tp_episode_find_stream(ep, "replugged");
    assert_true(s->t_last - start >= 2200000000LL);
    /* Frames before the loss and after the return, in one stream. */
    tp_episode_cursor *cur = tp_episode_cursor_open_stamps(ep, s->id);
    tp_episode_row row;
    int before = 0, after = 0;
    while (tp_episode_cursor_next(cur, &row) == 1) {
        if (row.t_ns - start < 600000000LL)
            before++;
        else if (row.t_ns >= t.found_t)
            after++;
        else
            fail_msg("a frame at %.3f s, while the camera was gone", (double)(row.t_ns - start) / 1e9);
    }
    tp_episode_cursor_close(cur);
    printf("reconnect: %d frames before, %d after\n", before, after);
    assert_true(before >= 16 && after >= 15);
    tp_episode_close(ep);
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--footage")) {
        int n = atoi(argv[3]);
        if (n < 1 || n > 10000) {
            fprintf(stderr, "--footage: FRAMES must be 1-10000\n");
            return 2;
        }
        int64_t *pts = malloc(sizeof *pts * (size_t)n);
        regular_pts(pts, n, 50);
        size_t len = strlen(argv[2]);
        bool avi = len > 4 && !strcmp(argv[2] + len - 4, ".avi");
        write_video(argv[2], avi ? "mjpeg" : "ffv1", avi ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P, n, pts);
        free(pts);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.xml MOTION.csv\n", argv[0]);
        return 2;
    }
    model_path = argv[1];
    motion_path = argv[2];
    snprintf(out_dir, sizeof out_dir, "/tmp/teleop-test-filecam-XXXXXX");
    if (!mkdtemp(out_dir)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_once_variable_rate),
        cmocka_unit_test(test_file_loop_and_scale),
        cmocka_unit_test(test_file_truncated),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_three_file_cameras),
        cmocka_unit_test(test_reconnect),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out_dir);
    if (rc == 0 && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", out_dir);
    return rc;
}
