/* cmd_verify.c: `ilgraft verify [--level structural|jit|strict] IMAGE...`: decodes and
 * verifies every method body (level jit by default) and lists every finding with its
 * token, IL offset and rule (the walk lives in
 * cmd_roundtrip.c, shared with `ilgraft roundtrip`). */
#include "cli.h"

int cmd_verify(int argc, char **argv)
{
    return cli_body_walk(argc, argv, false);
}
