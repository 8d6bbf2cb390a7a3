/* Decodes a whole video file to list its frame times (dataset check). */
#include "check_video.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void averr(char *err, size_t errlen, const char *what, int rc)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(rc, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, buf);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int push_frame(tp_video_probe *p, size_t *cap, const AVFrame *f, AVRational tb, char *err, size_t errlen)
{
    int64_t ts = f->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE) {
        snprintf(err, errlen, "frame %lld has no timestamp", (long long)p->nframes);
        return -1;
    }
    if ((size_t)p->nframes == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        double *nt = realloc(p->times, nc * sizeof *nt);
        if (!nt) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        p->times = nt;
        *cap = nc;
    }
    p->times[p->nframes++] = (double)ts * av_q2d(tb);
    return 0;
}

static int drain(AVCodecContext *dec, AVFrame *frame, tp_video_probe *p, size_t *cap, AVRational tb, char *err,
                 size_t errlen)
{
    for (;;) {
        int rc = avcodec_receive_frame(dec, frame);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0) {
            averr(err, errlen, "does not decode", rc);
            return -1;
        }
        rc = push_frame(p, cap, frame, tb, err, errlen);
        av_frame_unref(frame);
        if (rc)
            return -1;
    }
}

int tp_video_probe_file(const char *path, tp_video_probe *out, char *err, size_t errlen)
{
    /* libav's own notices would repeat on stderr what the check reports */
    if (av_log_get_level() == AV_LOG_INFO)
        av_log_set_level(AV_LOG_QUIET);
    memset(out, 0, sizeof *out);
    out->duration = -1;
    AVFormatContext *fmt = NULL;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = NULL;
    AVFrame *frame = NULL;
    size_t cap = 0;
    int rc = avformat_open_input(&fmt, path, NULL, NULL);
    if (rc < 0) {
        averr(err, errlen, "cannot open video", rc);
        return -1;
    }
    int result = -1;
    if ((rc = avformat_find_stream_info(fmt, NULL)) < 0) {
        averr(err, errlen, "cannot read stream info", rc);
        goto done;
    }
    int si = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (si < 0) {
        snprintf(err, errlen, "no video stream");
        goto done;
    }
    AVStream *st = fmt->streams[si];
    const AVCodecParameters *par = st->codecpar;
    snprintf(out->codec, sizeof out->codec, "%s", avcodec_get_name(par->codec_id));
    const char *pf = av_get_pix_fmt_name((enum AVPixelFormat)par->format);
    snprintf(out->pix_fmt, sizeof out->pix_fmt, "%s", pf ? pf : "unknown");
    out->width = par->width;
    out->height = par->height;
    if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0)
        out->fps = av_q2d(st->avg_frame_rate);
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        out->duration = (double)st->duration * av_q2d(st->time_base);
    else if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
        out->duration = (double)fmt->duration / AV_TIME_BASE;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec) {
        snprintf(err, errlen, "no decoder for codec %s", out->codec);
        goto done;
    }
    dec = avcodec_alloc_context3(codec);
    pkt = av_packet_alloc();
    frame = av_frame_alloc();
    if (!dec || !pkt || !frame) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if ((rc = avcodec_parameters_to_context(dec, par)) < 0 || (rc = avcodec_open2(dec, codec, NULL)) < 0) {
        averr(err, errlen, "cannot open decoder", rc);
        goto done;
    }
    dec->pkt_timebase = st->time_base;
    for (;;) {
        rc = av_read_frame(fmt, pkt);
        if (rc == AVERROR_EOF)
            break;
        if (rc < 0) {
            averr(err, errlen, "cannot read packet", rc);
            goto done;
        }
        if (pkt->stream_index == si) {
            rc = avcodec_send_packet(dec, pkt);
            av_packet_unref(pkt);
            if (rc < 0) {
                averr(err, errlen, "does not decode", rc);
                goto done;
            }
            if (drain(dec, frame, out, &cap, st->time_base, err, errlen))
                goto done;
        } else
            av_packet_unref(pkt);
    }
    if ((rc = avcodec_send_packet(dec, NULL)) < 0) {
        averr(err, errlen, "does not decode", rc);
        goto done;
    }
    if (drain(dec, frame, out, &cap, st->time_base, err, errlen))
        goto done;
    if (out->nframes > 1)
        qsort(out->times, (size_t)out->nframes, sizeof *out->times, cmp_double);
    result = 0;
done:
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    if (result)
        tp_video_probe_free(out);
    return result;
}

void tp_video_probe_free(tp_video_probe *p)
{
    free(p->times);
    p->times = NULL;
    p->nframes = 0;
}
