/* Internal to `teleop export --check` (check_meta.c, check_dataset.c): the
 * dataset model (features, episodes, tasks), the problem reporter, JSON
 * through SQLite, parquet column helpers. Every pointer in these structs is
 * owned by the checker and freed at the end of tp_export_check. */
#ifndef TELEOP_EXPORT_CHECK_INTERNAL_H
#define TELEOP_EXPORT_CHECK_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "teleop/export_check.h"
#include "teleop/parquet_read.h"

#define TOL TP_LEROBOT_TOLERANCE_S
#define MAX_DIMS 8
#define MAX_FEATURE_DIM 4096 /* values per frame of a feature whose values and stats are checked */

typedef enum { STAT_MIN, STAT_MAX, STAT_MEAN, STAT_STD, STAT_COUNT, NSTATS } stat_kind;
extern const char *const ck_stat_names[NSTATS];

typedef struct feature {
    char *key, *dtype;
    int64_t shape[MAX_DIMS];
    int ndim;
    bool video, numeric, in_data, noted;
    int dim; /* numeric 1-D features: values per frame */
    /* video info (video.*), empty/0 when absent */
    char vcodec[32], vpix_fmt[32];
    int64_t vwidth, vheight;
    double vfps;
} feature;

typedef struct stat_set {
    bool present[NSTATS];
    double *v[NSTATS - 1]; /* min, max, mean, std per dimension (owned) */
    int len[NSTATS - 1];
    int64_t count;
} stat_set;

/* Sums are of x - shift (the dataset's first value of that dimension), so
 * the variance of large values (index, timestamps) keeps its precision. */
typedef struct acc {
    double *min, *max, *sum, *sumsq, *shift; /* one allocation, 5 x dim */
    int64_t count;
    bool shift_set;
} acc;

typedef struct vloc {
    int64_t chunk, file;
    double from_ts, to_ts;
    bool known;
} vloc;

typedef struct episode {
    int64_t index, length, from, to, data_chunk, data_file;
    bool has_range, has_data_loc;
    vloc *video;        /* per feature (only video features used) */
    stat_set *stats;    /* per feature; NULL when the dataset has no per-episode stats */
    double *ts;         /* its data timestamps, kept for the video check */
    int64_t nts;
    char meta_rel[128]; /* the metadata file that describes it */
} episode;

typedef struct checker {
    FILE *out;
    const char *root;
    int problems;
    sqlite3 *db;
    char *info;
    int version; /* 21 or 30 */
    double fps;
    int64_t chunks_size;
    char *data_path, *video_path;
    feature *f;
    int nf;
    episode *ep;
    int64_t nep;
    char **tasks;
    int64_t ntasks;
    int64_t next_index;  /* running frame position over the data files */
    acc *global;         /* per feature */
    bool ep_stats_present;
} checker;

typedef struct tvar {
    const char *name;
    int64_t num;
    const char *str;
} tvar;

typedef struct pcol {
    tp_pqr_column_values v;
    const tp_pqr_column_info *ci;
    bool ok;
} pcol;

void ck_stat_sets_free(stat_set *s, int n);
void ck_problem(checker *c, const char *rel, const char *fmt, ...);
void ck_note(checker *c, const char *rel, const char *fmt, ...);
char *ck_read_text(const char *path);
char *ck_joinp(const checker *c, const char *rel);
bool ck_exists_rel(const checker *c, const char *rel);
bool ck_json_valid(checker *c, const char *json);
void ck_jtype(checker *c, const char *json, const char *path, char *buf, size_t n);
char *ck_jstr(checker *c, const char *json, const char *path);
bool ck_jint(checker *c, const char *json, const char *path, int64_t *v);
bool ck_format_path(const char *tpl, const tvar *vars, int nvars, char *out, size_t n);
bool ck_numeric_dtype(const char *d);
int ck_feature_index(const checker *c, const char *key);
int ck_load_info(checker *c);
bool ck_load_col(checker *c, tp_pqr_reader *r, const char *rel, const char *name, pcol *out, bool required);
bool ck_row_i64(const pcol *p, int64_t row, int64_t *v);
bool ck_row_f64(const pcol *p, int64_t row, double *v);
int ck_row_list_f64(const pcol *p, int64_t row, double *out, int max);
void ck_free_col(pcol *p);
void ck_episode_free(checker *c, episode *e);
void ck_load_tasks(checker *c);
void ck_parse_stats_json(checker *c, const char *rel, const char *json, const char *prefix, stat_set *out,
                         int64_t ep);
void ck_load_episodes_v21(checker *c);
void ck_load_episodes_v30(checker *c);

#endif
