# Run by `cmake --install` (install(CODE) in CMakeLists.txt sets BAOTIN_SOURCE_DIR, BAOTIN_GEN_DIR, BAOTIN_BINDIR,
# BAOTIN_DATADIR, BAOTIN_DOCDIR, BAOTIN_UNITDIR (relative to the prefix or absolute), BAOTIN_CONFIG_DIR,
# BAOTIN_STATE_DIR). Paths are computed here, at install time, so that `cmake --install build --prefix P` gives a
# config and a unit that point into P.
#
#  - <datadir>/baotin/examples/baotin.toml: systemd/baotin.toml with templates_dir = the installed templates and
#    data_dir = the unit's StateDirectory; always (re)installed.
#  - <config dir>/baotin.toml: the same file, only when none is there (an operator's config is never overwritten).
#  - <unitdir>/baotin.service: systemd/baotin.service with ExecStart, --config and Documentation= set to the
#    installed binary, config and README.
# Config dir: BAOTIN_CONFIG_DIR when set, else /etc/baotin for the prefixes /usr and /usr/local, else <prefix>/etc/baotin.

function(baotin_abs out rel)
  if(IS_ABSOLUTE "${rel}")
    set(${out} "${rel}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${rel}" PARENT_SCOPE)
  endif()
endfunction()

# Replaces `from` by `to` in the variable `var`; a missing `from` is an error (the source file changed shape).
function(baotin_replace var from to what)
  string(FIND "${${var}}" "${from}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "baotin install: '${from}' not found in ${what}; update cmake/install_config.cmake")
  endif()
  string(REPLACE "${from}" "${to}" result "${${var}}")
  set(${var} "${result}" PARENT_SCOPE)
endfunction()

baotin_abs(bindir "${BAOTIN_BINDIR}")
baotin_abs(datadir "${BAOTIN_DATADIR}")
baotin_abs(docdir "${BAOTIN_DOCDIR}")
baotin_abs(unitdir "${BAOTIN_UNITDIR}")
if(BAOTIN_CONFIG_DIR)
  set(confdir "${BAOTIN_CONFIG_DIR}")
elseif(CMAKE_INSTALL_PREFIX STREQUAL "/usr" OR CMAKE_INSTALL_PREFIX STREQUAL "/usr/local")
  set(confdir "/etc/baotin")
else()
  set(confdir "${CMAKE_INSTALL_PREFIX}/etc/baotin")
endif()

file(READ "${BAOTIN_SOURCE_DIR}/systemd/baotin.toml" config)
baotin_replace(config "data_dir = \"./data\" " "data_dir = \"${BAOTIN_STATE_DIR}\" " "systemd/baotin.toml")
baotin_replace(config "templates_dir = \"../sites\" " "templates_dir = \"${datadir}/baotin/sites\" "
               "systemd/baotin.toml")
set(config "# Installed by `cmake --install` from baotin's systemd/baotin.toml, with the paths of this installation
# (templates: ${datadir}/baotin/sites; data: the systemd unit's StateDirectory, `--data-dir` overrides it).
# The documentation: ${docdir}/README.md.
${config}")

file(READ "${BAOTIN_SOURCE_DIR}/systemd/baotin.service" unit)
baotin_replace(unit "ExecStart=/usr/local/bin/baotin serve --config /etc/baotin/baotin.toml "
               "ExecStart=${bindir}/baotin serve --config ${confdir}/baotin.toml " "systemd/baotin.service")
baotin_replace(unit "Documentation=file:///usr/local/share/doc/baotin/README.md"
               "Documentation=file://${docdir}/README.md" "systemd/baotin.service")

# A directory of its own per run: two installs from one build tree at once (tests) must not share the files.
string(RANDOM LENGTH 16 run)
set(gen "${BAOTIN_GEN_DIR}/${run}")
file(MAKE_DIRECTORY "${gen}")
file(WRITE "${gen}/baotin.toml" "${config}")
file(WRITE "${gen}/baotin.service" "${unit}")

# Always replaced (file(INSTALL) alone skips a destination whose time stamp it takes for up to date).
file(REMOVE "$ENV{DESTDIR}${datadir}/baotin/examples/baotin.toml" "$ENV{DESTDIR}${unitdir}/baotin.service")
file(INSTALL DESTINATION "${datadir}/baotin/examples" TYPE FILE FILES "${gen}/baotin.toml")
file(INSTALL DESTINATION "${unitdir}" TYPE FILE FILES "${gen}/baotin.service")
if(EXISTS "$ENV{DESTDIR}${confdir}/baotin.toml")
  message(STATUS "Kept: $ENV{DESTDIR}${confdir}/baotin.toml (exists; the example for this version is "
                 "$ENV{DESTDIR}${datadir}/baotin/examples/baotin.toml)")
else()
  file(INSTALL DESTINATION "${confdir}" TYPE FILE FILES "${gen}/baotin.toml")
endif()
file(REMOVE_RECURSE "${gen}")
