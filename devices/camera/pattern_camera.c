/* teleop — the "pattern" camera driver: a synthetic scene that moves, with
 * per-pixel sensor noise, so encoders work as hard as on a real camera;
 * delivered as RGB or as MJPEG (libavcodec's JPEG encoder, like a UVC
 * camera's). Deterministic: frame n of seed s is always the same picture.
 * Fault injection for tests: a stall window, a vanish time and a time from
 * which the vanished device can be opened again (a replug). */
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera_drivers.h"
#include "teleop/clock.h"

typedef struct pattern_camera {
    camera_ticker ticker;
    int64_t t0_ns, tick_ns, index;
    int64_t stall_from_ns, stall_until_ns, vanish_ns; /* 0: never */
    int64_t started_ns; /* a replugged device has no frames from before it was started */
    /* MJPEG output */
    uint8_t *rgb;
    AVCodecContext *jpeg;
    AVFrame *yuv;
    AVPacket *pkt;
    struct SwsContext *sws;
} pattern_camera;

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint8_t clamp_u8(int v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v; }

void tp_camera_pattern_render(uint64_t seed, double noise, int64_t index, double t_s, int width, int height,
                              uint8_t *rgb)
{
    /* Noise: one random byte per channel maps through a table to a
     * triangular distribution (two nibbles summed) scaled to the standard
     * deviation asked for: cheap, and as incompressible as sensor noise. */
    int8_t table[256];
    const double nibble_sd = sqrt(2.0 * (16.0 * 16.0 - 1.0) / 12.0);
    for (int i = 0; i < 256; i++) {
        double v = (double)((i >> 4) + (i & 15) - 15) * noise / nibble_sd;
        table[i] = (int8_t)fmax(-127, fmin(127, lround(v)));
    }
    uint64_t rng = seed * 0x2545F4914F6CDD1DULL ^ (uint64_t)index * 0x9E3779B97F4A7C15ULL;
    /* Motion: a checkerboard scrolling at 80 px/s, a disk on a Lissajous
     * path and a bar sweeping down, over a fixed colour gradient. */
    int scroll = (int)(t_s * 80.0);
    double cx = width * (0.5 + 0.35 * sin(t_s * 1.3)), cy = height * (0.5 + 0.35 * sin(t_s * 1.9 + 0.7));
    double r = 0.12 * (width < height ? width : height);
    int bar = (int)fmod(t_s * 60.0, (double)height);
    uint64_t bits = 0;
    int left = 0;
    for (int y = 0; y < height; y++) {
        uint8_t *row = rgb + (size_t)y * (size_t)width * 3;
        double dy = y - cy;
        int gy = y * 160 / height;
        for (int x = 0; x < width; x++) {
            int base_r, base_g, base_b;
            double dx = x - cx;
            if (dx * dx + dy * dy < r * r) {
                base_r = 220, base_g = 60, base_b = 40;
            } else if (y >= bar && y < bar + 12) {
                base_r = 30, base_g = 200, base_b = 90;
            } else {
                int check = (((x + scroll) >> 5) ^ (y >> 5)) & 1;
                int gx = x * 160 / width;
                base_r = 40 + gx / 2 + check * 50;
                base_g = 40 + gy / 2 + check * 50;
                base_b = 90 + check * 50;
            }
            if (left < 3) {
                bits = splitmix64(&rng);
                left = 8;
            }
            row[3 * x + 0] = clamp_u8(base_r + table[bits & 255]);
            row[3 * x + 1] = clamp_u8(base_g + table[(bits >> 8) & 255]);
            row[3 * x + 2] = clamp_u8(base_b + table[(bits >> 16) & 255]);
            bits >>= 24;
            left -= 3;
        }
    }
}

static void pattern_free(pattern_camera *c)
{
    if (!c)
        return;
    sws_freeContext(c->sws);
    av_packet_free(&c->pkt);
    av_frame_free(&c->yuv);
    avcodec_free_context(&c->jpeg);
    free(c->rgb);
    free(c);
}

static int open_jpeg(pattern_camera *c, const tp_camera_params *p, char *err, size_t errlen)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!codec) {
        snprintf(err, errlen, "camera '%s': libavcodec has no MJPEG encoder", p->name);
        return -1;
    }
    c->jpeg = avcodec_alloc_context3(codec);
    c->yuv = av_frame_alloc();
    c->pkt = av_packet_alloc();
    c->rgb = malloc((size_t)p->width * (size_t)p->height * 3);
    if (!c->jpeg || !c->yuv || !c->pkt || !c->rgb) {
        snprintf(err, errlen, "camera '%s': out of memory", p->name);
        return -1;
    }
    c->jpeg->width = p->width;
    c->jpeg->height = p->height;
    c->jpeg->pix_fmt = AV_PIX_FMT_YUVJ420P; /* full-range 4:2:0, what UVC cameras send */
    c->jpeg->time_base = (AVRational){1, (int)lround(p->fps)};
    c->jpeg->flags |= AV_CODEC_FLAG_QSCALE;
    c->jpeg->global_quality = FF_QP2LAMBDA * p->mjpeg_quality;
    c->jpeg->thread_count = 1;
    if (avcodec_open2(c->jpeg, codec, NULL) < 0) {
        snprintf(err, errlen, "camera '%s': cannot open the MJPEG encoder", p->name);
        return -1;
    }
    c->yuv->format = AV_PIX_FMT_YUVJ420P;
    c->yuv->width = p->width;
    c->yuv->height = p->height;
    c->sws = sws_getContext(p->width, p->height, AV_PIX_FMT_RGB24, p->width, p->height, AV_PIX_FMT_YUVJ420P,
                            SWS_BILINEAR, NULL, NULL, NULL);
    if (av_frame_get_buffer(c->yuv, 0) < 0 || !c->sws) {
        snprintf(err, errlen, "camera '%s': cannot set up the MJPEG encoder", p->name);
        return -1;
    }
    return 0;
}

static int pattern_open(tp_camera *cam, const tp_camera_env *env, char *err, size_t errlen)
{
    (void)env;
    const tp_camera_params *p = &cam->params;
    if (p->width % 2 || p->height % 2) {
        snprintf(err, errlen, "camera '%s': %dx%d must be even", p->name, p->width, p->height);
        return -1;
    }
    if (!(p->noise >= 0 && p->noise <= 64) || p->stall_at_s < 0 || p->stall_for_s < 0 || p->vanish_at_s < 0 ||
        p->reappear_at_s < 0) {
        snprintf(err, errlen, "camera '%s': pattern noise must be 0-64 and stall/vanish/reappear times not negative",
                 p->name);
        return -1;
    }
    pattern_camera *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "camera '%s': out of memory", p->name);
        return -1;
    }
    if (p->format == TP_PIXEL_MJPEG && open_jpeg(c, p, err, errlen) != 0) {
        pattern_free(c);
        return -1;
    }
    cam->state = c;
    return 0;
}

static int pattern_start(tp_camera *cam, int64_t t0_ns, char *err, size_t errlen)
{
    pattern_camera *c = cam->state;
    const tp_camera_params *p = &cam->params;
    c->t0_ns = t0_ns;
    c->index = 0;
    /* Like a UVC camera's driver queue: frames taken while the reader was
     * held up wait for it, up to four. */
    camera_ticker_start(&c->ticker, t0_ns, p->fps, 4);
    if (p->stall_for_s > 0) {
        c->stall_from_ns = t0_ns + (int64_t)llround(p->stall_at_s * 1e9);
        c->stall_until_ns = c->stall_from_ns + (int64_t)llround(p->stall_for_s * 1e9);
    }
    c->vanish_ns = p->vanish_at_s > 0 ? t0_ns + (int64_t)llround(p->vanish_at_s * 1e9) : 0;
    c->started_ns = 0;
    if (c->vanish_ns) {
        /* Started again (a reconnect): absent from the vanish time until the
         * reappear time (for good without one), then a device that stays,
         * counting on from the session's start. */
        int64_t now = tp_now_ns();
        int64_t back = p->reappear_at_s > p->vanish_at_s ? t0_ns + (int64_t)llround(p->reappear_at_s * 1e9) : 0;
        if (now >= c->vanish_ns && (!back || now < back)) {
            snprintf(err, errlen, "camera '%s': device not found", p->name);
            return -1;
        }
        if (back && now >= back) {
            c->vanish_ns = 0;
            c->started_ns = now;
        }
    }
    return 0;
}

static int pattern_poll(tp_camera *cam, int64_t deadline_ns, char *err, size_t errlen)
{
    pattern_camera *c = cam->state;
    int64_t tick;
    while (camera_ticker_wait(&c->ticker, deadline_ns, &tick)) {
        if (c->vanish_ns && tick >= c->vanish_ns) {
            snprintf(err, errlen, "camera '%s': device vanished", cam->params.name);
            return -1;
        }
        if (c->stall_until_ns && tick >= c->stall_from_ns && tick < c->stall_until_ns)
            continue; /* a stalled sensor delivers nothing; its counter still runs */
        if (tick < c->started_ns)
            continue;
        c->tick_ns = tick;
        c->index = (tick - c->t0_ns + c->ticker.period_ns / 2) / c->ticker.period_ns;
        return 1;
    }
    if (c->vanish_ns && tp_now_ns() >= c->vanish_ns) {
        snprintf(err, errlen, "camera '%s': device vanished", cam->params.name);
        return -1;
    }
    return 0;
}

static int encode_jpeg(pattern_camera *c, const tp_camera_params *p, tp_camera_frame *f, char *err, size_t errlen)
{
    const uint8_t *src[1] = {c->rgb};
    int stride[1] = {3 * p->width};
    if (av_frame_make_writable(c->yuv) < 0) {
        snprintf(err, errlen, "camera '%s': MJPEG frame not writable", p->name);
        return -1;
    }
    sws_scale(c->sws, src, stride, 0, p->height, c->yuv->data, c->yuv->linesize);
    c->yuv->pts = f->index;
    av_packet_unref(c->pkt);
    if (avcodec_send_frame(c->jpeg, c->yuv) < 0 || avcodec_receive_packet(c->jpeg, c->pkt) < 0) {
        snprintf(err, errlen, "camera '%s': MJPEG encode failed", p->name);
        return -1;
    }
    if ((size_t)c->pkt->size > f->capacity) {
        snprintf(err, errlen, "camera '%s': a %d-byte MJPEG frame exceeds the %zu-byte buffer", p->name,
                 c->pkt->size, f->capacity);
        return -1;
    }
    memcpy(f->data, c->pkt->data, (size_t)c->pkt->size);
    f->size = (size_t)c->pkt->size;
    return 0;
}

static int pattern_read(tp_camera *cam, tp_camera_frame *f, char *err, size_t errlen)
{
    pattern_camera *c = cam->state;
    const tp_camera_params *p = &cam->params;
    f->t_ns = c->tick_ns; /* the start of the exposure */
    f->index = c->index;
    f->format = p->format;
    f->size = 0;
    if (!f->data)
        return 0;
    size_t raw = (size_t)p->width * (size_t)p->height * 3;
    double t_s = (double)(c->tick_ns - c->t0_ns) / 1e9;
    if (p->format == TP_PIXEL_MJPEG) {
        tp_camera_pattern_render(p->seed, p->noise, c->index, t_s, p->width, p->height, c->rgb);
        return encode_jpeg(c, p, f, err, errlen);
    }
    if (f->capacity < raw) {
        snprintf(err, errlen, "camera '%s': frame buffer of %zu bytes is too small", p->name, f->capacity);
        return -1;
    }
    tp_camera_pattern_render(p->seed, p->noise, c->index, t_s, p->width, p->height, f->data);
    f->size = raw;
    return 0;
}

static void pattern_stop(tp_camera *cam) { (void)cam; }

static void pattern_close(tp_camera *cam)
{
    pattern_free(cam->state);
    cam->state = NULL;
}

const tp_camera_driver tp_camera_pattern_driver = {
    .name = "pattern", .open = pattern_open, .start = pattern_start, .poll = pattern_poll,
    .read = pattern_read, .stop = pattern_stop, .close = pattern_close, .calibration = tp_camera_nominal_calibration,
};
