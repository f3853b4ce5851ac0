/* methods.c: every method the plugin has handled, shared by all JIT threads. CoreCLR
 * compiles one method more than once (tier0 then tier1, on-stack replacement, each
 * value-type instantiation of a generic method: docs/coreclr-observed.md), and at each
 * compilation GetILFunctionBody returns the body the plugin installed the first time.
 * The table makes the first compilation build the body from the original IL and every
 * later one reuse it, so a probe is inserted once however often the runtime compiles.
 *
 * Entries are keyed by (ModuleID, MethodDef token) and live in one of 64 stripes, each
 * with its own lock and condition variable, chosen by the key's hash: two JIT threads
 * only meet on a lock when their methods hash to the same stripe, and then for a table
 * lookup. A thread that finds a method being built by another waits on the stripe's
 * condition variable (rare: two instantiations of one generic method compiled at once). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ilg_private.h"
#include "plugin_private.h"

#define STRIPES 64

typedef enum entry_state { BUILDING, DONE } entry_state;

typedef struct entry {
    uintptr_t module;
    uint32_t token;
    entry_state state;
    const uint8_t *body; /* DONE: the body installed, or NULL when left as it was */
    uint32_t size;
    struct entry *next;
} entry;

/* Aligned to a cache line so that two stripes' locks never share one. */
typedef struct stripe {
    pthread_mutex_t lock;
    pthread_cond_t done;     /* broadcast when an entry of the stripe leaves BUILDING */
    entry **buckets;
    size_t nbuckets, count;
} __attribute__((aligned(64))) stripe;

struct ilg__plugin_methods {
    stripe stripes[STRIPES];
    /* Modules that have entries, so that a ModuleLoadFinished (every load) only walks
     * the stripes when an id is really reused. */
    pthread_mutex_t modules_lock;
    uintptr_t *modules;
    size_t module_count, module_cap;
};

static uint64_t key_hash(uintptr_t module, uint32_t token)
{
    uint64_t h = (uint64_t)module ^ ((uint64_t)token * 0x9E3779B97F4A7C15ull);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 29);
}

ilg_status ilg__plugin_methods_new(ilg__plugin_methods **out)
{
    ilg__plugin_methods *t = aligned_alloc(64, sizeof *t);
    if (!t)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "method table");
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&t->stripes[i].lock, NULL);
        pthread_cond_init(&t->stripes[i].done, NULL);
    }
    pthread_mutex_init(&t->modules_lock, NULL);
    *out = t;
    return ILG_OK;
}

void ilg__plugin_methods_free(ilg__plugin_methods *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < STRIPES; i++) {
        stripe *s = &t->stripes[i];
        for (size_t b = 0; b < s->nbuckets; b++)
            for (entry *e = s->buckets[b], *next; e; e = next) {
                next = e->next;
                free(e);
            }
        free(s->buckets);
        pthread_cond_destroy(&s->done);
        pthread_mutex_destroy(&s->lock);
    }
    pthread_mutex_destroy(&t->modules_lock);
    free(t->modules);
    free(t);
}

/* The entry for the key in s (s->lock held), or NULL. */
static entry *find(const stripe *s, uint64_t h, uintptr_t module, uint32_t token)
{
    if (!s->nbuckets)
        return NULL;
    for (entry *e = s->buckets[h & (s->nbuckets - 1)]; e; e = e->next)
        if (e->module == module && e->token == token)
            return e;
    return NULL;
}

/* Doubles s's buckets when it holds more entries than buckets (s->lock held). False
 * when memory is short and the table has no bucket at all. */
static bool grow(stripe *s)
{
    if (s->nbuckets && s->count < s->nbuckets)
        return true;
    size_t n = s->nbuckets ? s->nbuckets * 2 : 64;
    entry **b = calloc(n, sizeof *b);
    if (!b)
        return s->nbuckets != 0; /* a longer chain works too */
    for (size_t i = 0; i < s->nbuckets; i++)
        for (entry *e = s->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t at = key_hash(e->module, e->token) & (n - 1);
            e->next = b[at];
            b[at] = e;
        }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = n;
    return true;
}

ilg__method_claim ilg__plugin_methods_claim(ilg__plugin_methods *t, uintptr_t module,
                                            uint32_t token, const uint8_t **body,
                                            uint32_t *size, bool *waited)
{
    uint64_t h = key_hash(module, token);
    stripe *s = &t->stripes[h >> 58];
    ilg__method_claim result = ILG__CLAIM_DONE;
    *waited = false;
    pthread_mutex_lock(&s->lock);
    entry *e = find(s, h, module, token);
    /* Another thread is building it: wait for its body (looked up again after each
     * wake-up, since the broadcast is for the whole stripe). */
    while (e && e->state == BUILDING) {
        *waited = true;
        pthread_cond_wait(&s->done, &s->lock);
        e = find(s, h, module, token);
    }
    if (e) {
        *body = e->body;
        *size = e->size;
    } else if (!grow(s) || !(e = malloc(sizeof *e))) {
        result = ILG__CLAIM_NOMEM;
    } else {
        *e = (entry){ module, token, BUILDING, NULL, 0, NULL };
        size_t at = h & (s->nbuckets - 1);
        e->next = s->buckets[at];
        s->buckets[at] = e;
        s->count++;
        result = ILG__CLAIM_MINE;
    }
    pthread_mutex_unlock(&s->lock);
    return result;
}

void ilg__plugin_methods_finish(ilg__plugin_methods *t, uintptr_t module, uint32_t token,
                                const uint8_t *body, uint32_t size)
{
    uint64_t h = key_hash(module, token);
    stripe *s = &t->stripes[h >> 58];
    pthread_mutex_lock(&s->lock);
    entry *e = find(s, h, module, token);
    if (e && e->state == BUILDING) {
        e->state = DONE;
        e->body = body;
        e->size = size;
    }
    pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->lock);
}

bool ilg__plugin_methods_note_module(ilg__plugin_methods *t, uintptr_t module)
{
    bool ok = true;
    pthread_mutex_lock(&t->modules_lock);
    size_t i = 0;
    while (i < t->module_count && t->modules[i] != module)
        i++;
    if (i == t->module_count) {
        if (ilg__grow_size((void **)&t->modules, &t->module_cap, t->module_count + 1,
                           sizeof *t->modules) != ILG_OK) {
            ok = false;
            goto done;
        }
        t->modules[t->module_count++] = module;
    }
done:
    pthread_mutex_unlock(&t->modules_lock);
    return ok;
}

size_t ilg__plugin_methods_forget(ilg__plugin_methods *t, uintptr_t module)
{
    size_t dropped = 0;
    pthread_mutex_lock(&t->modules_lock);
    size_t i = 0;
    while (i < t->module_count && t->modules[i] != module)
        i++;
    if (i == t->module_count) {
        pthread_mutex_unlock(&t->modules_lock);
        return 0;
    }
    t->modules[i] = t->modules[--t->module_count];
    pthread_mutex_unlock(&t->modules_lock);
    for (size_t k = 0; k < STRIPES; k++) {
        stripe *s = &t->stripes[k];
        size_t before = dropped;
        pthread_mutex_lock(&s->lock);
        for (size_t b = 0; b < s->nbuckets; b++)
            for (entry **pe = &s->buckets[b]; *pe;) {
                entry *e = *pe;
                if (e->module == module) {
                    *pe = e->next;
                    free(e);
                    s->count--;
                    dropped++;
                } else {
                    pe = &e->next;
                }
            }
        /* A thread waiting for a dropped entry must not wait for ever (no entry can be
         * building when its module is reloaded, but the table does not rely on it). */
        if (dropped != before)
            pthread_cond_broadcast(&s->done);
        pthread_mutex_unlock(&s->lock);
    }
    return dropped;
}
