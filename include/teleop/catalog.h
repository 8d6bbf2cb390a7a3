/* teleop — the episode catalog: an SQLite index over one or more recording
 * folders (and single episode files), so thousands of episodes list, sort,
 * filter and search at once (docs/review.md, "Catalog").
 *
 * The index is a cache, never the truth: each entry is rebuilt from its
 * episode (through the episode reader) whenever the file is new, changed
 * (size, mtime, inode) or gone, and the whole index is rebuilt when missing,
 * unreadable or of another layout. It is stored as DIR/.teleop-catalog.sqlite
 * (not *.db, so recovery and export never take it for an episode), or under
 * $XDG_CACHE_HOME/teleop (else ~/.cache/teleop) when DIR is not writable.
 * Episodes being recorded are listed (live = true) and refreshed as they
 * grow; files that are not episodes are skipped (counted, not listed).
 *
 * Memory: tp_catalog is owned by the caller (tp_catalog_close). A listing
 * owns every string its entries point to (tp_catalog_listing_free).
 */
#ifndef TELEOP_CATALOG_H
#define TELEOP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tp_catalog tp_catalog;

/* Opens (building or refreshing) the index over paths: folders (their *.db,
 * not recursive) or episode files. 0 paths: "recordings". NULL with one
 * line naming the path on error. */
tp_catalog *tp_catalog_open(const char *const *paths, int npaths, char *err, size_t errlen);
void tp_catalog_close(tp_catalog *c);

typedef struct tp_catalog_stats {
    int episodes;    /* listed */
    int reindexed;   /* entries rebuilt from their episode by the last refresh */
    int removed;     /* entries whose file is gone */
    int skipped;     /* *.db files that are not readable episodes */
    double seconds;  /* the last refresh's wall time */
} tp_catalog_stats;

/* Rescans the folders: new, changed and gone files only (a folder that did
 * not change costs one readdir and one stat per file). 0 or -1. */
int tp_catalog_refresh(tp_catalog *c, tp_catalog_stats *stats, char *err, size_t errlen);
/* What the last refresh did (tp_catalog_open's own included). */
void tp_catalog_last_refresh(const tp_catalog *c, tp_catalog_stats *stats);
/* Re-reads one episode now (after review wrote it). 0 or -1. */
int tp_catalog_update(tp_catalog *c, const char *episode_path, char *err, size_t errlen);

typedef enum tp_catalog_sort {
    TP_SORT_DATE = 0,
    TP_SORT_TASK,
    TP_SORT_OPERATOR,
    TP_SORT_DURATION,
    TP_SORT_OUTCOME,
    TP_SORT_VERDICT,
    TP_SORT_RATING,
    TP_SORT_TAGS,
    TP_SORT_QA,   /* by number of QA flags */
    TP_SORT_NAME,
} tp_catalog_sort;

typedef struct tp_catalog_query {
    tp_catalog_sort sort;
    bool descending;
    const char *text;      /* substring (case-insensitive for ASCII) of task, notes or name; NULL: any */
    const char *outcome;   /* exact; NULL: any */
    const char *verdict;   /* "success", "failure", "none"; NULL: any */
    const char *operator_name;
    const char *tag;       /* has this tag */
    const char *qa_flag;   /* has this flag; "none": checked, no flag at all; "unchecked": never checked */
    int min_rating;        /* 0: any */
    double min_duration_s, max_duration_s; /* 0: no bound */
    bool include_deleted;  /* marked for deletion are hidden unless set */
} tp_catalog_query;

typedef struct tp_catalog_entry {
    const char *path, *name;   /* name: the file name */
    int64_t start_unix_ns;     /* wall-clock start (created_unix_ns when no start yet) */
    double duration_s;
    const char *task, *operator_name, *outcome; /* "" when absent; outcome "" while recording */
    const char *verdict;       /* "", "success", "failure" */
    int rating;                /* 0..5 */
    const char *tags;          /* comma-separated, name order */
    const char *qa_flags;      /* as stored in the episode; "" clean; NULL never computed */
    const char *notes;         /* every note's text, joined by newlines */
    bool live;                 /* being recorded */
    bool delete_marked;
    int64_t size_bytes;
    int64_t trim_in_ns, trim_out_ns;
} tp_catalog_entry;

typedef struct tp_catalog_listing {
    tp_catalog_entry *entries;
    int n;
} tp_catalog_listing;

/* Entries matching q in its order (NULL q: every entry by date). 0 or -1. */
int tp_catalog_list(tp_catalog *c, const tp_catalog_query *q, tp_catalog_listing *out, char *err, size_t errlen);
void tp_catalog_listing_free(tp_catalog_listing *l);

/* Entries from other sources (a bucket's catalog, docs/upload.md):
 * one episode read directly, without an index (path and every string
 * malloc'd, freed by tp_catalog_entry_clear; 0, or -1 with one line);
 * a listing filtered and sorted in memory with tp_catalog_list's rules
 * (NULL q: every entry by date). tp_catalog_filter is not thread-safe. */
int tp_catalog_read_episode(const char *path, tp_catalog_entry *out, char *err, size_t errlen);
void tp_catalog_entry_clear(tp_catalog_entry *e);
void tp_catalog_filter(tp_catalog_listing *l, const tp_catalog_query *q);

/* Every tag used in the catalog's episodes, name order, with its count:
 * the shared tag list review offers. *names and each string are malloc'd
 * (free each, then the arrays). 0 or -1. */
int tp_catalog_tags(tp_catalog *c, char ***names, int **counts, int *n, char *err, size_t errlen);

/* A comma-separated list of an entry (tags, qa_flags) as a JSON array of
 * strings, for the JSON listings (`teleop catalog --json`, the bucket
 * catalog's entries). The caller owns the array (cJSON_Delete); NULL out of
 * memory. */
struct cJSON;
struct cJSON *tp_catalog_list_json(const char *comma_list);

#endif
