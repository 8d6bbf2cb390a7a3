/* teleop — a thread that computes and stores QA flags of finished episodes
 * for the station (include/teleop/qa.h, tp_qa_worker_*): the recorder hands
 * it a path and goes on writing; the worker runs at low priority and never
 * holds anything the recorder waits for. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "teleop/log.h"
#include "teleop/qa.h"

typedef struct job {
    struct job *next;
    char path[];
} job;

struct tp_qa_worker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    job *head, *tail;
    bool stopping;
};

static void *worker_main(void *arg)
{
    tp_qa_worker *w = arg;
    pthread_setname_np(pthread_self(), "tp-qa");
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10); /* after everything that records */
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        job *j = w->head;
        if (!j)
            break; /* stopping, nothing queued */
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        char err[1024];
        /* An episode deleted since (re-record) has nothing to flag. */
        if (tp_qa_finish(j->path, NULL, err, sizeof err) != 0 && access(j->path, F_OK) == 0)
            tp_log_warn("QA flags not stored: %s", err);
        free(j);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

tp_qa_worker *tp_qa_worker_start(void)
{
    tp_qa_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

int tp_qa_worker_submit(tp_qa_worker *w, const char *path)
{
    size_t n = strlen(path) + 1;
    job *j = malloc(sizeof *j + n);
    if (!j)
        return -1;
    j->next = NULL;
    memcpy(j->path, path, n);
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

void tp_qa_worker_stop(tp_qa_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
