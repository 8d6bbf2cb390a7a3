/* teleop — SPSC ring: acquire/release index handoff, element copies. */
#include "teleop/ring.h"

#include <stdlib.h>
#include <string.h>

int tp_ring_init(tp_ring *ring, size_t elem_size, size_t capacity)
{
    if (!ring || elem_size == 0 || capacity == 0)
        return -1;
    size_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    ring->slots = calloc(cap, elem_size);
    if (!ring->slots)
        return -1;
    ring->elem_size = elem_size;
    ring->capacity = cap;
    ring->mask = cap - 1;
    atomic_init(&ring->head, 0);
    atomic_init(&ring->tail, 0);
    return 0;
}

void tp_ring_free(tp_ring *ring)
{
    if (!ring)
        return;
    free(ring->slots);
    ring->slots = NULL;
}

void *tp_ring_reserve(tp_ring *ring)
{
    size_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    if (head - tail >= ring->capacity)
        return NULL;
    return ring->slots + (head & ring->mask) * ring->elem_size;
}

void tp_ring_commit(tp_ring *ring)
{
    size_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    atomic_store_explicit(&ring->head, head + 1, memory_order_release);
}

bool tp_ring_push(tp_ring *ring, const void *elem)
{
    void *slot = tp_ring_reserve(ring);
    if (!slot)
        return false;
    memcpy(slot, elem, ring->elem_size);
    tp_ring_commit(ring);
    return true;
}

const void *tp_ring_front(tp_ring *ring)
{
    size_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    if (head == tail)
        return NULL;
    return ring->slots + (tail & ring->mask) * ring->elem_size;
}

void tp_ring_release(tp_ring *ring)
{
    size_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    atomic_store_explicit(&ring->tail, tail + 1, memory_order_release);
}

bool tp_ring_pop(tp_ring *ring, void *elem)
{
    const void *slot = tp_ring_front(ring);
    if (!slot)
        return false;
    memcpy(elem, slot, ring->elem_size);
    tp_ring_release(ring);
    return true;
}

bool tp_ring_pop_latest(tp_ring *ring, void *elem)
{
    size_t tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    if (head == tail)
        return false;
    memcpy(elem, ring->slots + ((head - 1) & ring->mask) * ring->elem_size, ring->elem_size);
    atomic_store_explicit(&ring->tail, head, memory_order_release);
    return true;
}

size_t tp_ring_count(const tp_ring *ring)
{
    size_t head = atomic_load_explicit(&ring->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    return head - tail;
}
