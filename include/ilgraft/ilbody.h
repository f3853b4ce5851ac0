/* ilgraft/ilbody.h: CIL method bodies (ECMA-335 II.25.4, Partition III) as an editable
 * model: decode bytes into a header, an instruction list with branch and switch
 * targets bound to instructions, and EH clauses bound to instruction boundaries; edit
 * with explicit retargeting rules; encode back (byte for byte, or shortest forms);
 * verify the structural rules; print and parse ilasm-style text.
 *
 * Model. body->instrs[0..count) in code order. A branch or switch target is an
 * instruction index. EH boundaries are indices too; an end (try_end, handler_end) is
 * exclusive and may equal count. Prefixes (constrained., tail., volatile., unaligned.,
 * no., readonly.) are instructions of their own, but the editor treats a prefix run
 * and the instruction it prefixes as one unit and never separates them.
 *
 * Ownership. An ilg_body owns its arrays; ilg_body_free() releases them. Pointers into
 * them (instrs, targets, eh) stay valid until the next call that changes the body
 * (decode, any edit, encode, assemble). Nothing keeps pointers into the decoded bytes.
 * A body is not thread-safe; use one per thread (they are cheap to reuse). */
#ifndef ILGRAFT_ILBODY_H
#define ILGRAFT_ILBODY_H

#include <stdbool.h>

#include "ilgraft/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- opcode table (opcodes.def) ---------------------------------------------------- */

typedef enum ilg_opcode {
#define ILG_OPCODE(id, name, enc, operand, pops, pushes, flow) ILG_OP_##id,
#include "ilgraft/opcodes.def"
#undef ILG_OPCODE
    ILG_OP_COUNT
} ilg_opcode;

typedef enum ilg_operand_kind {
    ILG_OPND_NONE, ILG_OPND_I1, ILG_OPND_U1, ILG_OPND_I4, ILG_OPND_I8, ILG_OPND_R4,
    ILG_OPND_R8, ILG_OPND_BR1, ILG_OPND_BR4, ILG_OPND_SWITCH, ILG_OPND_VAR1, ILG_OPND_VAR2,
    ILG_OPND_METHOD, ILG_OPND_FIELD, ILG_OPND_TYPE, ILG_OPND_TOKEN, ILG_OPND_STRING,
    ILG_OPND_SIG
} ilg_operand_kind;

typedef enum ilg_flow {
    ILG_FLOW_NEXT, ILG_FLOW_BRANCH, ILG_FLOW_COND, ILG_FLOW_CALL, ILG_FLOW_RETURN,
    ILG_FLOW_THROW, ILG_FLOW_PREFIX, ILG_FLOW_BREAK
} ilg_flow;

/* Stack counts in ilg_opcode_info: a signature decides (call, callvirt, newobj pops,
 * calli, ret), or the instruction empties the stack (leave, endfinally). */
#define ILG_STACK_VAR   (-1)
#define ILG_STACK_CLEAR (-2)

typedef struct ilg_opcode_info {
    const char *name;        /* "ldc.i4.s" */
    uint16_t encoding;       /* 0x1F, or 0xFE16 for two-byte opcodes */
    uint8_t size;            /* opcode bytes: 1 or 2 */
    uint8_t operand;         /* ilg_operand_kind */
    int8_t pops, pushes;     /* counts, ILG_STACK_VAR or ILG_STACK_CLEAR */
    uint8_t flow;            /* ilg_flow */
} ilg_opcode_info;

/* The row of op (static storage), or NULL when op is out of range. */
ILG_API const ilg_opcode_info *ilg_opcode_get(ilg_opcode op);
/* The opcode named name ("ldc.i4.s"); ILG_E_NOT_FOUND otherwise. */
ILG_API ilg_status ilg_opcode_by_name(const char *name, size_t len, ilg_opcode *out);

/* ---- signatures (ECMA-335 II.23.2) ------------------------------------------------- */

typedef enum ilg_elem_type {
#define ILG_ELEM(id, value, name) ILG_ET_##id = value,
#include "ilgraft/elemtypes.def"
#undef ILG_ELEM
} ilg_elem_type;

/* The first byte of a signature blob: the kind in the low nibble, then the flags. */
enum {
    ILG_SIG_DEFAULT = 0x00, ILG_SIG_VARARG = 0x05, ILG_SIG_FIELD = 0x06,
    ILG_SIG_LOCAL = 0x07, ILG_SIG_PROPERTY = 0x08, ILG_SIG_GENERICINST = 0x0A,
    ILG_SIG_KIND_MASK = 0x0F,
    ILG_SIG_GENERIC = 0x10, ILG_SIG_HASTHIS = 0x20, ILG_SIG_EXPLICITTHIS = 0x40
};

/* ---- body model -------------------------------------------------------------------- */

/* A target in code given to an insert/replace call refers to the snippet's own
 * instructions; with this bit set it names an instruction of the body being edited
 * (its index before the edit). */
#define ILG_TARGET_BODY 0x80000000u
/* ilg_body_wrap: no return value to keep. */
#define ILG_NO_LOCAL 0xFFFFFFFFu

typedef struct ilg_instr {
    uint32_t offset;      /* IL offset when decoded or last laid out */
    uint16_t op;          /* ilg_opcode */
    uint16_t reserved;
    union {
        int64_t i;        /* I1, U1, I4, I8, VAR1, VAR2 */
        uint32_t token;   /* METHOD, FIELD, TYPE, TOKEN, STRING, SIG */
        float r4;
        double r8;
        uint32_t target;  /* BR1, BR4: instruction index */
        struct { uint32_t first, count; } sw; /* SWITCH: body->targets[first..+count) */
    } arg;
} ilg_instr;

typedef enum ilg_eh_kind {
    ILG_EH_CATCH = 0, ILG_EH_FILTER = 1, ILG_EH_FINALLY = 2, ILG_EH_FAULT = 4
} ilg_eh_kind;

typedef struct ilg_eh_clause {
    uint32_t kind;                     /* ilg_eh_kind */
    uint32_t try_start, try_end;       /* instruction indices, end exclusive */
    uint32_t handler_start, handler_end;
    uint32_t filter_start;             /* FILTER only */
    uint32_t class_token;              /* CATCH: the type; FINALLY/FAULT: the raw field (0) */
} ilg_eh_clause;

typedef enum ilg_header_kind { ILG_HEADER_TINY = 1, ILG_HEADER_FAT = 2 } ilg_header_kind;

/* How the decoded extra sections were laid out, so preserve mode can repeat it. */
typedef struct ilg_eh_section {
    uint8_t kind;        /* the raw Kind byte */
    uint32_t data_size;  /* the raw DataSize */
    uint32_t clauses;    /* clauses in this section */
    uint16_t reserved;   /* a small section's Reserved word: ECMA-335 says 0, CoreCLR
                            never reads it; preserve mode repeats it */
} ilg_eh_section;

typedef struct ilg_body {
    ilg_header_kind header;  /* form when decoded or last encoded */
    uint16_t fat_flags;      /* raw first u16 of a fat header (flags + size nibble) */
    uint16_t max_stack;
    bool init_locals;
    uint32_t local_sig;      /* StandAloneSig token or 0 */
    uint32_t code_size;      /* when decoded or last encoded */
    uint32_t size;           /* whole body: header, code, padding, sections */
    ilg_instr *instrs;
    uint32_t count, instrs_cap;
    uint32_t *targets;       /* switch tables */
    uint32_t target_count, targets_cap;
    ilg_eh_clause *eh;
    uint32_t eh_count, eh_cap;
    ilg_eh_section *sections;
    uint32_t section_count, sections_cap;
    uint8_t padding[3];      /* bytes between the code and the first section */
    uint32_t *scratch;       /* encoder and verifier working space */
    uint32_t scratch_cap;
} ilg_body;

/* A new empty body (a fat header, no locals, max_stack 8). Free with ilg_body_free. */
ILG_API ilg_status ilg_body_new(ilg_body **out);
ILG_API void ilg_body_free(ilg_body *b);
/* Empties b, keeping its allocations. */
ILG_API void ilg_body_reset(ilg_body *b);
/* Deep copy of src into dst (dst's previous contents are replaced). */
ILG_API ilg_status ilg_body_copy(ilg_body *dst, const ilg_body *src);

/* ---- decoder ----------------------------------------------------------------------- */

/* Decodes the method body at data[0..len) (header first; len may exceed the body) into
 * b, replacing its contents. Fails on the first structural error with its IL offset
 * (ILG_WHERE_IL; section errors give the offset from the first code byte):
 * E_IL_TRUNCATED, E_IL_BAD_HEADER, E_IL_UNKNOWN_OPCODE, E_IL_OPERAND_TRUNCATED,
 * E_IL_BAD_TARGET, E_IL_BAD_SECTION, E_IL_BAD_EH. b->size is the body's exact size. */
ILG_API ilg_status ilg_body_decode(ilg_body *b, const uint8_t *data, size_t len);

/* ---- building and editing ---------------------------------------------------------- */

/* Appends one instruction with an integer, token or target operand (ignored for NONE;
 * for R4/R8 use ilg_body_append_real, for SWITCH ilg_body_append_switch). */
ILG_API ilg_status ilg_body_append(ilg_body *b, ilg_opcode op, int64_t operand);
ILG_API ilg_status ilg_body_append_real(ilg_body *b, ilg_opcode op, double value);
ILG_API ilg_status ilg_body_append_switch(ilg_body *b, const uint32_t *targets, uint32_t n);
ILG_API ilg_status ilg_body_add_clause(ilg_body *b, const ilg_eh_clause *c);

/* Insertion flags. */
enum {
    /* insert_before: branches and switch cases aimed at the anchor go to the new code. */
    ILG_EDIT_RETARGET = 1u << 0,
    /* The new code does not join the EH blocks that begin at the anchor (before) or end
     * with it (after). Without it the new code shares every EH block of its anchor. */
    ILG_EDIT_OUTSIDE = 1u << 1
};

/* Inserts the instructions (and EH clauses) of snippet before or after the instruction
 * at index, which is widened to its whole prefix unit. Retargeting rules:
 *   before: branches to the anchor stay on it unless ILG_EDIT_RETARGET; the new code
 *           joins the anchor's EH blocks, including those that start at the anchor,
 *           unless ILG_EDIT_OUTSIDE; blocks that end just before the anchor do not grow.
 *   after:  branches are unchanged; the new code joins the blocks that end with the
 *           anchor unless ILG_EDIT_OUTSIDE; blocks starting after the anchor do not.
 * Snippet targets index the snippet, or the body with ILG_TARGET_BODY. */
ILG_API ilg_status ilg_body_insert_before(ilg_body *b, uint32_t index, const ilg_body *snippet,
                                          unsigned flags);
ILG_API ilg_status ilg_body_insert_after(ilg_body *b, uint32_t index, const ilg_body *snippet,
                                         unsigned flags);
/* Method entry: before instruction 0, outside every EH block, branches to the old first
 * instruction (loops) left there. */
ILG_API ilg_status ilg_body_insert_entry(ilg_body *b, const ilg_body *snippet);
/* Before every ret, with branches to each ret sent to its copy of the snippet. */
ILG_API ilg_status ilg_body_insert_before_rets(ilg_body *b, const ilg_body *snippet);
/* Removes count instructions at index (whole prefix units only). Branches to them go to
 * the instruction after the range; EH boundaries inside move to its start. Fails with
 * E_IL_BAD_EDIT (body unchanged) when a block would become empty or a branch would be
 * left without a target. */
ILG_API ilg_status ilg_body_remove(ilg_body *b, uint32_t index, uint32_t count);
/* Replaces count instructions at index with snippet. Branches to any of them go to the
 * snippet's first instruction; EH boundaries at either end of the range stay at that
 * end; one strictly inside is E_IL_BAD_EDIT. */
ILG_API ilg_status ilg_body_replace(ilg_body *b, uint32_t index, uint32_t count,
                                    const ilg_body *snippet);
/* Wraps the whole body in try/finally (kind ILG_EH_FINALLY) or try/fault for exit
 * probes: each ret becomes [stloc ret_local] leave END (branches to the ret go to the
 * first of those), the handler is handler's code followed by endfinally, and END is
 * [ldloc ret_local] ret. ret_local is ILG_NO_LOCAL for a void method. */
ILG_API ilg_status ilg_body_wrap(ilg_body *b, ilg_eh_kind kind, const ilg_body *handler,
                                 uint32_t ret_local);
/* Replaces the whole code and EH table with snippet's, keeping the header fields. */
ILG_API ilg_status ilg_body_replace_all(ilg_body *b, const ilg_body *snippet);
/* New locals: a StandAloneSig token (0 for none) and the InitLocals flag. */
ILG_API void ilg_body_set_locals(ilg_body *b, uint32_t local_sig, bool init_locals);

/* ---- stack effects ----------------------------------------------------------------- */

/* What the metadata knows about calls (ilg_md_call_shape fits call_shape with a
 * three-line wrapper). pops counts every argument including `this` when has_this. */
typedef struct ilg_stack_resolver {
    ilg_status (*call_shape)(void *ctx, uint32_t token, uint32_t *pops, bool *has_this,
                             bool *pushes);
    void *ctx;
    int ret_pops;            /* the method's own ret: 1 returns a value, 0 void, -1 unknown */
} ilg_stack_resolver;

/* Stack effect of instruction i: pops and pushes (ILG_STACK_CLEAR for pops empties the
 * stack). ILG_E_STACK_UNKNOWN when it needs a resolver that is missing or fails. */
ILG_API ilg_status ilg_body_stack_effect(const ilg_body *b, uint32_t i,
                                         const ilg_stack_resolver *r, int *pops, int *pushes);

/* ---- encoder ----------------------------------------------------------------------- */

typedef enum ilg_encode_mode {
    /* Keep every form the body has (header, maxstack, branch forms, EH section layout and
     * clause order, padding); grow only what no longer fits. An untouched decoded body
     * comes out byte for byte. maxstack is raised (never lowered) when a resolver is given. */
    ILG_ENCODE_PRESERVE,
    /* Tiny header when allowed, shortest branch forms by fixed-point iteration, small or
     * fat EH section as the clauses allow, clauses sorted inner before outer, exact
     * maxstack (needs a resolver when the body calls; without one maxstack is kept). */
    ILG_ENCODE_OPTIMIZE,
    /* As OPTIMIZE, but b->max_stack is taken as exact: for a caller that already has
     * it, e.g. from ilg_body_verify (findings.max_depth), to skip a second data flow. */
    ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK
} ilg_encode_mode;

/* A growable byte buffer owned by the caller (free data with free()). */
typedef struct ilg_buffer {
    uint8_t *data;
    size_t len, cap;
} ilg_buffer;

/* Encodes b into out (replacing out->len bytes). Updates b to what was written: offsets,
 * branch forms, header kind, max_stack, code_size, size, clause order. A fat body must be
 * placed at a 4-byte-aligned address. E_IL_BAD_TARGET for a target outside the body. */
ILG_API ilg_status ilg_body_encode(ilg_body *b, ilg_encode_mode mode,
                                   const ilg_stack_resolver *r, ilg_buffer *out);
/* Assigns offsets from the current forms without encoding (the edit calls do it; needed
 * after changing instrs directly or building with ilg_body_append). */
ILG_API ilg_status ilg_body_layout(ilg_body *b);
/* Largest stack depth by data flow; E_IL_VERIFY_* (first problem) when the flow is bad,
 * E_IL_STACK_UNKNOWN without a resolver for a body that calls. */
ILG_API ilg_status ilg_body_max_stack(const ilg_body *b, const ilg_stack_resolver *r,
                                      uint32_t *out);

/* ---- verifier ---------------------------------------------------------------------- */

/* How much the verifier checks (docs/ilbody.md lists every rule and its level). */
typedef enum ilg_verify_level {
    /* Stack depths, EH structure, placement of leave/endfinally/endfilter/rethrow/ret/
     * jmp, fall-through, branches, prefixes: needs only call shapes. */
    ILG_VERIFY_STRUCTURAL = 0,
    /* Also what CoreCLR's JIT rejects (InvalidProgramException, BadImageFormatException,
     * a load error) or crashes on: local and argument indexes, token tables and rows,
     * members of the wrong kind, argument types at calls, operand types, localloc,
     * arglist, jmp. Needs a type resolver; types it cannot resolve are never a finding. */
    ILG_VERIFY_JIT = 1,
    /* Also ECMA-335 verifiability (type merges, stores, returns, unverifiable pointer
     * and cast use), reported as warnings beside the errors of ILG_VERIFY_JIT. */
    ILG_VERIFY_STRICT = 2
} ilg_verify_level;

/* What the runtime does with a body that breaks a rule (CoreCLR 10, x64). */
typedef enum ilg_outcome {
    ILG_OUTCOME_NONE = 0,          /* nothing: a warning (strict) */
    ILG_OUTCOME_INVALID_PROGRAM,   /* InvalidProgramException when the JIT compiles it */
    ILG_OUTCOME_BAD_IMAGE,         /* BadImageFormatException */
    ILG_OUTCOME_LOAD_ERROR,        /* TypeLoadException, MissingMethodException, MissingFieldException */
    ILG_OUTCOME_OTHER_EXCEPTION,   /* another exception from the runtime (InvalidOperationException) */
    ILG_OUTCOME_CRASH              /* the JIT crashes: the process dies */
} ilg_outcome;

typedef enum ilg_severity { ILG_SEVERITY_ERROR = 0, ILG_SEVERITY_WARNING = 1 } ilg_severity;

typedef struct ilg_finding {
    ilg_status rule;        /* ILG_E_IL_VERIFY_* */
    uint32_t offset;        /* IL offset of the instruction (or EH boundary) at fault */
    uint8_t severity;       /* ilg_severity: warnings only at ILG_VERIFY_STRICT */
    uint8_t outcome;        /* ilg_outcome */
    char message[200];      /* with the types found and expected */
} ilg_finding;

/* Start from { 0 } and reuse one across calls; ilg_findings_free releases it. */
typedef struct ilg_findings {
    ilg_finding *items;     /* malloc'd; free with ilg_findings_free */
    uint32_t count, cap;
    uint32_t errors;        /* findings of severity ERROR */
    uint8_t outcome;        /* ilg_outcome: what the runtime does with the body, from the error
                             * it meets first (NONE: it compiles it) */
    uint32_t max_depth;     /* deepest stack on any reachable path */
    bool depth_complete;    /* max_depth is exact: every stack effect known, no stack rule broken */
    void *work;             /* the verifier's working space, kept for the next call */
    size_t work_cap;
    void *cache;            /* what the type-level verifier learned of tokens, kept for the
                             * next body with the same resolver ctx (dropped when ctx
                             * changes; a ctx that comes to mean another module needs
                             * ilg_findings_free first) */
} ilg_findings;

/* Facts about a type token (TypeDef, TypeRef, TypeSpec) for the type-level verifier. */
typedef enum ilg_type_kind {
    ILG_TYPE_UNKNOWN = 0,   /* not resolved (another assembly that is not at hand) */
    ILG_TYPE_CLASS,         /* a reference type */
    ILG_TYPE_INTERFACE,
    ILG_TYPE_VALUE,         /* a value type (struct) */
    ILG_TYPE_ENUM,          /* elem: the underlying type */
    ILG_TYPE_PRIMITIVE      /* System.Int32 and friends, System.Object, System.String: elem */
} ilg_type_kind;

enum {
    ILG_TYPE_ABSTRACT = 1,  /* flags of ilg_type_facts */
    ILG_TYPE_SEALED = 2,
    ILG_TYPE_BYREF_LIKE = 4, /* a ref struct (IsByRefLikeAttribute) */
    ILG_TYPE_GENERIC = 8,    /* a generic type definition (needs an instantiation) */
    ILG_TYPE_NULLABLE = 16   /* System.Nullable`1 */
};

typedef struct ilg_type_facts {
    uint8_t kind;           /* ilg_type_kind */
    uint8_t elem;           /* ENUM, PRIMITIVE: an ilg_elem_type */
    uint16_t flags;
    const uint8_t *spec;    /* a TypeSpec's signature blob (lives as long as the metadata) */
    uint32_t spec_len;
} ilg_type_facts;

typedef enum ilg_member_kind { ILG_MEMBER_METHOD = 1, ILG_MEMBER_FIELD = 2 } ilg_member_kind;

enum {
    ILG_MEMBER_KNOWN = 1,    /* flags of ilg_member_facts: resolved to its definition, so the
                              * flags below are facts (otherwise only the signature is) */
    ILG_MEMBER_STATIC = 2,
    ILG_MEMBER_VIRTUAL = 4,
    ILG_MEMBER_ABSTRACT = 8,
    ILG_MEMBER_CTOR = 16,    /* a constructor (RTSpecialName .ctor) */
    ILG_MEMBER_SYNCHRONIZED = 32,
    ILG_MEMBER_LITERAL = 64, /* a constant field: it has no storage */
    ILG_MEMBER_INTRINSIC = 128, /* an [Intrinsic] method the JIT expands in place even
                              * unoptimized (Math's functions, Unsafe, bit operations,
                              * String's get_Chars, Span's get_Item, ... docs/ilbody.md):
                              * its calls skip the usual argument checks */
    ILG_MEMBER_JIT_CONSTANT = 256, /* a static field the JIT reads as a constant
                              * (BitConverter.IsLittleEndian, IntPtr.Zero, UIntPtr.Zero,
                              * String.Empty), or a method whose call it replaces by one
                              * (Vector128.IsHardwareAccelerated): a branch on it is
                              * decided as it imports */
    ILG_MEMBER_INTRINSIC_IF_CONST = 512, /* expanded in place (as INTRINSIC) when its last
                              * argument is an integer constant (BitOperations.RotateLeft) */
    ILG_MEMBER_INTRINSIC_ATOMIC = 1024, /* Interlocked's CompareExchange, Exchange,
                              * ExchangeAdd, And, Or: expanded in place when they return an
                              * integer, or an object and the value stored is null */
    ILG_MEMBER_INTRINSIC_STORE = 2048, /* an expanded intrinsic that stores its last argument
                              * through its first (Volatile.Write, Unsafe.Write) */
    ILG_MEMBER_RVA = 4096,   /* a static field with an RVA (data in the image): its address
                              * is an unmanaged pointer to the JIT */
    ILG_MEMBER_FINAL = 8192, /* a virtual method that cannot be overridden (final) */
    ILG_MEMBER_CONST_ONE = 16384, /* with JIT_CONSTANT: the constant is 1 (true), else 0 */
    ILG_MEMBER_BASE_SLOT = 32768 /* a virtual method of System.Object, ValueType or Enum, or an
                              * override named ToString, Equals, GetHashCode or Finalize: its
                              * vtable slot means the same in every value type's table */
};

/* Facts about a member token (MethodDef, MemberRef, MethodSpec, Field). */
typedef struct ilg_member_facts {
    uint8_t kind;           /* ilg_member_kind, from the signature */
    uint16_t flags;
    uint32_t owner;         /* declaring type (TypeDef, TypeRef or TypeSpec token), 0 if none */
    const uint8_t *sig;     /* method or field signature blob, as the token gives it */
    uint32_t sig_len;
    const uint8_t *inst;    /* a MethodSpec's instantiation blob, else NULL */
    uint32_t inst_len;
} ilg_member_facts;

/* The metadata as the type-level verifier sees it. Each callback answers for a token:
 * ILG_OK; ILG_E_NOT_FOUND when the row does not exist (or a user string is not in the
 * heap); ILG_E_INVALID_ARG when the token is of a table the call does not take. Blob
 * pointers must live as long as the resolver. ilg_md_type_resolver builds one from an
 * image's metadata. */
typedef struct ilg_type_resolver {
    ilg_status (*type)(void *ctx, uint32_t token, ilg_type_facts *out);
    ilg_status (*member)(void *ctx, uint32_t token, ilg_member_facts *out);
    /* A StandAloneSig's blob (locals, calli). */
    ilg_status (*signature)(void *ctx, uint32_t token, const uint8_t **sig, uint32_t *len);
    /* ILG_OK when a user string token (0x70) names a string of the #US heap. */
    ilg_status (*user_string)(void *ctx, uint32_t token);
    void *ctx;              /* also the key of findings->cache */
    uint32_t method;        /* the MethodDef token of the body being verified */
} ilg_type_resolver;

typedef struct ilg_verify_options {
    ilg_verify_level level;
    const ilg_stack_resolver *stack;   /* call shapes (may be NULL) */
    const ilg_type_resolver *types;    /* JIT and STRICT; without it those levels check
                                        * what needs no metadata */
} ilg_verify_options;

/* The checks of opts->level, every finding into out (replacing what it held) with its
 * rule, IL offset, severity, outcome and message. Returns ILG_OK when the checks ran,
 * whatever they found (E_NOMEM otherwise). out->errors counts the errors; a body with
 * no error is one the runtime compiles (at ILG_VERIFY_JIT and above). */
ILG_API ilg_status ilg_body_verify_opts(const ilg_body *b, const ilg_verify_options *opts,
                                        ilg_findings *out);

/* Checks every rule and puts ALL findings in out (replacing what it held), each with its
 * rule, IL offset (from the instructions' offset fields, which decode, every edit and
 * ilg_body_layout keep current) and message; also max_depth. The stack rules follow the
 * reachable code; without a resolver (or when it fails for a call) they stop at that
 * call until a point of known depth. Returns ILG_OK when the checks ran, whatever they
 * found (E_NOMEM otherwise). */
ILG_API ilg_status ilg_body_verify(const ilg_body *b, const ilg_stack_resolver *r,
                                   ilg_findings *out);
ILG_API void ilg_findings_free(ilg_findings *f);

/* ---- text -------------------------------------------------------------------------- */

/* Names for tokens in text. Both directions optional: token_name writes a name (return
 * false for unknown: the number is printed); name_token maps text back to a token. For
 * ldstr the name is the quoted literal. */
typedef struct ilg_name_resolver {
    bool (*token_name)(void *ctx, uint32_t token, char *buf, size_t size);
    bool (*name_token)(void *ctx, ilg_operand_kind kind, const char *text, size_t len,
                       uint32_t *token);
    void *ctx;
} ilg_name_resolver;

/* The body in ilasm syntax: .maxstack, .locals, IL_xxxx labels, instructions, then the
 * EH clauses as `.try L to L catch|filter|finally|fault ... handler L to L`. Appends
 * NUL-terminated text to out (out->len excludes the NUL). names may be NULL. */
ILG_API ilg_status ilg_body_disassemble(const ilg_body *b, const ilg_name_resolver *names,
                                        ilg_buffer *out);
/* Parses that syntax (labels of any name, all opcodes, numbers or names through names,
 * .maxstack, .locals [init] TOKEN, .try clauses, // comments) into b and lays it out.
 * EH may also be in ilasm's block form (.try { } catch T { }, filter { } { }, finally,
 * fault; nested, several handlers per try), as IL sources and monodis write it.
 * E_IL_SYNTAX / E_IL_UNDEFINED_LABEL / E_IL_UNRESOLVED_NAME with the text offset
 * (ILG_WHERE_FILE) and the line in the message. */
ILG_API ilg_status ilg_body_assemble(ilg_body *b, const char *text, size_t len,
                                     const ilg_name_resolver *names);

#ifdef __cplusplus
}
#endif
#endif
