/* Checks the MP4s of an exported dataset with libavformat/libavcodec,
 * against the episodes read with plain SQLite (not teleop's reader):
 * codec, frame rate, frame count, every pts (frame k at k/fps), durations,
 * each episode's span [from_timestamp, to_timestamp) inside the file, and
 * for remuxed H.264 every packet's NAL units byte for byte equal to the
 * recorded packet's; AV1 files are decoded in full (frame count).
 *
 *   export-mp4-check SPANS.json
 * SPANS.json (written by export_lerobot.mjs from the episodes meta parquet):
 * {"fps": 30, "codec": "h264", "files": [{"mp4": PATH, "episodes": [{"episode": PATH,
 *   "camera": NAME, "first_seq": S, "n": N, "from_timestamp": X, "to_timestamp": Y}]}]} */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <sqlite3.h>

static int failures;

#define FAIL(...)                                                                                                    \
    do {                                                                                                             \
        failures++;                                                                                                  \
        fprintf(stderr, "FAIL ");                                                                                    \
        fprintf(stderr, __VA_ARGS__);                                                                                \
        fputc('\n', stderr);                                                                                         \
    } while (0)

typedef struct blob {
    uint8_t *data;
    int size;
} blob;

/* NAL units of an Annex B access unit, and of an MP4 length-prefixed one,
 * are compared as (size, bytes) sequences. */
static int nal_annexb(const uint8_t *p, int n, const uint8_t **nal, int *len, int max)
{
    int count = 0, i = 0, start = -1;
    while (i + 2 < n) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            if (start >= 0 && count < max) {
                int end = i;
                while (end > start && p[end - 1] == 0)
                    end--;
                nal[count] = p + start;
                len[count++] = end - start;
            }
            i += 3;
            start = i;
        } else {
            i++;
        }
    }
    if (start >= 0 && count < max) {
        nal[count] = p + start;
        len[count++] = n - start;
    }
    return count;
}

static int nal_mp4(const uint8_t *p, int n, const uint8_t **nal, int *len, int max)
{
    int count = 0, i = 0;
    while (i + 4 <= n && count < max) {
        int l = (p[i] << 24) | (p[i + 1] << 16) | (p[i + 2] << 8) | p[i + 3];
        i += 4;
        if (l < 0 || i + l > n)
            return -1;
        nal[count] = p + i;
        len[count++] = l;
        i += l;
    }
    return i == n ? count : -1;
}

static int same_frame(const uint8_t *annexb, int an, const uint8_t *mp4, int mn)
{
    const uint8_t *a[64], *m[64];
    int al[64], ml[64];
    int na = nal_annexb(annexb, an, a, al, 64), nm = nal_mp4(mp4, mn, m, ml, 64);
    if (na != nm || na <= 0)
        return 0;
    for (int i = 0; i < na; i++)
        if (al[i] != ml[i] || memcmp(a[i], m[i], (size_t)al[i]))
            return 0;
    return 1;
}

static blob *episode_packets(const char *path, const char *camera, int64_t first, int64_t n)
{
    sqlite3 *db;
    blob *out = calloc((size_t)n, sizeof *out);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return out;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "SELECT p.seq, p.data FROM video_packets p JOIN streams s ON s.id = p.stream_id "
                       "WHERE s.name = ? AND p.seq >= ? AND p.seq < ? ORDER BY p.seq",
                       -1, &st, NULL);
    sqlite3_bind_text(st, 1, camera, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, first);
    sqlite3_bind_int64(st, 3, first + n);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t k = sqlite3_column_int64(st, 0) - first;
        int size = sqlite3_column_bytes(st, 1);
        out[k].data = malloc((size_t)size);
        memcpy(out[k].data, sqlite3_column_blob(st, 1), (size_t)size);
        out[k].size = size;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static int64_t decode_count(AVFormatContext *fmt)
{
    const AVCodec *dc = avcodec_find_decoder(fmt->streams[0]->codecpar->codec_id);
    AVCodecContext *ctx = dc ? avcodec_alloc_context3(dc) : NULL;
    if (!ctx || avcodec_parameters_to_context(ctx, fmt->streams[0]->codecpar) < 0 || avcodec_open2(ctx, dc, NULL) < 0) {
        avcodec_free_context(&ctx);
        return -1;
    }
    av_seek_frame(fmt, 0, 0, AVSEEK_FLAG_BACKWARD);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    int64_t frames = 0;
    for (int eof = 0; !eof;) {
        int r = av_read_frame(fmt, pkt);
        eof = r < 0;
        avcodec_send_packet(ctx, eof ? NULL : pkt);
        av_packet_unref(pkt);
        while (avcodec_receive_frame(ctx, fr) == 0)
            frames++;
    }
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    return frames;
}

static void check_file(const cJSON *file, int fps, const char *codec)
{
    const char *mp4 = cJSON_GetStringValue(cJSON_GetObjectItem(file, "mp4"));
    AVFormatContext *fmt = NULL;
    if (avformat_open_input(&fmt, mp4, NULL, NULL) < 0 || avformat_find_stream_info(fmt, NULL) < 0) {
        FAIL("%s: libavformat cannot open it", mp4);
        return;
    }
    if (fmt->nb_streams != 1)
        FAIL("%s: %u streams", mp4, fmt->nb_streams);
    AVStream *st = fmt->streams[0];
    const char *cname = avcodec_get_name(st->codecpar->codec_id);
    if (strcmp(cname, codec))
        FAIL("%s: codec %s, expected %s", mp4, cname, codec);
    if (av_cmp_q(st->avg_frame_rate, (AVRational){fps, 1}))
        FAIL("%s: avg_frame_rate %d/%d, expected %d", mp4, st->avg_frame_rate.num, st->avg_frame_rate.den, fps);
    /* every packet: pts and duration */
    int64_t cap = 1024, n = 0;
    blob *pk = malloc(sizeof *pk * (size_t)cap);
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(fmt, pkt) >= 0) {
        double t = (double)pkt->pts * av_q2d(st->time_base), d = (double)pkt->duration * av_q2d(st->time_base);
        if (fabs(t - (double)n / fps) > 1e-9)
            FAIL("%s: packet %" PRId64 " at %.9f s, expected %.9f", mp4, n, t, (double)n / fps);
        if (fabs(d - 1.0 / fps) > 1e-9)
            FAIL("%s: packet %" PRId64 " lasts %.9f s", mp4, n, d);
        if (n == cap)
            pk = realloc(pk, sizeof *pk * (size_t)(cap *= 2));
        pk[n].data = malloc((size_t)pkt->size);
        memcpy(pk[n].data, pkt->data, (size_t)pkt->size);
        pk[n].size = pkt->size;
        n++;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    int64_t expected = 0;
    const cJSON *ep;
    cJSON_ArrayForEach(ep, cJSON_GetObjectItem(file, "episodes")) expected += (int64_t)cJSON_GetNumberValue(
        cJSON_GetObjectItem(ep, "n"));
    if (n != expected)
        FAIL("%s: %" PRId64 " frames, the episodes' spans hold %" PRId64, mp4, n, expected);
    double dur = st->duration != AV_NOPTS_VALUE ? (double)st->duration * av_q2d(st->time_base) : -1;
    if (fabs(dur - (double)expected / fps) > 1e-9)
        FAIL("%s: stream duration %.9f s, expected %.9f", mp4, dur, (double)expected / fps);
    int64_t next = 0;
    cJSON_ArrayForEach(ep, cJSON_GetObjectItem(file, "episodes"))
    {
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(ep, "episode"));
        const char *cam = cJSON_GetStringValue(cJSON_GetObjectItem(ep, "camera"));
        int64_t first = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(ep, "first_seq"));
        int64_t count = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(ep, "n"));
        double from = cJSON_GetNumberValue(cJSON_GetObjectItem(ep, "from_timestamp"));
        double to = cJSON_GetNumberValue(cJSON_GetObjectItem(ep, "to_timestamp"));
        int64_t k0 = llround(from * fps);
        if (fabs(from * fps - (double)k0) > 1e-6 || k0 != next)
            FAIL("%s: %s starts at %.9f s = frame %.6f, expected frame %" PRId64, mp4, path, from, from * fps, next);
        if (fabs((to - from) - (double)count / fps) > 1e-9)
            FAIL("%s: %s spans %.9f s for %" PRId64 " frames", mp4, path, to - from, count);
        next = k0 + count;
        if (!strcmp(codec, "h264")) {
            blob *want = episode_packets(path, cam, first, count);
            for (int64_t i = 0; i < count && k0 + i < n; i++)
                if (!want[i].data || !same_frame(want[i].data, want[i].size, pk[k0 + i].data, pk[k0 + i].size))
                    FAIL("%s: frame %" PRId64 " is not %s's packet %" PRId64 " of camera %s", mp4, k0 + i, path,
                         first + i, cam);
            for (int64_t i = 0; i < count; i++)
                free(want[i].data);
            free(want);
        }
    }
    if (strcmp(codec, "h264")) {
        int64_t dec = decode_count(fmt);
        if (dec != n)
            FAIL("%s: %" PRId64 " frames decode, %" PRId64 " packets", mp4, dec, n);
    }
    for (int64_t i = 0; i < n; i++)
        free(pk[i].data);
    free(pk);
    printf("%s: %s, %" PRId64 " frames at %d fps checked\n", mp4, codec, n, fps);
    avformat_close_input(&fmt);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: export-mp4-check SPANS.json\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = calloc(1, (size_t)size + 1);
    if (fread(text, 1, (size_t)size, f) != (size_t)size)
        return 1;
    fclose(f);
    cJSON *j = cJSON_Parse(text);
    free(text);
    int fps = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "fps"));
    const char *codec = cJSON_GetStringValue(cJSON_GetObjectItem(j, "codec"));
    const cJSON *file;
    int nfiles = 0;
    cJSON_ArrayForEach(file, cJSON_GetObjectItem(j, "files"))
    {
        check_file(file, fps, codec);
        nfiles++;
    }
    if (!nfiles)
        FAIL("no MP4 to check");
    cJSON_Delete(j);
    return failures ? 1 : 0;
}
