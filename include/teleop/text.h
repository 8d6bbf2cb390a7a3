/* teleop — text that users give us (task descriptions, names, config values).
 *
 * Text is stored whole and valid or refused: never cut, never stored with
 * bytes a reader of the episode (Python's sqlite3, a JSON tool) would choke
 * on. Every check writes a one-line reason; every message that quotes user
 * text goes through tp_text_escape so raw control bytes never reach a
 * terminal.
 *
 * Memory: all functions work on caller-owned buffers; nothing is allocated.
 */
#ifndef TELEOP_TEXT_H
#define TELEOP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Task text (meta.task, --task, [session] task, the `t` key and the `task`
 * command): at most this many bytes of UTF-8 (about 1300 CJK characters). */
#define TP_TASK_MAX_BYTES 4096
/* Camera names: at most this many bytes. */
#define TP_NAME_MAX_BYTES 63
/* Operator names: at most this many bytes (a calibration id is the name and
 * a 16-character time stamp, within 63). */
#define TP_OPERATOR_NAME_MAX_BYTES 40

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
bool tp_utf8_valid(const char *s, size_t n);

/* 0 when s is valid UTF-8 without control characters (C0, DEL, C1) and at
 * most max_bytes long; else -1 with the reason in why ("5000 bytes, the limit
 * is 4096", "is not valid UTF-8 (byte 7)", "contains a control character
 * (byte 3)"). */
int tp_text_check(const char *s, size_t max_bytes, char *why, size_t whylen);

/* 0 when s is a name: 1 to max_bytes ASCII letters, digits, '_' and '-',
 * not starting with '-' (so it is never taken for an option or a path part:
 * no '.', '/', '#', '=', '[', ']', spaces or newlines); else -1 with the
 * reason in why. */
int tp_name_check(const char *s, size_t max_bytes, char *why, size_t whylen);

/* Copies s into out for a message: printable text as it is, control
 * characters and bytes that are not UTF-8 as \xNN; cut with "..." when out
 * is too small. out always ends with NUL. Returns out. */
char *tp_text_escape(const char *s, char *out, size_t outlen);

#endif
