/* teleop — the "file" camera driver: a video file (anything libavformat
 * reads) played as a camera in real time from the session's start. Frame k
 * is due at t0 + (pts_k - pts_0), the file's own timestamps, so a
 * variable-rate file plays as recorded. Looping starts over with the time
 * and the frame index going on; played once, the camera ends (poll -2)
 * after the last frame.
 *
 * Pictures: decoded with libavcodec and scaled with libswscale (bilinear)
 * to fill the configured width x height as RGB; the aspect ratio is not
 * kept (a file of another shape is stretched). An MJPEG file with
 * `format = mjpeg` passes its JPEG packets through untouched (the file's
 * frame size must then be the configured one).
 *
 * Decoding runs one frame ahead: open decodes the first frame and each read
 * decodes the next, so poll only waits for the due time. */
#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "camera_drivers.h"
#include "teleop/clock.h"

typedef struct file_camera {
    AVFormatContext *fmt;
    AVCodecContext *dec; /* NULL when passing MJPEG through */
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    int stream;
    AVRational time_base;
    /* the frame decoded ahead */
    uint8_t *next;
    size_t next_cap, next_size;
    int64_t next_rel_ns; /* pts - pts_0 of this pass, ns */
    bool have_next, ended, at_eof, pass_started;
    char end_msg[200]; /* why the camera ended */
    /* the file's time */
    int64_t pts0;              /* the first frame's pts; AV_NOPTS_VALUE until seen */
    int64_t pass_offset_ns;    /* passes played before this one */
    int64_t last_rel_ns, last_step_ns; /* the latest frame of the pass, and its spacing */
    int64_t fallback_step_ns;  /* a frame's spacing when the file gives none */
    int64_t t0_ns, index, due_ns;
} file_camera;

static void file_free(file_camera *c)
{
    if (!c)
        return;
    sws_freeContext(c->sws);
    av_frame_free(&c->frame);
    av_packet_free(&c->pkt);
    avcodec_free_context(&c->dec);
    avformat_close_input(&c->fmt);
    free(c->next);
    free(c);
}

static int64_t rel_ns(file_camera *c, int64_t pts)
{
    if (pts == AV_NOPTS_VALUE) /* no timestamp: one step after the last */
        return c->last_rel_ns + (c->last_step_ns > 0 ? c->last_step_ns : c->fallback_step_ns);
    if (c->pts0 == AV_NOPTS_VALUE)
        c->pts0 = pts;
    return av_rescale_q(pts - c->pts0, c->time_base, (AVRational){1, 1000000000});
}

/* Takes the decoded c->frame (or c->pkt when passing through) as the next frame. */
static int hold_frame(tp_camera *cam, int64_t pts, char *err, size_t errlen)
{
    file_camera *c = cam->state;
    const tp_camera_params *p = &cam->params;
    if (!c->dec) {
        if ((size_t)c->pkt->size > c->next_cap) {
            snprintf(err, errlen, "camera '%s': file '%s': a %d-byte JPEG exceeds the %zu-byte frame", p->name,
                     p->path, c->pkt->size, c->next_cap);
            return -1;
        }
        memcpy(c->next, c->pkt->data, (size_t)c->pkt->size);
        c->next_size = (size_t)c->pkt->size;
    } else {
        AVFrame *f = c->frame;
        c->sws = sws_getCachedContext(c->sws, f->width, f->height, (enum AVPixelFormat)f->format, p->width,
                                      p->height, AV_PIX_FMT_RGB24, SWS_BILINEAR, NULL, NULL, NULL);
        if (!c->sws) {
            snprintf(err, errlen, "camera '%s': file '%s': cannot convert its %dx%d %s frames", p->name, p->path,
                     f->width, f->height, av_get_pix_fmt_name((enum AVPixelFormat)f->format));
            return -1;
        }
        uint8_t *dst[4] = {c->next};
        int stride[4] = {3 * p->width};
        sws_scale(c->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
        c->next_size = (size_t)p->width * (size_t)p->height * 3;
    }
    int64_t r = rel_ns(c, pts);
    if (c->pass_started) {
        if (r <= c->last_rel_ns) /* not later than the one before: one step on */
            r = c->last_rel_ns + (c->last_step_ns > 0 ? c->last_step_ns : c->fallback_step_ns);
        c->last_step_ns = r - c->last_rel_ns;
    }
    c->pass_started = true;
    c->next_rel_ns = r;
    c->last_rel_ns = r;
    c->have_next = true;
    return 0;
}

/* Starts the file over: the next pass begins one frame step after this
 * pass's last frame. */
static int rewind_file(tp_camera *cam, char *err, size_t errlen)
{
    file_camera *c = cam->state;
    if (avformat_seek_file(c->fmt, c->stream, INT64_MIN, c->pts0 == AV_NOPTS_VALUE ? 0 : c->pts0,
                           c->pts0 == AV_NOPTS_VALUE ? 0 : c->pts0, AVSEEK_FLAG_BACKWARD) < 0 &&
        av_seek_frame(c->fmt, c->stream, 0, AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_BYTE) < 0) {
        snprintf(err, errlen, "camera '%s': file '%s' cannot seek back to its start to loop", cam->params.name,
                 cam->params.path);
        return -1;
    }
    if (c->dec)
        avcodec_flush_buffers(c->dec);
    c->pass_offset_ns += c->last_rel_ns + (c->last_step_ns > 0 ? c->last_step_ns : c->fallback_step_ns);
    c->last_rel_ns = 0;
    c->pass_started = false;
    c->at_eof = false;
    return 0;
}

/* Decodes the next frame into c->next. 1: one is there; 0: the file ended
 * (played once); -1: error. */
static int decode_next(tp_camera *cam, char *err, size_t errlen)
{
    file_camera *c = cam->state;
    for (int rewinds = 0;;) {
        if (c->dec) {
            int rc = avcodec_receive_frame(c->dec, c->frame);
            if (rc == 0) {
                int64_t pts = c->frame->best_effort_timestamp;
                rc = hold_frame(cam, pts, err, errlen);
                av_frame_unref(c->frame);
                return rc == 0 ? 1 : -1;
            }
            if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF) {
                snprintf(err, errlen, "camera '%s': file '%s': decoding failed", cam->params.name, cam->params.path);
                return -1;
            }
            if (rc == AVERROR_EOF || c->at_eof) {
                if (!cam->params.loop)
                    return 0;
                if (++rewinds > 1) {
                    snprintf(err, errlen, "camera '%s': file '%s' has no frame to loop", cam->params.name,
                             cam->params.path);
                    return -1;
                }
                if (rewind_file(cam, err, errlen) != 0)
                    return -1;
                continue;
            }
        }
        av_packet_unref(c->pkt);
        int rd = av_read_frame(c->fmt, c->pkt);
        if (rd < 0) {
            if (c->dec) {
                c->at_eof = true;
                avcodec_send_packet(c->dec, NULL); /* drain what the decoder still holds */
                continue;
            }
            if (!cam->params.loop)
                return 0;
            if (++rewinds > 1) {
                snprintf(err, errlen, "camera '%s': file '%s' has no frame to loop", cam->params.name,
                         cam->params.path);
                return -1;
            }
            if (rewind_file(cam, err, errlen) != 0)
                return -1;
            continue;
        }
        if (c->pkt->stream_index != c->stream)
            continue;
        if (!c->dec) {
            int64_t pts = c->pkt->pts != AV_NOPTS_VALUE ? c->pkt->pts : c->pkt->dts;
            return hold_frame(cam, pts, err, errlen) == 0 ? 1 : -1;
        }
        /* A damaged packet is skipped, as a player would: its frame is
         * missing, the file plays on (a file of nothing but damage ends at
         * its end, or fails to loop). */
        (void)avcodec_send_packet(c->dec, c->pkt);
    }
}

static int file_open(tp_camera *cam, const tp_camera_env *env, char *err, size_t errlen)
{
    (void)env;
    const tp_camera_params *p = &cam->params;
    if (!p->path || !p->path[0]) {
        snprintf(err, errlen, "camera '%s': the file driver needs `path` (a video file)", p->name);
        return -1;
    }
    file_camera *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "camera '%s': out of memory", p->name);
        return -1;
    }
    cam->state = c;
    c->pts0 = AV_NOPTS_VALUE;
    int rc = avformat_open_input(&c->fmt, p->path, NULL, NULL);
    if (rc < 0) {
        if (rc == AVERROR(ENOENT))
            snprintf(err, errlen, "camera '%s': file '%s' does not exist", p->name, p->path);
        else
            snprintf(err, errlen, "camera '%s': file '%s' is not a video libav can read (%s)", p->name, p->path,
                     av_err2str(rc));
        goto fail;
    }
    if (avformat_find_stream_info(c->fmt, NULL) < 0) {
        snprintf(err, errlen, "camera '%s': file '%s' is not a video libav can read", p->name, p->path);
        goto fail;
    }
    c->stream = av_find_best_stream(c->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (c->stream < 0) {
        snprintf(err, errlen, "camera '%s': file '%s' has no video stream", p->name, p->path);
        goto fail;
    }
    AVStream *st = c->fmt->streams[c->stream];
    const AVCodecParameters *par = st->codecpar;
    c->time_base = st->time_base;
    AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    c->fallback_step_ns = rate.num > 0 ? av_rescale(1000000000, rate.den, rate.num) : (int64_t)(1e9 / p->fps);
    bool passthrough = p->format == TP_PIXEL_MJPEG;
    if (passthrough && par->codec_id != AV_CODEC_ID_MJPEG) {
        snprintf(err, errlen, "camera '%s': file '%s' is %s, not MJPEG: `format = mjpeg` passes MJPEG files through",
                 p->name, p->path, avcodec_get_name(par->codec_id));
        goto fail;
    }
    if (passthrough && (par->width != p->width || par->height != p->height)) {
        snprintf(err, errlen, "camera '%s': file '%s' is %dx%d, the camera %dx%d (MJPEG passes through unscaled)",
                 p->name, p->path, par->width, par->height, p->width, p->height);
        goto fail;
    }
    c->pkt = av_packet_alloc();
    c->frame = av_frame_alloc();
    c->next_cap = (size_t)p->width * (size_t)p->height * 3;
    c->next = malloc(c->next_cap);
    if (!c->pkt || !c->frame || !c->next) {
        snprintf(err, errlen, "camera '%s': out of memory", p->name);
        goto fail;
    }
    if (!passthrough) {
        const AVCodec *codec = avcodec_find_decoder(par->codec_id);
        if (!codec) {
            snprintf(err, errlen, "camera '%s': file '%s': no decoder for %s", p->name, p->path,
                     avcodec_get_name(par->codec_id));
            goto fail;
        }
        c->dec = avcodec_alloc_context3(codec);
        if (!c->dec || avcodec_parameters_to_context(c->dec, par) < 0) {
            snprintf(err, errlen, "camera '%s': out of memory", p->name);
            goto fail;
        }
        c->dec->thread_count = 1;
        c->dec->pkt_timebase = st->time_base;
        if (avcodec_open2(c->dec, codec, NULL) < 0) {
            snprintf(err, errlen, "camera '%s': file '%s': cannot open its %s decoder", p->name, p->path,
                     codec->name);
            goto fail;
        }
    }
    rc = decode_next(cam, err, errlen);
    if (rc <= 0) {
        if (rc == 0)
            snprintf(err, errlen, "camera '%s': file '%s' has no frames", p->name, p->path);
        goto fail;
    }
    return 0;
fail:
    file_free(c);
    cam->state = NULL;
    return -1;
}

static int file_start(tp_camera *cam, int64_t t0_ns, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    file_camera *c = cam->state;
    c->t0_ns = t0_ns;
    c->index = 0;
    return 0;
}

static int file_poll(tp_camera *cam, int64_t deadline_ns, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    file_camera *c = cam->state;
    if (!c->have_next) {
        if (!c->ended)
            return 0;
        snprintf(err, errlen, "camera '%s': %s", cam->params.name, c->end_msg);
        return -2;
    }
    int64_t due = c->t0_ns + c->pass_offset_ns + c->next_rel_ns;
    int64_t now = tp_now_ns();
    if (now < due) {
        int64_t until = due < deadline_ns ? due : deadline_ns;
        if (until > now) {
            struct timespec ts = {.tv_sec = until / 1000000000LL, .tv_nsec = until % 1000000000LL};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
            }
        }
        if (tp_now_ns() < due)
            return 0;
    }
    c->due_ns = due;
    return 1;
}

static int file_read(tp_camera *cam, tp_camera_frame *f, char *err, size_t errlen)
{
    file_camera *c = cam->state;
    const tp_camera_params *p = &cam->params;
    f->t_ns = c->due_ns;
    f->index = c->index++;
    f->format = p->format;
    f->size = 0;
    int rc = 0;
    if (f->data) {
        if (c->next_size > f->capacity) {
            snprintf(err, errlen, "camera '%s': frame buffer of %zu bytes is too small", p->name, f->capacity);
            rc = -1;
        } else {
            memcpy(f->data, c->next, c->next_size);
            f->size = c->next_size;
        }
    }
    c->have_next = false;
    char derr[160];
    int d = decode_next(cam, derr, sizeof derr);
    if (d == 0) {
        c->ended = true;
        snprintf(c->end_msg, sizeof c->end_msg, "file played to its end after %lld frames", (long long)c->index);
    } else if (d < 0) {
        /* The rest of the file cannot be read: the camera ends here, saying why. */
        c->ended = true;
        snprintf(c->end_msg, sizeof c->end_msg, "ended early: %s", derr);
    }
    return rc;
}

static void file_stop(tp_camera *cam) { (void)cam; }

static void file_close(tp_camera *cam)
{
    file_free(cam->state);
    cam->state = NULL;
}

const tp_camera_driver tp_camera_file_driver = {
    .name = "file", .open = file_open, .start = file_start, .poll = file_poll,
    .read = file_read, .stop = file_stop, .close = file_close, .calibration = tp_camera_nominal_calibration,
};
