/* teleop — the session's side of the console tap (private to src/station):
 * the calls the capture, control and recorder threads make to feed the
 * console (include/teleop/console_tap.h), and the recorder's read of the
 * console's commands. None waits, locks or allocates; each is called by one
 * thread only (a camera's capture thread for that camera, the control thread
 * for the pose, the recorder for the status and the commands).
 */
#ifndef TELEOP_STATION_CONSOLE_FEED_H
#define TELEOP_STATION_CONSOLE_FEED_H

#include <stdbool.h>

#include "station/keyboard.h"
#include "teleop/camera.h"
#include "teleop/console_tap.h"
#include "teleop/sim.h"

/* Capture thread of camera index: the frame just read (copied, unless the
 * console has not taken the previous one yet: then it is skipped). */
void console_feed_frame(tp_console_tap *tap, int camera, const tp_camera_frame *f);
/* Control thread: the simulation's qpos at t (nothing when the model has
 * more than TP_CONSOLE_MAX_QPOS values). */
void console_feed_pose(tp_console_tap *tap, int64_t t_ns, unsigned control_flags, const tp_sim *sim);
/* Control thread, before console_feed_pose: the limit figures of the same
 * tick, published to the headset view and carried in the console's next
 * pose. */
void console_feed_limits(tp_console_tap *tap, const tp_limit_figures *fig);
/* Recorder thread: fill the slot, then publish it (to the console and the
 * headset view). */
tp_console_status *console_feed_status_slot(tp_console_tap *tap);
void console_feed_status_publish(tp_console_tap *tap);
/* Recorder thread: the next command from the console, in the terminal's form. */
bool console_feed_pop_input(tp_console_tap *tap, station_input *in);

#endif
