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

/* Commands that take --json turn this on: a failure reported through cli_fail or
 * cli_error then also prints {"path": FILE, "error": {...}} on stdout, so a --json
 * caller always gets one JSON document. */
void cli_json_errors(bool on);
/* "ilgraft: FILE: message (E_NAME at file offset 0x..)" on stderr from this thread's
 * last diagnostic; returns CLI_BAD_INPUT. */
int cli_fail(const char *file, ilg_status status);
/* Only that line, never JSON: for a failure the command reports in its own output too
 * (a method's row, an entry of "failures") and goes on. */
void cli_fail_line(const char *file, ilg_status status);
/* The same line with a message of the command's own: "ilgraft: FILE: message (E_NAME)";
 * returns CLI_BAD_INPUT. */
int cli_error(const char *file, ilg_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "IL offset 0x0002", "file offset 0x21c", "RVA 0x2050" (or "" for ILG_WHERE_NONE):
 * every position is printed with its kind. */
const char *cli_where_text(ilg_where where, uint64_t offset, char *buf, size_t size);
/* The JSON error object of the vocabulary (docs/cli.md): {"code", "message"} plus
 * "where" ("file", "il", "rva") and "offset" when a position applies. */
json_t *cli_json_error(const char *code, const char *message, ilg_where where, uint64_t offset);
/* The same from this thread's last diagnostic when it is for status. */
json_t *cli_json_diag(ilg_status status);
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

/* ---- ilgraft run's checks, made before the profiler is loaded -------------------- */

/* The CLSID of ilgraft's own plugin (profiler/plugin.c). */
#define CLI_PLUGIN_CLSID "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"
/* The bundled plugin beside this ilgraft: the build tree's profiler/, or the
 * library directory of the install tree. False (buf then holds the last place tried)
 * when neither has it. */
bool cli_bundled_plugin(char *buf, size_t size);
/* Opens each image and its metadata, as the host will, and with readytorun its
 * ReadyToRun part (if it has one), as saving it will, and closes it: the first that
 * fails is reported through cli_fail and gives CLI_BAD_INPUT. */
int cli_check_images(char *const *paths, size_t count, bool readytorun);
/* DIR (given to option opt) can take files named after the inputs: it exists, is a
 * directory, is writable and is not the directory of an input (which would be
 * overwritten). CLI_BAD_INPUT after a cli_error naming DIR otherwise. */
int cli_check_output_dir(const char *opt, const char *dir, char *const *inputs, size_t count);

#endif
