/* teleop — whole-file reads for configuration, descriptions and motions.
 *
 * tp_read_file returns a buffer owned by the caller (free it), always
 * NUL-terminated one byte past the returned length, so text parsers can use
 * it as a string. Errors are one line naming the file.
 */
#ifndef TELEOP_FILE_H
#define TELEOP_FILE_H

#include <stddef.h>

char *tp_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
