/* typeck.h: what the type-level verifier's files share (vsig.c: verification types
 * from signatures and the per-resolver cache of what tokens mean; typeflow.c: the data
 * flow and the rule of each opcode). Not installed.
 *
 * A verification type is the JIT's view of a stack slot on a 64-bit target: int32
 * (remembering a small type it was loaded as), int64, native int (the same as int64
 * to the JIT, told apart for the strict level), float32, float64, an object reference
 * (with its class token when known), a managed pointer, a value type (with its token),
 * or unknown: a type parameter or a type the resolver could not resolve, which no rule
 * ever rejects. */
#ifndef ILBODY_TYPECK_H
#define ILBODY_TYPECK_H

#include "ilbody_private.h"

enum vkind {
    VK_NONE = 0,   /* no value (void) */
    VK_I4, VK_I8, VK_NI, VK_R4, VK_R8, VK_REF, VK_BYREF, VK_STRUCT, VK_UNKNOWN, VK_COUNT
};

/* vt.flags */
enum {
    VF_NULL = 1,        /* REF: the null constant */
    VF_STRING = 2,      /* REF: a string */
    VF_ARRAY = 4,       /* REF: an array */
    VF_GENERIC = 8,     /* from a type parameter */
    VF_MAYBE_PRIM = 16, /* STRUCT: a value type that was not resolved (could be an enum) */
    VF_BYREF_LIKE = 32, /* STRUCT: a ref struct */
    VF_PTR = 64,        /* NI: an unmanaged pointer or method pointer */
    VF_THIS = 128,      /* REF/BYREF: argument 0 of an instance method */
    VF_TYPEDREF = 256,  /* STRUCT: System.TypedReference */
    VF_NULLABLE = 512,  /* STRUCT: System.Nullable`1 */
    VF_HANDLE = 1024,   /* STRUCT: a runtime handle (ldtoken, arglist, refanytype) */
    VF_LCLADDR = 2048,  /* BYREF: the address of a local or argument (ldloca, ldarga), which
                         * the JIT takes for a native int in arithmetic */
    VF_INDIR = 4096,    /* STRUCT: loaded through an address (ldobj, unbox.any, a field, an
                         * element), not a local's value */
    VF_CONST = 8192,    /* I4, I8, R4, R8: a constant (ldc); REF: a string literal */
    VF_FTN = 16384,     /* NI: a method's pointer (ldftn, ldvirtftn) */
    VF_MERGED = 32768   /* UNKNOWN: values of different kinds met at a join; tok holds the
                         * kinds (1 << VK_*), each of which a call's parameter must take */
};

typedef struct vt {
    uint8_t k;          /* enum vkind */
    uint8_t small;      /* I4: the small element type it was loaded as (ILG_ET_BOOLEAN...), 0 if none */
    uint16_t flags;
    uint32_t tok;       /* REF, STRUCT: the class or value type token when known; BYREF: 0 */
} vt;

/* A method signature as the verifier uses it. */
typedef struct vsig {
    uint8_t conv;       /* the first byte */
    bool has_this, vararg;
    uint16_t nparams;   /* fixed parameters (before a sentinel) */
    uint16_t nextra;    /* vararg call site: parameters after the sentinel */
    vt ret;
    vt params[];        /* nparams + nextra */
} vsig;

/* What a token means, cached per resolver context. */
typedef struct tdesc {
    ilg_status status;  /* ILG_OK, or what the resolver said */
    ilg_type_facts facts;
    vt value;           /* a value of the type on the stack */
    uint32_t need[2];   /* a TypeSpec: the type parameters of the caller's type and method it
                         * uses (the highest !n and !!n, plus one) */
} tdesc;

typedef struct mdesc {   /* (in this order it packs into 80 bytes) */
    ilg_member_facts facts;
    ilg_status status;
    vt owner;           /* `this` of an instance method: REF(owner) or BYREF for a value type */
    vt field;           /* a field's type */
    bool owner_value;   /* the declaring type is a value type */
    bool owner_abstract, owner_interface, owner_open;
    vsig *sig;          /* a method's signature (NULL for a field or a malformed blob) */
    uint32_t need[2];   /* the caller's type parameters its owner TypeSpec and its
                         * MethodSpec's instantiation use (as tdesc.need) */
} mdesc;

typedef struct sdesc {
    ilg_status status;
    bool locals;        /* a LOCAL_SIG; else a method signature (calli) */
    uint32_t count;
    vt *local;          /* locals */
    vsig *sig;          /* calli */
} sdesc;

/* The cache: entries by token in a hash table, their memory from chunks. */
typedef struct tcache tcache;

/* The cache of findings for resolver r (made or emptied as needed); NULL on no memory. */
tcache *ilg__tc_get(ilg_findings *f, const ilg_type_resolver *r);
void ilg__tc_free(void *cache);
const tdesc *ilg__tc_type(tcache *c, const ilg_type_resolver *r, uint32_t token);
const mdesc *ilg__tc_member(tcache *c, const ilg_type_resolver *r, uint32_t token);
const sdesc *ilg__tc_sig(tcache *c, const ilg_type_resolver *r, uint32_t token);
/* The verified method's own signature and the types of its arguments (with `this`). */
typedef struct vmethod {
    const mdesc *desc;
    uint32_t nargs;
    const vt *args;     /* nargs entries, `this` first */
    bool vararg, is_static;
    uint8_t ret_elem;   /* the return type's element type (jmp compares them) */
    bool generic_type;  /* its declaring type has type parameters (how many is not known) */
    uint32_t ngeneric;  /* its own type parameters */
} vmethod;
bool ilg__tc_method(tcache *c, const ilg_type_resolver *r, vmethod *out);
/* Working space number which (0 or 1; 2 holds the method's arguments, 3 its signature) of at least
 * bytes, kept for the next body. */
void *ilg__tc_scratch(tcache *c, int which, size_t bytes);

/* Short text of a type for messages ("int32", "object 0x0200000f", "valuetype 0x..."). */
const char *ilg__vt_name(const vt *t, char *buf, size_t size);

static inline vt vt_of(uint8_t k)
{
    vt t = { k, 0, 0, 0 };
    return t;
}

/* The conditional branches the JIT decides as it imports a body (fold.c). */
enum { FOLD_NONE = 0, FOLD_NEVER = 1, FOLD_ALWAYS = 2, FOLD_DECIDED = 3,
       FOLD_LIVE_HANDLER = 4, /* a handler or filter the JIT imports starts here */
       FOLD_UNREACHED = 8 /* no path the JIT imports reaches the instruction (at [count]:
                           * some instruction is so) */ };
typedef struct folder {
    const ilg_body *b;
    const ilg_stack_resolver *stack;
    const ilg_type_resolver *types;    /* NULL: no static field is a constant */
    tcache *cache;
    uint8_t *starts;                   /* working space of (count + 8) / 8 bytes */
    bool starts_ready;
} folder;
/* FOLD_ALWAYS or FOLD_NEVER when the condition of branch i is a constant of its block
 * to the JIT (the edge not taken is not imported), else FOLD_NONE. */
uint8_t ilg__fold_branch(folder *fo, uint32_t i);
/* The instructions that may push a constant: only a branch after one in its block
 * needs ilg__fold_branch. */
static inline bool ilg__const_source(uint16_t op)
{
    return (op >= ILG_OP_LDNULL && op <= ILG_OP_LDC_R8) || op == ILG_OP_LDSTR || op == ILG_OP_LDSFLD;
}

/* The type-level checks of one body (typeflow.c). fold: per instruction, what
 * ilg__fold_branch said of the branches the structural pass reached and where the
 * handlers it followed start (NULL: none). */
typedef struct vctx vctx;
void ilg__type_pass(const ilg_body *b, const ilg_verify_options *o, ilg_findings *out,
                    const uint8_t *fold);

#endif
