/* teleop — triple buffer: the newest value of something, handed from one
 * thread to another without waiting.
 *
 * Where a ring (ring.h) keeps every element in order and refuses a push when
 * full, a triple buffer keeps only the newest: the producer always has a slot
 * to write (it never waits and never fails), the consumer always reads the
 * newest complete value, and values the consumer was too slow to see are
 * overwritten. That is what a display wants from a live source (the console's
 * camera views, robot pose, status figures). Exactly one producer thread and
 * one consumer thread; no lock, no allocation after init, wait-free on both
 * sides.
 *
 * Memory: tp_triple_init allocates the three slots (at setup, never on the
 * real-time path); the buffer owns them until tp_triple_free. The tp_triple
 * struct itself is the caller's.
 */
#ifndef TELEOP_TRIPLE_BUFFER_H
#define TELEOP_TRIPLE_BUFFER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct tp_triple {
    unsigned char *slots; /* three slots of slot_size bytes */
    size_t slot_size;
    /* The slot handed over last, with TP_TRIPLE_FRESH set until the consumer
     * takes it. The only word both threads touch. */
    _Alignas(64) atomic_uint middle;
    _Alignas(64) unsigned back; /* producer only: the slot being written */
    _Alignas(64) unsigned front; /* consumer only: the slot being read */
    bool has_front;              /* consumer only: front holds a published value */
} tp_triple;

/* Returns 0, or -1 when slot_size is 0 or memory runs out. Slots start zeroed. */
int tp_triple_init(tp_triple *t, size_t slot_size);
void tp_triple_free(tp_triple *t);

/* Producer: the slot to fill (always one; its old contents are stale), then
 * publish it as the newest value. */
void *tp_triple_back(tp_triple *t);
void tp_triple_publish(tp_triple *t);
/* Producer: the value published last has not been read yet (the consumer
 * is behind), so a producer with costly values may skip one. */
bool tp_triple_unread(tp_triple *t);

/* Consumer: the newest published value, or NULL when nothing was ever
 * published. *fresh (may be NULL) says whether it is newer than what the
 * previous call returned. The pointer stays valid and unchanged until the
 * next call. */
const void *tp_triple_read(tp_triple *t, bool *fresh);

#endif
