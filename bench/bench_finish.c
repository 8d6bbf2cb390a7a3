/* Benchmark: finishing a long multi-camera episode. Writes a synthetic
 * episode shaped like a real one (state, state_velocity, action at 500 Hz;
 * operator at 90 Hz, 523 values; CAMERAS cameras at 30 fps with 15 kB
 * packets) in 50 ms batches as the recorder does, then times
 * tp_episode_writer_finish (sync report + outcome + WAL checkpoint + leaving
 * WAL mode) and, separately, the sync report computation alone.
 * Usage: teleop-bench-finish [SECONDS] [CAMERAS] [OUT_DIR] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record/episode_sync.h"
#include "teleop/clock.h"
#include "teleop/episode.h"

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 60.0;
    int cameras = argc > 2 ? atoi(argv[2]) : 3;
    const char *out = argc > 3 ? argv[3] : "/tmp";
    if (!(seconds > 0) || cameras < 1 || cameras > 16) {
        fprintf(stderr, "usage: %s [SECONDS] [CAMERAS 1-16] [OUT_DIR]\n", argv[0]);
        return 2;
    }
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/teleop-bench-finish-%d.db", out, (int)getpid());
    tp_episode_writer *w = tp_episode_writer_create(path, err, sizeof err);
    if (!w) {
        fprintf(stderr, "bench: %s\n", err);
        return 1;
    }
    enum { JOINTS = 28, OP = 523, PACKET = 15000 };
    tp_stream_desc st = {.name = "state", .kind = TP_STREAM_STATE, .dims = JOINTS, .rate_hz = 500};
    tp_stream_desc vel = st, ac = st;
    vel.name = "state_velocity";
    ac.name = "action";
    ac.kind = TP_STREAM_ACTION;
    tp_stream_desc op = {.name = "operator", .kind = TP_STREAM_OPERATOR, .dims = OP, .rate_hz = 90};
    int ids[3] = {tp_episode_writer_add_stream(w, &st), tp_episode_writer_add_stream(w, &vel),
                  tp_episode_writer_add_stream(w, &ac)};
    int id_op = tp_episode_writer_add_stream(w, &op);
    int id_cam[16];
    for (int c = 0; c < cameras; c++) {
        char name[32];
        snprintf(name, sizeof name, "camera_%d", c);
        tp_stream_desc cam = {.name = name, .kind = TP_STREAM_CAMERA, .dims = 3, .rate_hz = 30, .codec = "h264",
                              .width = 640, .height = 480};
        id_cam[c] = tp_episode_writer_add_stream(w, &cam);
    }
    static float v[OP];
    static uint8_t packet[PACKET];
    for (size_t i = 0; i < sizeof packet; i++)
        packet[i] = (uint8_t)(i * 2654435761u >> 13);
    const int64_t t0 = 1000000000LL, batch_ns = 50000000LL;
    int64_t n_state = 0, n_op = 0, n_frame[16] = {0};
    int64_t end = t0 + (int64_t)(seconds * 1e9);
    int64_t w0 = tp_now_ns();
    for (int64_t b = t0; b < end; b += batch_ns) {
        if (tp_episode_writer_begin(w))
            break;
        for (; t0 + n_state * 2000000LL < b + batch_ns; n_state++)
            for (int k = 0; k < 3; k++)
                tp_episode_writer_sample(w, ids[k], n_state, t0 + n_state * 2000000LL + 130000, v, JOINTS);
        for (; t0 + n_op * 11111111LL < b + batch_ns; n_op++)
            tp_episode_writer_sample(w, id_op, n_op, t0 + n_op * 11111111LL, v, OP);
        for (int c = 0; c < cameras; c++)
            for (; t0 + n_frame[c] * 33333333LL + c * 7000000LL < b + batch_ns; n_frame[c]++)
                tp_episode_writer_packet(w, id_cam[c], n_frame[c], n_frame[c],
                                         t0 + n_frame[c] * 33333333LL + c * 7000000LL, n_frame[c] % 30 == 0, packet,
                                         sizeof packet);
        if (tp_episode_writer_commit(w)) {
            fprintf(stderr, "bench: %s\n", tp_episode_writer_error(w));
            return 1;
        }
    }
    int64_t w1 = tp_now_ns();
    int rc = tp_episode_writer_finish(w, "completed");
    int64_t w2 = tp_now_ns();
    if (rc) {
        fprintf(stderr, "bench: %s\n", tp_episode_writer_error(w));
        return 1;
    }
    tp_episode_writer_close(w);

    /* The sync report alone, on the finished file (best of three). */
    sqlite3 *db;
    double best = 1e9;
    tp_sync_report r = {0};
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return 1;
    for (int k = 0; k < 3; k++) {
        int64_t s0 = tp_now_ns();
        if (tp_sync_compute(db, &r, err, sizeof err)) {
            fprintf(stderr, "bench: %s\n", err);
            return 1;
        }
        double s = (double)(tp_now_ns() - s0) / 1e9;
        best = s < best ? s : best;
        if (k < 2)
            tp_sync_report_free(&r);
    }
    int64_t frames = 0;
    for (int c = 0; c < r.ncameras; c++)
        frames += r.cameras[c].frames;
    sqlite3_close(db);
    struct stat sb;
    stat(path, &sb);
    printf("episode:            %.0f s, %d cameras, %lld state rows, %lld operator rows, %lld video frames, %.1f MB\n",
           seconds, cameras, (long long)n_state, (long long)n_op, (long long)frames, (double)sb.st_size / 1e6);
    printf("write:              %.2f s (%.1f MB/s)\n", (double)(w1 - w0) / 1e9,
           (double)sb.st_size / 1e6 / ((double)(w1 - w0) / 1e9));
    printf("finish (final):     %.3f s (sync report + outcome + checkpoint + journal DELETE)\n",
           (double)(w2 - w1) / 1e9);
    printf("sync report alone:  %.3f s (%lld frames matched, %zu gaps)\n", best, (long long)frames, r.ngaps);
    tp_sync_report_free(&r);
    unlink(path);
    return 0;
}
