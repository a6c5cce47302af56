// Date normalisation: every form seen on Vietnamese news sites -> ISO 8601 with offset.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace baotin {

// "Thứ hai, 27/1/2025, 14:30 (GMT+7)", "26/01/2025 at 6:30", "06/02/2025 | 13:54", "07/03/2026 08:47",
// ISO 8601 with or without offset ("2026-03-07T08:52:11.000 +07:00"), RFC 822 ("Thu, 06 Feb 2025 20:45:46 +0700"),
// "08:06 07/03/2026", "Cập nhật lúc ..." etc. Local times without an offset are Asia/Ho_Chi_Minh (+07:00).
// A bare 10- or 13-digit number is a Unix time in seconds / milliseconds (data-time attributes), unless it starts
// with 0 (phone numbers: "0912345678"). Years outside 1900-2200 are rejected in every form, so that any result is
// accepted by iso_to_epoch and normalize_date(result) == result. Only the first 2000 bytes of `text` are searched
// for a date (core/limits.h); the search runs in linear time (RE2).
// Returns "YYYY-MM-DDTHH:MM:SS+HH:MM" keeping the source offset, or std::nullopt if no date is found.
std::optional<std::string> normalize_date(std::string_view text);

// Does `text` show a time of day ("14:30", "14h30", "8h", "9 giờ")? A weekday's letters ("Thứ hai", "Chủ nhật")
// do not count: the hour must be digits.
bool shows_time_of_day(std::string_view text);

// Seconds since the epoch (UTC) of a string produced by normalize_date.
std::optional<int64_t> iso_to_epoch(std::string_view iso);

// Formats an epoch as ISO 8601 in +07:00.
std::string epoch_to_iso_vn(int64_t epoch_seconds);

// Now, as ISO 8601 in +07:00.
std::string now_iso_vn();

}  // namespace baotin
