//! Integration tests of keel-journal. One test binary: the crash and tail tests re-execute
//! it (`current_exe()` + an env var + `--exact`) to run a writer in a child process.

mod basic;
mod common;
mod corruption;
mod crash;
mod tail;
