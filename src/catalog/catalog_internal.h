/* teleop — catalog internals shared by its files (private to src/catalog):
 * the index file (catalog_store.c) and one episode read into an index row
 * (catalog_entry.c); catalog.c ties them to folders and queries. */
#ifndef TELEOP_CATALOG_INTERNAL_H
#define TELEOP_CATALOG_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "teleop/catalog.h"

/* One folder's index, open and of the current layout. */
typedef struct catalog_store {
    sqlite3 *db;
    char *path; /* the index file */
    char *real; /* the folder's real path */
    bool in_cache; /* under the cache folder, not in the folder itself */
} catalog_store;

/* Finds (DIR/.teleop-catalog.sqlite, else the cache folder), opens and
 * validates the index of the folder whose real path is real; a missing,
 * unreadable, damaged or other-layout index is replaced by an empty one.
 * 0, or -1 with one line naming the folder. */
int catalog_store_open(catalog_store *s, const char *dir, const char *real, char *err, size_t errlen);
/* Replaces the index by an empty one (after SQLite found it damaged). */
int catalog_store_rebuild(catalog_store *s, char *err, size_t errlen);
void catalog_store_close(catalog_store *s);
/* The result code says the file is not a (sound) database. */
bool catalog_damaged(int sqlite_rc);

/* What the catalog keeps of one file (the entries table's columns). */
typedef struct catalog_row {
    char *name;
    int64_t size, mtime_ns, inode;
    bool episode; /* false: not a readable episode, skip_reason says why */
    bool recheck, live;
    int64_t start_unix_ns;
    double duration_s;
    char *task, *operator_name, *outcome, *verdict;
    int rating;
    char *tags, *tags_json, *qa_flags; /* qa_flags NULL: never computed */
    int nqa;
    char *notes;
    bool delete_marked;
    int64_t trim_in_ns, trim_out_ns;
    char *skip_reason;
} catalog_row;

/* Reads the file at path (name: its file name; sb: stat taken before, which
 * keys the row) through the episode reader. A file that is not a readable
 * episode gives a row with episode = false. 0, or -1 out of memory. */
int catalog_row_read(const char *path, const char *name, const struct stat *sb, catalog_row *r);
void catalog_row_clear(catalog_row *r);
/* 1 when a recorder holds the file's lock (it is being recorded), 0 not,
 * -1 when it cannot be opened. */
int catalog_file_live(const char *path);
int64_t catalog_mtime_ns(const struct stat *sb);

/* What a catalog is made of (catalog.c); queries are catalog_query.c. */
typedef struct source {
    char *dir;    /* as given; "" for files named without a folder */
    char *real;   /* the folder's real path */
    bool whole;   /* every *.db of the folder */
    char **names; /* files named one by one */
    int nnames;
    catalog_store store;
    bool attached;
} source;

struct tp_catalog {
    source *srcs;
    int nsrcs;
    sqlite3 *q; /* ":memory:" with each index attached as s0, s1, …; temp.catalog lists them all */
    tp_catalog_stats last;
};

/* The path of file name in the source's folder (malloc'd), or NULL. */
char *catalog_path_of(const source *s, const char *name);
/* Source i's index was found damaged: replace it by an empty one. */
int catalog_rebuild_source(struct tp_catalog *c, int i, char *err, size_t errlen);

#endif
