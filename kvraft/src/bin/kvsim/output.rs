//! The output folder: named after the start time (UTC) unless the user names it.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where runs go when `--out` is not given.
const DEFAULT_PARENT: &str = "kvsim-out";

/// Creates the output folder: `requested` if given (it may already exist),
/// else a new `kvsim-out/<YYYYmmdd-HHMMSS>-<label>` (with `-2`, `-3`, ...
/// appended if that name is taken).
pub fn create_folder(requested: Option<&Path>, label: &str) -> io::Result<PathBuf> {
    if let Some(folder) = requested {
        std::fs::create_dir_all(folder)?;
        return Ok(folder.to_path_buf());
    }
    let parent = Path::new(DEFAULT_PARENT);
    std::fs::create_dir_all(parent)?;
    // File names carry the real date and time.
    #[allow(clippy::disallowed_methods)]
    let stem = format!("{}-{label}", utc_stamp(SystemTime::now()));
    for attempt in 1.. {
        let name = match attempt {
            1 => stem.clone(),
            n => format!("{stem}-{n}"),
        };
        let folder = parent.join(name);
        match std::fs::create_dir(&folder) {
            Ok(()) => return Ok(folder),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
    unreachable!("the attempts never run out")
}

/// `YYYYmmdd-HHMMSS` in UTC.
fn utc_stamp(time: SystemTime) -> String {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's days-to-civil algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Known dates, leap days and the epoch come out right.
    #[test]
    fn utc_stamps() {
        let at = |secs: u64| utc_stamp(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "19700101-000000");
        assert_eq!(at(951_782_400), "20000229-000000");
        assert_eq!(at(1_709_210_096), "20240229-123456");
        assert_eq!(at(4_102_444_799), "20991231-235959");
    }
}
