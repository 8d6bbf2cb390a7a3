/* teleop — station configuration files.
 *
 * Format (documented in docs/configuration.md): INI-style UTF-8 text (a BOM
 * is skipped), `[section]` headers, `key = value` lines, `#` or `;` comments,
 * keys addressed as "section.key". Bytes that are not UTF-8 and control
 * characters are refused wherever they are; messages escape them. Every lookup validates its value; every error message names
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

/* -1 with "FILE:LINE: [section] key: unknown key" for the first key that no
 * lookup has asked for; 0 when every key was used. */
int tp_config_check_unused(const tp_config *cfg, char *err, size_t errlen);


/* ------------------------------------------------------------ key tables
 *
 * Each module describes its keys once, in a table: name, type, range,
 * where the value goes in the module's config struct, and what it means.
 * The same table parses and validates a file, writes the resolved
 * configuration back as INI, and generates the key tables of
 * docs/configuration.md, so a key cannot skip validation or documentation.
 * Every error is one line: "FILE:LINE: [section] key: message".
 */
#include <stdio.h>

typedef enum tp_config_type {
    TP_CFG_BOOL,       /* bool; true/false, yes/no, on/off, 1/0 */
    TP_CFG_INT,        /* int in [min, max] */
    TP_CFG_DOUBLE,     /* double, finite, in [min, max] */
    TP_CFG_TEXT,       /* UTF-8 without control characters, at most max bytes (0: TP_TASK_MAX_BYTES) */
    TP_CFG_NAME,       /* empty, or a name of at most max bytes (0: TP_NAME_MAX_BYTES; tp_name_check) */
    TP_CFG_ENUM,       /* one of choices, stored as the choice's (static) text */
    TP_CFG_ENUM_INDEX, /* one of choices, stored as an int index */
    TP_CFG_PATH,       /* an existing regular file, or empty for the default */
    TP_CFG_CUSTOM,     /* parse/format give the syntax */
} tp_config_type;

typedef struct tp_config_key {
    const char *name; /* key within its section */
    tp_config_type type;
    size_t offset; /* of the field within the struct the table applies to */
    /* TEXT, NAME, ENUM, PATH: 0 for a const char * field (pointing into the
     * file, or to a static choice), else the size of a char array field. */
    size_t size;
    double min, max;            /* INT, DOUBLE: range; TEXT: max bytes */
    const char *const *choices; /* ENUM, ENUM_INDEX: NULL-terminated */
    /* CUSTOM: 0, or -1 with a message (without file, line or key). */
    int (*parse)(const char *text, void *field, char *msg, size_t msglen);
    void (*format)(const void *field, char *buf, size_t len);
    const char *syntax;       /* CUSTOM: the value's syntax for the docs */
    const char *default_text; /* docs: when the default is better said than shown (empty path) */
    const char *meaning;
} tp_config_key;

/* Sets every key of the table given in [section] (others keep their value in
 * base). -1 with "FILE:LINE: [section] key: message" for the first bad one. */
int tp_config_apply_keys(tp_config *file, const char *section, const tp_config_key *keys, size_t count, void *base,
                         char *err, size_t errlen);
/* Marks [section] key as known without applying it; true when given. */
bool tp_config_given(tp_config *file, const char *section, const char *key);
/* Formats "FILE:LINE: [section] key: message" (no line when the key is not
 * in the file; no key when key is NULL) into err; returns -1. */
int tp_config_error(const tp_config *file, const char *section, const char *key, char *err, size_t errlen,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Writes "[section]" and one "key = value" line per key, values as read
 * back by tp_config_parse (text quoted). */
void tp_config_write_keys(FILE *out, const char *section, const tp_config_key *keys, size_t count, const void *base);
/* One key's value as the INI text tp_config_write_keys writes (unquoted). */
void tp_config_format_value(const tp_config_key *k, const void *base, char *buf, size_t len);
/* Markdown table (key, type and range, default, meaning) for the docs;
 * defaults read from a default-initialized struct. */
void tp_config_doc_keys(FILE *out, const tp_config_key *keys, size_t count, const void *defaults);

/* Section headers in file order, each once, with the line of their first
 * header. */
size_t tp_config_section_count(const tp_config *cfg);
const char *tp_config_section_at(const tp_config *cfg, size_t i, int *line);

#endif
