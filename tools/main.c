/* The `mlc` executable: everything is in mlc_main (tools/cli.c). */
#include "tools/cli.h"

int main(int argc, char **argv) { return mlc_main(argc, argv); }
