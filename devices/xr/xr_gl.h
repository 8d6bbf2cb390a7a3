/* teleop — the OpenGL side of the OpenXR client's graphics session: a
 * hidden GLFW window whose GLX context the runtime renders with
 * (XR_KHR_opengl_enable, XrGraphicsBindingOpenGLXlibKHR).
 *
 * Private to devices/xr. tp_xr_gl_create must run on the process's main
 * thread (GLFW's rule for window creation). GLFW is initialised but never
 * terminated here: other parts of the station (the console) may hold GLFW
 * windows in the same process. Memory: tp_xr_gl_create allocates, and
 * tp_xr_gl_destroy frees the window and the struct. The binding returned by
 * tp_xr_gl_binding lives as long as the tp_xr_gl.
 */
#ifndef TELEOP_XR_GL_H
#define TELEOP_XR_GL_H

#include <stddef.h>

typedef struct tp_xr_gl tp_xr_gl;

/* NULL with a one-line message when there is no X display or no GLX
 * context can be made. The context is current on the calling thread.
 * width, height > 0: the window is shown at that size (the desktop
 * mirror); else it is a hidden 64x64 window. */
tp_xr_gl *tp_xr_gl_create(int width, int height, char *err, size_t errlen);
/* Shows what was drawn into the window (the mirror). */
void tp_xr_gl_swap(tp_xr_gl *gl);
void tp_xr_gl_destroy(tp_xr_gl *gl);
/* The XrGraphicsBindingOpenGLXlibKHR to chain into XrSessionCreateInfo. */
const void *tp_xr_gl_binding(const tp_xr_gl *gl);
/* Makes the context current on the calling thread (NULL: releases it). */
void tp_xr_gl_make_current(tp_xr_gl *gl);

#endif
