/* md_private.h: the parsed metadata shared by metadata.c, signature.c and body.c. */
#ifndef ILG_MD_PRIVATE_H
#define ILG_MD_PRIVATE_H

#include <stdatomic.h>

#include "loader_private.h"

#define ILG_MD_MAX_STREAMS 16
#define ILG_MD_MAX_COLS 9

typedef struct md_column {
    uint8_t kind;     /* ilg_column_kind */
    uint8_t width;    /* 2 or 4 */
    uint8_t offset;
    uint8_t target;   /* ilg_table or ilg_coded_kind */
} md_column;

typedef struct md_table {
    const uint8_t *data;
    uint32_t rows;
    uint32_t row_size;
    uint8_t ncols;
    md_column cols[ILG_MD_MAX_COLS];
} md_table;

struct ilg_metadata {
    ilg_image *img;
    ilg_md_info info;
    ilg_stream_info streams[ILG_MD_MAX_STREAMS];
    char stream_names[ILG_MD_MAX_STREAMS][33];

    const uint8_t *root;          /* mapped metadata root */
    uint64_t root_file_offset;
    const uint8_t *strings; uint32_t strings_size; uint32_t strings_end; /* past last NUL */
    const uint8_t *blob; uint32_t blob_size;
    const uint8_t *guid; uint32_t guid_size;
    const uint8_t *us; uint32_t us_size;
    const uint8_t *tables_stream; uint32_t tables_size; uint32_t tables_offset;

    md_table tables[ILG_TBL_COUNT];
    uint32_t *method_owner;       /* [MethodDef rid] -> TypeDef rid (0 none) */
    uint32_t *field_owner;        /* [Field rid] -> TypeDef rid (0 none) */
    uint32_t *enclosing;          /* [TypeDef rid] -> enclosing TypeDef rid (0 none) */
    /* ilg_md_call_shape's memo, made on first use and shared by every thread: one word
     * per MethodDef, MemberRef, MethodSpec and StandAloneSig row (in that order), 0 until
     * a lookup succeeds, then written once with the value any thread would compute.
     * Holds an _Atomic uint64_t array; freed with the metadata. */
    _Atomic uintptr_t shapes;
    /* Type names (signature.c's type_text), made on first use and shared by every
     * thread the same way: one pointer per TypeDef then TypeRef row, 0 until a thread
     * installs the text with compare-and-swap, never changed after. Holds an
     * _Atomic uintptr_t array; the array and the texts are freed with the metadata. */
    _Atomic uintptr_t type_texts;
    /* typeres.c's facts of every TypeDef, made on first use and published once (a
     * uint32_t array); freed with the metadata. */
    _Atomic uintptr_t type_facts;
    /* ilg_md_module_scope's answer: this module, no universe. */
    ilg_md_scope own_scope;
    /* Row counts as parsed: rows past them were added by mdemit/ (sorted tables keep
     * their order only up to here; see docs/mdemit.md). */
    uint32_t parsed_rows[ILG_TBL_COUNT];
    /* Bumped by every write (ilg_md_generation). */
    uint64_t generation;
    /* mdemit/'s state (NULL until ilg_mdemit_open) and what frees it with the metadata;
     * once written, the tables and heaps above point into the writer's copies. */
    struct ilg_mdemit *emit;
    void (*emit_free)(struct ilg_metadata *md);
};

/* Column layout of table t for row counts rows[] and HeapSizes bits heap_sizes (sets
 * ncols, cols and row_size). */
void ilg__md_layout(const uint32_t rows[ILG_TBL_COUNT], uint8_t heap_sizes, ilg_table t,
                    md_table *tb);
/* A token as the value of a coded index of kind (0 stays 0); false when its table is
 * not one kind may reference. */
bool ilg__md_coded_encode(ilg_coded_kind kind, uint32_t token, uint32_t *value);
/* Whether a null (0) index of kind reads back: not when tag 0 is one the spec leaves
 * unused (CustomAttributeType), as the parser refuses an unused tag. */
bool ilg__md_coded_null_ok(ilg_coded_kind kind);
/* Whether column col of t is a list column (runs to the next row's value). */
bool ilg__md_is_list_column(ilg_table t, uint32_t col);
/* The *Ptr table of a list's target table (0 for none). */
ilg_table ilg__md_ptr_table_of(ilg_table target);
/* Drops the memos made from the tables (call shapes, type names, type facts) that a
 * writer outdated by adding a row to table (cell_changed false) or changing a cell of
 * one of its rows. Not while a reader may run. */
void ilg__md_forget_memos(ilg_metadata *md, ilg_table table, bool cell_changed);
/* The writer's cell store: value v into table t's row (1-based) column col, whose
 * width the caller has made wide enough. */
static inline void ilg__md_put(ilg_metadata *md, ilg_table t, uint32_t row, uint32_t col,
                               uint32_t v)
{
    md_table *tb = &md->tables[t];
    uint8_t *p = (uint8_t *)tb->data + (size_t)(row - 1) * tb->row_size + tb->cols[col].offset;
    if (tb->cols[col].width == 2) {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
    } else {
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
    }
}

/* A cell's raw stored value (heap offset, row, or coded value as stored). The caller
 * has checked table, row (1-based) and column. */
static inline uint32_t ilg__md_raw(const ilg_metadata *md, ilg_table t, uint32_t row, uint32_t col)
{
    const md_table *tb = &md->tables[t];
    const uint8_t *p = tb->data + (size_t)(row - 1) * tb->row_size + tb->cols[col].offset;
    return tb->cols[col].width == 2 ? ilg__rd16(p) : ilg__rd32(p);
}

/* Every *Ptr table (FieldPtr, MethodPtr, ParamPtr, EventPtr, PropertyPtr) has one column:
 * the row it stands for. */
#define ILG__MDC_PTR_TARGET 0
_Static_assert(ILG_MDC_MethodPtr_Method == ILG__MDC_PTR_TARGET && ILG_MDC_FieldPtr_Field == ILG__MDC_PTR_TARGET &&
               ILG_MDC_ParamPtr_Param == ILG__MDC_PTR_TARGET && ILG_MDC_EventPtr_Event == ILG__MDC_PTR_TARGET &&
               ILG_MDC_PropertyPtr_Property == ILG__MDC_PTR_TARGET, "a *Ptr table's one column");

/* The row a list position names (a TypeDef's FieldList or MethodList, ...), through the
 * *Ptr indirection of uncompressed metadata when ptr has rows; 0 for the null position. */
static inline uint32_t ilg__md_list_target(const ilg_metadata *md, ilg_table ptr, uint32_t pos)
{
    if (pos == 0)
        return 0;
    if (md->tables[ptr].rows && pos <= md->tables[ptr].rows)
        return ilg__md_raw(md, ptr, pos, ILG__MDC_PTR_TARGET);
    return pos;
}

/* Positions [first, last) of the methods (or fields) of TypeDef rid, before the *Ptr
 * mapping (ilg__md_list_target gives each position's row). */
static inline void ilg__md_member_list(const ilg_metadata *md, uint32_t rid, bool methods,
                                       uint32_t *first, uint32_t *last)
{
    const uint32_t col = methods ? ILG_MDC_TypeDef_MethodList : ILG_MDC_TypeDef_FieldList;
    const ilg_table table = methods ? ILG_TBL_MethodDef : ILG_TBL_Field;
    const ilg_table ptr = methods ? ILG_TBL_MethodPtr : ILG_TBL_FieldPtr;
    const uint32_t n = md->tables[ptr].rows ? md->tables[ptr].rows : md->tables[table].rows;
    *first = ilg__md_raw(md, ILG_TBL_TypeDef, rid, col);
    *last = rid < md->tables[ILG_TBL_TypeDef].rows ? ilg__md_raw(md, ILG_TBL_TypeDef, rid + 1, col) : n + 1;
    if (*last > n + 1)
        *last = n + 1;
}

/* The string at a validated #Strings index ("" for 0 or a missing heap). */
static inline const char *ilg__md_str(const ilg_metadata *md, uint32_t idx)
{
    return idx < md->strings_end ? (const char *)md->strings + idx : "";
}

/* Decodes a coded-index value to a token (table << 24 | row), 0 for a null index. */
uint32_t ilg__md_coded_token(ilg_coded_kind kind, uint32_t value);

/* Growable output text for names and signatures: len counts the full text even when
 * the buffer was too small, so callers can report the size needed. */
typedef struct ilg_sb {
    char *buf;
    size_t size;
    size_t len;
} ilg_sb;

/* n bytes of s (no NUL among them). Names are made of a dozen short pieces each
 * (keywords, type names, ", "): the ones of up to 32 bytes that fit are copied inline,
 * as overlapping words, the rest by ilg__sb_putn_slow. */
void ilg__sb_putn_slow(ilg_sb *sb, const char *s, size_t n);
static inline void ilg__sb_putn(ilg_sb *sb, const char *s, size_t n)
{
    char *o = sb->buf + sb->len;
    if (n > 32 || sb->len + n >= sb->size) {
        ilg__sb_putn_slow(sb, s, n);
        return;
    }
    if (n > 16) {
        uint64_t w[4];
        memcpy(&w[0], s, 16);
        memcpy(&w[2], s + n - 16, 16);
        memcpy(o, &w[0], 16);
        memcpy(o + n - 16, &w[2], 16);
    } else if (n >= 8) {
        uint64_t head, tail;
        memcpy(&head, s, 8);
        memcpy(&tail, s + n - 8, 8);
        memcpy(o, &head, 8);
        memcpy(o + n - 8, &tail, 8);
    } else if (n >= 4) {
        uint32_t head, tail;
        memcpy(&head, s, 4);
        memcpy(&tail, s + n - 4, 4);
        memcpy(o, &head, 4);
        memcpy(o + n - 4, &tail, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            o[i] = s[i];
    }
    o[n] = 0;
    sb->len += n;
}

static inline void ilg__sb_putc(ilg_sb *sb, char c)
{
    if (sb->len + 1 < sb->size) {
        sb->buf[sb->len] = c;
        sb->buf[sb->len + 1] = 0;
    }
    sb->len++;
}

void ilg__sb_puts(ilg_sb *sb, const char *s);
void ilg__sb_putu(ilg_sb *sb, uint32_t v); /* decimal */
void ilg__sb_printf(ilg_sb *sb, const char *fmt, ...) ILG_PRINTF(2, 3);

/* typeres.c: facts from this module alone; universe.c: from the assemblies it refers
 * to (these fill in out when they resolve the reference and leave it alone otherwise). */
struct ilg_type_facts;
struct ilg_member_facts;
struct ilg_md_universe;
ilg_status ilg__md_type_facts_local(const ilg_metadata *md, uint32_t token, struct ilg_type_facts *out);
ilg_status ilg__md_member_facts_local(const ilg_metadata *md, uint32_t token,
                                      struct ilg_member_facts *out);
void ilg__universe_type_facts(struct ilg_md_universe *u, const ilg_metadata *md, uint32_t token,
                              struct ilg_type_facts *out);
void ilg__universe_member_facts(struct ilg_md_universe *u, const ilg_metadata *md, uint32_t token,
                                struct ilg_member_facts *out);

ilg_status ilg__md_format_type_token(const ilg_metadata *md, uint32_t token, ilg_sb *sb, int depth);
/* Frees the type names kept for naming (the metadata is going). */
void ilg__md_free_names(ilg_metadata *md);

#endif
