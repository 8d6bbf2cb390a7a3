/* teleop — what makes an episode self-contained: the robot description and
 * the files it references, the calibration and the station config embedded
 * byte for byte, the model's joint limits, and per-dimension units of the
 * streams the station records (docs/episode-format.md). Called by the
 * session when it opens an episode; nothing here runs in the control loop.
 * Pointers are borrowed for the call. */
#ifndef TELEOP_EPISODE_SETUP_H
#define TELEOP_EPISODE_SETUP_H

#include <stddef.h>

#include "teleop/episode.h"
#include "teleop/sim.h"

typedef struct tp_station_files {
    const char *model_path;       /* the MJCF the simulator loaded */
    const char *hand_method;      /* "vector": the hand URDF below (or the bundled one) is in use */
    const char *hand_urdf;        /* "" or NULL: the bundled G1 + Dex3-1 URDF */
    const char *calibration_path; /* the operator calibration file, or NULL */
    const char *config_path;      /* the station config file as given, or NULL */
    double limit_margin;          /* the safety layer's margin inside each limit (rad); < 0: none */
} tp_station_files;

/* Attaches the files (robot/NAME for the model and every file it includes or
 * references, robot/hand/NAME for the hand URDF, calibration/NAME,
 * config/station.ini), sets meta robot_description,
 * robot_description_sha256 and safety_position_margin_rad, and writes one
 * joint_limits row per joint of the simulated robot. 0, or -1 with a
 * one-line message naming the file. */
int tp_episode_describe_station(tp_episode_writer *w, const tp_sim *sim, const tp_station_files *files, char *err,
                                size_t errlen);

/* The unit of one operator stream dimension, from its name: "m" for
 * positions and radii, "1" for quaternion components, flags, trigger and
 * stick values and the button mask. */
const char *tp_operator_dim_unit(const char *dim_name);

#endif
