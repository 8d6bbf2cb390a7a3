/* teleop — station configuration files.
 *
 * Format (documented in docs/configuration.md): INI-style text, `[section]`
 * headers, `key = value` lines, `#` or `;` comments, keys addressed as
 * "section.key". Every lookup validates its value; every error message names
 * the file, the line and the key, on one line. Unknown keys are reported by
 * tp_config_check_unused so typos never pass silently.
 *
 * Memory: tp_config_load/parse return a config owned by the caller (free with
 * tp_config_free). Strings returned by lookups point into the config and live
 * until it is freed. Every lookup accepts a NULL config and then yields the
 * default, so code paths without a file need no special case.
 */
#ifndef TELEOP_CONFIG_H
#define TELEOP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tp_config tp_config;

/* NULL on failure with a one-line message in err ("FILE:LINE: ..."). */
tp_config *tp_config_load(const char *path, char *err, size_t errlen);
/* Parses text; name is used in messages in place of a file name. */
tp_config *tp_config_parse(const char *text, const char *name, char *err, size_t errlen);
void tp_config_free(tp_config *cfg);

/* File name given at load/parse, or NULL for a NULL config. */
const char *tp_config_name(const tp_config *cfg);
bool tp_config_has(const tp_config *cfg, const char *key);
/* Sections named "PREFIX.NAME" ([camera.head] for prefix "camera"), in file
 * order, each once, whether or not they hold keys: stores up to max NAME
 * parts (pointing into the config) in names and returns how many there are
 * in all (which may exceed max). */
int tp_config_subsections(const tp_config *cfg, const char *prefix, const char **names, int max);

/* Lookups return 0 (value or default in *out) or -1 with a message in err. */
int tp_config_get_string(tp_config *cfg, const char *key, const char *def, const char **out, char *err,
                         size_t errlen);
int tp_config_get_double(tp_config *cfg, const char *key, double def, double min, double max, double *out,
                         char *err, size_t errlen);
int tp_config_get_int(tp_config *cfg, const char *key, long def, long min, long max, long *out, char *err,
                      size_t errlen);
int tp_config_get_bool(tp_config *cfg, const char *key, bool def, bool *out, char *err, size_t errlen);

/* -1 with "FILE:LINE: unknown key 'section.key'" for the first key that no
 * lookup has asked for; 0 when every key was used. */
int tp_config_check_unused(const tp_config *cfg, char *err, size_t errlen);

#endif
