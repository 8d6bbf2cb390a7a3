/* `teleop export --check` on HDF5 datasets (ALOHA episode files, robomimic
 * files), internal to the check library: tp_export_check dispatches here.
 * The caller owns report. */
#ifndef TELEOP_CHECK_HDF5_H
#define TELEOP_CHECK_HDF5_H

#include <stdbool.h>
#include <stdio.h>

/* An .hdf5/.h5 path, or a folder of episode_*.hdf5 without meta/info.json. */
bool tp_check_is_hdf5(const char *dataset);
/* One line per problem, then a summary; 0 valid, 1 invalid, 2 nothing there. */
int tp_export_check_hdf5(const char *dataset, FILE *report);

#endif
