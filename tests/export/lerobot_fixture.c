/* Writes the small LeRobot datasets of lerobot_fixture.h. */
#include "lerobot_fixture.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "teleop/parquet.h"

#define W 64
#define H 48
#define MAXF 64

static const int64_t ep_len[FIXTURE_EPISODES] = {30, 20};
static const char *const task_names[2] = {"pick the cube", "place the cube"};

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* ---- video: H.264 in MP4, one frame per data frame ---- */

static int write_video(const char *path, int nframes, char *err, size_t errlen)
{
    if (av_log_get_level() == AV_LOG_INFO)
        av_log_set_level(AV_LOG_QUIET);
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) {
        fail(err, errlen, "libx264 not available");
        return -1;
    }
    AVFormatContext *fmt = NULL;
    AVCodecContext *enc = avcodec_alloc_context3(codec);
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int rc = -1;
    if (!enc || !frame || !pkt || avformat_alloc_output_context2(&fmt, NULL, "mp4", path) < 0) {
        fail(err, errlen, "%s: cannot set up the muxer", path);
        goto done;
    }
    enc->width = W;
    enc->height = H;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = (AVRational){1, FIXTURE_FPS};
    enc->framerate = (AVRational){FIXTURE_FPS, 1};
    enc->gop_size = 2;
    enc->max_b_frames = 0;
    enc->thread_count = 1;
    if (fmt->oformat->flags & AVFMT_GLOBALHEADER)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(enc->priv_data, "preset", "ultrafast", 0);
    if (avcodec_open2(enc, codec, NULL) < 0) {
        fail(err, errlen, "%s: cannot open libx264", path);
        goto done;
    }
    AVStream *st = avformat_new_stream(fmt, NULL);
    if (!st || avcodec_parameters_from_context(st->codecpar, enc) < 0) {
        fail(err, errlen, "%s: cannot add the stream", path);
        goto done;
    }
    st->time_base = enc->time_base;
    st->avg_frame_rate = enc->framerate;
    if (avio_open(&fmt->pb, path, AVIO_FLAG_WRITE) < 0 || avformat_write_header(fmt, NULL) < 0) {
        fail(err, errlen, "%s: cannot write the header", path);
        goto done;
    }
    frame->format = AV_PIX_FMT_YUV420P;
    frame->width = W;
    frame->height = H;
    if (av_frame_get_buffer(frame, 0) < 0) {
        fail(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i <= nframes; i++) {
        AVFrame *in = NULL;
        if (i < nframes) {
            if (av_frame_make_writable(frame) < 0)
                goto done;
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    frame->data[0][y * frame->linesize[0] + x] = (uint8_t)(x * 3 + y + i * 5);
            for (int y = 0; y < H / 2; y++)
                for (int x = 0; x < W / 2; x++) {
                    frame->data[1][y * frame->linesize[1] + x] = (uint8_t)(128 + i);
                    frame->data[2][y * frame->linesize[2] + x] = (uint8_t)(64 + y);
                }
            frame->pts = i;
            in = frame;
        }
        if (avcodec_send_frame(enc, in) < 0) {
            fail(err, errlen, "%s: encode failed", path);
            goto done;
        }
        while (avcodec_receive_packet(enc, pkt) == 0) {
            av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
            pkt->stream_index = st->index;
            if (av_interleaved_write_frame(fmt, pkt) < 0) {
                fail(err, errlen, "%s: mux failed", path);
                goto done;
            }
        }
    }
    if (av_write_trailer(fmt) < 0) {
        fail(err, errlen, "%s: trailer failed", path);
        goto done;
    }
    rc = 0;
done:
    if (fmt && fmt->pb)
        avio_closep(&fmt->pb);
    avformat_free_context(fmt);
    avcodec_free_context(&enc);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    return rc;
}

/* ---- frames and stats ---- */

typedef struct frames {
    int64_t n;
    float action[MAXF][FIXTURE_DIM], state[MAXF][FIXTURE_DIM], ts[MAXF];
    int64_t frame_index[MAXF], episode_index[MAXF], index[MAXF], task_index[MAXF];
} frames;

static void episode_frames(const lerobot_fixture *o, int ep, int64_t first_index, frames *f)
{
    f->n = ep_len[ep];
    for (int64_t i = 0; i < f->n; i++) {
        for (int d = 0; d < FIXTURE_DIM; d++) {
            f->action[i][d] = (float)sin(0.1 * (double)i + d + ep);
            f->state[i][d] = (float)(0.5 * cos(0.07 * (double)i * (d + 1)) + ep);
        }
        f->ts[i] = (float)((double)i / FIXTURE_FPS);
        f->frame_index[i] = i;
        f->episode_index[i] = ep;
        f->index[i] = first_index + i;
        f->task_index[i] = ep;
    }
    if (o->timestamp_off_grid && ep == 0)
        f->ts[7] += 0.01f;
    if (o->index_gap && ep == 1)
        for (int64_t i = 5; i < f->n; i++)
            f->index[i] += 2;
}

/* Stats of one feature over n frames of dim values (population std, as numpy). */
typedef struct stats {
    double min[FIXTURE_DIM], max[FIXTURE_DIM], mean[FIXTURE_DIM], std[FIXTURE_DIM];
    int64_t count;
    int dim;
} stats;

static void stats_of(const double *v, int64_t n, int dim, stats *s)
{
    s->dim = dim;
    s->count = n;
    for (int d = 0; d < dim; d++) {
        double mn = INFINITY, mx = -INFINITY, sum = 0, sq = 0;
        for (int64_t i = 0; i < n; i++) {
            double x = v[i * dim + d];
            mn = fmin(mn, x);
            mx = fmax(mx, x);
            sum += x;
        }
        double mean = sum / (double)n;
        for (int64_t i = 0; i < n; i++)
            sq += (v[i * dim + d] - mean) * (v[i * dim + d] - mean);
        s->min[d] = mn;
        s->max[d] = mx;
        s->mean[d] = mean;
        s->std[d] = sqrt(sq / (double)n);
    }
}

#define NFEAT 7
static const char *const feat_names[NFEAT] = {"action", "observation.state", "timestamp", "frame_index",
                                              "episode_index", "index", "task_index"};

/* Stats of every numeric feature over frames fs[0..nf). */
static void all_stats(const frames *const *fs, int nf, stats out[NFEAT])
{
    static double buf[FIXTURE_EPISODES * MAXF * FIXTURE_DIM];
    for (int k = 0; k < NFEAT; k++) {
        int dim = k < 2 ? FIXTURE_DIM : 1;
        int64_t n = 0;
        for (int e = 0; e < nf; e++)
            for (int64_t i = 0; i < fs[e]->n; i++, n++)
                for (int d = 0; d < dim; d++) {
                    const frames *f = fs[e];
                    buf[n * dim + d] = k == 0   ? f->action[i][d]
                                       : k == 1 ? f->state[i][d]
                                       : k == 2 ? f->ts[i]
                                       : k == 3 ? (double)f->frame_index[i]
                                       : k == 4 ? (double)f->episode_index[i]
                                       : k == 5 ? (double)f->index[i]
                                                : (double)f->task_index[i];
                }
        stats_of(buf, n, dim, &out[k]);
    }
}

static void json_array(FILE *f, const double *v, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%.17g", i ? ", " : "", v[i]);
    fputc(']', f);
}

static void json_stats(FILE *f, const stats s[NFEAT])
{
    fputc('{', f);
    for (int k = 0; k < NFEAT; k++) {
        fprintf(f, "%s\"%s\": {\"min\": ", k ? ", " : "", feat_names[k]);
        json_array(f, s[k].min, s[k].dim);
        fputs(", \"max\": ", f);
        json_array(f, s[k].max, s[k].dim);
        fputs(", \"mean\": ", f);
        json_array(f, s[k].mean, s[k].dim);
        fputs(", \"std\": ", f);
        json_array(f, s[k].std, s[k].dim);
        fprintf(f, ", \"count\": [%lld]}", (long long)s[k].count);
    }
    fputc('}', f);
}

/* ---- parquet ---- */

static int write_data(const char *path, const frames *const *fs, int nf, char *err, size_t errlen)
{
    const tp_pq_column cols[] = {
        {"action", TP_PQ_FLOAT, TP_PQ_FIXED_LIST, FIXTURE_DIM, true},
        {"observation.state", TP_PQ_FLOAT, TP_PQ_FIXED_LIST, FIXTURE_DIM, true},
        {"timestamp", TP_PQ_FLOAT, TP_PQ_SCALAR, 0, true},
        {"frame_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"episode_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"task_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
    };
    tp_pq_options opt = tp_pq_default_options();
    tp_pq_writer *w = tp_pq_writer_open(path, cols, 7, &opt, err, errlen);
    if (!w)
        return -1;
    for (int e = 0; e < nf; e++) {
        const frames *f = fs[e];
        tp_pq_column_data d[7] = {{.values = f->action}, {.values = f->state},         {.values = f->ts},
                                  {.values = f->frame_index}, {.values = f->episode_index}, {.values = f->index},
                                  {.values = f->task_index}};
        if (tp_pq_write_batch(w, d, (size_t)f->n, err, errlen) != 0 || tp_pq_writer_flush_row_group(w, err, errlen)) {
            tp_pq_writer_abort(w);
            return -1;
        }
    }
    return tp_pq_writer_close(w, err, errlen);
}

static int write_tasks_parquet(const char *path, char *err, size_t errlen)
{
    const tp_pq_column cols[] = {{"task_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
                                 {"task", TP_PQ_STRING, TP_PQ_SCALAR, 0, true}};
    tp_pq_options opt = tp_pq_default_options();
    tp_pq_writer *w = tp_pq_writer_open(path, cols, 2, &opt, err, errlen);
    if (!w)
        return -1;
    const int64_t idx[2] = {0, 1};
    tp_pq_column_data d[2] = {{.values = idx}, {.values = task_names}};
    if (tp_pq_write_batch(w, d, 2, err, errlen) != 0) {
        tp_pq_writer_abort(w);
        return -1;
    }
    return tp_pq_writer_close(w, err, errlen);
}

static int write_episodes_parquet(const char *path, const stats st[FIXTURE_EPISODES][NFEAT],
                                  const int64_t from[FIXTURE_EPISODES], const int64_t file[FIXTURE_EPISODES],
                                  const double vfrom[FIXTURE_EPISODES], const double vto[FIXTURE_EPISODES], char *err,
                                  size_t errlen)
{
    enum { NBASE = 13 };
    tp_pq_column cols[NBASE + NFEAT * 5];
    char names[NFEAT * 5][96];
    const tp_pq_column base[NBASE] = {
        {"episode_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"tasks", TP_PQ_STRING, TP_PQ_LIST, 0, true},
        {"length", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"data/chunk_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"data/file_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"dataset_from_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"dataset_to_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"videos/observation.images.front/chunk_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"videos/observation.images.front/file_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"videos/observation.images.front/from_timestamp", TP_PQ_DOUBLE, TP_PQ_SCALAR, 0, true},
        {"videos/observation.images.front/to_timestamp", TP_PQ_DOUBLE, TP_PQ_SCALAR, 0, true},
        {"meta/episodes/chunk_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
        {"meta/episodes/file_index", TP_PQ_INT64, TP_PQ_SCALAR, 0, true},
    };
    memcpy(cols, base, sizeof base);
    static const char *const sn[5] = {"min", "max", "mean", "std", "count"};
    for (int k = 0; k < NFEAT; k++)
        for (int s = 0; s < 5; s++) {
            int c = k * 5 + s;
            snprintf(names[c], sizeof names[c], "stats/%s/%s", feat_names[k], sn[s]);
            cols[NBASE + c] = (tp_pq_column){names[c], s == 4 ? TP_PQ_INT64 : TP_PQ_DOUBLE, TP_PQ_LIST, 0, true};
        }
    const size_t ncols = NBASE + NFEAT * 5;
    tp_pq_options opt = tp_pq_default_options();
    tp_pq_writer *w = tp_pq_writer_open(path, cols, ncols, &opt, err, errlen);
    if (!w)
        return -1;
    int64_t ep[2] = {0, 1}, len[2] = {ep_len[0], ep_len[1]}, zero[2] = {0, 0}, to[2];
    for (int e = 0; e < 2; e++)
        to[e] = from[e] + ep_len[e];
    const char *tasks[2] = {task_names[0], task_names[1]};
    uint32_t one[2] = {1, 1};
    tp_pq_column_data d[NBASE + NFEAT * 5];
    memset(d, 0, sizeof d);
    d[0].values = ep;
    d[1].values = tasks;
    d[1].list_len = one;
    d[2].values = len;
    d[3].values = zero;
    d[4].values = file;
    d[5].values = from;
    d[6].values = to;
    d[7].values = zero;
    d[8].values = file;
    d[9].values = vfrom;
    d[10].values = vto;
    d[11].values = zero;
    d[12].values = zero;
    static double sv[NFEAT * 4][2 * FIXTURE_DIM];
    static int64_t cnt[NFEAT][2];
    static uint32_t lens[NFEAT * 5][2];
    for (int k = 0; k < NFEAT; k++)
        for (int s = 0; s < 5; s++) {
            int c = k * 5 + s;
            for (int e = 0; e < 2; e++) {
                const stats *x = &st[e][k];
                lens[c][e] = s == 4 ? 1 : (uint32_t)x->dim;
                if (s == 4)
                    cnt[k][e] = x->count;
                else
                    memcpy(&sv[k * 4 + s][e * x->dim],
                           s == 0 ? x->min : s == 1 ? x->max : s == 2 ? x->mean : x->std, (size_t)x->dim * sizeof(double));
            }
            d[NBASE + c].values = s == 4 ? (const void *)cnt[k] : (const void *)sv[k * 4 + s];
            d[NBASE + c].list_len = lens[c];
        }
    if (tp_pq_write_batch(w, d, 2, err, errlen) != 0) {
        tp_pq_writer_abort(w);
        return -1;
    }
    return tp_pq_writer_close(w, err, errlen);
}

/* ---- info.json ---- */

static void write_features(FILE *f, const lerobot_fixture *o, const char *video_info)
{
    int sd = o->declared_state_dim ? o->declared_state_dim : FIXTURE_DIM;
    fprintf(f, "\"features\": {\n"
               "  \"action\": {\"dtype\": \"float32\", \"shape\": [%d], \"names\": [\"j1\", \"j2\", \"j3\", \"j4\", "
               "\"j5\", \"gripper\"]},\n"
               "  \"observation.state\": {\"dtype\": \"float32\", \"shape\": [%d], \"names\": null},\n"
               "  \"observation.images.front\": {\"dtype\": \"video\", \"shape\": [%d, %d, 3], \"names\": "
               "[\"height\", \"width\", \"channels\"], \"info\": {%s}},\n"
               "  \"timestamp\": {\"dtype\": \"float32\", \"shape\": [1], \"names\": null},\n"
               "  \"frame_index\": {\"dtype\": \"int64\", \"shape\": [1], \"names\": null},\n"
               "  \"episode_index\": {\"dtype\": \"int64\", \"shape\": [1], \"names\": null},\n"
               "  \"index\": {\"dtype\": \"int64\", \"shape\": [1], \"names\": null},\n"
               "  \"task_index\": {\"dtype\": \"int64\", \"shape\": [1], \"names\": null}\n}",
            FIXTURE_DIM, sd, H, W, video_info);
}

static int write_text(const char *path, const char *text, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fail(err, errlen, "%s: cannot write", path);
        return -1;
    }
    return 0;
}

int lerobot_fixture_write(const char *dir, const lerobot_fixture *o, char *err, size_t errlen)
{
    char path[1024];
    static frames fr[FIXTURE_EPISODES];
    const frames *fp[FIXTURE_EPISODES];
    stats st[FIXTURE_EPISODES][NFEAT], global[NFEAT];
    int64_t from[FIXTURE_EPISODES], total = 0;
    for (int e = 0; e < FIXTURE_EPISODES; e++) {
        from[e] = total;
        episode_frames(o, e, total, &fr[e]);
        fp[e] = &fr[e];
        all_stats(&fp[e], 1, st[e]);
        total += ep_len[e];
    }
    all_stats(fp, FIXTURE_EPISODES, global);
    if (o->wrong_stats)
        st[1][0].max[2] += 0.5;
    if (o->wrong_std)
        st[0][1].std[3] *= 1.01;
    const char *vinfo = "\"video.height\": 48, \"video.width\": 64, \"video.codec\": \"h264\", \"video.pix_fmt\": "
                        "\"yuv420p\", \"video.is_depth_map\": false, \"video.fps\": 30, \"video.channels\": 3, "
                        "\"has_audio\": false";
    snprintf(path, sizeof path, "%s/meta", dir);
    if (mkdirs(path)) {
        fail(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *info = NULL;
    size_t info_len = 0;
    FILE *f = open_memstream(&info, &info_len);
    if (!f)
        return -1;
    int64_t total_frames = total + o->total_frames_delta;
    if (o->version == 21) {
        fprintf(f, "{\n\"codebase_version\": \"v2.1\", \"robot_type\": \"so100\", \"total_episodes\": 2, "
                   "\"total_frames\": %lld, \"total_tasks\": 2, \"total_videos\": 2, \"total_chunks\": 1, "
                   "\"chunks_size\": 1000, \"fps\": 30, \"splits\": {\"train\": \"0:2\"},\n"
                   "\"data_path\": \"data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet\",\n"
                   "\"video_path\": \"videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4\",\n",
                (long long)total_frames);
        write_features(f, o, vinfo);
        fputs("\n}\n", f);
    } else {
        fputs("{\n\"codebase_version\": \"v3.0\", \"fps\": 30,\n", f);
        write_features(f, o, vinfo);
        fprintf(f, ",\n\"total_episodes\": 2, \"total_frames\": %lld, \"total_tasks\": 2, \"chunks_size\": 1000, "
                   "\"data_files_size_in_mb\": 100, \"video_files_size_in_mb\": 200,\n"
                   "\"data_path\": \"data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet\",\n"
                   "\"video_path\": \"videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4\",\n"
                   "\"robot_type\": \"so100\", \"splits\": {\"train\": \"0:2\"}\n}\n",
                (long long)total_frames);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/meta/info.json", dir);
    int rc = write_text(path, info, err, errlen);
    free(info);
    if (rc)
        return -1;

    if (o->version == 21) {
        for (int e = 0; e < FIXTURE_EPISODES; e++) {
            snprintf(path, sizeof path, "%s/data/chunk-000", dir);
            if (mkdirs(path))
                return -1;
            snprintf(path, sizeof path, "%s/data/chunk-000/episode_%06d.parquet", dir, e);
            if (write_data(path, &fp[e], 1, err, errlen))
                return -1;
            snprintf(path, sizeof path, "%s/videos/chunk-000/observation.images.front", dir);
            if (mkdirs(path))
                return -1;
            snprintf(path, sizeof path, "%s/videos/chunk-000/observation.images.front/episode_%06d.mp4", dir, e);
            if (write_video(path, (int)ep_len[e] + (e == 1 ? o->video_frames_delta : 0), err, errlen))
                return -1;
        }
        char *text = NULL;
        size_t tl = 0;
        FILE *m = open_memstream(&text, &tl);
        for (int e = 0; e < FIXTURE_EPISODES; e++)
            fprintf(m, "{\"episode_index\": %d, \"tasks\": [\"%s\"], \"length\": %lld}\n", e, task_names[e],
                    (long long)ep_len[e]);
        fclose(m);
        snprintf(path, sizeof path, "%s/meta/episodes.jsonl", dir);
        rc = write_text(path, text, err, errlen);
        free(text);
        m = open_memstream(&text, &tl);
        for (int e = 0; e < FIXTURE_EPISODES; e++) {
            fprintf(m, "{\"episode_index\": %d, \"stats\": ", e);
            json_stats(m, st[e]);
            fputs("}\n", m);
        }
        fclose(m);
        snprintf(path, sizeof path, "%s/meta/episodes_stats.jsonl", dir);
        rc |= write_text(path, text, err, errlen);
        free(text);
        snprintf(path, sizeof path, "%s/meta/tasks.jsonl", dir);
        char tasks[256];
        snprintf(tasks, sizeof tasks, "{\"task_index\": 0, \"task\": \"%s\"}\n{\"task_index\": 1, \"task\": \"%s\"}\n",
                 task_names[0], task_names[1]);
        rc |= write_text(path, tasks, err, errlen);
        return rc ? -1 : 0;
    }

    snprintf(path, sizeof path, "%s/data/chunk-000", dir);
    if (mkdirs(path))
        return -1;
    snprintf(path, sizeof path, "%s/videos/observation.images.front/chunk-000", dir);
    if (mkdirs(path))
        return -1;
    int64_t file[2] = {0, o->split_files ? 1 : 0};
    double vfrom[2], vto[2];
    if (o->split_files) {
        for (int e = 0; e < FIXTURE_EPISODES; e++) {
            snprintf(path, sizeof path, "%s/data/chunk-000/file-%03d.parquet", dir, e);
            if (write_data(path, &fp[e], 1, err, errlen))
                return -1;
            snprintf(path, sizeof path, "%s/videos/observation.images.front/chunk-000/file-%03d.mp4", dir, e);
            if (write_video(path, (int)ep_len[e] + (e == 1 ? o->video_frames_delta : 0), err, errlen))
                return -1;
            vfrom[e] = 0;
            vto[e] = (double)ep_len[e] / FIXTURE_FPS;
        }
    } else {
        snprintf(path, sizeof path, "%s/data/chunk-000/file-000.parquet", dir);
        if (write_data(path, fp, FIXTURE_EPISODES, err, errlen))
            return -1;
        snprintf(path, sizeof path, "%s/videos/observation.images.front/chunk-000/file-000.mp4", dir);
        if (write_video(path, (int)total + o->video_frames_delta, err, errlen))
            return -1;
        for (int e = 0; e < FIXTURE_EPISODES; e++) {
            vfrom[e] = (double)from[e] / FIXTURE_FPS;
            vto[e] = (double)(from[e] + ep_len[e]) / FIXTURE_FPS;
        }
    }
    snprintf(path, sizeof path, "%s/meta/tasks.parquet", dir);
    if (write_tasks_parquet(path, err, errlen))
        return -1;
    snprintf(path, sizeof path, "%s/meta/episodes/chunk-000", dir);
    if (mkdirs(path))
        return -1;
    snprintf(path, sizeof path, "%s/meta/episodes/chunk-000/file-000.parquet", dir);
    if (write_episodes_parquet(path, (const stats(*)[NFEAT])st, from, file, vfrom, vto, err, errlen))
        return -1;
    char *text = NULL;
    size_t tl = 0;
    FILE *m = open_memstream(&text, &tl);
    json_stats(m, global);
    fputc('\n', m);
    fclose(m);
    snprintf(path, sizeof path, "%s/meta/stats.json", dir);
    rc = write_text(path, text, err, errlen);
    free(text);
    return rc;
}
