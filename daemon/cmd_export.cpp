// `baotin export`: write stored records as JSONL or CSV (a read-only view: safe while serve runs); with --follow,
// stay running and write each new change as it is committed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "daemon/commands.h"
#include "extract/template.h"

namespace baotin::cli {

namespace {

std::atomic<bool>& g_stop = stop_flag();

// --site names a template (in --templates) or a site the store holds records of; anything else is a usage error.
bool site_known(const Store& store, const std::string& site, const std::string& templates) {
  std::error_code ec;
  if (!templates.empty() && std::filesystem::is_directory(templates, ec)) {
    TemplateRegistry reg;
    std::vector<TemplateError> errs;
    reg.load_dir(templates, errs);
    if (reg.by_name(site)) return true;
  }
  return store_has_site(store, site);
}

int follow(const ExportArgs& args, const ExportOptions& opts, std::unique_ptr<Store> store, std::ostream& out,
           FdOutBuf& sink, ZstdOutBuf* zbuf, int fd) {
  install_stop_handlers();
  const std::string scratch =
      (std::filesystem::temp_directory_path() / ("baotin-follow-" + std::to_string(::getpid()))).string();
  uint64_t cursor = opts.since;
  bool reopen_logged = false;
  while (!g_stop) {
    if (store) {
      try {
        write_changes(*store, cursor, opts, out, &g_stop, &cursor);
      } catch (const StoreError& ex) {
        // A file the primary removed (compaction, restart) under the secondary: open a fresh view and go on
        // from the cursor, so nothing is skipped or repeated.
        spdlog::info("export --follow: {}; reopening the store", ex.what());
        store.reset();
      }
    }
    if (!out) break;
    // A reader that closed the pipe while nothing was written (no new changes) ends the command too.
    pollfd p{fd, 0, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) break;
    for (int waited = 0; waited < args.poll_ms && !g_stop; waited += 20)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, args.poll_ms - waited)));
    if (g_stop) break;
    if (store) {
      std::string err;
      if (!store->catch_up(&err)) {
        spdlog::info("export --follow: catching up with the primary failed ({}); reopening the store", err);
        store.reset();
      }
    }
    if (!store) {
      std::string err;
      store = Store::open_secondary(args.db, scratch, &err);
      if (!store && !reopen_logged) {
        spdlog::warn("export --follow: cannot open the store yet ({}); retrying", err);
        reopen_logged = true;
      }
      if (store) reopen_logged = false;
    }
  }
  store.reset();
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  if (zbuf) zbuf->finish();
  out.flush();
  if (sink.error() && sink.error() != EPIPE) {
    std::fprintf(stderr, "export: write error on %s: %s\n", args.out_file.empty() ? "stdout" : args.out_file.c_str(),
                 std::strerror(sink.error()));
    return 1;
  }
  // SIGINT/SIGTERM, or the reader closed the pipe (EPIPE): a normal end.
  std::fprintf(stderr, "next cursor: %llu\n", (unsigned long long)cursor);
  return 0;
}

}  // namespace

int cmd_export(const ExportArgs& args) {
  ExportOptions opts = args.options;
  if (!args.from.empty()) {
    opts.from = parse_export_bound(args.from, false);
    if (!opts.from) {
      std::fprintf(stderr, "export: --from takes YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM], got '%s'\n", args.from.c_str());
      return 2;
    }
  }
  if (!args.to.empty()) {
    opts.to_exclusive = parse_export_bound(args.to, true);
    if (!opts.to_exclusive) {
      std::fprintf(stderr, "export: --to takes YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM], got '%s'\n", args.to.c_str());
      return 2;
    }
  }
  if (opts.from && opts.to_exclusive && *opts.from >= *opts.to_exclusive) {
    std::fprintf(stderr, "export: --from %s is not before --to %s\n", args.from.c_str(), args.to.c_str());
    return 2;
  }
  if (opts.bom && opts.format != "csv") {
    std::fprintf(stderr, "export: --bom is for --format csv\n");
    return 2;
  }
  if (args.follow && opts.format != "jsonl") {
    std::fprintf(stderr, "export: --follow writes JSONL only\n");
    return 2;
  }
  if (args.follow && opts.versions) {
    std::fprintf(stderr, "export: --follow writes every change (each version already); drop --versions\n");
    return 2;
  }
  if (!store_exists(args.db)) return no_store("export", args.db);
  auto store = open_reader(args.db);
  if (!store) return 1;
  Store& first = *store;
  return run_on_store("export", first, [&](Store& s) -> int {
    if (!opts.site.empty() && !site_known(s, opts.site, args.templates)) {
      std::fprintf(stderr, "export: unknown site '%s': no template of that name and no stored record of it\n",
                   opts.site.c_str());
      return 2;
    }
    const bool to_file = !args.out_file.empty() && args.out_file != "-";
    int fd = 1;
    if (to_file) {
      fd = ::open(args.out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) {
        std::fprintf(stderr, "export: cannot write %s: %s\n", args.out_file.c_str(), std::strerror(errno));
        return 2;
      }
    }
    struct CloseFd {
      int fd;
      ~CloseFd() {
        if (fd > 2) ::close(fd);
      }
    } close_fd{fd};
    // A reader that goes away (`| head`) is an end, not a crash: EPIPE is seen as a write error below.
    ::signal(SIGPIPE, SIG_IGN);
    FdOutBuf sink(fd);
    std::unique_ptr<ZstdOutBuf> zbuf;
    if (args.compress == "zstd") zbuf = std::make_unique<ZstdOutBuf>(&sink);
    std::ostream out(zbuf ? static_cast<std::streambuf*>(zbuf.get()) : &sink);

    if (args.follow) return follow(args, opts, std::move(store), out, sink, zbuf.get(), fd);

    const uint64_t cursor = export_records(s, opts, out);
    bool ok = static_cast<bool>(out);
    if (zbuf) ok = zbuf->finish() && ok;
    ok = sink.pubsync() == 0 && ok;
    if (!ok) {
      if (sink.error() == EPIPE) return 0;  // the reader closed the pipe: it has what it wanted
      std::fprintf(stderr, "export: write error on %s%s%s\n", to_file ? args.out_file.c_str() : "stdout",
                   sink.error() ? ": " : "", sink.error() ? std::strerror(sink.error()) : "");
      return 1;
    }
    if (to_file && ::fsync(fd) != 0 && errno != EINVAL) {
      std::fprintf(stderr, "export: write error on %s: %s\n", args.out_file.c_str(), std::strerror(errno));
      return 1;
    }
    std::fprintf(stderr, "next cursor: %llu\n", (unsigned long long)cursor);
    return 0;
  });
}

}  // namespace baotin::cli
