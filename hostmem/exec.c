/* exec.c: the memory of executable host heaps (MALLOC_EXECUTABLE, ilgraft/hostmem.h):
 * small blocks from shared chunks, large ones mapped alone, each chunk writable and
 * executable, or mapped twice from a memfd when W^X is enforced. */
#include <errno.h>
#include <sys/mman.h>

#include "hostmem_private.h"

/* size bytes of executable memory: writable and executable at rx, or (dual) executable
 * at *rx and writable at *rw. */
static bool exec_map(struct host_heap *h, size_t size, uint8_t **rx, uint8_t **rw)
{
    if (!h->dual) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p != MAP_FAILED) {
            *rx = *rw = p;
            return true;
        }
        if (errno != EACCES && errno != EPERM)
            return false;
        h->dual = true; /* the kernel enforces W^X: switch for good */
    }
    int fd = memfd_create("ilgraft-exec", MFD_CLOEXEC);
    if (fd < 0)
        return false;
    void *x = MAP_FAILED, *w = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) == 0) {
        x = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    close(fd);
    if (x == MAP_FAILED || w == MAP_FAILED) {
        if (x != MAP_FAILED)
            munmap(x, size);
        if (w != MAP_FAILED)
            munmap(w, size);
        return false;
    }
    *rx = x;
    *rw = w;
    return true;
}

static bool exec_add_chunk(struct host_heap *h, uint8_t *rx, uint8_t *rw, size_t size, bool large)
{
    if (!ilg__hostmem_grow((void **)&h->chunks, &h->capchunks, h->nchunks + 1, sizeof *h->chunks))
        return false;
    h->chunks[h->nchunks++] = (exec_chunk){ rx, rw, size, large };
    return true;
}

void *ilg__hostmem_exec_alloc(struct host_heap *h, size_t size, void **alias)
{
    if (size > SMALL_MAX) {
        size_t n = ilg__align_up(size, ilg__page_size());
        uint8_t *rx, *rw;
        if (!exec_map(h, n, &rx, &rw))
            return NULL;
        if (!exec_add_chunk(h, rx, rw, n, true)) {
            munmap(rx, n);
            if (rw != rx)
                munmap(rw, n);
            return NULL;
        }
        *alias = rw;
        return rx;
    }
    size_t n = ilg__align_up(size ? size : 1, SMALL_GRAIN);
    free_stack *fs = &h->free_small[n / SMALL_GRAIN - 1];
    if (fs->n) {
        uint8_t *p = fs->items[--fs->n];
        for (size_t i = 0; i < h->nchunks; i++)
            if (p >= h->chunks[i].rx && p < h->chunks[i].rx + h->chunks[i].size) {
                *alias = h->chunks[i].rw + (p - h->chunks[i].rx);
                return p;
            }
    }
    if (!h->bump || (size_t)(h->bump_end - h->bump) < n) {
        uint8_t *rx, *rw;
        if (!exec_map(h, EXEC_CHUNK, &rx, &rw))
            return NULL;
        if (!exec_add_chunk(h, rx, rw, EXEC_CHUNK, false)) {
            munmap(rx, EXEC_CHUNK);
            if (rw != rx)
                munmap(rw, EXEC_CHUNK);
            return NULL;
        }
        h->bump = rx;
        h->bump_rw = rw;
        h->bump_end = rx + EXEC_CHUNK;
    }
    void *p = h->bump;
    *alias = h->bump_rw;
    h->bump += n;
    h->bump_rw += n;
    return p;
}

void ilg__hostmem_exec_free(struct host_heap *h, void *p, size_t size)
{
    if (size > SMALL_MAX) {
        for (size_t i = 0; i < h->nchunks; i++) {
            exec_chunk *c = &h->chunks[i];
            if (c->large && c->rx == p) {
                munmap(c->rx, c->size);
                if (c->rw != c->rx)
                    munmap(c->rw, c->size);
                h->chunks[i] = h->chunks[--h->nchunks];
                return;
            }
        }
        return;
    }
    size_t n = ilg__align_up(size ? size : 1, SMALL_GRAIN);
    free_stack *fs = &h->free_small[n / SMALL_GRAIN - 1];
    /* A block that cannot be queued for reuse stays unused until the heap goes. */
    if (ilg__hostmem_grow((void **)&fs->items, &fs->cap, fs->n + 1, sizeof *fs->items))
        fs->items[fs->n++] = p;
}

void ilg__hostmem_exec_unmap(struct host_heap *h)
{
    for (size_t i = 0; i < h->nchunks; i++) {
        munmap(h->chunks[i].rx, h->chunks[i].size);
        if (h->chunks[i].rw != h->chunks[i].rx)
            munmap(h->chunks[i].rw, h->chunks[i].size);
    }
    for (size_t i = 0; i < SMALL_CLASSES; i++)
        free(h->free_small[i].items);
    free(h->chunks);
}
