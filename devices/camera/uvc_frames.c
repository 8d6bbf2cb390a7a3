/* teleop — the UVC driver's frame path: callback → ring → conversion. */
#include "uvc_frames.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "teleop/clock.h"

typedef struct frame_slot {
    int64_t arrival_ns;
    int64_t capture_ns; /* mapped device time, 0: none usable */
    uint32_t sequence;
    uint32_t width, height;
    int32_t frame_format; /* enum uvc_frame_format */
    size_t bytes;
    _Alignas(16) uint8_t data[];
} frame_slot;

/* A device stamp older than this before the arrival is not this frame's. */
#define CAPTURE_WINDOW_NS 1000000000LL

int uvc_frames_init(uvc_frames *f, const char *name, int width, int height, tp_pixel_format out, size_t slot_bytes,
                    char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->name = name;
    f->width = width;
    f->height = height;
    f->out = out;
    f->slot_bytes = slot_bytes;
    f->wake_fd = -1;
    f->sws_from = AV_PIX_FMT_NONE;
    /* Four frames: a UVC driver's usual queue, ~130 ms at 30 fps. */
    if (tp_ring_init(&f->ring, sizeof(frame_slot) + ((slot_bytes + 15) & ~(size_t)15), 4) != 0) {
        snprintf(err, errlen, "camera '%s': out of memory for the frame ring", name);
        return -1;
    }
    f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->wake_fd < 0) {
        snprintf(err, errlen, "camera '%s': eventfd: %s", name, strerror(errno));
        uvc_frames_free(f);
        return -1;
    }
    f->pkt = av_packet_alloc();
    f->pic = av_frame_alloc();
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    if (codec)
        f->jpeg = avcodec_alloc_context3(codec);
    if (!f->pkt || !f->pic || !f->jpeg) {
        snprintf(err, errlen, "camera '%s': cannot set up the MJPEG decoder", name);
        uvc_frames_free(f);
        return -1;
    }
    f->jpeg->thread_count = 1;
    if (avcodec_open2(f->jpeg, codec, NULL) < 0) {
        snprintf(err, errlen, "camera '%s': cannot open the MJPEG decoder", name);
        uvc_frames_free(f);
        return -1;
    }
    return 0;
}

void uvc_frames_free(uvc_frames *f)
{
    sws_freeContext(f->sws);
    f->sws = NULL;
    av_frame_free(&f->pic);
    av_packet_free(&f->pkt);
    avcodec_free_context(&f->jpeg);
    if (f->wake_fd >= 0)
        close(f->wake_fd);
    f->wake_fd = -1;
    tp_ring_free(&f->ring);
}

void uvc_frames_set_offset(uvc_frames *f, int64_t realtime_minus_mono_ns)
{
    f->realtime_minus_mono_ns = realtime_minus_mono_ns;
}

static int64_t ts_ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec; }

int64_t uvc_frames_measure_offset(void)
{
    /* The read pair with the shortest monotonic bracket bounds the error of
     * the offset by half that bracket (a microsecond or less). */
    int64_t best_gap = INT64_MAX, offset = 0;
    for (int i = 0; i < 5; i++) {
        struct timespec m0, r, m1;
        clock_gettime(CLOCK_MONOTONIC, &m0);
        clock_gettime(CLOCK_REALTIME, &r);
        clock_gettime(CLOCK_MONOTONIC, &m1);
        int64_t gap = ts_ns(&m1) - ts_ns(&m0);
        if (gap < best_gap) {
            best_gap = gap;
            offset = ts_ns(&r) - (ts_ns(&m0) + gap / 2);
        }
    }
    return offset;
}

void uvc_frames_callback(uvc_frame_t *frame, void *user_ptr) { uvc_frames_push(user_ptr, frame, tp_now_ns()); }

void uvc_frames_push(uvc_frames *f, const uvc_frame_t *frame, int64_t arrival_ns)
{
    atomic_fetch_add_explicit(&f->received, 1, memory_order_relaxed);
    if (frame->data_bytes > f->slot_bytes) {
        atomic_fetch_add_explicit(&f->oversize, 1, memory_order_relaxed);
        return;
    }
    frame_slot *s = tp_ring_reserve(&f->ring);
    if (!s) {
        atomic_fetch_add_explicit(&f->overflows, 1, memory_order_relaxed);
        return;
    }
    s->arrival_ns = arrival_ns;
    s->capture_ns = 0;
    if (frame->capture_time.tv_sec != 0 || frame->capture_time.tv_usec != 0) {
        int64_t device_ns = (int64_t)frame->capture_time.tv_sec * 1000000000LL +
                            (int64_t)frame->capture_time.tv_usec * 1000LL - f->realtime_minus_mono_ns;
        if (device_ns <= arrival_ns && device_ns >= arrival_ns - CAPTURE_WINDOW_NS)
            s->capture_ns = device_ns;
    }
    s->sequence = frame->sequence;
    s->width = frame->width;
    s->height = frame->height;
    s->frame_format = (int32_t)frame->frame_format;
    s->bytes = frame->data_bytes;
    if (frame->data_bytes)
        memcpy(s->data, frame->data, frame->data_bytes);
    tp_ring_commit(&f->ring);
    uint64_t one = 1;
    /* Non-blocking; a full counter (2^64-2 wakes pending) cannot happen. */
    ssize_t w = write(f->wake_fd, &one, sizeof one);
    (void)w;
}

int uvc_frames_wait(uvc_frames *f, int64_t deadline_ns)
{
    for (;;) {
        if (tp_ring_count(&f->ring) > 0)
            return 1;
        int64_t left = deadline_ns - tp_now_ns();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = f->wake_fd, .events = POLLIN};
        struct timespec ts = {.tv_sec = left / 1000000000LL, .tv_nsec = left % 1000000000LL};
        if (ppoll(&pfd, 1, &ts, NULL) > 0) {
            uint64_t n;
            ssize_t r = read(f->wake_fd, &n, sizeof n); /* clears the wake count; the ring is the truth */
            (void)r;
        }
    }
}

static int to_rgb(uvc_frames *f, const uint8_t *const src[4], const int stride[4], enum AVPixelFormat fmt,
                  tp_camera_frame *out, char *err, size_t errlen)
{
    size_t raw = (size_t)f->width * (size_t)f->height * 3;
    if (out->capacity < raw) {
        snprintf(err, errlen, "camera '%s': frame buffer of %zu bytes is too small", f->name, out->capacity);
        return -1;
    }
    if (fmt != f->sws_from) {
        /* A JPEG decodes to yuvj* (full range); libswscale wants the plain
         * format with the range said separately (and warns otherwise). */
        bool full = fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUVJ444P ||
                    fmt == AV_PIX_FMT_YUVJ440P || fmt == AV_PIX_FMT_YUVJ411P;
        enum AVPixelFormat plain = fmt == AV_PIX_FMT_YUVJ420P   ? AV_PIX_FMT_YUV420P
                                   : fmt == AV_PIX_FMT_YUVJ422P ? AV_PIX_FMT_YUV422P
                                   : fmt == AV_PIX_FMT_YUVJ444P ? AV_PIX_FMT_YUV444P
                                   : fmt == AV_PIX_FMT_YUVJ440P ? AV_PIX_FMT_YUV440P
                                   : fmt == AV_PIX_FMT_YUVJ411P ? AV_PIX_FMT_YUV411P
                                                                : fmt;
        sws_freeContext(f->sws);
        f->sws = sws_getContext(f->width, f->height, plain, f->width, f->height, AV_PIX_FMT_RGB24, SWS_BILINEAR,
                                NULL, NULL, NULL);
        f->sws_from = AV_PIX_FMT_NONE;
        if (!f->sws) {
            snprintf(err, errlen, "camera '%s': cannot convert %s to RGB", f->name, av_get_pix_fmt_name(fmt));
            return -1;
        }
        const int *bt601 = sws_getCoefficients(SWS_CS_ITU601);
        sws_setColorspaceDetails(f->sws, bt601, full, bt601, 1, 0, 1 << 16, 1 << 16);
        f->sws_from = fmt;
    }
    uint8_t *dst[4] = {out->data, NULL, NULL, NULL};
    int dst_stride[4] = {3 * f->width, 0, 0, 0};
    sws_scale(f->sws, src, stride, 0, f->height, dst, dst_stride);
    out->size = raw;
    return 0;
}

static int decode_jpeg(uvc_frames *f, const frame_slot *s, tp_camera_frame *out, char *err, size_t errlen)
{
    av_packet_unref(f->pkt);
    f->pkt->data = (uint8_t *)s->data;
    f->pkt->size = (int)s->bytes;
    int rc = avcodec_send_packet(f->jpeg, f->pkt);
    f->pkt->data = NULL;
    f->pkt->size = 0;
    if (rc < 0 || avcodec_receive_frame(f->jpeg, f->pic) < 0) {
        snprintf(err, errlen, "camera '%s': frame %u: the device's JPEG does not decode (%zu bytes)", f->name,
                 s->sequence, s->bytes);
        return -1;
    }
    if (f->pic->width != f->width || f->pic->height != f->height) {
        snprintf(err, errlen, "camera '%s': frame %u: a %dx%d JPEG on a %dx%d stream", f->name, s->sequence,
                 f->pic->width, f->pic->height, f->width, f->height);
        av_frame_unref(f->pic);
        return -1;
    }
    int r = to_rgb(f, (const uint8_t *const *)f->pic->data, f->pic->linesize, (enum AVPixelFormat)f->pic->format,
                   out, err, errlen);
    av_frame_unref(f->pic);
    return r;
}

static int convert(uvc_frames *f, const frame_slot *s, tp_camera_frame *out, char *err, size_t errlen)
{
    if (s->frame_format == UVC_FRAME_FORMAT_MJPEG) {
        if (f->out == TP_PIXEL_RGB24)
            return decode_jpeg(f, s, out, err, errlen);
        if (s->bytes > out->capacity) {
            snprintf(err, errlen, "camera '%s': a %zu-byte MJPEG frame exceeds the %zu-byte buffer", f->name,
                     s->bytes, out->capacity);
            return -1;
        }
        memcpy(out->data, s->data, s->bytes);
        out->size = s->bytes;
        return 0;
    }
    if (s->frame_format == UVC_FRAME_FORMAT_YUYV && f->out == TP_PIXEL_RGB24) {
        if (s->width != (uint32_t)f->width || s->height != (uint32_t)f->height ||
            s->bytes < (size_t)f->width * (size_t)f->height * 2) {
            snprintf(err, errlen, "camera '%s': frame %u: %zu bytes of %ux%u YUYV on a %dx%d stream", f->name,
                     s->sequence, s->bytes, s->width, s->height, f->width, f->height);
            return -1;
        }
        const uint8_t *src[4] = {s->data, NULL, NULL, NULL};
        int stride[4] = {2 * f->width, 0, 0, 0};
        return to_rgb(f, src, stride, AV_PIX_FMT_YUYV422, out, err, errlen);
    }
    snprintf(err, errlen, "camera '%s': frame %u: the device sent format %d, not what was negotiated", f->name,
             s->sequence, (int)s->frame_format);
    return -1;
}

int uvc_frames_read(uvc_frames *f, tp_camera_frame *out, char *err, size_t errlen)
{
    const frame_slot *s = tp_ring_front(&f->ring);
    if (!s) {
        snprintf(err, errlen, "camera '%s': read without a queued frame", f->name);
        return -1;
    }
    if (f->have_last && s->sequence != f->last_sequence + 1)
        f->gaps += (int64_t)(uint32_t)(s->sequence - f->last_sequence - 1);
    f->have_last = true;
    f->last_sequence = s->sequence;
    out->t_ns = s->capture_ns ? s->capture_ns : s->arrival_ns;
    out->index = s->sequence;
    out->format = f->out;
    out->size = 0;
    int rc = out->data ? convert(f, s, out, err, errlen) : 0;
    tp_ring_release(&f->ring);
    return rc;
}
