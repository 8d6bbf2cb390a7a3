/* teleop — one episode read into a catalog row, through the episode reader
 * only (the index never reads episode tables itself). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "catalog_internal.h"
#include "teleop/episode.h"

/* A change this recent may be followed by another within the same mtime
 * tick (2 s on some file systems) and of the same size, which stat could
 * not tell apart: such rows are read again at the next refresh (as git does
 * with "racy" index entries). */
#define RACY_NS 2000000000LL

int64_t catalog_mtime_ns(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
}

int catalog_file_live(const char *path)
{
    /* As check does: the recorder holds LOCK_EX for its whole life, so a
     * shared lock that would block means someone is recording. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    int live = 0;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
        live = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK ? 1 : 0;
    close(fd);
    return live;
}

static bool meta_int(const tp_episode *ep, const char *key, int64_t *out)
{
    const char *v = tp_episode_meta(ep, key);
    if (!v || !*v)
        return false;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end)
        return false;
    *out = x;
    return true;
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static char *joined_tags(const tp_episode *ep, char **json)
{
    int n = tp_episode_tag_count(ep);
    size_t len = 1;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        len += strlen(tp_episode_tag_at(ep, i)) + 1;
        cJSON *item = cJSON_CreateString(tp_episode_tag_at(ep, i));
        if (!arr || !item || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    *json = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    char *out = malloc(len);
    if (!out || !*json) {
        free(out);
        free(*json);
        *json = NULL;
        return NULL;
    }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, tp_episode_tag_at(ep, i));
    }
    return out;
}

static char *joined_notes(const tp_episode *ep)
{
    int n = tp_episode_note_count(ep);
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(tp_episode_note_at(ep, i)->text) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(out, "\n");
        strcat(out, tp_episode_note_at(ep, i)->text);
    }
    return out;
}

/* Fills the row from an open episode; false out of memory. */
static bool fill(catalog_row *r, const tp_episode *ep, const struct stat *sb)
{
    int64_t start = 0, end = 0, offset = 0, created = 0;
    bool has_start = meta_int(ep, "start_t_ns", &start), has_end = meta_int(ep, "end_t_ns", &end);
    bool has_offset = meta_int(ep, "wall_clock_offset_ns", &offset);
    /* While recording (or cut off) there is no end yet: the last stamp seen. */
    int64_t first = INT64_MAX, last = INT64_MIN;
    for (int i = 0; i < tp_episode_stream_count(ep); i++) {
        const tp_stream_info *s = tp_episode_stream(ep, i);
        if (s->count > 0) {
            first = s->t_first < first ? s->t_first : first;
            last = s->t_last > last ? s->t_last : last;
        }
    }
    if (!has_start && first != INT64_MAX) {
        start = first;
        has_start = true;
    }
    if (!has_end && last != INT64_MIN) {
        end = last;
        has_end = true;
    }
    r->duration_s = has_start && has_end && end > start ? (double)(end - start) * 1e-9 : 0.0;
    if (has_start && has_offset)
        r->start_unix_ns = start + offset;
    else if (meta_int(ep, "created_unix_ns", &created))
        r->start_unix_ns = created;
    else
        r->start_unix_ns = catalog_mtime_ns(sb);

    const char *verdict = tp_episode_meta(ep, "review_verdict");
    if (!verdict || (strcmp(verdict, "success") && strcmp(verdict, "failure")))
        verdict = "";
    int64_t rating = 0;
    r->rating = meta_int(ep, "rating", &rating) && rating >= 1 && rating <= 5 ? (int)rating : 0;
    if (!meta_int(ep, "trim_in_ns", &r->trim_in_ns))
        r->trim_in_ns = 0;
    if (!meta_int(ep, "trim_out_ns", &r->trim_out_ns))
        r->trim_out_ns = 0;
    const char *del = tp_episode_meta(ep, "delete_marked");
    r->delete_marked = del && !strcmp(del, "1");
    const char *qa = tp_episode_meta(ep, "qa_flags");
    r->nqa = -1;
    if (qa) {
        r->nqa = *qa ? 1 : 0;
        for (const char *p = qa; *p; p++)
            r->nqa += *p == ',';
        if (!(r->qa_flags = strdup(qa)))
            return false;
    }
    r->task = dup_or_empty(tp_episode_meta(ep, "task"));
    r->operator_name = dup_or_empty(tp_episode_meta(ep, "operator"));
    r->outcome = dup_or_empty(tp_episode_meta(ep, "outcome"));
    r->verdict = strdup(verdict);
    r->tags = joined_tags(ep, &r->tags_json);
    r->notes = joined_notes(ep);
    return r->task && r->operator_name && r->outcome && r->verdict && r->tags && r->tags_json && r->notes;
}

int catalog_row_read(const char *path, const char *name, const struct stat *sb, catalog_row *r)
{
    memset(r, 0, sizeof *r);
    r->name = strdup(name);
    if (!r->name)
        return -1;
    r->size = sb->st_size;
    r->mtime_ns = catalog_mtime_ns(sb);
    r->inode = (int64_t)sb->st_ino;
    char err[1024];
    tp_episode *ep = tp_episode_open(path, err, sizeof err);
    bool ok = true;
    if (!ep) {
        r->episode = false;
        ok = (r->skip_reason = strdup(err)) != NULL;
    } else {
        r->episode = true;
        ok = fill(r, ep, sb);
        tp_episode_close(ep);
    }
    /* Only an episode without an outcome can be being recorded: finished
     * ones are not locked, even briefly, so recovery never finds them busy
     * because of us. One that finishes after the read changes its file
     * (the final checkpoint), which the next refresh sees. */
    if (!ep || (r->outcome && !r->outcome[0]))
        r->live = catalog_file_live(path) == 1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
    r->recheck = r->live || now_ns - r->mtime_ns < RACY_NS;
    return ok ? 0 : -1;
}

void catalog_row_clear(catalog_row *r)
{
    free(r->name);
    free(r->task);
    free(r->operator_name);
    free(r->outcome);
    free(r->verdict);
    free(r->tags);
    free(r->tags_json);
    free(r->qa_flags);
    free(r->notes);
    free(r->skip_reason);
    memset(r, 0, sizeof *r);
}

cJSON *tp_catalog_list_json(const char *s)
{
    cJSON *arr = cJSON_CreateArray();
    while (arr && s && *s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        char *item = strndup(s, n);
        cJSON_AddItemToArray(arr, cJSON_CreateString(item ? item : ""));
        free(item);
        s = comma ? comma + 1 : s + n;
    }
    return arr;
}
