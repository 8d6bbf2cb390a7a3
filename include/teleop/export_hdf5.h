/* teleop — `teleop export --format hdf5 --layout aloha|robomimic`: recorded
 * episodes to HDF5 files training code reads (docs/export.md, section
 * "HDF5 (ALOHA, robomimic)"): ALOHA/ACT's one file per episode
 * (episode_N.hdf5 in a folder) or robomimic's one file (data/demo_N, mask/TAG).
 * Every episode goes through the export core (teleop/export.h): the same fps
 * grid, resampling rule and off-grid refusal as the LeRobot export.
 *
 * argv[0] is the subcommand name ("export"); the arguments are those of
 * `teleop export` with --format hdf5. Returns the exit status: 0, 1 failure,
 * 2 usage error, 130 interrupted (the output is left as it was). */
#ifndef TELEOP_EXPORT_HDF5_H
#define TELEOP_EXPORT_HDF5_H

#include <stdbool.h>

/* True when argv asks for --format hdf5 (how `teleop export` dispatches). */
bool tp_export_hdf5_requested(int argc, char **argv);
int tp_export_hdf5_main(int argc, char **argv);

#endif
