/* teleop — `teleop export --check DATASET`: validates a LeRobot dataset
 * (format v2.1 or v3.0) or an HDF5 dataset (an ALOHA folder of
 * episode_N.hdf5 or one such file, a robomimic file; src/export/check_hdf5.c),
 * ours or anyone's, from its files alone.
 *
 * Checks meta/info.json (every field of its version, feature dtypes and
 * shapes against the parquet columns), counts (episodes, frames, tasks,
 * per-episode lengths, v3.0 dataset_from_index/dataset_to_index tiling),
 * `index` contiguity, `frame_index`, `episode_index`, `task_index`,
 * timestamps on the fps grid within LeRobot's tolerance_s (1e-4 s), every
 * video (exists, decodes with libavcodec, frame count, frame times against
 * the data timestamps, duration, codec, resolution, pix_fmt) and the stats
 * (per episode and global min/max exact, mean/std within float tolerance,
 * count). For HDF5: shapes, dtypes, row counts, attributes, NaN/inf, JPEG
 * frames against compress_len, total/num_samples, env_args JSON, masks.
 * docs/export.md, "Checking a dataset", lists every check.
 *
 * report receives one line per problem, "PATH: what is wrong", then one
 * summary line. Nothing is written to the dataset. Returns 0 when valid,
 * 1 when invalid (a .hdf5 file that is not HDF5 too), 2 when DATASET is
 * not something it can check (nothing at that path, a plain file). The
 * caller owns report.
 */
#ifndef TELEOP_EXPORT_CHECK_H
#define TELEOP_EXPORT_CHECK_H

#include <stdio.h>

/* LeRobot's default tolerance_s (lerobot_dataset.py, check_timestamps_sync,
 * the video decoders' frame lookup). */
#define TP_LEROBOT_TOLERANCE_S 1e-4

int tp_export_check(const char *dataset, FILE *report);

#endif
