/* ilgraft/common.h: what every ilgraft module shares: the export macro, the status
 * codes (generated from errors.def) and the per-thread diagnostic of the last failure.
 *
 * Error model: every public call returns an ilg_status. ILG_OK (0) is success; any
 * other value is a failure, and out-parameters are then left untouched. A failing call
 * also records an ilg_diag on the calling thread: the status, a message naming the
 * offending value, and the file offset (or IL offset) where it was found. */
#ifndef ILGRAFT_COMMON_H
#define ILGRAFT_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The library is built with hidden visibility; only what carries ILG_API is exported. */
#define ILG_API __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ilg_status {
#define ILG_ERROR(name, message) ILG_##name,
#include "ilgraft/errors.def"
#undef ILG_ERROR
    ILG_STATUS_COUNT
} ilg_status;

/* What kind of position ilg_diag.offset holds. */
typedef enum ilg_where {
    ILG_WHERE_NONE = 0,   /* no position applies */
    ILG_WHERE_FILE,       /* byte offset in the input file */
    ILG_WHERE_IL,         /* offset in a method's IL code */
    ILG_WHERE_RVA         /* relative virtual address (not backed by the file) */
} ilg_where;

typedef struct ilg_diag {
    ilg_status status;
    ilg_where where;
    uint64_t offset;
    char message[320];
} ilg_diag;

/* The symbolic name ("E_PE_TRUNCATED_DOS") and the generic one-line message of a status.
 * Both return static strings; an out-of-range status gives "UNKNOWN". */
ILG_API const char *ilg_status_name(ilg_status status);
ILG_API const char *ilg_strerror(ilg_status status);

/* The diagnostic of the last failing ilgraft call on this thread. The pointer is to
 * thread-local storage owned by ilgraft: valid on this thread until its next failing
 * call overwrites it. Status ILG_OK when nothing has failed yet. */
ILG_API const ilg_diag *ilg_last_diag(void);

/* Clears this thread's diagnostic (status back to ILG_OK). */
ILG_API void ilg_clear_diag(void);

/* The library version as "MAJOR.MINOR.PATCH" (static string). */
ILG_API const char *ilg_version(void);

#ifdef __cplusplus
}
#endif
#endif
