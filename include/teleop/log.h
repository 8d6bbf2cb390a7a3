/* teleop — logging to stderr for setup, shutdown and worker threads.
 *
 * Never call these from the control loop or a capture callback: they format
 * and write. Real-time code counts events and a non-real-time thread reports
 * them. The level comes from tp_log_set_level or the TELEOP_LOG environment
 * variable (error, warn, info, debug); default warn.
 */
#ifndef TELEOP_LOG_H
#define TELEOP_LOG_H

typedef enum tp_log_level {
    TP_LOG_ERROR = 0,
    TP_LOG_WARN = 1,
    TP_LOG_INFO = 2,
    TP_LOG_DEBUG = 3,
} tp_log_level;

void tp_log_set_level(tp_log_level level);
tp_log_level tp_log_get_level(void);

void tp_log(tp_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define tp_log_error(...) tp_log(TP_LOG_ERROR, __VA_ARGS__)
#define tp_log_warn(...) tp_log(TP_LOG_WARN, __VA_ARGS__)
#define tp_log_info(...) tp_log(TP_LOG_INFO, __VA_ARGS__)
#define tp_log_debug(...) tp_log(TP_LOG_DEBUG, __VA_ARGS__)

#endif
