/* teleop — LeRobot dataset writer (v3.0 and v2.1) for `teleop export`
 * (docs/export.md). The driver (export_run.c) selects and orders episodes
 * and builds the dataset in a temporary folder; this module writes the
 * layout LeRobot reads into that folder: data parquet, MP4s, meta/.
 *
 * Memory: tp_lr_dataset and its episode records are owned by the driver;
 * the writer keeps no pointer past a call except into the dataset itself. */
#ifndef TELEOP_EXPORT_LEROBOT_H
#define TELEOP_EXPORT_LEROBOT_H

#include <stdbool.h>
#include <stdint.h>

#include "teleop/export.h"
#include "teleop/parquet.h"
#include "video_out.h"

#define TP_LR_NQ 5 /* quantiles q01 q10 q50 q90 q99 */
#define TP_LR_MAX_FEATURES (8 + TP_EXPORT_MAX_CAMERAS) /* vectors, the 5 defaults, cameras */

extern const double tp_lr_quantiles[TP_LR_NQ];
extern const char *const tp_lr_quantile_names[TP_LR_NQ];

typedef struct tp_lr_stats {
    int dims;
    int64_t count;
    double min[TP_EXPORT_MAX_DIMS], max[TP_EXPORT_MAX_DIMS], mean[TP_EXPORT_MAX_DIMS], std[TP_EXPORT_MAX_DIMS];
    double q[TP_LR_NQ][TP_EXPORT_MAX_DIMS];
} tp_lr_stats;

/* One exported episode: its metadata row, also kept in
 * meta/teleop_sources.json so a later run can append without the data. */
typedef struct tp_lr_episode {
    char file[256], sha256[65], path[4096];
    char task[4097];
    int64_t episode_index, length, from_index, task_index;
    int64_t start_unix_ns;
    int data_chunk, data_file;
    int video_chunk[TP_EXPORT_MAX_CAMERAS], video_file[TP_EXPORT_MAX_CAMERAS];
    double from_ts[TP_EXPORT_MAX_CAMERAS], to_ts[TP_EXPORT_MAX_CAMERAS];
    double max_offset_s, median_offset_s;
    bool offgrid;
    int nstats;
    tp_lr_stats *stats; /* nstats, in feature order (tp_lr_dataset.stat_features) */
} tp_lr_episode;

typedef struct tp_lr_mapping {
    char robot_type[128];
    char state_key[128], action_key[128], velocity_key[128]; /* velocity_key "" = not exported */
    char camera_key[TP_EXPORT_MAX_CAMERAS][128];             /* per exported camera, by position */
} tp_lr_mapping;

typedef struct tp_lr_dataset {
    char root[4096];      /* the folder being written (temporary) */
    int version;          /* 30 or 21 */
    int fps;
    tp_lr_mapping map;
    tp_video_settings video;
    /* the features, fixed by the first episode */
    int state_dims, action_dims, velocity_dims, n_cameras;
    char **state_names, **action_names;
    char camera_name[TP_EXPORT_MAX_CAMERAS][64];
    int cam_width[TP_EXPORT_MAX_CAMERAS], cam_height[TP_EXPORT_MAX_CAMERAS];
    tp_video_info video_info[TP_EXPORT_MAX_CAMERAS];
    int n_stat_features;
    char stat_features[TP_LR_MAX_FEATURES][128];
    int stat_dims[TP_LR_MAX_FEATURES];
    bool stat_image[TP_LR_MAX_FEATURES]; /* a camera's per-channel stats, shape (3, 1, 1) */
    /* episodes, in episode_index order */
    tp_lr_episode *eps;
    int64_t n_eps, cap_eps;
    int64_t total_frames;
    /* open v3.0 files */
    tp_pq_writer *data_w;
    int data_chunk, data_file;
    int64_t data_rows_in_file;
    tp_video_out *vid[TP_EXPORT_MAX_CAMERAS];
    int vid_chunk[TP_EXPORT_MAX_CAMERAS], vid_file[TP_EXPORT_MAX_CAMERAS];
    int64_t data_limit_bytes, video_limit_bytes;
    int64_t bytes_written;
    int64_t n_old_eps;    /* episodes kept from the dataset being appended to */
    const char *license;  /* dataset card license (--license); NULL: the card's or apache-2.0 */
} tp_lr_dataset;

/* Sets the features from episode e (the first one). 0 or -1. */
int tp_lr_set_features(tp_lr_dataset *ds, const tp_export_episode *e, char *err, size_t errlen);
/* Writes episode e as the next episode (rec gets its metadata row).
 * 0 or -1 with err set. */
int tp_lr_add_episode(tp_lr_dataset *ds, const tp_export_episode *e, tp_lr_episode *rec,
                      const volatile int *interrupt, char *err, size_t errlen);
/* Closes open files and writes meta/: info.json, tasks, episodes, stats,
 * teleop_sources.json; then the dataset card README.md. */
int tp_lr_finish(tp_lr_dataset *ds, char *err, size_t errlen);
/* The Hugging Face dataset card README.md (lerobot_card.c) from
 * meta/info.json; a card without teleop's marker line is left alone. */
int tp_lr_write_card(const tp_lr_dataset *ds, const char *license, char *err, size_t errlen);
/* A hub license identifier: lowercase letters, digits, '-', '.'. */
bool tp_lr_license_valid(const char *license);
/* Releases open writers (abort) and memory. */
void tp_lr_free(tp_lr_dataset *ds);

/* Statistics of n rows of dims values (row-major), as LeRobot computes
 * them: min, max, mean, population std, count and the quantiles. */
void tp_lr_stats_compute(const double *values, int64_t n, int dims, tp_lr_stats *out);
/* LeRobot's aggregation of per-episode stats (aggregate_stats): weighted
 * mean, pooled variance, min of mins, max of maxes, count-weighted mean of
 * the quantiles. */
void tp_lr_stats_aggregate(const tp_lr_stats *const *parts, int n, tp_lr_stats *out);

/* Per-channel stats (RGB / 255) of camera cam's keyframes in the window. */
int tp_lr_image_stats(const tp_export_episode *e, int cam, tp_lr_stats *out, char *err, size_t errlen);

/* Reads meta/teleop_sources.json of an existing dataset into ds (episodes
 * with their metadata rows, version, fps, features). 1 when read, 0 when
 * the dataset has none, -1 on error. */
int tp_lr_load_sources(const char *dataset, tp_lr_dataset *ds, char *err, size_t errlen);

#endif
