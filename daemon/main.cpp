#include "daemon/cli.h"

int main(int argc, char** argv) { return baotin::run_cli(argc, argv); }
