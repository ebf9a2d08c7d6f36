/* SPDX-License-Identifier: MIT */
#ifndef QRTX_CLI_H
#define QRTX_CLI_H

#include <stdio.h>

int qrtx_cli_run(int argc, char **argv);
void qrtx_cli_run_usage(FILE *f);

#endif
