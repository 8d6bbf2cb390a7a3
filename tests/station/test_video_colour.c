/* H.264 colour description: the recorder's encoder writes the VUI colour
 * description (primaries BT.709, transfer sRGB, matrix BT.601, limited
 * range) and converts RGB with exactly that matrix and range. The stream is
 * decoded with plain libavcodec, as any reader would, and the decoded frame
 * must carry those values; known RGB colours must come back within a few
 * levels through the documented BT.601 limited-range formulas and through
 * teleop's own decoder. */
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

#include "teleop/video.h"

enum { W = 64, H = 48, FRAMES = 5 };

/* Four flat quadrants of known colours. */
static const uint8_t colours[4][3] = {{200, 40, 30}, {20, 160, 60}, {30, 60, 210}, {235, 235, 220}};

static void fill(uint8_t *rgb)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            memcpy(rgb + 3 * (y * W + x), colours[(y >= H / 2) * 2 + (x >= W / 2)], 3);
}

/* BT.601, limited range (Y 16-235, Cb/Cr 16-240), to full-range RGB. */
static void bt601_limited_to_rgb(int y, int cb, int cr, double rgb[3])
{
    double yy = (y - 16) * 255.0 / 219.0, pb = (cb - 128) * 255.0 / 224.0, pr = (cr - 128) * 255.0 / 224.0;
    rgb[0] = yy + 1.402 * pr;
    rgb[1] = yy - 0.344136 * pb - 0.714136 * pr;
    rgb[2] = yy + 1.772 * pb;
}

static void test_h264_colour_description(void **state)
{
    (void)state;
    char err[512];
    tp_video_encoder_config cfg;
    tp_video_encoder_default_config(&cfg, W, H, 30);
    cfg.crf = 10; /* near-lossless: the test is about colour, not compression */
    tp_video_encoder *enc = tp_video_encoder_create(&cfg, err, sizeof err);
    if (!enc)
        fail_msg("%s", err);
    uint8_t *rgb = malloc(W * H * 3);
    fill(rgb);

    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
    assert_non_null(codec);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    const uint8_t *extra;
    size_t extra_size;
    tp_video_encoder_extradata(enc, &extra, &extra_size);
    assert_true(extra_size > 0);
    dec->extradata = av_mallocz(extra_size + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(dec->extradata, extra, extra_size);
    dec->extradata_size = (int)extra_size;
    assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
    tp_video_decoder *tdec = tp_video_decoder_create("h264", extra, extra_size, W, H, err, sizeof err);
    if (!tdec)
        fail_msg("%s", err);

    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    int decoded = 0, tp_decoded = 0;
    for (int i = 0; i <= FRAMES; i++) {
        assert_int_equal(tp_video_encoder_send(enc, i < FRAMES ? rgb : NULL, i, err, sizeof err), 0);
        tp_video_packet p;
        int rc;
        while ((rc = tp_video_encoder_receive(enc, &p, err, sizeof err)) == 1) {
            assert_int_equal(av_new_packet(pkt, (int)p.size), 0);
            memcpy(pkt->data, p.data, p.size);
            pkt->pts = p.pts;
            assert_int_equal(avcodec_send_packet(dec, pkt), 0);
            av_packet_unref(pkt);
            while (avcodec_receive_frame(dec, frame) == 0) {
                assert_int_equal(frame->color_primaries, AVCOL_PRI_BT709);
                assert_int_equal(frame->color_trc, AVCOL_TRC_IEC61966_2_1);
                assert_int_equal(frame->colorspace, AVCOL_SPC_SMPTE170M);
                assert_int_equal(frame->color_range, AVCOL_RANGE_MPEG);
                assert_int_equal(frame->format, AV_PIX_FMT_YUV420P);
                /* The centre of each quadrant, through the documented formulas. */
                for (int q = 0; q < 4; q++) {
                    int x = (q % 2) * W / 2 + W / 4, y = (q / 2) * H / 2 + H / 4;
                    int Y = frame->data[0][y * frame->linesize[0] + x];
                    int cb = frame->data[1][(y / 2) * frame->linesize[1] + x / 2];
                    int cr = frame->data[2][(y / 2) * frame->linesize[2] + x / 2];
                    assert_true(Y >= 16 && Y <= 235); /* limited range */
                    double back[3];
                    bt601_limited_to_rgb(Y, cb, cr, back);
                    for (int c = 0; c < 3; c++)
                        if (fabs(back[c] - colours[q][c]) > 4)
                            fail_msg("quadrant %d channel %d: %d in, %.1f back through BT.601 limited range", q, c,
                                     colours[q][c], back[c]);
                }
                decoded++;
            }
            assert_int_equal(tp_video_decoder_send(tdec, p.data, p.size, p.pts, err, sizeof err), 0);
            tp_video_frame out;
            while (tp_video_decoder_receive(tdec, &out, err, sizeof err) == 1) {
                for (int q = 0; q < 4; q++) {
                    int x = (q % 2) * W / 2 + W / 4, y = (q / 2) * H / 2 + H / 4;
                    for (int c = 0; c < 3; c++)
                        if (abs(out.rgb[3 * (y * W + x) + c] - colours[q][c]) > 4)
                            fail_msg("teleop decoder, quadrant %d channel %d: %d in, %d back", q, c, colours[q][c],
                                     out.rgb[3 * (y * W + x) + c]);
                }
                tp_decoded++;
            }
        }
        assert_int_equal(rc, 0);
    }
    avcodec_send_packet(dec, NULL);
    while (avcodec_receive_frame(dec, frame) == 0)
        decoded++;
    assert_int_equal(decoded, FRAMES);
    assert_true(tp_decoded >= 1);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    tp_video_decoder_destroy(tdec);
    tp_video_encoder_destroy(enc);
    free(rgb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_h264_colour_description)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
