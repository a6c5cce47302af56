// The two clocks of the daemon: a monotonic one for delays and timeouts, and the wall clock (epoch seconds)
// for schedules and stored times. Components that decide by the wall clock take it as an injectable
// function (Ingestor::set_clock) so tests can move time; these are the defaults.
#pragma once
#include <cstdint>

namespace baotin {

double monotonic_seconds();  // steady clock, seconds; only differences are meaningful
int64_t epoch_now();         // system clock, seconds since 1970-01-01 UTC

}  // namespace baotin
