/* teleop — the bucket catalog: an index of the episodes under an S3 prefix
 * that many stations write at once without coordination and without
 * losing each other's entries (docs/upload.md, "Bucket catalog").
 *
 * Layout under PREFIX (no shared object is ever read-modified-written):
 *   PREFIX/_catalog/entries/STATION/NAME.json   one small JSON object per
 *       episode, written by its station only, after the episode object
 *       was verified (station, date, task, operator, duration, outcome,
 *       verdict, rating, tags, QA flags, size, SHA-256, key, ...);
 *   PREFIX/_catalog/snapshot-YYYYMMDDTHHMMSSmmmZ-STATION.json   compacted
 *       snapshots: every entry known when it was made, with each entry
 *       object's ETag. Snapshots are caches: compaction never deletes or
 *       rewrites an entry object, so no station's entry can be lost to it.
 * A reader lists PREFIX/_catalog/, takes the newest snapshot, and reads
 * (GET) only the entry objects it does not hold with the same ETag; the
 * snapshot's entries with no object left stay listed.
 *
 * Memory: a tp_bcat_listing owns everything it points to
 * (tp_bcat_listing_free). Strings passed in are borrowed for the call.
 */
#ifndef TELEOP_BUCKET_CATALOG_H
#define TELEOP_BUCKET_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "teleop/catalog.h"
#include "teleop/s3.h"

#define TP_BCAT_VERSION 1
#define TP_BCAT_STATION_MAX 64

/* A station name: ASCII letters, digits, '.', '_', '-'; 1..64 bytes, not
 * starting with '.' or '-'. */
bool tp_bcat_station_valid(const char *station);
/* This machine's host name made into a station name ("station" if none). */
void tp_bcat_default_station(char *out, size_t len);

/* Where an uploaded episode's catalog entry goes:
 * PREFIX/_catalog/entries/STATION/NAME.json, NAME the key's file name
 * without ".db". 0, or -1 when too long. */
int tp_bcat_entry_key(char *out, size_t len, const char *prefix, const char *station, const char *episode_key);

/* The entry of the episode file at path, uploaded (and verified) as
 * bucket/episode_key with its SHA-256 and the object's ETag: read from the
 * episode (task, operator, review, QA, ...) and PUT to its entry key.
 * 0, or -1 with e filled. */
int tp_bcat_put_episode(tp_s3 *s3, const char *bucket, const char *prefix, const char *station,
                        const char *path, const char *episode_key, const char *sha256, const char *etag,
                        tp_s3_error *e);

/* One catalog entry: the listing entry (path "s3://BUCKET/KEY") and the
 * bucket's own fields. */
typedef struct tp_bcat_item {
    char station[TP_BCAT_STATION_MAX + 1];
    char key[1024];     /* the episode object's key */
    char sha256[65];
    char etag[80];      /* the episode object's ETag when it was verified */
    char *json;         /* the entry object as stored, one line */
    char entry_key[1100];
    char entry_etag[80]; /* the entry object's ETag (as listed) */
} tp_bcat_item;

typedef struct tp_bcat_listing {
    tp_catalog_listing list;  /* filter and sort with tp_catalog_filter, find items with tp_bcat_find */
    tp_bcat_item *items;      /* n items, in entry-key order (not list order) */
    int n;
    char snapshot_key[1100];  /* the snapshot merged ("" when none) */
    int from_snapshot;        /* entries taken from it */
    int fetched;              /* entry objects read (new or changed since the snapshot) */
    int skipped;              /* objects that are not readable entries (one warning each on stderr) */
} tp_bcat_listing;

/* Reads the catalog of bucket/prefix. 0, or -1 with e filled. */
int tp_bcat_read(tp_s3 *s3, const char *bucket, const char *prefix, tp_bcat_listing *out, tp_s3_error *e);
/* The item of a listing entry (by its path). NULL when none. */
const tp_bcat_item *tp_bcat_find(const tp_bcat_listing *l, const char *path);
void tp_bcat_listing_free(tp_bcat_listing *l);

/* Whether the server honours If-None-Match: * on PUT (a second create of
 * the same probe key is refused): 1 yes, 0 no, -1 error. */
int tp_bcat_conditional_writes(tp_s3 *s3, const char *bucket, const char *prefix, const char *station,
                               tp_s3_error *e);

/* Compaction: reads the catalog and writes a new snapshot of everything in
 * it, named for now and this station (created with If-None-Match: * where
 * the server supports it, so a snapshot is never replaced). Deletes
 * nothing. key_out (may be NULL) gets the snapshot key; *entries (may be
 * NULL) their count. 0, or -1 with e filled. */
int tp_bcat_compact(tp_s3 *s3, const char *bucket, const char *prefix, const char *station, char *key_out,
                    size_t key_len, int *entries, tp_s3_error *e);

/* Downloads the episodes an s3:// source names into cache_dir (keeping
 * BUCKET/KEY below it) and verifies each against its catalog entry's
 * SHA-256 (a cached copy that matches is not downloaded again):
 * "s3://BUCKET/PREFIX/…/NAME.db" one episode (its entry found in the
 * catalog of the nearest enclosing prefix that has it), "s3://BUCKET/PREFIX"
 * every episode of that prefix's catalog. *paths (n_paths strings) malloc'd,
 * owned by the caller (free each, then the array). 0, or -1 with e filled. */
int tp_bcat_fetch(tp_s3 *s3, const char *url, const char *cache_dir, char ***paths, int *n_paths,
                  tp_s3_error *e);

/* SHA-256 of the file at path as 64 hex digits; *size (may be NULL) its
 * size. 0, or -1 with err. */
int tp_bcat_sha256_file(const char *path, char out[65], int64_t *size, char *err, size_t errlen);

#endif
