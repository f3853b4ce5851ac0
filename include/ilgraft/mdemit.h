/* ilgraft/mdemit.h: the metadata writer. Adds rows to a loaded module's tables and
 * entries to its #Strings, #US, #Blob and #GUID heaps, and serializes the grown
 * metadata as a new root. docs/mdemit.md has the design; in short:
 *
 * - Every existing token stays valid. A new row gets the token one past the table's
 *   last row. A method, field or parameter added to a parent that is not the last one
 *   of its table goes through the MethodPtr / FieldPtr / ParamPtr indirection (made on
 *   first need, as CoreCLR's read-write metadata does), so no row moves.
 * - The module's readers (ilgraft/metadata.h, the verifier's resolver) see a new row or
 *   heap entry as soon as the call returns; pointers they handed out before stay valid.
 * - Tables ECMA-335 II.22 wants sorted take new rows at their end; the serializer sorts
 *   them (tokens of those tables in the saved metadata may differ from the in-memory
 *   ones, as after CoreCLR's save; no IL refers to them).
 * - De-duplication follows CoreCLR's default (MDDupDefault): an identical TypeRef,
 *   MemberRef, StandAloneSig, TypeSpec or MethodSpec answers the existing token with
 *   *duplicate set (the host answers META_S_DUPLICATE); ilg_mdemit_set_dup_checks
 *   changes the set. Heap entries are shared (an equal string, blob, GUID or user
 *   string gets the existing index).
 *
 * Cells are given as ilg_md_cell reads them: plain numbers, heap indices, a row number
 * for a simple index, a token for a coded index (0: null).
 *
 * Ownership and threads: the writer belongs to the image (ilg_mdemit_open answers the
 * same one each time) and lives until ilg_image_close. Calls on it must not run at the
 * same time as each other or as any read of the same module's metadata (the host holds
 * its metadata lock); reads between writes may run from any number of threads. */
#ifndef ILGRAFT_MDEMIT_H
#define ILGRAFT_MDEMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "ilgraft/common.h"
#include "ilgraft/loader.h"
#include "ilgraft/metadata.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ilg_mdemit ilg_mdemit;

/* The tables CoreCLR checks for duplicates by default (MDDupDefault): a bit per
 * ilg_table. */
#define ILG_MDEMIT_DUP_DEFAULT                                                                \
    ((1ull << ILG_TBL_TypeRef) | (1ull << ILG_TBL_MemberRef) | (1ull << ILG_TBL_StandAloneSig) | \
     (1ull << ILG_TBL_TypeSpec) | (1ull << ILG_TBL_MethodSpec))
/* The tables ilg_mdemit_set_dup_checks accepts (the others are never checked). */
#define ILG_MDEMIT_DUP_POSSIBLE                                                               \
    (ILG_MDEMIT_DUP_DEFAULT | (1ull << ILG_TBL_ModuleRef) | (1ull << ILG_TBL_AssemblyRef))

/* The writer of img's metadata (parsed first if need be). */
ILG_API ilg_status ilg_mdemit_open(ilg_image *img, ilg_mdemit **out);
/* The metadata it writes (the image's; the same object ilg_image_metadata answers). */
ILG_API const ilg_metadata *ilg_mdemit_metadata(const ilg_mdemit *em);
/* Which tables de-duplicate (bits of ILG_MDEMIT_DUP_POSSIBLE; others: ILG_E_INVALID_ARG). */
ILG_API ilg_status ilg_mdemit_set_dup_checks(ilg_mdemit *em, uint64_t tables);

/* ---- heaps -------------------------------------------------------------------------- */
/* A #Strings index of the UTF-8 text (0 for ""); an equal string already there is
 * shared. ILG_E_MDEMIT_TOO_LARGE past 4 GB. */
ILG_API ilg_status ilg_mdemit_string(ilg_mdemit *em, const char *utf8, uint32_t *index);
/* A #Blob index of len bytes (0 for an empty blob); ILG_E_MDEMIT_TOO_LARGE over
 * 0x1FFFFFFF bytes (the compressed length's limit). */
ILG_API ilg_status ilg_mdemit_blob(ilg_mdemit *em, const void *data, uint32_t len,
                                   uint32_t *index);
/* A #GUID index (1-based) of 16 bytes. */
ILG_API ilg_status ilg_mdemit_guid(ilg_mdemit *em, const uint8_t guid[16], uint32_t *index);
/* A user string's token (0x70000000 | #US offset) for nchars UTF-16 units, with the
 * trailing flag byte II.24.2.4 defines; *duplicate (optional) tells an existing entry. */
ILG_API ilg_status ilg_mdemit_user_string(ilg_mdemit *em, const uint16_t *utf16,
                                          uint32_t nchars, uint32_t *token, bool *duplicate);

/* ---- rows --------------------------------------------------------------------------- */
/* Adds a row of table (ncells = ilg_md_column_count(table)), or finds an equal one
 * when the table de-duplicates (*duplicate, optional, then true). Every cell is checked:
 * ILG_E_MDEMIT_BAD_CELL (a number too wide for its column, a heap index outside its
 * heap), ILG_E_MDEMIT_WRONG_TABLE (a coded token of a table the column may not
 * reference), ILG_E_MDEMIT_NO_ROW (a row that does not exist). List columns (TypeDef's
 * FieldList and MethodList, MethodDef's ParamList, ...) are ignored: a new TypeDef
 * starts with empty lists. MethodDef, Field, Param, Event and Property rows need a
 * parent: use ilg_mdemit_member. ILG_E_MDEMIT_NOT_DEFINABLE for Module, the *Ptr tables, EncLog and
 * EncMap, and a second Assembly row; ILG_E_MDEMIT_CONFLICT for a NestedClass row that
 * gives a type a second enclosing class; ILG_E_MD_NESTING_CYCLE for one that makes a
 * type enclose itself. */
ILG_API ilg_status ilg_mdemit_row(ilg_mdemit *em, ilg_table table, const uint32_t *cells,
                                  uint32_t ncells, uint32_t *token, bool *duplicate);
/* Adds a MethodDef, Field, Event or Property row to TypeDef parent's list (events and
 * properties through the type's EventMap or PropertyMap row, made when it has none), or
 * a Param row to MethodDef parent's (kept in Sequence order among the method's
 * parameters). MethodSemantics rows tie accessors to them (ilg_mdemit_row). */
ILG_API ilg_status ilg_mdemit_member(ilg_mdemit *em, uint32_t parent, ilg_table table,
                                     const uint32_t *cells, uint32_t ncells, uint32_t *token);
/* Changes one cell of an existing row (SetRVA, SetMethodProps, SetTypeDefProps...):
 * same checks as a new row's; list columns and the *Ptr tables refuse
 * (ILG_E_MDEMIT_NOT_DEFINABLE). */
ILG_API ilg_status ilg_mdemit_set_cell(ilg_mdemit *em, uint32_t token, uint32_t col,
                                       uint32_t value);

/* ---- what profilers call most, on top of the above ------------------------------------ */
ILG_API ilg_status ilg_mdemit_type_ref(ilg_mdemit *em, uint32_t scope, const char *ns,
                                       const char *name, uint32_t *token, bool *duplicate);
ILG_API ilg_status ilg_mdemit_member_ref(ilg_mdemit *em, uint32_t parent, const char *name,
                                         const uint8_t *sig, uint32_t sig_len, uint32_t *token,
                                         bool *duplicate);
/* A StandAloneSig (GetTokenFromSig), TypeSpec (GetTokenFromTypeSpec) or MethodSpec. */
ILG_API ilg_status ilg_mdemit_standalone_sig(ilg_mdemit *em, const uint8_t *sig, uint32_t len,
                                             uint32_t *token, bool *duplicate);
ILG_API ilg_status ilg_mdemit_type_spec(ilg_mdemit *em, const uint8_t *sig, uint32_t len,
                                        uint32_t *token, bool *duplicate);
ILG_API ilg_status ilg_mdemit_method_spec(ilg_mdemit *em, uint32_t method, const uint8_t *inst,
                                          uint32_t len, uint32_t *token, bool *duplicate);

/* ---- serialization ------------------------------------------------------------------ */
/* The whole metadata as a new root ("BSJB", version string of the input, streams #~
 * (#- when a *Ptr table has rows), #Strings, #US, #GUID, #Blob), column widths and
 * HeapSizes for the grown counts, sorted tables sorted and their Sorted bits set. *out
 * is malloc'd, the caller frees it; *size is a multiple of 4. ilg_md_open_root reads
 * it back. */
ILG_API ilg_status ilg_mdemit_serialize(ilg_mdemit *em, uint8_t **out, size_t *size);

/* A MethodDef RVA the serialized metadata holds instead of the in-memory one (a saved
 * image's new bodies). */
typedef struct ilg_mdemit_rva {
    uint32_t rid;
    uint32_t rva;
} ilg_mdemit_rva;

/* ilg_mdemit_serialize with RVA replacements (rids must exist: ILG_E_MDEMIT_NO_ROW);
 * *guid_offset (optional) receives the #GUID stream's offset in *out. */
ILG_API ilg_status ilg_mdemit_serialize_ex(ilg_mdemit *em, const ilg_mdemit_rva *rvas,
                                           size_t nrvas, uint8_t **out, size_t *size,
                                           uint32_t *guid_offset);

#ifdef __cplusplus
}
#endif
#endif
