/* Video: real libx264 / FFV1 encode, decode back, compare. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>

#include "teleop/video.h"

enum { W = 640, H = 480, N = 45 };

/* A moving gradient with a moving box and sensor-like noise. */
static void make_frame(uint8_t *rgb, int k, unsigned *seed)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = rgb + 3 * (y * W + x);
            int n = (int)(rand_r(seed) % 7) - 3;
            int r = (x + 4 * k) & 255, g = (y + 2 * k) & 255, b = 128;
            if (x > 100 + 5 * k && x < 180 + 5 * k && y > 200 && y < 280) {
                r = 230;
                g = 40;
                b = 40;
            }
            p[0] = (uint8_t)fmin(255, fmax(0, r + n));
            p[1] = (uint8_t)fmin(255, fmax(0, g + n));
            p[2] = (uint8_t)fmin(255, fmax(0, b + n));
        }
}

/* NAL unit types of an Annex B byte stream, as a bit mask; -1 when it does
 * not start with a start code. */
static int nal_types(const uint8_t *p, size_t n)
{
    if (!(n > 4 && p[0] == 0 && p[1] == 0 && (p[2] == 1 || (p[2] == 0 && p[3] == 1))))
        return -1;
    int mask = 0;
    for (size_t i = 0; i + 3 < n; i++)
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1)
            mask |= 1 << (p[i + 3] & 0x1f);
    return mask;
}

enum { NAL_IDR = 1 << 5, NAL_SPS = 1 << 7, NAL_PPS = 1 << 8 };

static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        se += d * d;
    }
    if (se == 0)
        return INFINITY;
    return 10 * log10(255.0 * 255.0 / (se / (double)n));
}

static void roundtrip(const char *codec, double min_psnr)
{
    char err[256];
    tp_video_encoder_config cfg;
    tp_video_encoder_default_config(&cfg, W, H, 30);
    cfg.codec = codec;
    cfg.gop = 15; /* three keyframes in N frames, each checked for its place */
    tp_video_encoder *enc = tp_video_encoder_create(&cfg, err, sizeof err);
    if (!enc)
        fail_msg("%s", err);
    assert_string_equal(tp_video_encoder_codec(enc), codec);
    const uint8_t *extra;
    size_t extra_size;
    tp_video_encoder_extradata(enc, &extra, &extra_size);
    bool h264 = !strcmp(codec, "h264");
    if (h264) {
        /* SPS and PPS in Annex B form; FFV1 level 1 frames are self-contained. */
        int types = nal_types(extra, extra_size);
        assert_true(types > 0 && (types & NAL_SPS) && (types & NAL_PPS));
    }
    tp_video_decoder *dec = tp_video_decoder_create(codec, extra, extra_size, W, H, err, sizeof err);
    if (!dec)
        fail_msg("%s", err);

    static uint8_t src[N][W * H * 3];
    unsigned seed = 1;
    int packets = 0, frames = 0, keyframes = 0;
    double worst = INFINITY;
    tp_video_packet pkt;
    tp_video_frame fr;
    for (int k = 0; k <= N; k++) {
        if (k < N) {
            make_frame(src[k], k, &seed);
            assert_int_equal(tp_video_encoder_send(enc, src[k], k, err, sizeof err), 0);
        } else {
            assert_int_equal(tp_video_encoder_send(enc, NULL, 0, err, sizeof err), 0);
        }
        int rc;
        while ((rc = tp_video_encoder_receive(enc, &pkt, err, sizeof err)) == 1) {
            assert_int_equal(pkt.pts, packets); /* no reordering: packet order is capture order */
            if (h264) {
                /* Annex B, headers only in the extradata, IDR exactly on keyframes. */
                int types = nal_types(pkt.data, pkt.size);
                assert_true(types > 0);
                assert_false(types & (NAL_SPS | NAL_PPS));
                assert_int_equal(!!(types & NAL_IDR), pkt.keyframe);
            }
            if (pkt.keyframe) {
                keyframes++;
                if (h264)
                    assert_int_equal(pkt.pts % cfg.gop, 0);
            }
            packets++;
            assert_int_equal(tp_video_decoder_send(dec, pkt.data, pkt.size, pkt.pts, err, sizeof err), 0);
            while (tp_video_decoder_receive(dec, &fr, err, sizeof err) == 1) {
                assert_int_equal(fr.width, W);
                assert_int_equal(fr.height, H);
                worst = fmin(worst, psnr(src[fr.pts], fr.rgb, W * H * 3));
                frames++;
            }
        }
        assert_true(rc >= 0);
    }
    tp_video_decoder_send(dec, NULL, 0, 0, err, sizeof err);
    while (tp_video_decoder_receive(dec, &fr, err, sizeof err) == 1) {
        worst = fmin(worst, psnr(src[fr.pts], fr.rgb, W * H * 3));
        frames++;
    }
    printf("%s: %d packets, %d frames, %d keyframes, worst PSNR %.1f dB\n", codec, packets, frames, keyframes, worst);
    assert_int_equal(packets, N);
    assert_int_equal(frames, N);
    assert_true(worst >= min_psnr);
    if (!strcmp(codec, "h264"))
        assert_int_equal(keyframes, (N + cfg.gop - 1) / cfg.gop);
    tp_video_decoder_destroy(dec);
    tp_video_encoder_destroy(enc);
}

/* An MJPEG camera's frames: JPEGs made by libavcodec's own MJPEG encoder
 * (as a UVC camera would send), passed through byte for byte, and decoded. */
static void test_mjpeg_passthrough(void **state)
{
    (void)state;
    char err[256];
    const AVCodec *jc = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    assert_non_null(jc);
    AVCodecContext *jpeg = avcodec_alloc_context3(jc);
    jpeg->width = W;
    jpeg->height = H;
    jpeg->pix_fmt = AV_PIX_FMT_YUVJ420P;
    jpeg->time_base = (AVRational){1, 30};
    jpeg->flags |= AV_CODEC_FLAG_QSCALE;
    jpeg->global_quality = FF_QP2LAMBDA * 3;
    assert_int_equal(avcodec_open2(jpeg, jc, NULL), 0);
    AVFrame *yuv = av_frame_alloc();
    yuv->format = AV_PIX_FMT_YUVJ420P;
    yuv->width = W;
    yuv->height = H;
    assert_int_equal(av_frame_get_buffer(yuv, 0), 0);
    AVPacket *jp = av_packet_alloc();
    struct SwsContext *sws = sws_getContext(W, H, AV_PIX_FMT_RGB24, W, H, AV_PIX_FMT_YUVJ420P, SWS_BILINEAR, NULL,
                                            NULL, NULL);
    assert_non_null(sws);

    tp_video_encoder_config cfg;
    tp_video_encoder_default_config(&cfg, W, H, 30);
    cfg.codec = "mjpeg";
    tp_video_encoder *enc = tp_video_encoder_create(&cfg, err, sizeof err);
    if (!enc)
        fail_msg("%s", err);
    assert_true(tp_video_encoder_is_passthrough(enc));
    assert_string_equal(tp_video_encoder_codec(enc), "mjpeg");
    const uint8_t *extra;
    size_t extra_size;
    tp_video_encoder_extradata(enc, &extra, &extra_size);
    assert_int_equal(extra_size, 0);
    tp_video_decoder *dec = tp_video_decoder_create("mjpeg", NULL, 0, W, H, err, sizeof err);
    if (!dec)
        fail_msg("%s", err);
    /* Raw frames cannot pass through. */
    static uint8_t src[W * H * 3];
    assert_int_equal(tp_video_encoder_send(enc, src, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "mjpeg"));

    unsigned seed = 7;
    double worst = INFINITY;
    enum { FRAMES = 10 };
    for (int k = 0; k < FRAMES; k++) {
        make_frame(src, k, &seed);
        const uint8_t *in[1] = {src};
        int stride[1] = {3 * W};
        assert_int_equal(av_frame_make_writable(yuv), 0);
        sws_scale(sws, in, stride, 0, H, yuv->data, yuv->linesize);
        yuv->pts = k;
        assert_int_equal(avcodec_send_frame(jpeg, yuv), 0);
        assert_int_equal(avcodec_receive_packet(jpeg, jp), 0);

        /* A frame cut short is refused, the camera's next one still passes. */
        if (k == 3) {
            assert_int_equal(tp_video_encoder_send_compressed(enc, jp->data, (size_t)jp->size / 2, k, err,
                                                              sizeof err), -1);
            assert_non_null(strstr(err, "not a complete JPEG"));
        }
        assert_int_equal(tp_video_encoder_send_compressed(enc, jp->data, (size_t)jp->size, k, err, sizeof err), 0);
        tp_video_packet pkt;
        assert_int_equal(tp_video_encoder_receive(enc, &pkt, err, sizeof err), 1);
        assert_int_equal(pkt.size, (size_t)jp->size);
        assert_memory_equal(pkt.data, jp->data, pkt.size);
        assert_int_equal(pkt.pts, k);
        assert_true(pkt.keyframe);
        assert_int_equal(tp_video_encoder_receive(enc, &pkt, err, sizeof err), 0); /* one frame, one packet */
        assert_int_equal(tp_video_decoder_send(dec, pkt.data, pkt.size, pkt.pts, err, sizeof err), 0);
        tp_video_frame fr;
        assert_int_equal(tp_video_decoder_receive(dec, &fr, err, sizeof err), 1);
        assert_int_equal(fr.width, W);
        assert_int_equal(fr.height, H);
        assert_int_equal(fr.pts, k);
        worst = fmin(worst, psnr(src, fr.rgb, W * H * 3));
        av_packet_unref(jp);
    }
    assert_int_equal(tp_video_encoder_send_compressed(enc, NULL, 0, 0, err, sizeof err), 0);
    printf("mjpeg passthrough: %d frames, worst PSNR %.1f dB\n", FRAMES, worst);
    assert_true(worst >= 30);
    /* Compressed frames go to the passthrough codec only. */
    tp_video_encoder *h264 = tp_video_encoder_create(&(tp_video_encoder_config){W, H, 30, "h264", "ultrafast", 23,
                                                                                  30, 1},
                                                     err, sizeof err);
    assert_non_null(h264);
    assert_false(tp_video_encoder_is_passthrough(h264));
    assert_int_equal(tp_video_encoder_send_compressed(h264, jp->data, 16, 0, err, sizeof err), -1);
    tp_video_encoder_destroy(h264);
    tp_video_decoder_destroy(dec);
    tp_video_encoder_destroy(enc);
    sws_freeContext(sws);
    av_packet_free(&jp);
    av_frame_free(&yuv);
    avcodec_free_context(&jpeg);
}

static void test_h264(void **state)
{
    (void)state;
    roundtrip("h264", 30.0);
}

static void test_ffv1_lossless(void **state)
{
    (void)state;
    roundtrip("ffv1", INFINITY);
}

static void test_errors(void **state)
{
    (void)state;
    char err[256];
    tp_video_encoder_config cfg;
    tp_video_encoder_default_config(&cfg, 641, 480, 30);
    /* Defaults: one keyframe a second, x264 veryfast at CRF 23, one thread. */
    assert_int_equal(cfg.gop, 30);
    assert_int_equal(cfg.crf, 23);
    assert_int_equal(cfg.threads, 1);
    assert_string_equal(cfg.preset, "veryfast");
    assert_string_equal(cfg.codec, "h264");
    assert_null(tp_video_encoder_create(&cfg, err, sizeof err));
    cfg.width = 640;
    cfg.codec = "vp9000";
    assert_null(tp_video_encoder_create(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "vp9000"));
    assert_null(tp_video_decoder_create("nope", NULL, 0, 0, 0, err, sizeof err));
    /* Garbage is not a decodable H.264 packet. */
    tp_video_decoder *dec = tp_video_decoder_create("h264", NULL, 0, 0, 0, err, sizeof err);
    assert_non_null(dec);
    uint8_t junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    int rc = tp_video_decoder_send(dec, junk, sizeof junk, 0, err, sizeof err);
    tp_video_frame fr;
    int got = 0;
    if (rc == 0) {
        tp_video_decoder_send(dec, NULL, 0, 0, err, sizeof err);
        while ((rc = tp_video_decoder_receive(dec, &fr, err, sizeof err)) == 1)
            got++;
    }
    assert_true(rc < 0 || got == 0);
    tp_video_decoder_destroy(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_h264), cmocka_unit_test(test_ffv1_lossless),
                                       cmocka_unit_test(test_errors),
                                       cmocka_unit_test(test_mjpeg_passthrough)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
