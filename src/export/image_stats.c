/* teleop — per-channel statistics of a camera's frames for LeRobot's image
 * stats (lerobot.h): the episode's keyframes in the exported window (one a
 * second; each decodes on its own, so no other frame is decoded), as RGB
 * values / 255. Pixel values are integers 0..255, so a histogram per channel
 * gives min, max, mean, std and the quantiles exactly. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>

#include "lerobot.h"
#include "teleop/episode.h"

static void from_histogram(const uint64_t hist[3][256], int64_t frames, tp_lr_stats *out)
{
    memset(out, 0, sizeof *out);
    out->dims = 3;
    out->count = frames;
    for (int c = 0; c < 3; c++) {
        uint64_t n = 0;
        double sum = 0;
        for (int v = 0; v < 256; v++) {
            n += hist[c][v];
            sum += (double)hist[c][v] * (v / 255.0);
        }
        if (!n)
            continue;
        double mean = sum / (double)n, var = 0;
        int lo = 255, hi = 0;
        for (int v = 0; v < 256; v++) {
            if (!hist[c][v])
                continue;
            double d = v / 255.0 - mean;
            var += (double)hist[c][v] * d * d;
            if (v < lo)
                lo = v;
            if (v > hi)
                hi = v;
        }
        out->mean[c] = mean;
        out->std[c] = sqrt(var / (double)n);
        out->min[c] = lo / 255.0;
        out->max[c] = hi / 255.0;
        for (int k = 0; k < TP_LR_NQ; k++) {
            /* numpy's linear rule on the sorted values */
            double pos = tp_lr_quantiles[k] * (double)(n - 1);
            uint64_t i0 = (uint64_t)floor(pos), i1 = i0 + 1 < n ? i0 + 1 : i0;
            int v0 = -1, v1 = -1;
            uint64_t cum = 0;
            for (int v = 0; v < 256 && v1 < 0; v++) {
                cum += hist[c][v];
                if (v0 < 0 && cum > i0)
                    v0 = v;
                if (cum > i1)
                    v1 = v;
            }
            out->q[k][c] = (v0 + (v1 - v0) * (pos - (double)i0)) / 255.0;
        }
    }
}

int tp_lr_image_stats(const tp_export_episode *e, int cam, tp_lr_stats *out, char *err, size_t errlen)
{
    const tp_export_camera *c = &e->cameras[cam];
    static const struct {
        const char *name;
        enum AVCodecID id;
    } codecs[] = {{"h264", AV_CODEC_ID_H264}, {"ffv1", AV_CODEC_ID_FFV1}, {"mjpeg", AV_CODEC_ID_MJPEG}};
    enum AVCodecID id = AV_CODEC_ID_NONE;
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++)
        if (!strcmp(c->codec, codecs[i].name))
            id = codecs[i].id;
    const AVCodec *dc = avcodec_find_decoder(id);
    if (!dc) {
        snprintf(err, errlen, "%s: camera %s: no decoder for %s", e->path, c->name, c->codec);
        return -1;
    }
    AVCodecContext *dec = avcodec_alloc_context3(dc);
    AVFrame *f = av_frame_alloc(), *rgb = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    struct SwsContext *sws = NULL;
    static __thread uint64_t hist[3][256];
    memset(hist, 0, sizeof hist);
    int64_t frames = 0;
    int rc = -1;
    tp_episode *ep = NULL;
    tp_episode_cursor *cur = NULL;
    if (!dec || !f || !rgb || !pkt) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (c->extradata_size) {
        dec->extradata = av_mallocz(c->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE);
        memcpy(dec->extradata, c->extradata, c->extradata_size);
        dec->extradata_size = (int)c->extradata_size;
    }
    dec->thread_count = 1;
    dec->width = c->width; /* FFV1 frames carry no size */
    dec->height = c->height;
    if (avcodec_open2(dec, dc, NULL) < 0) {
        snprintf(err, errlen, "%s: camera %s: cannot open the decoder", e->path, c->name);
        goto out;
    }
    rgb->format = AV_PIX_FMT_RGB24;
    rgb->width = c->width;
    rgb->height = c->height;
    if (av_frame_get_buffer(rgb, 0) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    ep = tp_episode_open(e->path, err, errlen);
    if (!ep)
        goto out;
    cur = tp_episode_cursor_open(ep, c->stream_id);
    int64_t first = e->n_frames ? c->frame_seq[0] : 0, last = e->n_frames ? c->frame_seq[e->n_frames - 1] : -1;
    tp_episode_row row;
    while (cur && tp_episode_cursor_next(cur, &row) == 1 && row.seq <= last) {
        if (row.seq < first || !row.keyframe)
            continue;
        avcodec_flush_buffers(dec);
        pkt->data = (uint8_t *)row.bytes;
        pkt->size = (int)row.size;
        int got = avcodec_send_packet(dec, pkt) == 0 && avcodec_send_packet(dec, NULL) == 0 &&
                  avcodec_receive_frame(dec, f) == 0;
        pkt->data = NULL;
        pkt->size = 0;
        if (!got)
            continue;
        if (!sws)
            sws = sws_getContext(f->width, f->height, f->format, c->width, c->height, AV_PIX_FMT_RGB24, SWS_BILINEAR,
                                 NULL, NULL, NULL);
        if (!sws)
            break;
        sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, rgb->data, rgb->linesize);
        av_frame_unref(f);
        for (int y = 0; y < c->height; y++) {
            const uint8_t *p = rgb->data[0] + (size_t)y * (size_t)rgb->linesize[0];
            for (int x = 0; x < c->width; x++, p += 3) {
                hist[0][p[0]]++;
                hist[1][p[1]]++;
                hist[2][p[2]]++;
            }
        }
        frames++;
    }
    if (!frames) {
        snprintf(err, errlen, "%s: camera %s: no keyframe decodes in the exported window", e->path, c->name);
        goto out;
    }
    from_histogram(hist, frames, out);
    rc = 0;
out:
    if (cur)
        tp_episode_cursor_close(cur);
    if (ep)
        tp_episode_close(ep);
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&f);
    av_frame_free(&rgb);
    avcodec_free_context(&dec);
    return rc;
}
