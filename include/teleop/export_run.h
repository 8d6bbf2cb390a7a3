/* teleop — `teleop export`: episodes to a LeRobot dataset (docs/export.md).
 * argv[0] is the subcommand name; returns the exit status (0, 1 failure,
 * 2 usage error, 130 interrupted: the dataset is left as it was). */
#ifndef TELEOP_EXPORT_RUN_H
#define TELEOP_EXPORT_RUN_H

int tp_export_main(int argc, char **argv);

#endif
