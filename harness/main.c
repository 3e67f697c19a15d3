/* SPDX-License-Identifier: MIT */
/* main.c - entry point of the `leakcheck` command. */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
