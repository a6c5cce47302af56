#pragma once
namespace baotin {
// Entry point of the `baotin` executable (CLI11 sub-commands). Returns the process exit code.
int run_cli(int argc, char** argv);
}  // namespace baotin
