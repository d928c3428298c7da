//! Reading a submission: a folder or a `.tar`, `.tar.gz`/`.tgz` or `.zip`
//! archive, copied into a staging folder the grader owns (the submission itself
//! is only read), then matched to workspace paths.
//!
//! Archives are read defensively: entries that would land outside the staging
//! folder (absolute paths, `..`), links and special files are skipped and
//! reported, and sizes are capped, so a hostile archive cannot write elsewhere
//! or fill the disk.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// The most a submission may hold, in bytes and in files.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Total bytes of all files.
    pub total_bytes: u64,
    /// Bytes of one file.
    pub file_bytes: u64,
    /// Number of files.
    pub files: usize,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            total_bytes: 64 << 20,
            file_bytes: 8 << 20,
            files: 20_000,
        }
    }
}

/// Why a submission could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    /// It is neither a folder nor an archive of a known kind.
    #[error("{0}: not a folder, .tar, .tar.gz, .tgz or .zip (a submission is one of those)")]
    Kind(String),
    /// The archive is damaged or not what its name says.
    #[error("{path}: cannot read the archive: {message}")]
    Corrupt {
        /// The submission.
        path: String,
        /// What the archive reader said.
        message: String,
    },
    /// It is larger than the caps allow.
    #[error("{path}: too large: {message}")]
    TooLarge {
        /// The submission.
        path: String,
        /// Which cap it broke.
        message: String,
    },
    /// The staging folder could not be written, or a file not read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// A submission copied into a staging folder.
#[derive(Debug)]
pub struct Staged {
    /// The staging folder (removed when this is dropped).
    pub dir: tempfile::TempDir,
    /// Each staged file: (path in the staging folder, workspace path it is
    /// taken for).
    pub files: Vec<(String, String)>,
    /// Entries not staged, each with the reason (links, unsafe paths, build
    /// output).
    pub skipped: Vec<String>,
    /// How paths were mapped, when not as they are (a wrapping folder dropped,
    /// a flat archive's bare names).
    pub mapping: Option<String>,
}

struct Stager {
    source: String,
    root: PathBuf,
    caps: Caps,
    total: u64,
    files: Vec<String>,
    skipped: Vec<String>,
}

impl Stager {
    fn too_large(&self, message: String) -> SubmissionError {
        SubmissionError::TooLarge {
            path: self.source.clone(),
            message,
        }
    }

    /// The safe relative form of an entry's path, or why there is none.
    fn safe_path(name: &Path) -> Result<String, &'static str> {
        let mut parts = Vec::new();
        for component in name.components() {
            match component {
                Component::Normal(part) => {
                    let part = part.to_str().ok_or("a name that is not UTF-8")?;
                    parts.push(part.to_string());
                }
                Component::CurDir => {}
                Component::ParentDir => return Err("a path with `..`"),
                Component::RootDir | Component::Prefix(_) => return Err("an absolute path"),
            }
        }
        if parts.is_empty() {
            return Err("an empty path");
        }
        Ok(parts.join("/"))
    }

    fn skipped_dir(relative: &str) -> bool {
        relative
            .split('/')
            .any(|part| part == "target" || part == ".git")
    }

    /// Copies one file's bytes from `reader` to the staging folder.
    fn add(&mut self, relative: String, reader: &mut dyn Read) -> Result<(), SubmissionError> {
        if Stager::skipped_dir(&relative) {
            self.skipped.push(format!(
                "{relative}: build output or version control, not read"
            ));
            return Ok(());
        }
        if self.files.len() >= self.caps.files {
            return Err(self.too_large(format!("more than {} files", self.caps.files)));
        }
        let to = crate::tree::join(&self.root, &relative);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|source| SubmissionError::Io {
                path: parent.display().to_string(),
                source,
            })?;
        }
        let mut bytes = Vec::new();
        reader
            .take(self.caps.file_bytes + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| SubmissionError::Corrupt {
                path: self.source.clone(),
                message: format!("{relative}: {e}"),
            })?;
        if bytes.len() as u64 > self.caps.file_bytes {
            return Err(
                self.too_large(format!("{relative} is over {} bytes", self.caps.file_bytes))
            );
        }
        self.total += bytes.len() as u64;
        if self.total > self.caps.total_bytes {
            return Err(self.too_large(format!("more than {} bytes in all", self.caps.total_bytes)));
        }
        let mut file = File::create(&to).map_err(|source| SubmissionError::Io {
            path: to.display().to_string(),
            source,
        })?;
        file.write_all(&bytes)
            .map_err(|source| SubmissionError::Io {
                path: to.display().to_string(),
                source,
            })?;
        self.files.push(relative);
        Ok(())
    }

    fn folder(&mut self, base: &Path, dir: &Path) -> Result<(), SubmissionError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| SubmissionError::Io { path, source }
        };
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .collect::<Result<_, _>>()
            .map_err(io(dir))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let relative = crate::tree::to_slashes(path.strip_prefix(base).expect("below base"));
            let kind = entry.file_type().map_err(io(&path))?;
            if kind.is_dir() {
                if Stager::skipped_dir(&relative) {
                    self.skipped.push(format!(
                        "{relative}/: build output or version control, not read"
                    ));
                } else {
                    self.folder(base, &path)?;
                }
            } else if kind.is_file() {
                let mut file = File::open(&path).map_err(io(&path))?;
                self.add(relative, &mut file)?;
            } else {
                self.skipped
                    .push(format!("{relative}: a link or special file, not read"));
            }
        }
        Ok(())
    }

    fn tar(&mut self, reader: impl Read) -> Result<(), SubmissionError> {
        let corrupt = |source: &str, e: std::io::Error| SubmissionError::Corrupt {
            path: source.to_string(),
            message: e.to_string(),
        };
        let mut archive = tar::Archive::new(reader);
        let source = self.source.clone();
        for entry in archive.entries().map_err(|e| corrupt(&source, e))? {
            let mut entry = entry.map_err(|e| corrupt(&source, e))?;
            let name = entry.path().map_err(|e| corrupt(&source, e))?.into_owned();
            let shown = name.display().to_string();
            let kind = entry.header().entry_type();
            if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            match Stager::safe_path(&name) {
                Err(why) => self.skipped.push(format!("{shown}: {why}, not read")),
                Ok(_) if !kind.is_file() => self
                    .skipped
                    .push(format!("{shown}: a link or special file, not read")),
                Ok(relative) => self.add(relative, &mut entry)?,
            }
        }
        Ok(())
    }

    fn zip(&mut self, file: File) -> Result<(), SubmissionError> {
        let corrupt = |source: &str, e: zip::result::ZipError| SubmissionError::Corrupt {
            path: source.to_string(),
            message: e.to_string(),
        };
        let source = self.source.clone();
        let mut archive = zip::ZipArchive::new(file).map_err(|e| corrupt(&source, e))?;
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).map_err(|e| corrupt(&source, e))?;
            let shown = entry.name().to_string();
            if entry.is_dir() {
                continue;
            }
            if entry.is_symlink() {
                self.skipped
                    .push(format!("{shown}: a link or special file, not read"));
                continue;
            }
            match entry.enclosed_name().map(|p| Stager::safe_path(&p)) {
                Some(Ok(relative)) => self.add(relative, &mut entry)?,
                Some(Err(why)) => self.skipped.push(format!("{shown}: {why}, not read")),
                None => self
                    .skipped
                    .push(format!("{shown}: a path outside the archive, not read")),
            }
        }
        Ok(())
    }
}

/// Copies the submission at `path` into a new staging folder and maps its
/// files to workspace paths: as they are; else, when no file is
/// student-owned and all sit in one folder, without that folder (an archive
/// of `submission/raft/src/lib.rs`); else, when every file is a bare name (a
/// flat archive), through `flat_files`, the rubric's list of workspace paths
/// (`server.rs` → `kvraft/src/classic/server.rs`).
pub fn stage(
    path: &Path,
    owned: &dyn Fn(&str) -> bool,
    flat_files: &[String],
    caps: Caps,
) -> Result<Staged, SubmissionError> {
    let dir = tempfile::Builder::new()
        .prefix("grade-submission-")
        .tempdir()
        .map_err(|source| SubmissionError::Io {
            path: "a temporary folder".into(),
            source,
        })?;
    let shown = path.display().to_string();
    let mut stager = Stager {
        source: shown.clone(),
        root: dir.path().to_path_buf(),
        caps,
        total: 0,
        files: Vec::new(),
        skipped: Vec::new(),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let open = |p: &Path| {
        File::open(p).map_err(|source| SubmissionError::Io {
            path: p.display().to_string(),
            source,
        })
    };
    if path.is_dir() {
        stager.folder(path, path)?;
    } else if !path.is_file() {
        return Err(SubmissionError::Io {
            path: shown,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        });
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        stager.tar(flate2::read::GzDecoder::new(open(path)?))?;
    } else if name.ends_with(".tar") {
        stager.tar(open(path)?)?;
    } else if name.ends_with(".zip") {
        stager.zip(open(path)?)?;
    } else {
        return Err(SubmissionError::Kind(shown));
    }
    let (files, mapping) = map_paths(&stager.files, owned, flat_files);
    Ok(Staged {
        files,
        skipped: stager.skipped,
        mapping,
        dir,
    })
}

/// Maps staged paths to workspace paths (see [`stage`]); returns the pairs
/// and a note on the mapping used, if any.
pub fn map_paths(
    staged: &[String],
    owned: &dyn Fn(&str) -> bool,
    flat_files: &[String],
) -> (Vec<(String, String)>, Option<String>) {
    let as_is = |prefix: usize| -> Vec<(String, String)> {
        staged
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    p.splitn(prefix + 1, '/').last().unwrap_or(p).to_string(),
                )
            })
            .collect()
    };
    let mut depth = 0;
    let mut mapped = as_is(0);
    let mut note = None;
    loop {
        if mapped.iter().any(|(_, to)| owned(to)) {
            return (mapped, note);
        }
        let firsts: std::collections::BTreeSet<&str> = mapped
            .iter()
            .filter_map(|(_, to)| to.split_once('/').map(|(first, _)| first))
            .collect();
        let all_nested = mapped.iter().all(|(_, to)| to.contains('/'));
        if firsts.len() == 1 && all_nested {
            depth += 1;
            note = Some(format!(
                "the submission's files are read without their {} wrapping folder(s) ({})",
                depth,
                staged[0]
                    .split('/')
                    .take(depth)
                    .collect::<Vec<_>>()
                    .join("/")
            ));
            mapped = as_is(depth);
            continue;
        }
        break;
    }
    if !staged.is_empty() && staged.iter().all(|p| !p.contains('/')) && !flat_files.is_empty() {
        let mapped = staged
            .iter()
            .map(|bare| {
                let mut matches = flat_files
                    .iter()
                    .filter(|f| f.rsplit('/').next() == Some(bare.as_str()));
                match (matches.next(), matches.next()) {
                    (Some(only), None) => (bare.clone(), only.clone()),
                    _ => (bare.clone(), bare.clone()),
                }
            })
            .collect();
        let note =
            "a flat archive: each bare file name is taken for the rubric's file of that name";
        return (mapped, Some(note.to_string()));
    }
    (as_is(0), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(path: &str) -> bool {
        path.starts_with("raft/src/") || path.starts_with("kvraft/src/classic/server")
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn paths_are_taken_as_they_are_when_they_fit() {
        let (mapped, note) = map_paths(&strings(&["raft/src/lib.rs", "README"]), &owned, &[]);
        assert_eq!(mapped[0].1, "raft/src/lib.rs");
        assert_eq!(note, None);
    }

    #[test]
    fn a_wrapping_folder_is_dropped() {
        let (mapped, note) = map_paths(
            &strings(&["alice/raft/src/lib.rs", "alice/raft/tests/x.rs"]),
            &owned,
            &[],
        );
        assert_eq!(mapped[0].1, "raft/src/lib.rs");
        assert_eq!(mapped[1].1, "raft/tests/x.rs");
        assert!(note.unwrap().contains("alice"));
    }

    #[test]
    fn a_flat_archive_is_mapped_through_the_rubric_files() {
        let files = strings(&["kvraft/src/classic/server.rs", "raft/src/lib.rs"]);
        let (mapped, note) = map_paths(
            &strings(&["server.rs", "lib.rs", "notes.txt"]),
            &owned,
            &files,
        );
        assert_eq!(
            mapped,
            vec![
                (
                    "server.rs".to_string(),
                    "kvraft/src/classic/server.rs".to_string()
                ),
                ("lib.rs".to_string(), "raft/src/lib.rs".to_string()),
                ("notes.txt".to_string(), "notes.txt".to_string()),
            ]
        );
        assert!(note.unwrap().contains("flat"));
    }

    #[test]
    fn unsafe_entry_paths_are_refused() {
        assert_eq!(
            Stager::safe_path(Path::new("./a/b.rs")),
            Ok("a/b.rs".into())
        );
        assert!(Stager::safe_path(Path::new("../evil.rs")).is_err());
        assert!(Stager::safe_path(Path::new("/etc/passwd")).is_err());
        assert!(Stager::safe_path(Path::new("a/../../b")).is_err());
    }
    fn no_owned(_: &str) -> bool {
        false
    }

    fn tar_gz(path: &Path, entries: &[(&str, &[u8])]) {
        let file = File::create(path).unwrap();
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (name, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            // Written raw, so hostile names (`..`) can be made too.
            let raw = &mut header.as_old_mut().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn a_flat_tar_gz_is_staged_and_mapped_and_hostile_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("alice.tar.gz");
        tar_gz(
            &archive,
            &[
                ("server.rs", b"// server"),
                ("../evil.rs", b"x"),
                ("lib.rs", b"// raft"),
            ],
        );
        let files = strings(&["kvraft/src/classic/server.rs", "raft/src/lib.rs"]);
        let staged = stage(&archive, &no_owned, &files, Caps::default()).unwrap();
        assert_eq!(
            staged.files,
            vec![
                (
                    "server.rs".to_string(),
                    "kvraft/src/classic/server.rs".to_string()
                ),
                ("lib.rs".to_string(), "raft/src/lib.rs".to_string()),
            ]
        );
        assert!(staged.skipped[0].contains("`..`"), "{:?}", staged.skipped);
        assert!(!dir.path().join("evil.rs").exists());
        let text = std::fs::read_to_string(staged.dir.path().join("server.rs")).unwrap();
        assert_eq!(text, "// server");
    }

    #[test]
    fn a_zip_is_staged_and_links_and_escapes_are_skipped() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("bob.zip");
        let mut zip = zip::ZipWriter::new(File::create(&archive).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("bob/raft/src/lib.rs", options).unwrap();
        zip.write_all(b"// raft").unwrap();
        zip.start_file("../../outside.rs", options).unwrap();
        zip.write_all(b"x").unwrap();
        zip.add_symlink("bob/raft/src/link.rs", "/etc/passwd", options)
            .unwrap();
        zip.finish().unwrap();
        let staged = stage(&archive, &owned, &[], Caps::default()).unwrap();
        assert_eq!(
            staged.files,
            vec![(
                "bob/raft/src/lib.rs".to_string(),
                "raft/src/lib.rs".to_string()
            )]
        );
        assert_eq!(staged.skipped.len(), 2, "{:?}", staged.skipped);
    }

    #[test]
    fn damaged_and_oversized_archives_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.tar.gz");
        std::fs::write(&bad, b"this is not gzip").unwrap();
        let error = stage(&bad, &owned, &[], Caps::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("cannot read the archive"), "{error}");
        let big = dir.path().join("big.tar.gz");
        tar_gz(&big, &[("raft/src/lib.rs", &[b'x'; 4096])]);
        let caps = Caps {
            file_bytes: 1024,
            ..Caps::default()
        };
        let error = stage(&big, &owned, &[], caps).unwrap_err().to_string();
        assert!(error.contains("too large"), "{error}");
        let odd = dir.path().join("notes.rar");
        std::fs::write(&odd, b"x").unwrap();
        let error = stage(&odd, &owned, &[], Caps::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a folder, .tar"), "{error}");
    }

    #[test]
    fn a_folder_is_copied_without_its_build_output() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir_all(sub.join("raft/src")).unwrap();
        std::fs::create_dir_all(sub.join("target/debug")).unwrap();
        std::fs::write(sub.join("raft/src/lib.rs"), "// raft").unwrap();
        std::fs::write(sub.join("target/debug/huge"), "x").unwrap();
        let staged = stage(&sub, &owned, &[], Caps::default()).unwrap();
        assert_eq!(staged.files.len(), 1);
        assert!(
            staged.skipped[0].starts_with("target/"),
            "{:?}",
            staged.skipped
        );
    }
}
