/* teleop — CLI subcommands. Each returns the process exit code: 0 success,
 * 1 failure, 2 usage error. argv[0] is the subcommand name. */
#ifndef TELEOP_CLI_H
#define TELEOP_CLI_H

int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_retarget(int argc, char **argv);

/* Prints "teleop SUB: msg" on stderr and returns 2. */
int cli_usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
