/* prof_emit.h: private to prof_emit (prof_emit.c and its prof_emit_*.c parts): the
 * context every emit step gets, the signature and opcode bytes, the small helpers and
 * the functions one part calls in another. */
#ifndef PROF_EMIT_H
#define PROF_EMIT_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define EMIT_TEXT "emitted by prof_emit\n"
#define NAME_MAX_CHARS 256
/* ECMA-335 II.23.2: signatures and opcodes used below. */
#define SIG_DEFAULT 0x00
#define SIG_LOCALS 0x07
#define ET_VOID 0x01
#define ET_I4 0x08
#define ET_STRING 0x0E
#define ET_VALUETYPE 0x11
#define ET_CLASS 0x12
#define ET_SZARRAY 0x1D
#define OP_LDSTR 0x72
#define OP_CALL 0x28
#define OP_LDC_I4_S 0x1F
#define OP_RET 0x2A
#define KEEP 0xFFFFFFFFu /* ULONG_MAX of the COM ABI: leave as it is */
#define TINY(code_size) ((uint8_t)(((code_size) << 2) | 2))
/* TypeDef flags: public abstract sealed (a static class); MethodDef: public static
 * hidebysig. */
#define HELPER_TYPE_FLAGS 0x00100181u
#define SAY_METHOD_FLAGS 0x0096u

typedef struct emit_ctx {
    ICorProfilerInfo3 *info;
    ModuleID mod;
    IMetaDataImport2 *imp;
    IMetaDataEmit2 *emit;
    IMetaDataAssemblyImport *aimp;
} emit_ctx;

static inline void to_wide(const char *s, WCHAR *w, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        w[i] = (WCHAR)(unsigned char)s[i];
    w[i] = 0;
}

static inline void to_narrow(const WCHAR *w, char *s, size_t cap)
{
    size_t i = 0;
    for (; w[i] && i + 1 < cap; i++)
        s[i] = w[i] < 0x80 ? (char)w[i] : '?';
    s[i] = 0;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A TypeDefOrRef coded index, compressed (II.23.2.8): its length in bytes. */
static inline ULONG compress_token(mdToken tok, uint8_t *out)
{
    /* The tag: TypeDef 0, TypeRef 1, TypeSpec 2. */
    uint32_t table = tok >> 24, tag = table == 0x02 ? 0 : table == 0x01 ? 1 : 2;
    uint32_t v = (tok & 0xFFFFFF) << 2 | tag;
    if (v < 0x80) {
        out[0] = (uint8_t)v;
        return 1;
    }
    if (v < 0x4000) {
        out[0] = (uint8_t)(0x80 | v >> 8);
        out[1] = (uint8_t)v;
        return 2;
    }
    out[0] = (uint8_t)(0xC0 | v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
    return 4;
}

/* hex of n bytes into out, at most cap bytes with the NUL (cut short, never past). */
static inline const char *hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
    out[0] = 0;
    for (size_t i = 0; i < n && 2 * i + 3 <= cap; i++)
        snprintf(out + 2 * i, cap - 2 * i, "%02x", p[i]);
    return out;
}

/* s with backslash, quote and newline escaped, in quotes (as md_read prints strings). */
static inline const char *quoted(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    out[o++] = '"';
    for (; *s && o + 4 < cap; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n')
            out[o++] = '\\';
        out[o++] = *s == '\n' ? 'n' : *s;
    }
    out[o++] = '"';
    out[o] = 0;
    return out;
}

/* The call first, then its line with the token it wrote. */
#define STEP(what, call, tok)                                                               \
    do {                                                                                   \
        HRESULT step_hr_ = (call);                                                         \
        emit_step(what, step_hr_, tok);                                                    \
    } while (0)

/* Shared between the parts; hidden, so a host exporting the same names cannot bind them. */
#pragma GCC visibility push(hidden)
extern ModuleID emit_corelib_mod; /* System.Private.CoreLib, seen before Hello */
/* prof_emit.c: the callbacks and the shared log line. */
void emit_step(const char *what, HRESULT hr, mdToken tok);
/* prof_emit_refs.c: references, strings and signatures. */
mdAssemblyRef emit_assembly_ref(emit_ctx *c, const char *name);
void emit_define_refs(emit_ctx *c, mdMemberRef *write, mdString *text, mdTypeRef *object);
/* prof_emit_types.c: the new types and methods, their bodies. */
HRESULT emit_set_body(emit_ctx *c, mdMethodDef md, const uint8_t *code, uint8_t code_size);
mdMethodDef emit_define_helper(emit_ctx *c, mdMemberRef write, mdString text, mdTypeRef object);
void emit_rewrite_answer(emit_ctx *c, mdMethodDef say);
void emit_observe_class(emit_ctx *c, mdMethodDef say, mdTypeRef object);
void emit_observe_jit(ICorProfilerInfo3 *info, FunctionID fid);
/* prof_emit_translate.c: TranslateSigWithScope and the assembly rows. */
mdTypeDef emit_find_type(IMetaDataImport *imp, const char *name, mdToken outer);
void emit_translate(emit_ctx *c, IMetaDataAssemblyEmit *aemit, mdTypeRef object);
/* prof_emit_more.c: properties, events, fields, layouts and the rest of IMetaDataEmit. */
void emit_define_more(emit_ctx *c, IMetaDataAssemblyEmit *aemit, mdTypeRef object);
#pragma GCC visibility pop

#endif
