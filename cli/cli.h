/* cli.h: the ilgraft command-line tool's shared pieces: the command table entry type,
 * exit codes, error reporting and JSON output. */
#ifndef ILG_CLI_H
#define ILG_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "ilgraft/common.h"

enum { CLI_OK = 0, CLI_BAD_INPUT = 1, CLI_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

/* Commands (one file each). argv[0] is the command name. */
int cmd_info(int argc, char **argv);
int cmd_methods(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_dis(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_roundtrip(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* The body walk behind verify and roundtrip (cmd_roundtrip.c). */
int cli_body_walk(int argc, char **argv, bool roundtrip);

/* "ilgraft: FILE: message (E_NAME at file offset 0x..)" on stderr from this thread's
 * last diagnostic; returns CLI_BAD_INPUT. */
int cli_fail(const char *file, ilg_status status);
/* "ilgraft: CMD: message" plus a hint to --help on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a JSON value to stdout (indented, keys in insertion order) and frees it. */
int cli_print_json(json_t *value);
/* A 64-bit value as a JSON integer (every value ilgraft prints is below 2^53, where
 * JSON numbers stay exact; text output shows the same values in hex). */
json_t *cli_json_u64(uint64_t v);
/* Parses a number in C syntax (0x.. hex or decimal); false on junk or overflow. */
bool cli_parse_u64(const char *s, uint64_t *out);
/* PROT_* bits as "r-x" (out holds 4 bytes). */
void cli_prot_text(int prot, char out[4]);
/* A buffered stdout for commands that print a lot. */
void cli_buffer_stdout(void);

#endif
