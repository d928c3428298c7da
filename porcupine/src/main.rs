//! `porcupine check [--model M] [--timeout SECS] [--html PATH] FILE...`: checks history
//! files for linearizability and prints one verdict line per file.
//!
//! Exit status: 0 all linearizable, 1 some file not linearizable, 2 some unknown (timeout)
//! and none illegal, 3 unreadable or malformed input (also bad command-line arguments);
//! 3 wins over the others because a verdict on the remaining files would be incomplete.
//! A file that holds no operations at all (an empty file, a JSON history with an empty
//! `operations` list) prints `PATH: no operations` and counts as malformed (3): it is
//! almost always a truncated write, and calling it linearizable would hide that.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use porcupine::formats::{self, Format};
use porcupine::history::{self, ModelName};
use porcupine::models::etcd::EtcdModel;
use porcupine::models::kv::{KvModel, KvNoPartitionModel};
use porcupine::models::kv_versioned::KvVersionedModel;
use porcupine::{Annotation, CheckResult, Model, Operation};
use serde::de::DeserializeOwned;

#[derive(Parser)]
#[command(
    name = "porcupine",
    version,
    about = "A linearizability checker for histories of concurrent operations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check history files (Jepsen etcd logs, Jepsen KV logs, or porcupine JSON histories).
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Model to check with (default: chosen from the file).
    #[arg(long, value_enum)]
    model: Option<ModelArg>,
    /// Give up after this many seconds per file (verdict "unknown (timeout)").
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Memory the search may reserve, in MiB (default 1536); past it a key is left
    /// undecided, so the verdict may become "unknown".
    #[arg(long, value_name = "MIB")]
    memory_limit: Option<usize>,
    /// Write the HTML visualisation here (a directory when several files are checked).
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
    /// History files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModelArg {
    /// Compare-and-set register (Jepsen etcd logs).
    Etcd,
    /// Put/Append/Get key-value store, partitioned by key.
    Kv,
    /// Put/Append/Get key-value store checked as one object (slow; for comparison).
    KvUnpartitioned,
    /// The 2025 labs' versioned Get/Put key-value store.
    KvVersioned,
}

impl ModelArg {
    fn name(self) -> ModelName {
        match self {
            ModelArg::Etcd => ModelName::Etcd,
            ModelArg::Kv => ModelName::Kv,
            ModelArg::KvUnpartitioned => ModelName::KvUnpartitioned,
            ModelArg::KvVersioned => ModelName::KvVersioned,
        }
    }
}

/// What became of one file.
enum Verdict {
    Checked(CheckResult),
    /// Unreadable or malformed (the message names the problem and line).
    Bad(String),
    /// Well-formed but without a single operation.
    NoOperations,
}

struct Settings {
    timeout: Option<Duration>,
    memory_limit: usize,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(3),
            };
        }
    };
    let Command::Check(args) = cli.command;
    let timeout = match args.timeout {
        None => None,
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
            Some(Duration::from_secs_f64(seconds))
        }
        Some(seconds) => {
            eprintln!("porcupine: --timeout must be a positive number of seconds, not {seconds}");
            return ExitCode::from(3);
        }
    };
    let memory_limit = match args.memory_limit {
        None => porcupine::DEFAULT_MEMORY_LIMIT,
        Some(mib) if mib > 0 && mib < usize::MAX >> 20 => mib << 20,
        Some(mib) => {
            eprintln!("porcupine: --memory-limit must be a positive number of MiB, not {mib}");
            return ExitCode::from(3);
        }
    };
    let settings = Settings {
        timeout,
        memory_limit,
    };
    let several = args.files.len() > 1;
    if let (Some(dir), true) = (&args.html, several)
        && let Err(error) = std::fs::create_dir_all(dir)
    {
        eprintln!("porcupine: cannot create {}: {error}", dir.display());
        return ExitCode::from(3);
    }
    let (mut any_illegal, mut any_unknown, mut any_bad) = (false, false, false);
    for file in &args.files {
        let html = args.html.as_ref().map(|path| {
            if several {
                let stem = file
                    .file_stem()
                    .map_or_else(|| "history".into(), |s| s.to_os_string());
                path.join(Path::new(&stem).with_extension("html"))
            } else {
                path.clone()
            }
        });
        match check_file(
            file,
            args.model.map(ModelArg::name),
            &settings,
            html.as_deref(),
        ) {
            Verdict::Checked(CheckResult::Ok) => println!("{}: linearizable", file.display()),
            Verdict::Checked(CheckResult::Illegal) => {
                any_illegal = true;
                println!("{}: not linearizable", file.display());
            }
            Verdict::Checked(CheckResult::Unknown) => {
                any_unknown = true;
                println!("{}: unknown (timeout)", file.display());
            }
            Verdict::NoOperations => {
                any_bad = true;
                println!("{}: no operations", file.display());
            }
            Verdict::Bad(message) => {
                any_bad = true;
                eprintln!("porcupine: {}: {message}", file.display());
            }
        }
    }
    ExitCode::from(if any_bad {
        3
    } else if any_illegal {
        1
    } else if any_unknown {
        2
    } else {
        0
    })
}

fn check_file(
    path: &Path,
    model: Option<ModelName>,
    settings: &Settings,
    html: Option<&Path>,
) -> Verdict {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => return Verdict::Bad(format!("cannot read: {error}")),
    };
    let Some(format) = formats::detect(&text) else {
        return Verdict::Bad(
            "line 1: not a Jepsen etcd log, a Jepsen KV log or a JSON history".into(),
        );
    };
    let wrong =
        |model: ModelName, what: &str| Verdict::Bad(format!("model {model} cannot check {what}"));
    match format {
        Format::Empty => Verdict::NoOperations,
        Format::JepsenEtcd => match model.unwrap_or(ModelName::Etcd) {
            ModelName::Etcd => match formats::jepsen_etcd::parse(&text) {
                Ok(events) => from_events(&EtcdModel, events, settings, html),
                Err(error) => Verdict::Bad(error.to_string()),
            },
            other => wrong(other, "a Jepsen etcd log"),
        },
        Format::JepsenKv => {
            let events = match formats::jepsen_kv::parse(&text) {
                Ok(events) => events,
                Err(error) => return Verdict::Bad(error.to_string()),
            };
            match model.unwrap_or(ModelName::Kv) {
                ModelName::Kv => from_events(&KvModel, events, settings, html),
                ModelName::KvUnpartitioned => {
                    from_events(&KvNoPartitionModel::new(), events, settings, html)
                }
                other => wrong(other, "a Jepsen KV log"),
            }
        }
        Format::Json => {
            let named = match history::model_name(&text) {
                Ok(name) => name,
                Err(error) => return Verdict::Bad(error.to_string()),
            };
            let Some(file_model) = ModelName::parse(&named) else {
                return Verdict::Bad(format!(
                    "unknown model {named:?} (known: etcd, kv, kv-unpartitioned, kv-versioned)"
                ));
            };
            let model = model.unwrap_or(file_model);
            let compatible = model == file_model
                || matches!(
                    (model, file_model),
                    (
                        ModelName::Kv | ModelName::KvUnpartitioned,
                        ModelName::Kv | ModelName::KvUnpartitioned
                    )
                );
            if !compatible {
                return wrong(model, &format!("a {file_model} history"));
            }
            match model {
                ModelName::Etcd => from_json(&EtcdModel, &text, settings, html),
                ModelName::Kv => from_json(&KvModel, &text, settings, html),
                ModelName::KvUnpartitioned => {
                    from_json(&KvNoPartitionModel::new(), &text, settings, html)
                }
                ModelName::KvVersioned => from_json(&KvVersionedModel, &text, settings, html),
            }
        }
    }
}

fn from_events<M: Model>(
    model: &M,
    events: Vec<porcupine::Event<M::Input, M::Output>>,
    settings: &Settings,
    html: Option<&Path>,
) -> Verdict
where
    M::Input: Clone,
    M::Output: Clone,
{
    match porcupine::events_to_operations(events, |input| model.unknown_output(input)) {
        Ok(operations) => run(model, operations, Vec::new(), settings, html),
        Err(error) => Verdict::Bad(error.to_string()),
    }
}

fn from_json<M: Model>(model: &M, text: &str, settings: &Settings, html: Option<&Path>) -> Verdict
where
    M::Input: Clone + DeserializeOwned,
    M::Output: Clone + DeserializeOwned,
{
    match history::from_str::<M::Input, M::Output>(text) {
        Ok(history) => run(
            model,
            history.operations,
            history.annotations,
            settings,
            html,
        ),
        Err(error) => Verdict::Bad(error.to_string()),
    }
}

fn run<M: Model>(
    model: &M,
    operations: Vec<Operation<M::Input, M::Output>>,
    annotations: Vec<Annotation>,
    settings: &Settings,
    html: Option<&Path>,
) -> Verdict
where
    M::Input: Clone,
    M::Output: Clone,
{
    if operations.is_empty() {
        return Verdict::NoOperations;
    }
    let options = porcupine::CheckOptions {
        timeout: settings.timeout,
        verbose: html.is_some(),
        memory_limit: settings.memory_limit,
        ..porcupine::CheckOptions::default()
    };
    let outcome = porcupine::check(model, &operations, &options);
    let (Some(html), Some(info)) = (html, outcome.info) else {
        return Verdict::Checked(outcome.result);
    };
    let result = outcome.result;
    if let Err(error) = porcupine::visualize_path(model, &info, &annotations, html) {
        return Verdict::Bad(format!("cannot write {}: {error}", html.display()));
    }
    eprintln!("info: wrote visualization to {}", html.display());
    Verdict::Checked(result)
}
