/* Episode byte-flip fuzz target: the input is a list of byte flips (5 bytes
 * each: a little-endian 32-bit offset, taken modulo the file size, and an
 * XOR mask, 0 meaning 0x01) applied to the frozen version-2 fixture
 * episode; the flipped file goes through the reader, `check` and `info`
 * (human and JSON). Besides crashes, hangs and sanitizer findings, it fails
 * (abort) when check says ok on a file whose checksummed content — sample
 * rows, video packets, attachments — differs from the original: no ok on a
 * flipped data byte. Meta, events and stream descriptions carry no checksum
 * in the format, so a flip there that SQLite's integrity check cannot see
 * may pass (docs/episode-format.md, "What check verifies").
 *
 * Built by scripts/fuzz.sh episode (libFuzzer, ASan, UBSan); with
 * EPISODE_REPLAY_MAIN it is the suite's replay: the corpus files given, then
 * one flip at a stride over the whole fixture. */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "episode_schema.h" /* tp_episode_crc32 */
#include "teleop/episode.h"
#include "teleop/file.h"

#ifndef FIXTURE
#define FIXTURE "tests/data/episode-v2.db"
#endif

static uint8_t *original;
static size_t original_size;
static uint32_t original_digest;
static char work_path[64];
static FILE *devnull;

/* CRC-32 chained over every checksummed value, in key order. */
static int content_digest(const char *path, uint32_t *out)
{
    sqlite3 *db = NULL;
    int ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK;
    static const char *const queries[] = {
        "SELECT stream_id, seq, t_ns, data FROM samples ORDER BY stream_id, seq",
        "SELECT stream_id, seq, pts, t_ns, keyframe, data FROM video_packets ORDER BY stream_id, seq",
        "SELECT name, data FROM attachments ORDER BY name",
    };
    uint32_t crc = 0;
    for (size_t q = 0; ok && q < sizeof queries / sizeof queries[0]; q++) {
        sqlite3_stmt *st;
        ok = sqlite3_prepare_v2(db, queries[q], -1, &st, NULL) == SQLITE_OK;
        int rc = SQLITE_DONE;
        while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW)
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const void *b = sqlite3_column_blob(st, c);
                int n = sqlite3_column_bytes(st, c);
                uint32_t parts[2] = {crc, (uint32_t)n};
                crc = tp_episode_crc32(parts, sizeof parts);
                if (n > 0)
                    crc ^= tp_episode_crc32(b, (size_t)n) * 2654435761u;
            }
        ok = ok && rc == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    *out = crc;
    return ok ? 0 : -1;
}

static void init(void)
{
    if (original)
        return;
    char err[512];
    const char *fixture = getenv("TELEOP_FUZZ_EPISODE") ? getenv("TELEOP_FUZZ_EPISODE") : FIXTURE;
    original = (uint8_t *)tp_read_file(fixture, &original_size, err, sizeof err);
    if (!original || original_size == 0) {
        fprintf(stderr, "fuzz_episode: %s\n", err);
        abort();
    }
    snprintf(work_path, sizeof work_path, "/tmp/teleop-fuzz-episode-XXXXXX");
    int fd = mkstemp(work_path);
    if (fd < 0)
        abort();
    close(fd);
    devnull = fopen("/dev/null", "w");
    FILE *f = fopen(work_path, "wb");
    fwrite(original, 1, original_size, f);
    fclose(f);
    if (content_digest(work_path, &original_digest) != 0) {
        fprintf(stderr, "fuzz_episode: %s: unreadable fixture\n", fixture);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    uint8_t *file = malloc(original_size);
    memcpy(file, original, original_size);
    bool changed = false;
    for (size_t i = 0; i + 5 <= size && i < 5 * 16; i += 5) {
        uint32_t off = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16 |
                       (uint32_t)data[i + 3] << 24;
        uint8_t mask = data[i + 4] ? data[i + 4] : 1;
        file[off % original_size] ^= mask;
    }
    changed = memcmp(file, original, original_size) != 0;
    int fd = open(work_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0 || write(fd, file, original_size) != (ssize_t)original_size)
        abort();
    close(fd);
    free(file);

    char err[512];
    tp_episode *ep = tp_episode_open(work_path, err, sizeof err);
    tp_episode_close(ep);
    int rc = tp_episode_check(work_path, devnull);
    tp_episode_info(work_path, false, devnull, devnull);
    tp_episode_info(work_path, true, devnull, devnull);
    uint32_t digest;
    if (rc == 0 && changed && (content_digest(work_path, &digest) != 0 || digest != original_digest)) {
        fprintf(stderr, "fuzz_episode: check said ok on an episode whose checksummed rows changed\n");
        abort();
    }
    return 0;
}

#ifdef EPISODE_REPLAY_MAIN
#include <dirent.h>

static int replay_file(const char *path)
{
    char err[512];
    size_t len;
    char *buf = tp_read_file(path, &len, err, sizeof err);
    if (!buf) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    free(buf);
    return 0;
}

/* Usage: fuzz_replay_episode DIR|FILE... (a directory: every file in it). */
int main(int argc, char **argv)
{
    long runs = 0;
    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        if (!d) {
            if (replay_file(argv[a]))
                return 1;
            runs++;
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
            if (replay_file(path)) {
                closedir(d);
                return 1;
            }
            runs++;
        }
        closedir(d);
    }
    /* One flipped bit at a prime stride over the whole file: header,
     * schema, b-tree pages, row bytes, blobs. */
    init();
    for (size_t off = 0; off < original_size; off += 1021) {
        uint8_t flip[5] = {(uint8_t)off, (uint8_t)(off >> 8), (uint8_t)(off >> 16), (uint8_t)(off >> 24),
                           (uint8_t)(1u << (off % 8))};
        LLVMFuzzerTestOneInput(flip, sizeof flip);
        runs++;
    }
    unlink(work_path);
    printf("fuzz_episode replay: %ld runs, no crash, no ok on changed rows\n", runs);
    return 0;
}
#endif
