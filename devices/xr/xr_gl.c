/* teleop — hidden GLFW window and its GLX context for the OpenXR session. */
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#define GLFW_EXPOSE_NATIVE_X11
#define GLFW_EXPOSE_NATIVE_GLX
#include <GLFW/glfw3native.h>

#define XR_USE_PLATFORM_XLIB
#define XR_USE_GRAPHICS_API_OPENGL
#include <GL/glx.h>
#include <X11/Xlib.h>
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>

#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>

#include "xr_gl.h"

struct tp_xr_gl {
    GLFWwindow *window;
    XrGraphicsBindingOpenGLXlibKHR binding;
};

tp_xr_gl *tp_xr_gl_create(int width, int height, char *err, size_t errlen)
{
    if (!glfwInit()) {
        const char *why = NULL;
        glfwGetError(&why);
        snprintf(err, errlen, "OpenXR: '[xr] view = headset' needs an X display for its OpenGL context (%s)",
                 why ? why : "glfwInit failed");
        return NULL;
    }
    tp_xr_gl *gl = calloc(1, sizeof *gl);
    if (!gl) {
        snprintf(err, errlen, "OpenXR: out of memory");
        return NULL;
    }
    glfwDefaultWindowHints();
    const bool mirror = width > 0 && height > 0;
    glfwWindowHint(GLFW_VISIBLE, mirror ? GLFW_TRUE : GLFW_FALSE);
    glfwWindowHint(GLFW_RESIZABLE, GLFW_FALSE); /* the mirror copies images 1:1 */
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_API);
    glfwWindowHint(GLFW_CONTEXT_CREATION_API, GLFW_NATIVE_CONTEXT_API); /* GLX, not EGL */
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
    glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
    gl->window = mirror ? glfwCreateWindow(width, height, "teleop: the operator's view", NULL, NULL)
                        : glfwCreateWindow(64, 64, "teleop xr", NULL, NULL);
    if (!gl->window) {
        const char *why = NULL;
        glfwGetError(&why);
        snprintf(err, errlen, "OpenXR: no OpenGL 3.3 GLX context for '[xr] view = headset' (%s)",
                 why ? why : "glfwCreateWindow failed");
        free(gl);
        return NULL;
    }
    glfwMakeContextCurrent(gl->window);
    Display *dpy = glfwGetX11Display();
    GLXContext ctx = glfwGetGLXContext(gl->window);
    GLXWindow drawable = glfwGetGLXWindow(gl->window);
    int n = 0;
    GLXFBConfig *configs = glXGetFBConfigs(dpy, DefaultScreen(dpy), &n);
    /* The FB config and visual the context was made with: queried back from
     * the context, so the runtime gets exactly what GLFW chose. */
    int fb_id = 0;
    glXQueryContext(dpy, ctx, GLX_FBCONFIG_ID, &fb_id);
    GLXFBConfig chosen = NULL;
    for (int i = 0; configs && i < n && !chosen; i++) {
        int id = 0;
        if (glXGetFBConfigAttrib(dpy, configs[i], GLX_FBCONFIG_ID, &id) == Success && id == fb_id)
            chosen = configs[i];
    }
    uint32_t visualid = 0;
    if (chosen) {
        XVisualInfo *vi = glXGetVisualFromFBConfig(dpy, chosen);
        if (vi) {
            visualid = (uint32_t)vi->visualid;
            XFree(vi);
        }
    }
    if (configs)
        XFree(configs);
    gl->binding = (XrGraphicsBindingOpenGLXlibKHR){.type = XR_TYPE_GRAPHICS_BINDING_OPENGL_XLIB_KHR,
                                                   .xDisplay = dpy,
                                                   .visualid = visualid,
                                                   .glxFBConfig = chosen,
                                                   .glxDrawable = drawable ? drawable : glXGetCurrentDrawable(),
                                                   .glxContext = ctx};
    return gl;
}

void tp_xr_gl_destroy(tp_xr_gl *gl)
{
    if (!gl)
        return;
    if (glfwGetCurrentContext() == gl->window)
        glfwMakeContextCurrent(NULL);
    glfwDestroyWindow(gl->window);
    free(gl);
}

const void *tp_xr_gl_binding(const tp_xr_gl *gl)
{
    return &gl->binding;
}

void tp_xr_gl_make_current(tp_xr_gl *gl)
{
    glfwMakeContextCurrent(gl ? gl->window : NULL);
}

void tp_xr_gl_swap(tp_xr_gl *gl)
{
    glfwSwapBuffers(gl->window);
}
