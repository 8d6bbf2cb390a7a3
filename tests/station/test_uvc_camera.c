/* The UVC camera driver without a camera: YUYV and MJPEG frames made with
 * libav (a known RGB picture → libswscale → YUYV 4:2:2; → libavcodec's MJPEG
 * encoder) go through the frame path's entry point (the one libuvc's
 * callback calls) as uvc_frame_t and come out as 640x480 RGB (or the exact
 * JPEG bytes); device capture times map onto CLOCK_MONOTONIC; counter gaps,
 * ring overflow and oversize frames are counted; a producer thread feeds
 * the real callback while the reader waits; opening with no camera gives
 * the not-found message; device strings select the right camera and the
 * offered modes read as the error prints them; the config refuses format =
 * mjpeg over YUYV. */
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <pthread.h>
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
#include "teleop/session.h"
#include "uvc_frames.h"
#include "uvc_select.h"

enum { W = 640, H = 480, RGB_BYTES = W * H * 3, YUYV_BYTES = W * H * 2 };

static uint8_t source_rgb[RGB_BYTES];
static uint8_t yuyv[YUYV_BYTES];
static uint8_t *jpeg;
static size_t jpeg_bytes;
static uint8_t out_rgb[RGB_BYTES];

/* The source: the pattern driver's scene without noise (edges, a disk,
 * gradients: chroma subsampling and JPEG both have work to do). */
static void make_sources(void)
{
    tp_camera_pattern_render(3, 0.0, 12, 0.4, W, H, source_rgb);
    const uint8_t *src[4] = {source_rgb};
    int src_stride[4] = {3 * W};
    struct SwsContext *to_yuyv = sws_getContext(W, H, AV_PIX_FMT_RGB24, W, H, AV_PIX_FMT_YUYV422, SWS_BILINEAR,
                                                NULL, NULL, NULL);
    assert_non_null(to_yuyv);
    uint8_t *dst[4] = {yuyv};
    int dst_stride[4] = {2 * W};
    sws_scale(to_yuyv, src, src_stride, 0, H, dst, dst_stride);
    sws_freeContext(to_yuyv);

    /* JPEG as a UVC camera sends it: full-range 4:2:2. */
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    assert_non_null(codec);
    AVCodecContext *enc = avcodec_alloc_context3(codec);
    enc->width = W;
    enc->height = H;
    enc->pix_fmt = AV_PIX_FMT_YUVJ422P;
    enc->time_base = (AVRational){1, 30};
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * 3;
    assert_int_equal(avcodec_open2(enc, codec, NULL), 0);
    AVFrame *yuv = av_frame_alloc();
    yuv->format = AV_PIX_FMT_YUVJ422P;
    yuv->width = W;
    yuv->height = H;
    assert_int_equal(av_frame_get_buffer(yuv, 0), 0);
    struct SwsContext *to_yuvj = sws_getContext(W, H, AV_PIX_FMT_RGB24, W, H, AV_PIX_FMT_YUVJ422P, SWS_BILINEAR,
                                                NULL, NULL, NULL);
    sws_scale(to_yuvj, src, src_stride, 0, H, yuv->data, yuv->linesize);
    sws_freeContext(to_yuvj);
    yuv->pts = 0;
    AVPacket *pkt = av_packet_alloc();
    assert_int_equal(avcodec_send_frame(enc, yuv), 0);
    assert_int_equal(avcodec_receive_packet(enc, pkt), 0);
    jpeg_bytes = (size_t)pkt->size;
    jpeg = malloc(jpeg_bytes);
    memcpy(jpeg, pkt->data, jpeg_bytes);
    av_packet_free(&pkt);
    av_frame_free(&yuv);
    avcodec_free_context(&enc);
}

static uvc_frame_t uvc_frame(void *data, size_t bytes, enum uvc_frame_format fmt, uint32_t sequence)
{
    uvc_frame_t f;
    memset(&f, 0, sizeof f);
    f.data = data;
    f.data_bytes = bytes;
    f.width = W;
    f.height = H;
    f.frame_format = fmt;
    f.step = fmt == UVC_FRAME_FORMAT_YUYV ? 2 * W : 0;
    f.sequence = sequence;
    return f;
}

static double mean_abs_error(const uint8_t *a, const uint8_t *b, size_t n, int *max_err)
{
    double sum = 0;
    *max_err = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        sum += d;
        if (d > *max_err)
            *max_err = d;
    }
    return sum / (double)n;
}

static void init_frames(uvc_frames *f, tp_pixel_format out, size_t slot)
{
    char err[256];
    if (uvc_frames_init(f, "head", W, H, out, slot, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void read_one(uvc_frames *f, tp_camera_frame *fr, uint8_t *buf, size_t cap)
{
    char err[256] = "";
    memset(fr, 0, sizeof *fr);
    fr->data = buf;
    fr->capacity = cap;
    assert_int_equal(uvc_frames_wait(f, tp_now_ns()), 1);
    if (uvc_frames_read(f, fr, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* YUYV 4:2:2 (limited range BT.601, as libswscale and UVC cameras make it)
 * → RGB: the round trip loses only chroma detail at edges and rounding. */
static void test_yuyv_to_rgb(void **state)
{
    (void)state;
    uvc_frames f;
    init_frames(&f, TP_PIXEL_RGB24, YUYV_BYTES);
    uvc_frame_t in = uvc_frame(yuyv, YUYV_BYTES, UVC_FRAME_FORMAT_YUYV, 7);
    uvc_frames_push(&f, &in, 1000);
    tp_camera_frame fr;
    read_one(&f, &fr, out_rgb, sizeof out_rgb);
    assert_int_equal(fr.format, TP_PIXEL_RGB24);
    assert_int_equal(fr.size, RGB_BYTES);
    assert_int_equal(fr.index, 7);
    int max_err;
    double mae = mean_abs_error(source_rgb, out_rgb, RGB_BYTES, &max_err);
    printf("yuyv -> rgb: mean abs error %.3f, max %d (8-bit levels)\n", mae, max_err);
    /* 2.41 measured (libav 5.1): chroma halved across the checkerboard's
     * hard colour edges (max error there), 219 luma levels. */
    assert_true(mae < 3.0);
    /* A short YUYV frame (a transfer cut off): refused with its size, and
     * the next frame is fine. */
    in = uvc_frame(yuyv, YUYV_BYTES - 2 * W, UVC_FRAME_FORMAT_YUYV, 8);
    uvc_frames_push(&f, &in, 2000);
    char err[256] = "";
    memset(&fr, 0, sizeof fr);
    fr.data = out_rgb;
    fr.capacity = sizeof out_rgb;
    assert_int_equal(uvc_frames_read(&f, &fr, err, sizeof err), -1);
    assert_non_null(strstr(err, "camera 'head': frame 8: 613120 bytes of 640x480 YUYV on a 640x480 stream"));
    in = uvc_frame(yuyv, YUYV_BYTES, UVC_FRAME_FORMAT_YUYV, 9);
    uvc_frames_push(&f, &in, 3000);
    read_one(&f, &fr, out_rgb, sizeof out_rgb);
    assert_int_equal(fr.t_ns, 3000);
    assert_true(mean_abs_error(source_rgb, out_rgb, RGB_BYTES, &max_err) < 3.0);
    uvc_frames_free(&f);
}

/* MJPEG (quantizer 3, 4:2:2) → libavcodec → libswscale → RGB. */
static void test_mjpeg_to_rgb(void **state)
{
    (void)state;
    uvc_frames f;
    init_frames(&f, TP_PIXEL_RGB24, RGB_BYTES);
    uvc_frame_t in = uvc_frame(jpeg, jpeg_bytes, UVC_FRAME_FORMAT_MJPEG, 1);
    uvc_frames_push(&f, &in, 1000);
    tp_camera_frame fr;
    read_one(&f, &fr, out_rgb, sizeof out_rgb);
    assert_int_equal(fr.size, RGB_BYTES);
    int max_err;
    double mae = mean_abs_error(source_rgb, out_rgb, RGB_BYTES, &max_err);
    printf("mjpeg (%zu bytes) -> rgb: mean abs error %.3f, max %d\n", jpeg_bytes, mae, max_err);
    assert_true(mae < 1.5); /* 0.86 measured */
    /* A corrupt JPEG: a one-line error, the frame dropped, the path usable. */
    uint8_t *bad = malloc(jpeg_bytes);
    memset(bad, 0x5a, jpeg_bytes);
    in = uvc_frame(bad, 200, UVC_FRAME_FORMAT_MJPEG, 2);
    uvc_frames_push(&f, &in, 2000);
    in = uvc_frame(jpeg, jpeg_bytes, UVC_FRAME_FORMAT_MJPEG, 3);
    uvc_frames_push(&f, &in, 3000);
    char err[256] = "";
    memset(&fr, 0, sizeof fr);
    fr.data = out_rgb;
    fr.capacity = sizeof out_rgb;
    assert_int_equal(uvc_frames_read(&f, &fr, err, sizeof err), -1);
    assert_non_null(strstr(err, "camera 'head': frame 2: the device's JPEG does not decode"));
    read_one(&f, &fr, out_rgb, sizeof out_rgb);
    assert_int_equal(fr.index, 3);
    assert_true(mean_abs_error(source_rgb, out_rgb, RGB_BYTES, &max_err) < 1.5);
    free(bad);
    uvc_frames_free(&f);
}

static void test_mjpeg_passthrough(void **state)
{
    (void)state;
    uvc_frames f;
    init_frames(&f, TP_PIXEL_MJPEG, RGB_BYTES);
    uvc_frame_t in = uvc_frame(jpeg, jpeg_bytes, UVC_FRAME_FORMAT_MJPEG, 4);
    uvc_frames_push(&f, &in, 1000);
    tp_camera_frame fr;
    read_one(&f, &fr, out_rgb, sizeof out_rgb);
    assert_int_equal(fr.format, TP_PIXEL_MJPEG);
    assert_int_equal(fr.size, jpeg_bytes);
    assert_memory_equal(out_rgb, jpeg, jpeg_bytes);
    /* A frame larger than the caller's buffer: refused, named. */
    uvc_frames_push(&f, &in, 2000);
    char err[256] = "";
    memset(&fr, 0, sizeof fr);
    fr.data = out_rgb;
    fr.capacity = jpeg_bytes - 1;
    assert_int_equal(uvc_frames_read(&f, &fr, err, sizeof err), -1);
    assert_non_null(strstr(err, "exceeds the"));
    uvc_frames_free(&f);
}

/* capture_time (CLOCK_REALTIME, microseconds) − the measured offset: exact
 * to the nanosecond; no capture time, one after the arrival, or one more
 * than a second before it → the arrival time. */
static void test_timestamps(void **state)
{
    (void)state;
    uvc_frames f;
    init_frames(&f, TP_PIXEL_MJPEG, RGB_BYTES);
    const int64_t offset = 1765000000LL * 1000000000LL + 123456789; /* realtime − monotonic */
    uvc_frames_set_offset(&f, offset);
    const int64_t arrival = 5000000000LL; /* 5 s on CLOCK_MONOTONIC */
    struct {
        time_t sec;
        suseconds_t usec;
        int64_t arrival, want;
    } cases[] = {
        /* 33.3 ms before arrival: realtime 1765000005.090123 s → mono 5.090123 s − 0.123456789 s */
        {1765000005, 90123, arrival, 5090123000LL - 123456789LL},
        {0, 0, arrival, arrival},                                    /* libuvc 0.0.6: never filled */
        {1765000005, 200000, arrival, arrival},                      /* after arrival: not this frame's */
        {1765000003, 900000, arrival, arrival},                      /* 1.22 s before: stale */
        {1765000004, 123457, arrival, 4000000211LL},                 /* 0.999999789 s before: inside */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uvc_frame_t in = uvc_frame(jpeg, jpeg_bytes, UVC_FRAME_FORMAT_MJPEG, (uint32_t)i);
        in.capture_time.tv_sec = cases[i].sec;
        in.capture_time.tv_usec = cases[i].usec;
        uvc_frames_push(&f, &in, cases[i].arrival);
        tp_camera_frame fr;
        read_one(&f, &fr, NULL, 0);
        if (fr.t_ns != cases[i].want)
            fail_msg("case %zu: t_ns %lld, want %lld", i, (long long)fr.t_ns, (long long)cases[i].want);
    }
    /* The measured offset is the realtime − monotonic difference now. */
    struct timespec m, r;
    int64_t measured = uvc_frames_measure_offset();
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_MONOTONIC, &m);
    int64_t now_diff = (r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
    assert_true(llabs(measured - now_diff) < 5000000); /* NTP slew and preemption, not a wrong clock */
    uvc_frames_free(&f);
}

/* Counter gaps, a full ring (4 slots), an oversize frame: each counted. */
static void test_gaps_and_overflow(void **state)
{
    (void)state;
    uvc_frames f;
    init_frames(&f, TP_PIXEL_MJPEG, jpeg_bytes);
    uint32_t seq[] = {10, 11, 14, 15, 16, 17};
    for (int i = 0; i < 6; i++) {
        uvc_frame_t in = uvc_frame(jpeg, jpeg_bytes, UVC_FRAME_FORMAT_MJPEG, seq[i]);
        uvc_frames_push(&f, &in, 1000 + i);
    }
    uvc_frame_t big = uvc_frame(jpeg, jpeg_bytes + 1, UVC_FRAME_FORMAT_MJPEG, 18);
    uvc_frames_push(&f, &big, 2000);
    assert_int_equal(atomic_load(&f.received), 7);
    assert_int_equal(atomic_load(&f.overflows), 2); /* 16 and 17 found the ring full */
    assert_int_equal(atomic_load(&f.oversize), 1);
    int64_t want_index[] = {10, 11, 14, 15};
    for (int i = 0; i < 4; i++) {
        tp_camera_frame fr;
        read_one(&f, &fr, NULL, 0);
        assert_int_equal(fr.index, want_index[i]);
        assert_int_equal(fr.t_ns, 1000 + i);
    }
    assert_int_equal(f.gaps, 2); /* 12 and 13 */
    assert_int_equal(uvc_frames_wait(&f, tp_now_ns() + 20000000), 0);
    uvc_frame_t next = uvc_frame(jpeg, jpeg_bytes, UVC_FRAME_FORMAT_MJPEG, 19);
    uvc_frames_push(&f, &next, 3000);
    tp_camera_frame fr;
    read_one(&f, &fr, NULL, 0);
    assert_int_equal(f.gaps, 5); /* + 16, 17 (overflow), 18 (oversize) */
    uvc_frames_free(&f);
}

/* The real callback on its own thread (as libuvc calls it) while the reader
 * waits on the eventfd: every frame is either read or counted dropped. */
typedef struct producer {
    uvc_frames *f;
    int n;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int i = 0; i < p->n; i++) {
        uvc_frame_t in = uvc_frame(yuyv, YUYV_BYTES, UVC_FRAME_FORMAT_YUYV, (uint32_t)(100 + i));
        uvc_frames_callback(&in, p->f);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void test_callback_thread(void **state)
{
    (void)state;
    uvc_frames f;
    init_frames(&f, TP_PIXEL_RGB24, YUYV_BYTES);
    producer p = {&f, 40};
    pthread_t t;
    int64_t t0 = tp_now_ns();
    assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
    int got = 0;
    int64_t last_index = 99, last_t = 0;
    while (got + (int)atomic_load(&f.overflows) < p.n) {
        if (uvc_frames_wait(&f, tp_now_ns() + 2000000000LL) != 1)
            break;
        tp_camera_frame fr = {.data = out_rgb, .capacity = sizeof out_rgb};
        char err[256];
        if (uvc_frames_read(&f, &fr, err, sizeof err) != 0)
            fail_msg("%s", err);
        assert_true(fr.index > last_index);
        assert_true(fr.t_ns >= t0 && fr.t_ns >= last_t && fr.t_ns <= tp_now_ns());
        last_index = fr.index;
        last_t = fr.t_ns;
        got++;
    }
    pthread_join(t, NULL);
    assert_int_equal(got + (int)atomic_load(&f.overflows), p.n);
    assert_int_equal(got + f.gaps, last_index - 100 + 1);
    int max_err;
    assert_true(mean_abs_error(source_rgb, out_rgb, RGB_BYTES, &max_err) < 3.0);
    uvc_frames_free(&f);
}

/* CI has no camera: open says which camera was not found and what to do. */
static void test_open_not_found(void **state)
{
    (void)state;
    tp_camera_params p;
    tp_camera_default_params(&p, "wrist");
    p.driver = "uvc";
    p.device = NULL; /* the first UVC camera: CI has none */
    char err[1024] = "";
    assert_null(tp_camera_open(&p, NULL, err, sizeof err));
    printf("%s\n", err);
    assert_non_null(strstr(err, "camera 'wrist' (device any): not found: no UVC camera is connected"));
    p.device = "NO-SUCH-SERIAL-0001";
    tp_camera *cam = tp_camera_open(&p, NULL, err, sizeof err);
    assert_null(cam);
    printf("%s\n", err);
    assert_non_null(strstr(err, "camera 'wrist' (device NO-SUCH-SERIAL-0001): not found"));
    assert_null(strchr(err, '\n'));
    p.device = "usb:9-9.9";
    assert_null(tp_camera_open(&p, NULL, err, sizeof err));
    assert_non_null(strstr(err, "camera 'wrist' (device usb:9-9.9): not found"));
    assert_non_null(tp_camera_find_driver("uvc"));
    assert_non_null(strstr(tp_camera_driver_names(), "uvc"));
    tp_camera_calibration cal;
    assert_int_equal(tp_camera_calibration_for(&p, NULL, &cal, err, sizeof err), 0); /* none for a real lens */
}

/* Serial, port path, vendor:product, or any. */
static void test_device_selection(void **state)
{
    (void)state;
    uvc_device_id id = {.vendor = 0x046d, .product = 0x0825, .serial = "8A1B", .product_name = "Webcam C270",
                        .port = "usb:1-2.3"};
    assert_true(uvc_device_matches(&id, NULL));
    assert_true(uvc_device_matches(&id, ""));
    assert_true(uvc_device_matches(&id, "8A1B"));
    assert_false(uvc_device_matches(&id, "8a1b"));
    assert_false(uvc_device_matches(&id, "8A1"));
    assert_true(uvc_device_matches(&id, "usb:1-2.3"));
    assert_false(uvc_device_matches(&id, "usb:1-2"));
    assert_false(uvc_device_matches(&id, "usb:1-2.3.1"));
    assert_true(uvc_device_matches(&id, "046d:0825"));
    assert_true(uvc_device_matches(&id, "046D:0825"));
    assert_false(uvc_device_matches(&id, "046d:0826"));
    char out[200];
    uvc_describe_device(&id, out, sizeof out);
    assert_string_equal(out, "046d:0825 Webcam C270 serial 8A1B at usb:1-2.3");
    uvc_device_id bare = {.vendor = 0x1234, .product = 0xabcd};
    assert_false(uvc_device_matches(&bare, "8A1B")); /* no serial matches no serial string */
    assert_false(uvc_device_matches(&bare, "usb:1-2.3"));
    uvc_describe_device(&bare, out, sizeof out);
    assert_string_equal(out, "1234:abcd");
}

/* The modes of the unsupported-mode message, from format descriptors as
 * libuvc parses them: discrete intervals, a continuous range, another fourcc. */
static void test_offered_modes(void **state)
{
    (void)state;
    uint32_t yuyv_480[] = {333333, 666666, 0}, yuyv_720[] = {1000000, 0}, nv12_480[] = {333333, 0};
    uvc_frame_desc_t f1 = {.wWidth = 640, .wHeight = 480, .intervals = yuyv_480};
    uvc_frame_desc_t f2 = {.wWidth = 1280, .wHeight = 720, .intervals = yuyv_720};
    uvc_frame_desc_t f3 = {.wWidth = 1280, .wHeight = 720, .dwMinFrameInterval = 333333,
                           .dwMaxFrameInterval = 1000000};
    uvc_frame_desc_t f4 = {.wWidth = 640, .wHeight = 480, .intervals = nv12_480};
    f1.next = &f2;
    uvc_format_desc_t yuyv_fmt = {.bDescriptorSubtype = UVC_VS_FORMAT_UNCOMPRESSED, .frame_descs = &f1};
    memcpy(yuyv_fmt.fourccFormat, "YUY2", 4);
    uvc_format_desc_t mjpeg_fmt = {.bDescriptorSubtype = UVC_VS_FORMAT_MJPEG, .frame_descs = &f3};
    uvc_format_desc_t nv12_fmt = {.bDescriptorSubtype = UVC_VS_FORMAT_UNCOMPRESSED, .frame_descs = &f4};
    memcpy(nv12_fmt.fourccFormat, "NV12", 4);
    yuyv_fmt.next = &mjpeg_fmt;
    mjpeg_fmt.next = &nv12_fmt;
    char out[400];
    uvc_describe_modes(&yuyv_fmt, out, sizeof out);
    assert_string_equal(out, "yuyv 640x480@30/15, yuyv 1280x720@10, mjpeg 1280x720@10-30, NV12 640x480@30");
    uvc_describe_modes(NULL, out, sizeof out);
    assert_string_equal(out, "");
    char small[24];
    uvc_describe_modes(&yuyv_fmt, small, sizeof small); /* truncated, terminated */
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void expect_config(const char *text, const char *want_error)
{
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    char err[1024] = "";
    tp_config *file = tp_config_parse(text, "st.ini", err, sizeof err);
    assert_non_null(file);
    int rc = tp_session_apply_config(&cfg, file, err, sizeof err);
    if (want_error) {
        assert_int_equal(rc, -1);
        if (!strstr(err, want_error))
            fail_msg("error '%s' lacks '%s'", err, want_error);
    } else {
        if (rc != 0)
            fail_msg("%s", err);
        const tp_camera_params *d = &cfg.cameras[0].device;
        assert_string_equal(d->driver, "uvc");
        assert_string_equal(d->device, "usb:1-2.3");
        assert_string_equal(d->uvc_format, "mjpeg");
        assert_true(d->exposure_s == 0.01);
        assert_int_equal(d->gain, 40);
        assert_int_equal(d->white_balance_k, 4600);
        assert_int_equal(d->format, TP_PIXEL_MJPEG);
    }
    tp_config_free(file);
}

static void test_config(void **state)
{
    (void)state;
    expect_config("[camera.wrist]\ndriver = uvc\ndevice = usb:1-2.3\nuvc_format = mjpeg\nformat = mjpeg\n"
                  "codec = mjpeg\nexposure = 0.01\ngain = 40\nwhite_balance = 4600\n",
                  NULL);
    expect_config("[camera.wrist]\ndriver = uvc\nuvc_format = yuyv\nformat = mjpeg\n",
                  "st.ini:4: [camera.wrist] format: mjpeg passes the device's JPEGs on; `uvc_format = yuyv`");
    expect_config("[camera.wrist]\ndriver = uvc\nuvc_format = h264\n",
                  "[camera.wrist] uvc_format: 'h264' is not one of");
}

int main(void)
{
    make_sources();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yuyv_to_rgb),      cmocka_unit_test(test_mjpeg_to_rgb),
        cmocka_unit_test(test_mjpeg_passthrough), cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_gaps_and_overflow), cmocka_unit_test(test_callback_thread),
        cmocka_unit_test(test_open_not_found),    cmocka_unit_test(test_device_selection),
        cmocka_unit_test(test_offered_modes),     cmocka_unit_test(test_config),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(jpeg);
    return rc;
}
