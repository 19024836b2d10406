//! `keel journal info|verify|dump <dir>`: look inside a journal without the schema.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use keel_journal::{Inspection, Reader, inspect};
use keel_replay::format::utc;

#[derive(Debug, Subcommand)]
pub enum JournalCmd {
    /// Segments, record counts, first/last sequence and time, and the verification result.
    Info { dir: PathBuf },
    /// Check every segment header, record checksum, sequence continuity and the BLAKE3
    /// seal chain. Exits 1 on any problem, printing where.
    Verify { dir: PathBuf },
    /// Print every record as a JSON line (kind, seq, ts, len, payload as hex).
    Dump {
        dir: PathBuf,
        /// Start at this sequence.
        #[arg(long)]
        from: Option<u64>,
        /// Stop after this many records.
        #[arg(long)]
        limit: Option<u64>,
    },
}

pub fn run(cmd: JournalCmd) -> ExitCode {
    let result = match cmd {
        JournalCmd::Info { dir } => info(&dir),
        JournalCmd::Verify { dir } => verify(&dir),
        JournalCmd::Dump { dir, from, limit } => dump(&dir, from, limit),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("keel journal: {e}");
            ExitCode::FAILURE
        }
    }
}

type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;

fn info(dir: &std::path::Path) -> CmdResult {
    let ins = inspect(dir, true)?;
    println!("journal {}", dir.display());
    println!(
        "{:<28} {:>12} {:>12} {:>9} {:>12} {:>12}  sealed  digest",
        "segment", "first_seq", "last_seq", "records", "used_bytes", "size_bytes"
    );
    for s in &ins.segments {
        let name = s.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let last = s.last_seq().map(|l| l.to_string()).unwrap_or_else(|| "-".into());
        let digest = match s.digest_ok {
            Some(true) => "ok",
            Some(false) => "MISMATCH",
            None => "-",
        };
        println!(
            "{name:<28} {:>12} {last:>12} {:>9} {:>12} {:>12}  {:<6}  {digest}",
            s.first_seq,
            s.records,
            s.used_bytes,
            s.size_bytes,
            if s.sealed { "yes" } else { "no" }
        );
    }
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    let time = |v: Option<u64>| v.map(utc).unwrap_or_else(|| "-".into());
    println!("segments:   {}", ins.segments.len());
    println!("records:    {}", ins.records());
    println!("first seq:  {} at {}", opt(ins.first_seq()), time(ins.first_ts_ns()));
    println!("last seq:   {} at {}", opt(ins.last_seq()), time(ins.last_ts_ns()));
    if let Some(s) = ins.segments.first() {
        println!("schema:     {:#018x}", s.schema_hash);
    }
    print_verdict(&ins);
    Ok(ExitCode::SUCCESS)
}

fn print_verdict(ins: &Inspection) {
    if ins.problems.is_empty() {
        println!("verify:     OK (checksums, sequence continuity, seal chain)");
    } else {
        println!("verify:     {} problem(s)", ins.problems.len());
        for p in &ins.problems {
            println!("  - {p}");
        }
    }
}

fn verify(dir: &std::path::Path) -> CmdResult {
    let ins = inspect(dir, true)?;
    println!(
        "{}: {} segments, {} records, seq {}..{}",
        dir.display(),
        ins.segments.len(),
        ins.records(),
        ins.first_seq().unwrap_or(0),
        ins.last_seq().unwrap_or(0)
    );
    print_verdict(&ins);
    Ok(if ins.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn dump(dir: &std::path::Path, from: Option<u64>, limit: Option<u64>) -> CmdResult {
    let mut reader = Reader::open(dir)?;
    if let Some(from) = from {
        reader.seek(from)?;
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut n = 0u64;
    let mut line = String::new();
    while limit.is_none_or(|l| n < l) {
        let Some(rec) = reader.next()? else { break };
        line.clear();
        use std::fmt::Write as _;
        let _ = write!(
            line,
            "{{\"seq\":{},\"kind\":{},\"ts\":{},\"len\":{},\"payload\":\"",
            rec.seq,
            rec.kind.0,
            rec.ts_ns,
            rec.payload.len()
        );
        for b in rec.payload {
            let _ = write!(line, "{b:02x}");
        }
        line.push_str("\"}\n");
        match out.write_all(line.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            r => r?,
        }
        n += 1;
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        r => r.map(|()| ExitCode::SUCCESS).map_err(Into::into),
    }
}
