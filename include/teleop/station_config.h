/* teleop — the station config's keys, written back and documented.
 *
 * Every key of a station file is declared once, in the key table of the
 * module it configures (src/station/station_config.c): the same tables
 * apply a file (tp_session_apply_config, session.h), write the resolved
 * configuration as INI, and generate the key tables of
 * docs/configuration.md.
 *
 * Memory: tp_station_config_resolved_ini returns malloc'd text the caller
 * frees; the config is only read.
 */
#ifndef TELEOP_STATION_CONFIG_H
#define TELEOP_STATION_CONFIG_H

#include <stdio.h>

#include "teleop/session.h"

/* The configuration in effect, every key of every section with its value
 * (defaults applied), as INI text that tp_config_parse and
 * tp_session_apply_config read back into the same configuration. Cameras
 * are written as [camera.NAME] sections. Run-time-only fields (command
 * input, callbacks, test hooks) are not part of it. NULL when out of
 * memory; else malloc'd text, the caller frees it. */
char *tp_station_config_resolved_ini(const tp_session_config *cfg);

/* Checks what the keys name inside files against those files, as the
 * session would at setup, so an error names the key: the robot model loads
 * ([robot] model), the arm chains exist and are the action layout's arms
 * ([robot] arm_base, left_arm_tip, right_arm_tip), the hand description
 * loads for vector hands ([retarget] hand_urdf), every sim camera's MJCF
 * camera exists ([camera.NAME] mjcf_camera), a motion file loads
 * ([operator] motion). Call after tp_session_resolve_paths. 0, or -1 with
 * "FILE:LINE: [section] key: message" (file may be NULL: no file given). */
int tp_station_config_check_files(const tp_session_config *cfg, tp_config *file, char *err, size_t errlen);

/* The markdown key tables of docs/configuration.md (between its GENERATED
 * markers), one per section. */
void tp_station_config_doc(FILE *out);

#endif
