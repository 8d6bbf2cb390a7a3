/* teleop — single-producer single-consumer ring of fixed-size elements.
 *
 * The way samples cross threads: exactly one thread pushes and exactly one
 * thread pops. Push and pop copy whole elements, never block, never allocate
 * and take no lock, so both ends are safe on the real-time path. A full ring
 * refuses the push (the producer counts the drop); nothing is overwritten.
 *
 * Memory: tp_ring_init allocates the element storage (call it at setup, not on
 * the real-time path); the ring owns it until tp_ring_free. The tp_ring struct
 * itself is owned by the caller.
 */
#ifndef TELEOP_RING_H
#define TELEOP_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tp_ring {
    /* Producer and consumer indices live on their own cache lines so the two
     * threads do not false-share. Indices grow without wrapping mask; the
     * slot is index & mask. */
    _Alignas(64) atomic_size_t head; /* next slot to write, written by producer */
    _Alignas(64) atomic_size_t tail; /* next slot to read, written by consumer */
    _Alignas(64) unsigned char *slots;
    size_t elem_size;
    size_t capacity; /* power of two */
    size_t mask;
} tp_ring;

/* capacity is rounded up to a power of two (minimum 2). Returns 0, or -1 when
 * out of memory or an argument is zero. */
int tp_ring_init(tp_ring *ring, size_t elem_size, size_t capacity);
void tp_ring_free(tp_ring *ring);

/* Producer side. Returns false (and copies nothing) when the ring is full. */
bool tp_ring_push(tp_ring *ring, const void *elem);

/* Producer side, zero-copy: a slot to fill, or NULL when full; then commit. */
void *tp_ring_reserve(tp_ring *ring);
void tp_ring_commit(tp_ring *ring);

/* Consumer side. Returns false when empty. */
bool tp_ring_pop(tp_ring *ring, void *elem);

/* Consumer side, zero-copy: the oldest element or NULL; then release it. */
const void *tp_ring_front(tp_ring *ring);
void tp_ring_release(tp_ring *ring);

/* Consumer side: drops all but the newest element and copies it out.
 * Returns false when the ring was empty (elem untouched). */
bool tp_ring_pop_latest(tp_ring *ring, void *elem);

/* Number of elements ready for the consumer (a snapshot; either side). */
size_t tp_ring_count(const tp_ring *ring);

#endif
