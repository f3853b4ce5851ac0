/* ilgraft/metadata.h: the ECMA-335 metadata of a mapped .NET image (Partition II 22
 * and 24): CLI header, metadata root and streams, every table with its schema, heap
 * access, method ownership, signatures as ilasm-like text, and the location and exact
 * size of every method body (without decoding its instructions).
 *
 * The metadata is parsed and validated in full on the first ilg_image_metadata() call:
 * every heap index inside its heap, every table index within its table, list columns
 * non-decreasing, exactly one Module row. After that the accessors only check their own
 * arguments. Ownership: the ilg_metadata and every pointer it hands out (strings,
 * blobs, names) belong to the image and live until ilg_image_close(). */
#ifndef ILGRAFT_METADATA_H
#define ILGRAFT_METADATA_H

#include <stdbool.h>

#include "ilgraft/common.h"
#include "ilgraft/ilbody.h"
#include "ilgraft/loader.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ilg_metadata ilg_metadata;

typedef enum ilg_table {
#define ILG_TABLE(id, name, cols) ILG_TBL_##name = id,
#include "ilgraft/md_tables.def"
    ILG_TBL_COUNT = 0x2D
} ilg_table;

typedef enum ilg_coded_kind {
#define ILG_CODED(name, bits, tables) ILG_CODED_##name,
#include "ilgraft/md_tables.def"
    ILG_CODED_COUNT
} ilg_coded_kind;

/* Column numbers by name, ILG_MDC_<Table>_<Column> (ILG_MDC_TypeDef_Extends is 3), for
 * ilg_md_cell and ilg_md_column, generated from md_tables.def: each table's column list
 * becomes a comma list that a counting macro turns into one enum per table. */
#define ILG__MDC_APPLY(m, ...) m(__VA_ARGS__)
#define ILG__MDC_PICK(_1, _2, _3, _4, _5, _6, _7, _8, _9, n, ...) n
#define ILG__MDC_1(t, a) ILG_MDC_##t##_##a
#define ILG__MDC_2(t, a, ...) ILG_MDC_##t##_##a, ILG__MDC_1(t, __VA_ARGS__)
#define ILG__MDC_3(t, a, ...) ILG_MDC_##t##_##a, ILG__MDC_2(t, __VA_ARGS__)
#define ILG__MDC_4(t, a, ...) ILG_MDC_##t##_##a, ILG__MDC_3(t, __VA_ARGS__)
#define ILG__MDC_5(t, a, ...) ILG_MDC_##t##_##a, ILG__MDC_4(t, __VA_ARGS__)
#define ILG__MDC_6(t, a, ...) ILG_MDC_##t##_##a, ILG__MDC_5(t, __VA_ARGS__)
#define ILG__MDC_7(t, a, ...) ILG_MDC_##t##_##a, ILG__MDC_6(t, __VA_ARGS__)
#define ILG__MDC_8(t, a, ...) ILG_MDC_##t##_##a, ILG__MDC_7(t, __VA_ARGS__)
#define ILG__MDC_9(t, a, ...) ILG_MDC_##t##_##a, ILG__MDC_8(t, __VA_ARGS__)
#define ILG__MDC_ENUM(t, ...)                                                                \
    ILG__MDC_PICK(__VA_ARGS__, ILG__MDC_9, ILG__MDC_8, ILG__MDC_7, ILG__MDC_6, ILG__MDC_5,  \
                  ILG__MDC_4, ILG__MDC_3, ILG__MDC_2, ILG__MDC_1, _)(t, __VA_ARGS__)
#define ILG_TABLE(id, name, cols) enum { ILG__MDC_APPLY(ILG__MDC_ENUM, name cols) };
#define ILG_COL(kind, name) , name
#define ILG_IDX(table, name) , name
#define ILG_CDX(coded, name) , name
#include "ilgraft/md_tables.def"
#undef ILG_TABLE
#undef ILG_COL
#undef ILG_IDX
#undef ILG_CDX

/* The attribute bits the library tests (ECMA-335 II.23.1.15 TypeAttributes, II.23.1.10
 * MethodAttributes, II.23.1.11 MethodImplAttributes, II.23.1.5 FieldAttributes) and the
 * #~ stream's HeapSizes bits (II.24.2.6); AggressiveOptimization is .NET's addition. */
enum {
    ILG_TYPEATTR_INTERFACE = 0x0020, ILG_TYPEATTR_ABSTRACT = 0x0080, ILG_TYPEATTR_SEALED = 0x0100,
    ILG_METHODATTR_STATIC = 0x0010, ILG_METHODATTR_FINAL = 0x0020, ILG_METHODATTR_VIRTUAL = 0x0040,
    ILG_METHODATTR_NEWSLOT = 0x0100, ILG_METHODATTR_ABSTRACT = 0x0400,
    ILG_METHODATTR_RTSPECIALNAME = 0x1000, ILG_METHODATTR_PINVOKEIMPL = 0x2000,
    ILG_METHODIMPL_CODETYPE_MASK = 0x0003, ILG_METHODIMPL_RUNTIME = 0x0003,
    ILG_METHODIMPL_FORWARDREF = 0x0010, ILG_METHODIMPL_INTERNALCALL = 0x1000,
    ILG_METHODIMPL_SYNCHRONIZED = 0x0020, ILG_METHODIMPL_NOOPTIMIZATION = 0x0040,
    ILG_METHODIMPL_NOINLINING = 0x0008, ILG_METHODIMPL_AGGRESSIVEINLINING = 0x0100,
    ILG_METHODIMPL_AGGRESSIVEOPTIMIZATION = 0x0200,
    ILG_FIELDATTR_STATIC = 0x0010, ILG_FIELDATTR_LITERAL = 0x0040, ILG_FIELDATTR_HASFIELDRVA = 0x0100,
    ILG_ASSEMBLYFLAG_PUBLICKEY = 0x0001, /* II.23.1.2 */
    ILG_HEAPSIZE_STRING = 0x01, ILG_HEAPSIZE_GUID = 0x02, ILG_HEAPSIZE_BLOB = 0x04,
    ILG_HEAPSIZE_EXTRA_DATA = 0x40
};

typedef enum ilg_column_kind {
    ILG_COL_U16, ILG_COL_U32, ILG_COL_STR, ILG_COL_GUID, ILG_COL_BLOB,
    ILG_COL_INDEX,  /* simple index: the cell is a row number (1-based, 0 = null) */
    ILG_COL_CODED   /* coded index: the cell is a token (table << 24 | row), 0 = null */
} ilg_column_kind;

typedef struct ilg_column_info {
    const char *name;
    ilg_column_kind kind;
    int target;     /* ILG_COL_INDEX: an ilg_table; ILG_COL_CODED: an ilg_coded_kind */
    uint8_t width;  /* 2 or 4 bytes in this image */
    uint8_t offset; /* byte offset of the column inside a row */
} ilg_column_info;

/* Parses (once) and returns the image's metadata. ILG_E_CLI_ABSENT for an image
 * without a CLI header. A failed parse returns the same status on every call. */
ILG_API ilg_status ilg_image_metadata(ilg_image *img, const ilg_metadata **out);

typedef struct ilg_stream_info {
    const char *name;       /* "#~", "#Strings", ... */
    uint32_t offset;        /* from the metadata root */
    uint32_t size;
    uint64_t file_offset;
} ilg_stream_info;

typedef struct ilg_md_info {
    /* CLI (COR20) header */
    uint32_t cli_rva;
    uint16_t runtime_major, runtime_minor;
    uint32_t cli_flags;            /* COMIMAGE_FLAGS_* */
    uint32_t entry_point;          /* token or native RVA, per the flags */
    uint32_t resources_rva, resources_size;
    uint32_t strong_name_rva, strong_name_size;
    uint32_t managed_native_header_rva, managed_native_header_size; /* ReadyToRun */
    /* metadata root */
    uint32_t metadata_rva, metadata_size;
    uint64_t metadata_file_offset;
    uint16_t md_major, md_minor;
    const char *version;           /* "v4.0.30319" */
    uint32_t stream_count;
    const ilg_stream_info *streams;
    /* tables stream */
    bool uncompressed;             /* #- rather than #~ */
    uint8_t tables_major, tables_minor, heap_sizes;
    uint64_t valid_mask, sorted_mask;
    uint32_t rows[ILG_TBL_COUNT];
} ilg_md_info;

ILG_API ilg_status ilg_md_get_info(const ilg_metadata *md, ilg_md_info *out);

/* The metadata of a bare root (a "BSJB" block, as ilg_mdemit_serialize writes it),
 * parsed and validated as an image's is: stream offsets are from root, file offsets
 * are offsets into it, method bodies are not available (ilg_md_method_body answers
 * ILG_E_NOT_FOUND). root must outlive the metadata; ilg_md_close frees it. */
ILG_API ilg_status ilg_md_open_root(const uint8_t *root, size_t size, ilg_metadata **out);
/* Frees metadata from ilg_md_open_root (an image's metadata is the image's: ignored). */
ILG_API void ilg_md_close(ilg_metadata *md);

/* A number that changes whenever the metadata writer (ilgraft/mdemit.h) adds or changes
 * a row or heap entry: caches made from the tables compare it. 0 for unwritten. */
ILG_API uint64_t ilg_md_generation(const ilg_metadata *md);

/* Table schema. Names are static strings. */
ILG_API const char *ilg_md_table_name(ilg_table table);
ILG_API uint32_t ilg_md_column_count(ilg_table table);
ILG_API const char *ilg_md_coded_name(ilg_coded_kind kind);
ILG_API ilg_status ilg_md_column(const ilg_metadata *md, ilg_table table, uint32_t col,
                                 ilg_column_info *out);

ILG_API uint32_t ilg_md_row_count(const ilg_metadata *md, ilg_table table);
/* One cell, row 1-based. See ilg_column_kind for what the value means. */
ILG_API ilg_status ilg_md_cell(const ilg_metadata *md, ilg_table table, uint32_t row,
                               uint32_t col, uint32_t *out);

/* Heaps. Strings are NUL-terminated UTF-8 in the mapped image; blobs and user strings
 * point at their bytes after the length prefix; a GUID index is 1-based. */
ILG_API ilg_status ilg_md_string(const ilg_metadata *md, uint32_t index, const char **out);
ILG_API ilg_status ilg_md_blob(const ilg_metadata *md, uint32_t index, const uint8_t **data,
                               uint32_t *len);
ILG_API ilg_status ilg_md_guid(const ilg_metadata *md, uint32_t index, const uint8_t **out16);
ILG_API ilg_status ilg_md_user_string(const ilg_metadata *md, uint32_t index,
                                      const uint8_t **utf16, uint32_t *bytes);

/* Methods. rid is the MethodDef row (token & 0xFFFFFF). */
typedef struct ilg_method_info {
    uint32_t token;
    uint32_t rva;
    uint16_t impl_flags;      /* MethodImplAttributes */
    uint16_t flags;           /* MethodAttributes */
    const char *name;
    const uint8_t *sig;
    uint32_t sig_len;
    uint32_t owner;           /* TypeDef token that owns the method, 0 if none */
    uint32_t param_list;      /* first Param row */
} ilg_method_info;

ILG_API ilg_status ilg_md_method(const ilg_metadata *md, uint32_t rid, ilg_method_info *out);

/* Full name of a TypeDef, TypeRef or TypeSpec token: "Ns.Outer/Inner", generic type
 * specs in ilasm form. Writes at most size bytes (always NUL-terminated when size > 0);
 * *needed (optional) receives the full length without the NUL. ILG_E_RANGE when the
 * buffer was too small (the truncated text is still written). */
ILG_API ilg_status ilg_md_type_name(const ilg_metadata *md, uint32_t token, char *buf,
                                    size_t size, size_t *needed);

/* A method as ilasm-like text: "int32 Calc::Add(int32, int32)", with generic
 * parameters, byrefs, arrays, pointers and modifiers. Same buffer rules as above. */
ILG_API ilg_status ilg_md_method_name(const ilg_metadata *md, uint32_t rid, char *buf,
                                      size_t size, size_t *needed);

/* A MethodDef, MemberRef, Field or MethodSpec token as ilasm-like text: methods as
 * ilg_md_method_name writes them ("instance void [mscorlib]System.Object::.ctor()"),
 * fields as "int32 Calc::count", a MethodSpec as its method with the type arguments
 * ("!!0 C::M<int32>(!!0)"), a generic MemberRef with ilasm's arity ("M<[1]>").
 * Same buffer rules as above. */
ILG_API ilg_status ilg_md_member_name(const ilg_metadata *md, uint32_t token, char *buf,
                                      size_t size, size_t *needed);

/* Stack shape of a call through token (MethodDef, MemberRef, MethodSpec, or a
 * StandAloneSig for calli): the number of arguments it pops (including `this` when
 * the signature has HASTHIS and not EXPLICITTHIS) and whether it pushes a return value. */
ILG_API ilg_status ilg_md_call_shape(const ilg_metadata *md, uint32_t token, uint32_t *pops,
                                     bool *has_this, bool *pushes);

typedef enum ilg_body_kind {
    ILG_BODY_NONE = 0,  /* RVA 0: abstract, pinvoke, internalcall, runtime */
    ILG_BODY_TINY,
    ILG_BODY_FAT,
    ILG_BODY_NATIVE     /* code type native (mixed-mode), not IL */
} ilg_body_kind;

typedef struct ilg_method_body {
    ilg_body_kind kind;
    uint32_t rva;
    uint64_t file_offset;
    const uint8_t *header;   /* mapped header (NULL for NONE) */
    const uint8_t *code;     /* mapped first IL byte */
    uint32_t header_size;    /* 1 or 12 */
    uint32_t code_size;
    uint16_t max_stack;      /* 8 for tiny */
    uint16_t fat_flags;      /* low 12 bits of a fat header */
    uint32_t local_sig;      /* StandAloneSig token or 0 */
    bool init_locals;
    uint32_t eh_clauses;     /* across all EH sections */
    uint32_t body_size;      /* header + code + padding + every extra section */
} ilg_method_body;

/* Locates the body of MethodDef rid and measures it; the bytes are checked to lie
 * inside one section. Kind NONE (status ILG_OK) for methods without a body. */
ILG_API ilg_status ilg_md_method_body(const ilg_metadata *md, uint32_t rid,
                                      ilg_method_body *out);

/* ---- the type-level verifier's view (ilgraft/ilbody.h) ---------------------------- */

/* Other assemblies, for references that leave a module: opened on demand, by assembly
 * name, from the directories given (each "<dir>/<name>.dll"), or from modules added to
 * it; type forwarders (ExportedType) are followed. Thread-safe. Owns what it opens. */
typedef struct ilg_md_universe ilg_md_universe;
ILG_API ilg_status ilg_md_universe_new(const char *const *dirs, size_t ndirs, ilg_md_universe **out);
/* Makes md (not owned; it must outlive the universe) the assembly its Assembly row names. */
ILG_API ilg_status ilg_md_universe_add(ilg_md_universe *u, const ilg_metadata *md);
/* The universe of the image at path (md its metadata, added; not owned): the image's
 * directory and its Facades subdirectory, and the directory above for an image in a
 * Facades directory (facades forward to the assemblies there). */
ILG_API ilg_status ilg_md_universe_beside(const char *path, const ilg_metadata *md, ilg_md_universe **out);
ILG_API void ilg_md_universe_free(ilg_md_universe *u);

/* A module and where its references are resolved (universe may be NULL: references
 * that leave the module stay unknown, which the verifier never holds against a body).
 * Caller-owned; it must outlive every resolver made from it. */
typedef struct ilg_md_scope {
    const ilg_metadata *md;
    ilg_md_universe *universe;
} ilg_md_scope;

/* Facts about a TypeDef, TypeRef or TypeSpec token: ILG_E_NOT_FOUND for a row that does
 * not exist, ILG_E_INVALID_ARG for a token of another table. */
ILG_API ilg_status ilg_md_type_facts(const ilg_md_scope *scope, uint32_t token, ilg_type_facts *out);
/* Facts about a MethodDef, MemberRef, MethodSpec or Field token, same errors. */
ILG_API ilg_status ilg_md_member_facts(const ilg_md_scope *scope, uint32_t token,
                                       ilg_member_facts *out);
/* The scope of md alone (references that leave it stay unknown): owned by md, it lives
 * as long as md, one address per module (a resolver context that findings->cache can
 * tell from another module's). */
ILG_API const ilg_md_scope *ilg_md_module_scope(const ilg_metadata *md);
/* The resolver for verifying method (a MethodDef token) of scope's module. */
ILG_API void ilg_md_type_resolver(const ilg_md_scope *scope, uint32_t method, ilg_type_resolver *out);

/* ---- ReadyToRun ------------------------------------------------------------------------
 * The precompiled native code of a ReadyToRun image (crossgen2's output; the format is
 * described in docs/readytorun.md): the READYTORUN_HEADER the CLI header's
 * ManagedNativeHeader points at, its sections, the RUNTIME_FUNCTION table, the
 * MethodDefEntryPoints array (one entry per MethodDef with code), the
 * InstanceMethodEntryPoints hashtable (generic instantiations and stubs, keyed by a
 * method signature whose MethodDef token is decoded) and the inlining information.
 *
 * Parsed and validated in full on the first ilg_image_readytorun() call (after the
 * metadata): every NativeFormat read is bounded by the image section it starts in,
 * every entry's runtime function index, method token and fixup list are checked. A
 * failed parse returns the same status on every call. The ilg_r2r and every pointer it
 * hands out belong to the image and live until ilg_image_close(); queries may run from
 * several threads. */

typedef struct ilg_r2r ilg_r2r;

/* READYTORUN_SECTION types (readytorun.h's ReadyToRunSectionType). */
typedef enum ilg_r2r_section_type {
    ILG_R2R_COMPILER_IDENTIFIER = 100,
    ILG_R2R_IMPORT_SECTIONS = 101,
    ILG_R2R_RUNTIME_FUNCTIONS = 102,
    ILG_R2R_METHODDEF_ENTRY_POINTS = 103,
    ILG_R2R_EXCEPTION_INFO = 104,
    ILG_R2R_DEBUG_INFO = 105,
    ILG_R2R_DELAY_LOAD_METHOD_CALL_THUNKS = 106,
    ILG_R2R_AVAILABLE_TYPES = 108,
    ILG_R2R_INSTANCE_METHOD_ENTRY_POINTS = 109,
    ILG_R2R_INLINING_INFO = 110,
    ILG_R2R_PROFILE_DATA_INFO = 111,
    ILG_R2R_MANIFEST_METADATA = 112,
    ILG_R2R_ATTRIBUTE_PRESENCE = 113,
    ILG_R2R_INLINING_INFO2 = 114,
    ILG_R2R_COMPONENT_ASSEMBLIES = 115,
    ILG_R2R_OWNER_COMPOSITE_EXECUTABLE = 116,
    ILG_R2R_PGO_INSTRUMENTATION_DATA = 117,
    ILG_R2R_MANIFEST_ASSEMBLY_MVIDS = 118,
    ILG_R2R_CROSS_MODULE_INLINE_INFO = 119,
    ILG_R2R_HOT_COLD_MAP = 120,
    ILG_R2R_METHOD_IS_GENERIC_MAP = 121,
    ILG_R2R_ENCLOSING_TYPE_MAP = 122,
    ILG_R2R_TYPE_GENERIC_INFO_MAP = 123
} ilg_r2r_section_type;

/* READYTORUN_FLAG_* of the header, as far as ilgraft looks at them. */
#define ILG_R2R_FLAG_COMPONENT 0x20u
#define ILG_R2R_FLAG_MULTIMODULE_VERSION_BUBBLE 0x40u

/* READYTORUN_METHOD_SIG_* flags of an instance entry's signature. */
#define ILG_R2R_SIG_UNBOXING_STUB 0x01u
#define ILG_R2R_SIG_INSTANTIATING_STUB 0x02u
#define ILG_R2R_SIG_METHOD_INSTANTIATION 0x04u
#define ILG_R2R_SIG_SLOT_INSTEAD_OF_TOKEN 0x08u
#define ILG_R2R_SIG_MEMBERREF_TOKEN 0x10u
#define ILG_R2R_SIG_CONSTRAINED 0x20u
#define ILG_R2R_SIG_OWNER_TYPE 0x40u
#define ILG_R2R_SIG_UPDATE_CONTEXT 0x80u

typedef struct ilg_r2r_section {
    uint32_t type;             /* an ilg_r2r_section_type (unknown types are kept) */
    uint32_t rva;
    uint32_t size;
} ilg_r2r_section;

typedef struct ilg_r2r_info {
    uint32_t header_rva;       /* READYTORUN_HEADER (the ManagedNativeHeader directory) */
    uint32_t header_size;
    uint64_t header_file_offset;
    uint16_t major_version, minor_version;
    uint32_t flags;            /* READYTORUN_FLAG_* */
    uint32_t section_count;
    const ilg_r2r_section *sections;  /* as in the header, header order */
    uint16_t machine;          /* the COFF machine without its OS tag: 0x8664, 0xAA64, ... */
    uint16_t os_tag;           /* what it was xored with: 0 Windows, 0x7B79 Linux, ... */
    const char *os_name;       /* "Windows", "Linux", "Apple", "FreeBSD", "NetBSD", "SunOS" */
    const char *compiler;      /* CompilerIdentifier section ("" when absent) */
    const char *owner_composite; /* a component image's composite file name, else NULL */
    uint32_t runtime_function_count;
    uint32_t runtime_function_size; /* 12 bytes on x86-64, 8 elsewhere */
    uint32_t methoddef_slots;  /* elements of the MethodDefEntryPoints array */
    uint32_t methoddef_entries;/* MethodDefs with an entry point */
    uint32_t instance_entries; /* InstanceMethodEntryPoints entries */
    uint32_t instance_buckets; /* its bucket count (0 without the section) */
    uint32_t inline_count;     /* inliner/inlinee pairs (ilg_r2r_inline_info) */
} ilg_r2r_info;

/* One precompiled method: a MethodDef's entry point or an instance entry. */
typedef struct ilg_r2r_method_info {
    uint32_t token;            /* MethodDef token (a MemberRef token for a foreign method) */
    bool instance;             /* from InstanceMethodEntryPoints */
    uint32_t sig_flags;        /* instance entries: ILG_R2R_SIG_* (0 otherwise) */
    uint32_t module_override;  /* ILG_R2R_SIG_UPDATE_CONTEXT's module index (0 otherwise) */
    uint32_t runtime_function; /* index of the method's main RUNTIME_FUNCTION */
    uint32_t runtime_function_count; /* the main one and its funclets (consecutive) */
    uint32_t cold_runtime_function;  /* first cold part (HotColdMap), 0 when not split */
    uint32_t cold_runtime_function_count;
    uint32_t code_rva;         /* BeginAddress of the main RUNTIME_FUNCTION */
    uint32_t code_size;        /* bytes of the main one plus its funclets (and cold parts) */
    uint32_t main_size;        /* bytes of the main RUNTIME_FUNCTION alone */
    bool has_fixups;           /* cells to fix up before the code may run */
    uint32_t fixups_rva;       /* the fixup list (0 without) */
    uint32_t entry_rva;        /* the encoded entry (runtime function index, fixups) */
    uint32_t sig_rva, sig_size;/* instance entries: the method signature; entry_rva follows */
    uint32_t bucket;           /* instance entries: hashtable bucket and the hash code's */
    uint8_t low_hash;          /*   low byte */
} ilg_r2r_method_info;

/* A RUNTIME_FUNCTION; end and size are computed from the unwind data on machines whose
 * entries have no EndAddress (ARM64 and ARM xdata, x86's leading code length). */
typedef struct ilg_r2r_function_info {
    uint32_t begin;            /* RVA of the first code byte */
    uint32_t end;              /* RVA after the last one */
    uint32_t unwind;           /* RVA of the unwind data */
} ilg_r2r_function_info;

/* One inlining: inliner's precompiled code contains inlinee's. A method of this module
 * is a MethodDef token with module index 0 (crossgen2 writes 0 for the image's own
 * module); others carry the module override index of the manifest; cross_module ones
 * are indices into the image's ILBody import section instead of tokens. An inliner
 * without its own module index belongs to the inlinee's module, which for a
 * cross-module inlinee is ILG_R2R_MODULE_OF_IMPORT (known only by resolving it). */
#define ILG_R2R_MODULE_OF_IMPORT 0xFFFFFFFFu

typedef struct ilg_r2r_inline_info {
    uint32_t inliner, inlinee;
    uint32_t inliner_module, inlinee_module;
    bool inliner_cross_module, inlinee_cross_module;
    uint32_t section;          /* ILG_R2R_INLINING_INFO2 or ILG_R2R_CROSS_MODULE_INLINE_INFO */
} ilg_r2r_inline_info;

/* Parses (once) and returns the image's ReadyToRun information. ILG_E_R2R_ABSENT for an
 * image without one (IL-only, native, ELF); the metadata's errors when it is bad. */
ILG_API ilg_status ilg_image_readytorun(ilg_image *img, const ilg_r2r **out);
ILG_API ilg_status ilg_r2r_get_info(const ilg_r2r *r2r, ilg_r2r_info *out);

/* Methods: the MethodDef entries by ascending token, then the instance entries in
 * hashtable order (bucket by bucket). */
ILG_API uint32_t ilg_r2r_method_count(const ilg_r2r *r2r);
ILG_API ilg_status ilg_r2r_method(const ilg_r2r *r2r, uint32_t index, ilg_r2r_method_info *out);
/* The MethodDef entry of rid, ILG_E_NOT_FOUND when the method has none. */
ILG_API ilg_status ilg_r2r_method_for_rid(const ilg_r2r *r2r, uint32_t rid, ilg_r2r_method_info *out);

ILG_API ilg_status ilg_r2r_runtime_function(const ilg_r2r *r2r, uint32_t index,
                                            ilg_r2r_function_info *out);

ILG_API ilg_status ilg_r2r_inline(const ilg_r2r *r2r, uint32_t index, ilg_r2r_inline_info *out);

#ifdef __cplusplus
}
#endif
#endif
