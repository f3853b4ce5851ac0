/* rewrite.c: the plugin's actions as edits of a decoded body, through ilbody's public
 * editing calls only. The caller decodes before and encodes after. */
#include <stdlib.h>
#include <string.h>

#include "ilg_private.h"
#include "plugin_private.h"

/* The env's scratch body, emptied, or a new one (*made tells the caller to free it). */
static ilg_status snippet_body(const ilg__plugin_env *env, ilg_body **out, bool *made)
{
    *made = !env->scratch;
    if (env->scratch) {
        ilg_body_reset(env->scratch);
        *out = env->scratch;
        return ILG_OK;
    }
    return ilg_body_new(out);
}

/* A one-instruction snippet `call probe` (a static void() method). */
static ilg_status probe_snippet(const ilg__plugin_env *env, ilg_body **out, bool *made)
{
    ilg_body *s = NULL;
    ilg_status st = snippet_body(env, &s, made);
    if (st != ILG_OK)
        return st;
    st = ilg_body_append(s, ILG_OP_CALL, env->probe_token);
    if (st == ILG_OK)
        st = ilg_body_layout(s);
    if (st != ILG_OK) {
        if (*made)
            ilg_body_free(s);
        return st;
    }
    *out = s;
    return ILG_OK;
}

static ilg_status mutate(ilg_body *b, const ilg__plugin_rule *rule, const char **how)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->count; i++)
        if (b->instrs[i].op == (uint16_t)rule->from) {
            b->instrs[i].op = (uint16_t)rule->to;
            n++;
        }
    *how = n ? "substituted" : "no such opcode";
    return ILG_OK;
}

static ilg_status probe(ilg_body *b, const ilg__plugin_rule *rule, const ilg__plugin_env *env,
                        const char **how)
{
    ilg_body *s = NULL;
    bool made = false;
    if (!env->probe_token)
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "probe %s::%s (static void()) not found in this module", rule->probe_type,
                         rule->probe_method);
    ilg_status st = probe_snippet(env, &s, &made);
    if (st != ILG_OK)
        return st;
    if (rule->action == ILG__ACT_PROBE_ENTRY) {
        st = ilg_body_insert_entry(b, s);
        *how = "entry";
    } else if (!env->returns_value) {
        st = ilg_body_wrap(b, ILG_EH_FINALLY, s, ILG_NO_LOCAL);
        *how = "try/finally";
    } else if (env->ret_local != ILG_NO_LOCAL) {
        st = ilg_body_wrap(b, ILG_EH_FINALLY, s, env->ret_local);
        *how = "try/finally (reusing a local of the return type)";
    } else {
        /* Keeping the return value across a finally needs a local of its type; making
         * one needs IMetaDataEmit (a new StandAloneSig). Without it the probe still runs
         * on every normal return, but not when an exception leaves the method. */
        st = ilg_body_insert_before_rets(b, s);
        *how = "before each ret (no local of the return type: exceptions not covered)";
    }
    if (made)
        ilg_body_free(s);
    return st;
}

static ilg_status replace(ilg_body *b, const ilg__plugin_rule *rule, const ilg__plugin_env *env,
                          const char **how)
{
    ilg_body *s = NULL;
    bool made = false;
    ilg_status st = snippet_body(env, &s, &made);
    if (st != ILG_OK)
        return st;
    st = ilg_body_assemble(s, rule->body, strlen(rule->body), NULL);
    if (st == ILG_OK)
        st = ilg_body_replace_all(b, s);
    /* The text's .locals, when it has them, replace the method's; without them the
     * method keeps its own (the text may use them). */
    if (st == ILG_OK && s->local_sig)
        ilg_body_set_locals(b, s->local_sig, s->init_locals);
    if (made)
        ilg_body_free(s);
    *how = "body";
    return st;
}

ilg_status ilg__plugin_apply(ilg_body *b, const ilg__plugin_rule *rule,
                             const ilg__plugin_env *env, const char **how)
{
    *how = "";
    switch (rule->action) {
    case ILG__ACT_IDENTITY:
        *how = "decode+encode";
        return ILG_OK;
    case ILG__ACT_MUTATE:
        return mutate(b, rule, how);
    case ILG__ACT_PROBE_ENTRY:
    case ILG__ACT_PROBE_EXIT:
        return probe(b, rule, env, how);
    case ILG__ACT_REPLACE:
        return replace(b, rule, env, how);
    }
    return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0, "action %d", (int)rule->action);
}
