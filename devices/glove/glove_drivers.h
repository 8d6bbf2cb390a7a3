/* The glove drivers' ops tables, private to devices/glove. */
#ifndef TELEOP_GLOVE_DRIVERS_H
#define TELEOP_GLOVE_DRIVERS_H

#include "teleop/glove.h"

extern const tp_glove_ops tp_glove_opengloves_ops;

#endif
