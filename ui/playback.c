/* teleop review — an episode opened for playback: per camera a libavcodec
 * decoder fed from the episode reader, positioned by a frame index of stamps
 * and keyframe flags built at open (no packet data read then); sample streams
 * loaded whole on first use; limits, events and operator hands. */
#include "playback.h"

#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pb_camera {
    tp_playback_camera pub;
    int stream_id;
    const tp_stream_info *info;
    int64_t *t_ns, *seq;
    uint8_t *keyframe;
    /* decoder, made on the first frame request */
    const AVCodec *codec;
    AVCodecContext *ctx;
    AVPacket *pkt;
    AVFrame *frame;
    uint8_t *in;
    unsigned in_size;
    struct SwsContext *sws;
    int sws_w, sws_h, sws_fmt;
    uint8_t *rgb;
    int64_t rgb_index;         /* the frame whose pixels are in rgb, -1 none */
    tp_episode_cursor *cursor; /* yields the packet at index next_send */
    int64_t next_send;
    int64_t decoded;           /* index of the last frame the decoder returned, -1 none */
    bool drained;              /* flushed at the end of the stream: reopen before decoding again */
    tp_playback_decode_stats stats;
} pb_camera;

typedef struct pb_series {
    tp_playback_series pub;
    int64_t *t_ns;
    float *values;
    struct pb_series *next;
} pb_series;

/* Where the operator stream holds the hands: per hand the hand_active column
 * and the px column of each of the 26 joints (py, pz follow it). */
typedef struct hand_layout {
    bool resolved, present;
    int active[2];
    int px[2][26];
} hand_layout;

struct tp_playback {
    tp_episode *ep;
    char *path;
    int64_t start_ns, end_ns;
    pb_camera *cams;
    int ncams;
    pb_series *series;
    tp_playback_event *events;
    int nevents, events_cap;
    hand_layout hands;
};

/* XR_EXT_hand_tracking joint order, as the operator stream names them. */
static const char *const hand_joint_names[26] = {
    "palm",
    "wrist",
    "thumb_metacarpal",
    "thumb_proximal",
    "thumb_distal",
    "thumb_tip",
    "index_metacarpal",
    "index_proximal",
    "index_intermediate",
    "index_distal",
    "index_tip",
    "middle_metacarpal",
    "middle_proximal",
    "middle_intermediate",
    "middle_distal",
    "middle_tip",
    "ring_metacarpal",
    "ring_proximal",
    "ring_intermediate",
    "ring_distal",
    "ring_tip",
    "little_metacarpal",
    "little_proximal",
    "little_intermediate",
    "little_distal",
    "little_tip",
};

static void av_message(char *err, size_t errlen, const char *path, const char *cam, const char *what, int code)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    av_strerror(code, buf, sizeof buf);
    snprintf(err, errlen, "%s: camera '%s': %s: %s", path, cam, what, buf);
}

static int add_event(const tp_episode_event *ev, void *user)
{
    tp_playback *pb = user;
    if (pb->nevents == pb->events_cap) {
        int cap = pb->events_cap ? pb->events_cap * 2 : 64;
        tp_playback_event *grown = realloc(pb->events, sizeof *grown * (size_t)cap);
        if (!grown)
            return -1;
        pb->events = grown;
        pb->events_cap = cap;
    }
    tp_playback_event *e = &pb->events[pb->nevents];
    e->t_ns = ev->t_ns;
    e->kind = strdup(ev->kind ? ev->kind : "");
    e->detail = strdup(ev->detail ? ev->detail : "");
    if (!e->kind || !e->detail) {
        free((char *)e->kind);
        free((char *)e->detail);
        return -1;
    }
    pb->nevents++;
    return 0;
}

/* The frame index: every packet's seq, stamp and keyframe flag, read without
 * its data. */
static int index_camera(tp_playback *pb, pb_camera *c, char *err, size_t errlen)
{
    int64_t cap = c->info->count > 0 ? c->info->count : 1;
    c->t_ns = malloc(sizeof *c->t_ns * (size_t)cap);
    c->seq = malloc(sizeof *c->seq * (size_t)cap);
    c->keyframe = malloc((size_t)cap);
    tp_episode_cursor *cur = tp_episode_cursor_open_stamps(pb->ep, c->stream_id);
    if (!c->t_ns || !c->seq || !c->keyframe || !cur) {
        tp_episode_cursor_close(cur);
        snprintf(err, errlen, "%s: camera '%s': cannot read its packet index", pb->path, c->pub.name);
        return -1;
    }
    tp_episode_row row;
    int64_t n = 0;
    int rc;
    while ((rc = tp_episode_cursor_next(cur, &row)) == 1) {
        if (n == cap) { /* the snapshot's count is exact; more rows mean a damaged file */
            rc = -1;
            break;
        }
        if (n > 0 && row.t_ns <= c->t_ns[n - 1]) {
            tp_episode_cursor_close(cur);
            snprintf(err, errlen, "%s: camera '%s': packet seq %lld: t_ns does not increase", pb->path, c->pub.name,
                     (long long)row.seq);
            return -1;
        }
        c->t_ns[n] = row.t_ns;
        c->seq[n] = row.seq;
        c->keyframe[n] = row.keyframe;
        n++;
    }
    tp_episode_cursor_close(cur);
    if (rc < 0) {
        snprintf(err, errlen, "%s: camera '%s': cannot read its packet index", pb->path, c->pub.name);
        return -1;
    }
    if (n > 0 && !c->keyframe[0]) {
        snprintf(err, errlen, "%s: camera '%s': the first packet is not a keyframe", pb->path, c->pub.name);
        return -1;
    }
    c->pub.frames = n;
    c->pub.t_ns = c->t_ns;
    return 0;
}

tp_playback *tp_playback_open(const char *path, char *err, size_t errlen)
{
    tp_playback *pb = calloc(1, sizeof *pb);
    if (!pb || !(pb->path = strdup(path))) {
        free(pb);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (!(pb->ep = tp_episode_open(path, err, errlen))) {
        tp_playback_close(pb);
        return NULL;
    }
    if (av_log_get_level() == AV_LOG_INFO) /* decode errors come back as messages, not stderr noise */
        av_log_set_level(AV_LOG_QUIET);
    int nstreams = tp_episode_stream_count(pb->ep);
    pb->cams = calloc((size_t)(nstreams > 0 ? nstreams : 1), sizeof *pb->cams);
    if (!pb->cams) {
        snprintf(err, errlen, "%s: out of memory", path);
        tp_playback_close(pb);
        return NULL;
    }
    bool any = false;
    for (int i = 0; i < nstreams; i++) {
        const tp_stream_info *s = tp_episode_stream(pb->ep, i);
        if (s->count > 0) {
            if (!any || s->t_first < pb->start_ns)
                pb->start_ns = s->t_first;
            if (!any || s->t_last > pb->end_ns)
                pb->end_ns = s->t_last;
            any = true;
        }
        if (s->kind != TP_STREAM_CAMERA)
            continue;
        pb_camera *c = &pb->cams[pb->ncams++];
        c->info = s;
        c->stream_id = s->id;
        c->pub.name = s->name;
        c->pub.width = s->width;
        c->pub.height = s->height;
        c->rgb_index = -1;
        c->decoded = -1;
        c->next_send = -1;
        const char *codec = s->codec ? s->codec : "";
        enum AVCodecID id = !strcmp(codec, "h264")    ? AV_CODEC_ID_H264
                            : !strcmp(codec, "ffv1")  ? AV_CODEC_ID_FFV1
                            : !strcmp(codec, "mjpeg") ? AV_CODEC_ID_MJPEG
                                                      : AV_CODEC_ID_NONE;
        if (id == AV_CODEC_ID_NONE || !(c->codec = avcodec_find_decoder(id))) {
            snprintf(err, errlen, "%s: camera '%s': no decoder for codec '%s'", path, s->name, codec);
            tp_playback_close(pb);
            return NULL;
        }
        if (s->width <= 0 || s->height <= 0 || s->width > 16384 || s->height > 16384) {
            snprintf(err, errlen, "%s: camera '%s': frame size %dx%d is not usable", path, s->name, s->width,
                     s->height);
            tp_playback_close(pb);
            return NULL;
        }
        if (index_camera(pb, c, err, errlen)) {
            tp_playback_close(pb);
            return NULL;
        }
    }
    if (tp_episode_events(pb->ep, add_event, pb)) {
        snprintf(err, errlen, "%s: cannot read its events", path);
        tp_playback_close(pb);
        return NULL;
    }
    return pb;
}

static void camera_free_decoder(pb_camera *c)
{
    tp_episode_cursor_close(c->cursor);
    c->cursor = NULL;
    sws_freeContext(c->sws);
    c->sws = NULL;
    av_freep(&c->in);
    c->in_size = 0;
    av_packet_free(&c->pkt);
    av_frame_free(&c->frame);
    avcodec_free_context(&c->ctx);
    free(c->rgb);
    c->rgb = NULL;
}

void tp_playback_close(tp_playback *pb)
{
    if (!pb)
        return;
    for (int i = 0; i < pb->ncams; i++) {
        pb_camera *c = &pb->cams[i];
        camera_free_decoder(c);
        free(c->t_ns);
        free(c->seq);
        free(c->keyframe);
    }
    free(pb->cams);
    for (pb_series *s = pb->series, *next; s; s = next) {
        next = s->next;
        free(s->t_ns);
        free(s->values);
        free(s);
    }
    for (int i = 0; i < pb->nevents; i++) {
        free((char *)pb->events[i].kind);
        free((char *)pb->events[i].detail);
    }
    free(pb->events);
    tp_episode_close(pb->ep);
    free(pb->path);
    free(pb);
}

const tp_episode *tp_playback_episode(const tp_playback *pb) { return pb->ep; }
const char *tp_playback_path(const tp_playback *pb) { return pb->path; }
int64_t tp_playback_start_ns(const tp_playback *pb) { return pb->start_ns; }
int64_t tp_playback_end_ns(const tp_playback *pb) { return pb->end_ns; }
int tp_playback_camera_count(const tp_playback *pb) { return pb->ncams; }

const tp_playback_camera *tp_playback_camera_at(const tp_playback *pb, int index)
{
    return index >= 0 && index < pb->ncams ? &pb->cams[index].pub : NULL;
}

/* Last index with t[i] <= t, or -1 when t is before t[0]. */
static int64_t last_at_or_before(const int64_t *t, int64_t n, int64_t t_ns)
{
    int64_t lo = 0, hi = n; /* answer + 1 lies in [lo, hi] */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (t[mid] <= t_ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

static int camera_open_decoder(tp_playback *pb, pb_camera *c, char *err, size_t errlen)
{
    c->ctx = avcodec_alloc_context3(c->codec);
    c->pkt = av_packet_alloc();
    c->frame = av_frame_alloc();
    c->rgb = malloc((size_t)c->pub.width * (size_t)c->pub.height * 3);
    if (!c->ctx || !c->pkt || !c->frame || !c->rgb) {
        snprintf(err, errlen, "%s: camera '%s': out of memory", pb->path, c->pub.name);
        camera_free_decoder(c);
        return -1;
    }
    if (c->info->extradata && c->info->extradata_size) {
        if (c->info->extradata_size > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE ||
            !(c->ctx->extradata = av_mallocz(c->info->extradata_size + AV_INPUT_BUFFER_PADDING_SIZE))) {
            snprintf(err, errlen, "%s: camera '%s': out of memory for its extradata", pb->path, c->pub.name);
            camera_free_decoder(c);
            return -1;
        }
        memcpy(c->ctx->extradata, c->info->extradata, c->info->extradata_size);
        c->ctx->extradata_size = (int)c->info->extradata_size;
    }
    /* One thread: frame threading would hold every frame back behind the
     * packets after it, and a single step must show its frame at once. */
    c->ctx->thread_count = 1;
    c->ctx->width = c->pub.width;
    c->ctx->height = c->pub.height;
    int rc = avcodec_open2(c->ctx, c->codec, NULL);
    if (rc < 0) {
        av_message(err, errlen, pb->path, c->pub.name, "cannot open the decoder", rc);
        camera_free_decoder(c);
        return -1;
    }
    return 0;
}

/* Positions the decoder at the keyframe kf: the next packet sent is kf's. */
static int camera_seek(tp_playback *pb, pb_camera *c, int64_t kf, char *err, size_t errlen)
{
    tp_episode_cursor_close(c->cursor);
    c->cursor = NULL;
    if (c->decoded >= 0 || c->drained || c->next_send >= 0)
        avcodec_flush_buffers(c->ctx);
    c->decoded = -1;
    c->drained = false;
    c->next_send = -1;
    if (!(c->cursor = tp_episode_cursor_open_from(pb->ep, c->stream_id, c->seq[kf]))) {
        snprintf(err, errlen, "%s: camera '%s': cannot read packets from seq %lld", pb->path, c->pub.name,
                 (long long)c->seq[kf]);
        return -1;
    }
    c->next_send = kf;
    c->stats.seeks++;
    return 0;
}

/* The stream's matrix and range back to RGB, as the recorder's own decoder
 * does (BT.601 when the stream declares none; JPEG's YUV is full range), so
 * a frame here is the frame any decode of the episode gives. */
static int camera_convert(tp_playback *pb, pb_camera *c, const AVFrame *f, char *err, size_t errlen)
{
    if (f->width != c->pub.width || f->height != c->pub.height) {
        snprintf(err, errlen, "%s: camera '%s': frame seq %lld is %dx%d, the stream says %dx%d", pb->path,
                 c->pub.name, (long long)c->seq[f->pts], f->width, f->height, c->pub.width, c->pub.height);
        return -1;
    }
    if (!c->sws || c->sws_w != f->width || c->sws_h != f->height || c->sws_fmt != f->format) {
        sws_freeContext(c->sws);
        c->sws = sws_getContext(f->width, f->height, f->format, f->width, f->height, AV_PIX_FMT_RGB24, SWS_BILINEAR,
                                NULL, NULL, NULL);
        const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(f->format);
        if (c->sws && desc && !(desc->flags & AV_PIX_FMT_FLAG_RGB)) {
            int full = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
                       f->format == AV_PIX_FMT_YUVJ422P || f->format == AV_PIX_FMT_YUVJ444P;
            int cs = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_ITU601 : (int)f->colorspace;
            sws_setColorspaceDetails(c->sws, sws_getCoefficients(cs), full, sws_getCoefficients(SWS_CS_ITU601), 1, 0,
                                     1 << 16, 1 << 16);
        }
        if (!c->sws) {
            snprintf(err, errlen, "%s: camera '%s': cannot convert its frames to RGB", pb->path, c->pub.name);
            return -1;
        }
        c->sws_w = f->width;
        c->sws_h = f->height;
        c->sws_fmt = f->format;
    }
    uint8_t *dst[1] = {c->rgb};
    int stride[1] = {3 * f->width};
    sws_scale(c->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
    return 0;
}

/* Sends the next packet (or the end of the stream after the last). */
static int camera_feed(tp_playback *pb, pb_camera *c, char *err, size_t errlen)
{
    if (c->drained) {
        snprintf(err, errlen, "%s: camera '%s': the decoder returned fewer frames than packets", pb->path,
                 c->pub.name);
        return -1;
    }
    tp_episode_row row;
    int r = tp_episode_cursor_next(c->cursor, &row);
    if (r < 0) {
        snprintf(err, errlen, "%s: camera '%s': cannot read packet seq %lld", pb->path, c->pub.name,
                 (long long)(c->next_send < c->pub.frames ? c->seq[c->next_send] : -1));
        return -1;
    }
    int rc;
    if (r == 0 || c->next_send >= c->pub.frames) {
        rc = avcodec_send_packet(c->ctx, NULL);
        c->drained = true;
    } else {
        if (row.seq != c->seq[c->next_send]) {
            snprintf(err, errlen, "%s: camera '%s': packet seq %lld where the index has %lld", pb->path, c->pub.name,
                     (long long)row.seq, (long long)c->seq[c->next_send]);
            return -1;
        }
        if (row.size > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE) {
            snprintf(err, errlen, "%s: camera '%s': packet seq %lld is too large", pb->path, c->pub.name,
                     (long long)row.seq);
            return -1;
        }
        av_fast_padded_malloc(&c->in, &c->in_size, row.size); /* libav reads past the end: padding */
        if (!c->in) {
            snprintf(err, errlen, "%s: camera '%s': out of memory", pb->path, c->pub.name);
            return -1;
        }
        memcpy(c->in, row.bytes, row.size);
        av_packet_unref(c->pkt);
        c->pkt->data = c->in;
        c->pkt->size = (int)row.size;
        c->pkt->pts = c->next_send; /* the frame comes back labelled with its index */
        c->pkt->dts = c->next_send;
        if (row.keyframe)
            c->pkt->flags |= AV_PKT_FLAG_KEY;
        rc = avcodec_send_packet(c->ctx, c->pkt);
        c->next_send++;
    }
    if (rc < 0 && rc != AVERROR_EOF) {
        char what[64];
        snprintf(what, sizeof what, "packet seq %lld does not decode", (long long)row.seq);
        av_message(err, errlen, pb->path, c->pub.name, what, rc);
        return -1;
    }
    return 0;
}

/* Decodes forward until frame index idx is out, converting only that one. */
static int camera_decode_to(tp_playback *pb, pb_camera *c, int64_t idx, char *err, size_t errlen)
{
    while (c->decoded < idx) {
        int rc = avcodec_receive_frame(c->ctx, c->frame);
        if (rc == AVERROR(EAGAIN)) {
            if (camera_feed(pb, c, err, errlen))
                return -1;
            continue;
        }
        if (rc == AVERROR_EOF) {
            snprintf(err, errlen, "%s: camera '%s': the stream ended before frame seq %lld", pb->path, c->pub.name,
                     (long long)c->seq[idx]);
            return -1;
        }
        if (rc < 0) {
            av_message(err, errlen, pb->path, c->pub.name, "decode", rc);
            return -1;
        }
        int64_t got = c->frame->pts;
        if (got <= c->decoded || got > idx || (c->frame->flags & AV_FRAME_FLAG_CORRUPT) ||
            c->frame->decode_error_flags) {
            int64_t seq = got >= 0 && got < c->pub.frames ? c->seq[got] : got;
            snprintf(err, errlen, "%s: camera '%s': %s at frame seq %lld", pb->path, c->pub.name,
                     got > idx || got <= c->decoded ? "a packet gave no frame" : "corrupt frame", (long long)seq);
            av_frame_unref(c->frame);
            return -1;
        }
        c->decoded = got;
        c->stats.frames_decoded++;
        if (got == idx) {
            int cr = camera_convert(pb, c, c->frame, err, errlen);
            av_frame_unref(c->frame);
            if (cr)
                return -1;
            c->rgb_index = idx;
        } else {
            av_frame_unref(c->frame);
        }
    }
    return 0;
}

int64_t tp_playback_frame(tp_playback *pb, int camera, int64_t t_ns, const uint8_t **rgb, char *err, size_t errlen)
{
    if (camera < 0 || camera >= pb->ncams) {
        snprintf(err, errlen, "%s: no camera %d", pb->path, camera);
        return -1;
    }
    pb_camera *c = &pb->cams[camera];
    if (c->pub.frames == 0) {
        snprintf(err, errlen, "%s: camera '%s' has no frames", pb->path, c->pub.name);
        return -1;
    }
    int64_t idx = last_at_or_before(c->t_ns, c->pub.frames, t_ns);
    if (idx < 0)
        idx = 0;
    if (c->rgb_index == idx) {
        *rgb = c->rgb;
        return c->seq[idx];
    }
    if (!c->ctx && camera_open_decoder(pb, c, err, errlen))
        return -1;
    int64_t kf = idx;
    while (kf > 0 && !c->keyframe[kf])
        kf--;
    /* Forward from where the decoder is, unless that is past idx, or a
     * keyframe after it lets the decode skip ahead. */
    bool forward = c->cursor && !c->drained && c->decoded < idx && c->decoded + 1 >= kf;
    c->rgb_index = -1;
    if (!forward && camera_seek(pb, c, kf, err, errlen))
        return -1;
    if (camera_decode_to(pb, c, idx, err, errlen)) {
        /* Whatever state the decoder is in, the next request starts clean. */
        tp_episode_cursor_close(c->cursor);
        c->cursor = NULL;
        return -1;
    }
    *rgb = c->rgb;
    return c->seq[idx];
}

void tp_playback_decode_stats_get(const tp_playback *pb, int camera, tp_playback_decode_stats *out)
{
    static const tp_playback_decode_stats none;
    *out = camera >= 0 && camera < pb->ncams ? pb->cams[camera].stats : none;
}

int64_t tp_playback_next_frame_t(const tp_playback *pb, int camera, int64_t t_ns)
{
    if (camera < 0 || camera >= pb->ncams || pb->cams[camera].pub.frames == 0)
        return t_ns;
    const pb_camera *c = &pb->cams[camera];
    int64_t idx = last_at_or_before(c->t_ns, c->pub.frames, t_ns);
    /* Before the camera starts its first frame is shown; stepping goes to
     * the time it was captured. */
    if (idx < 0)
        return c->t_ns[0];
    return idx + 1 < c->pub.frames ? c->t_ns[idx + 1] : t_ns;
}

int64_t tp_playback_prev_frame_t(const tp_playback *pb, int camera, int64_t t_ns)
{
    if (camera < 0 || camera >= pb->ncams || pb->cams[camera].pub.frames == 0)
        return t_ns;
    const pb_camera *c = &pb->cams[camera];
    int64_t idx = last_at_or_before(c->t_ns, c->pub.frames, t_ns);
    return idx >= 1 ? c->t_ns[idx - 1] : t_ns;
}

static pb_series *load_series(tp_playback *pb, const tp_stream_info *s)
{
    pb_series *ps = calloc(1, sizeof *ps);
    int64_t cap = s->count > 0 ? s->count : 1;
    size_t dims = (size_t)(s->dims > 0 ? s->dims : 1);
    if (!ps || (size_t)cap > SIZE_MAX / sizeof(float) / dims)
        goto fail;
    ps->t_ns = malloc(sizeof *ps->t_ns * (size_t)cap);
    ps->values = malloc(sizeof(float) * dims * (size_t)cap);
    tp_episode_cursor *cur = tp_episode_cursor_open(pb->ep, s->id);
    if (!ps->t_ns || !ps->values || !cur) {
        tp_episode_cursor_close(cur);
        goto fail;
    }
    tp_episode_row row;
    int64_t n = 0;
    int rc;
    while ((rc = tp_episode_cursor_next(cur, &row)) == 1 && n < cap) {
        ps->t_ns[n] = row.t_ns;
        memcpy(ps->values + (size_t)n * dims, row.samples, sizeof(float) * dims);
        n++;
    }
    tp_episode_cursor_close(cur);
    if (rc < 0)
        goto fail;
    ps->pub.name = s->name;
    ps->pub.dims = s->dims;
    ps->pub.dim_names = s->dim_names;
    ps->pub.n = n;
    ps->pub.t_ns = ps->t_ns;
    ps->pub.values = ps->values;
    return ps;
fail:
    if (ps) {
        free(ps->t_ns);
        free(ps->values);
        free(ps);
    }
    return NULL;
}

const tp_playback_series *tp_playback_series_get(tp_playback *pb, const char *stream)
{
    for (pb_series *s = pb->series; s; s = s->next)
        if (!strcmp(s->pub.name, stream))
            return &s->pub;
    const tp_stream_info *info = tp_episode_find_stream(pb->ep, stream);
    if (!info || info->kind == TP_STREAM_CAMERA)
        return NULL;
    pb_series *s = load_series(pb, info);
    if (!s)
        return NULL;
    s->next = pb->series;
    pb->series = s;
    return &s->pub;
}

int64_t tp_playback_series_index(const tp_playback_series *s, int64_t t_ns)
{
    int64_t i = last_at_or_before(s->t_ns, s->n, t_ns);
    return i < 0 ? 0 : i;
}

bool tp_playback_joint_limit(const tp_playback *pb, const char *joint, double *lower, double *upper)
{
    int n = 0;
    const tp_joint_limit *l = tp_episode_joint_limits(pb->ep, &n);
    for (int i = 0; i < n; i++)
        if (!strcmp(l[i].name, joint)) {
            *lower = l[i].lower;
            *upper = l[i].upper;
            return true;
        }
    return false;
}

int tp_playback_event_count(const tp_playback *pb) { return pb->nevents; }

const tp_playback_event *tp_playback_event_at(const tp_playback *pb, int index)
{
    return index >= 0 && index < pb->nevents ? &pb->events[index] : NULL;
}

static int dim_index(const tp_playback_series *s, const char *name)
{
    for (int i = 0; i < s->dims; i++)
        if (s->dim_names && s->dim_names[i] && !strcmp(s->dim_names[i], name))
            return i;
    return -1;
}

/* Finds the hand columns by name (every operator layout so far names them);
 * without names, the documented layout: head 8, then per hand hand_active
 * and 26 joints of px py pz qx qy qz qw radius valid. */
static void resolve_hands(hand_layout *h, const tp_playback_series *s)
{
    h->resolved = true;
    h->present = true;
    static const char *const side[2] = {"left", "right"};
    for (int k = 0; k < 2 && h->present; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s.hand_active", side[k]);
        h->active[k] = dim_index(s, name);
        for (int j = 0; j < 26; j++) {
            snprintf(name, sizeof name, "%s.%s.px", side[k], hand_joint_names[j]);
            h->px[k][j] = dim_index(s, name);
            if (h->px[k][j] < 0 || h->px[k][j] + 2 >= s->dims)
                h->present = false;
        }
        if (h->active[k] < 0)
            h->present = false;
    }
    if (h->present)
        return;
    enum { HEAD = 8, PER_HAND = 1 + 26 * 9 };
    bool unnamed = !s->dim_names || !s->dim_names[0] || !s->dim_names[0][0];
    if (!unnamed || s->dims < HEAD + 2 * PER_HAND)
        return;
    h->present = true;
    for (int k = 0; k < 2; k++) {
        h->active[k] = HEAD + k * PER_HAND;
        for (int j = 0; j < 26; j++)
            h->px[k][j] = h->active[k] + 1 + j * 9;
    }
}

bool tp_playback_hands(tp_playback *pb, int64_t t_ns, float left[26][3], float right[26][3], bool tracked[2])
{
    const tp_playback_series *s = tp_playback_series_get(pb, "operator");
    if (!s || s->n == 0)
        return false;
    if (!pb->hands.resolved)
        resolve_hands(&pb->hands, s);
    if (!pb->hands.present)
        return false;
    const float *row = s->values + (size_t)tp_playback_series_index(s, t_ns) * (size_t)s->dims;
    float (*out[2])[3] = {left, right};
    for (int k = 0; k < 2; k++) {
        tracked[k] = row[pb->hands.active[k]] >= 0.5f;
        for (int j = 0; j < 26; j++)
            memcpy(out[k][j], row + pb->hands.px[k][j], sizeof(float) * 3);
    }
    return true;
}
